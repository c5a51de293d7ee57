"""Static files as production collects them: DEBUG off stores them through
the manifest storage, which rewrites every reference inside CSS and
JavaScript (url(), @import, sourceMappingURL) and stops on one to a file that
is not there. The Docker image and the serving benchmark run it."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings

MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


def test_collectstatic_with_the_manifest_storage(tmp_path: Path) -> None:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": MANIFEST},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for ours in (
        "css/portal.css",
        "vendor/chartjs/chart.umd.min.js",
        "scoring/dashboard.js",
    ):
        assert ours in paths, ours
        assert (tmp_path / paths[ours]).is_file()
