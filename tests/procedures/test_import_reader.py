"""The import's reader: the first batch read here, the rest (when there is
more) in a forked process on the other core, batches handed over through a
bounded queue (procedures.importer._reading)."""

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


def more() -> bool:
    return False


def test_batches_come_in_order_from_another_process():
    got = list(importer._reading(batches(7), "vi", ended=more))
    assert [batch.rows[0][0] for batch in got] == list(range(7))
    assert got[0].rows[0][1] == os.getpid()
    assert {batch.rows[0][1] for batch in got[1:]} == {got[1].rows[0][1]}
    assert got[1].rows[0][1] != os.getpid()


def test_a_file_of_one_batch_is_read_here_without_a_process(monkeypatch):
    def no_process(*args, **kwargs):
        raise AssertionError("a reader process was started")

    monkeypatch.setattr(importer, "_in_process", no_process)
    monkeypatch.setattr(importer, "_in_background", no_process)
    got = list(importer._reading(batches(1), "vi", ended=lambda: True))
    assert [batch.rows[0] for batch in got] == [(0, os.getpid())]
    assert list(importer._reading(batches(0), "vi", ended=lambda: True)) == []


def test_the_rows_say_whether_any_is_left_without_losing_it():
    rows = importer._Peekable(iter([(1, ["a"]), (2, ["b"])]))
    assert next(rows) == (1, ["a"])
    assert not rows.ended()
    assert not rows.ended()
    assert list(rows) == [(2, ["b"])]
    assert rows.ended()


def test_the_readers_failure_is_raised_here():
    def failing():
        yield from batches(2)
        raise FileError("Tệp không đọc được.")

    reading = importer._reading(failing(), "vi", ended=more)
    assert next(reading).rows[0][0] == 0
    with pytest.raises(FileError, match="Tệp không đọc được"):
        list(reading)


def test_a_reader_that_dies_is_reported_not_waited_for():
    def dying():
        yield from batches(1)
        os._exit(3)

    # What it had not yet sent is lost with it.
    with pytest.raises(RuntimeError, match="code 3"):
        list(importer._reading(dying(), None, ended=more))


def test_closing_early_stops_the_reader():
    reading = importer._reading(batches(50), None, ended=more)
    next(reading)
    reading.close()  # the child, blocked on a full queue, is ended


def test_a_daemonic_process_reads_in_a_thread(monkeypatch):
    """A daemonic process (a worker pool's) may not have children."""
    monkeypatch.setattr(
        importer.multiprocessing,
        "current_process",
        lambda: types.SimpleNamespace(daemon=True),
    )
    got = list(importer._reading(batches(3), None, ended=more))
    assert [batch.rows[0] for batch in got] == [(n, os.getpid()) for n in range(3)]
