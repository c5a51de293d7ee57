"""The WSGI entry point gunicorn loads in each worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_loads_the_urls_and_freezes_what_it_loaded():
    """What a worker loads once is moved out of the garbage collector's way
    (gc.freeze), the URL patterns and views included: a full collection
    then walks only what requests allocate."""
    probe = (
        "import gc, sys\n"
        "import cchc_portal.wsgi\n"
        "print(gc.get_freeze_count(), 'scoring.api.results_views' in sys.modules)\n"
    )
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "cchc_portal.settings"}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    frozen, views_loaded = done.stdout.split()
    assert int(frozen) > 50_000
    assert views_loaded == "True"
