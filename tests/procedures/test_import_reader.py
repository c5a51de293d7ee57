"""The import's reader: a forked process on the other core, batches handed
over through a bounded queue (procedures.importer._reading)."""

import os
import types

import pytest

from procedures import importer
from procedures.parsing import FileError


def batches(count: int):
    for n in range(count):
        yield importer._Batch(
            rows=[(n, os.getpid())], size=1, read=1, errors=[], months=set()
        )


def test_batches_come_in_order_from_another_process():
    got = list(importer._reading(batches(7), "vi"))
    assert [batch.rows[0][0] for batch in got] == list(range(7))
    assert {batch.rows[0][1] for batch in got} != {os.getpid()}


def test_the_readers_failure_is_raised_here():
    def failing():
        yield from batches(2)
        raise FileError("Tệp không đọc được.")

    reading = importer._reading(failing(), "vi")
    assert next(reading).rows[0][0] == 0
    with pytest.raises(FileError, match="Tệp không đọc được"):
        list(reading)


def test_a_reader_that_dies_is_reported_not_waited_for():
    def dying():
        yield from batches(1)
        os._exit(3)

    # What it had not yet sent is lost with it.
    with pytest.raises(RuntimeError, match="code 3"):
        list(importer._reading(dying(), None))


def test_closing_early_stops_the_reader():
    reading = importer._reading(batches(50), None)
    next(reading)
    reading.close()  # the child, blocked on a full queue, is ended


def test_a_daemonic_process_reads_in_a_thread(monkeypatch):
    """A daemonic process (a worker pool's) may not have children."""
    monkeypatch.setattr(
        importer.multiprocessing,
        "current_process",
        lambda: types.SimpleNamespace(daemon=True),
    )
    got = list(importer._reading(batches(3), None))
    assert [batch.rows[0] for batch in got] == [(n, os.getpid()) for n in range(3)]
