"""The portal's Celery app with each case import held once its first batch is
committed, for test_import_worker to kill the worker there.

Patched in each worker process once Django is ready (worker_process_init): the
batch size (TEST_IMPORT_BATCH rows) and a pause of TEST_IMPORT_HOLD seconds
after every batch is loaded."""

from __future__ import annotations

import os
import time
from typing import Any

from celery.signals import worker_process_init

from cchc_portal.celery import app

__all__ = ["app"]


@worker_process_init.connect
def _hold_imports(**kwargs: Any) -> None:
    from procedures import importer

    importer.BATCH_SIZE = int(os.environ["TEST_IMPORT_BATCH"])
    load = importer._load
    hold = float(os.environ["TEST_IMPORT_HOLD"])

    def held(*args: Any, **kw: Any) -> None:
        load(*args, **kw)
        time.sleep(hold)

    importer._load = held
