"""The published ranking's documents at province scale (issue 20): what the
first download waits for, and what the worker spends laying them out at
publication.

    .venv/bin/python bench/documents.py first   # a first download, nothing kept
    .venv/bin/python bench/documents.py task    # the task, then a download

It reads a database that holds a published year of 3,321 communes, by
default bench/serve.py's (``cchc_bench_serve``; BENCH_DOCUMENTS_DATABASE_URL
for another, e.g. bench/pages.py's) and writes nothing to it: the documents
go to bench/out/documents/media/ (emptied first), the cache is this
process's locmem. Downloads go through the view itself (RequestFactory, a
reader who is not saved), DEBUG off. ``first`` with main's tree first on the
path (``BENCH_TREE=/path/to/main``) gives the code before the change."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "documents"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cchc_bench_serve"


def setup() -> None:
    os.environ.update(
        DATABASE_URL=os.environ.get("BENCH_DOCUMENTS_DATABASE_URL", DEFAULT_URL),
        DEBUG="0",
        SECRET_KEY="bench-documents-in-process-only-not-a-secret",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        DJANGO_SETTINGS_MODULE="cchc_portal.settings",
        LOG_LEVEL="WARNING",
        MEDIA_ROOT=str(OUT / "media"),
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, os.environ.get("BENCH_TREE", str(ROOT)))
    import django

    django.setup()
    shutil.rmtree(OUT / "media", ignore_errors=True)


def download(year: int, kind: str, group: str = "") -> tuple[float, int]:
    """Seconds and bytes of one download through the view."""
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    from scoring.results import export_views

    request = RequestFactory().get(
        f"/results/{year}/export.{kind}", {"group": group} if group else {}
    )
    request.user = User(username="bench-reader", is_active=True)
    view = export_views.ranking_pdf if kind == "pdf" else export_views.ranking_xlsx
    started = time.perf_counter()
    response = view(request, year)
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return seconds, len(response.content)


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "task"
    setup()
    from django.core.cache import cache

    from scoring.models import Publication, PublishedResult

    latest = Publication.objects.order_by("-year", "-version").first()
    assert latest is not None, "no published year in the database"
    units = PublishedResult.objects.filter(publication=latest).count()
    print(
        f"{latest.year} v{latest.version}, {units:,} units; load average "
        f"{os.getloadavg()[0]:.2f}",
        flush=True,
    )
    if mode == "first":
        for kind, group in (("pdf", ""), ("xlsx", "")):
            cache.clear()
            seconds, size = download(latest.year, kind, group)
            print(
                f"first download {kind} {group or 'province'}: {seconds:.1f} s, "
                f"{size // 1024:,} KiB",
                flush=True,
            )
    else:
        from scoring.results import documents

        started = time.perf_counter()
        took = documents.published_documents_make(latest.pk)
        total = time.perf_counter() - started
        groups = {k: v for k, v in took.items() if not k.startswith(".")}
        print(
            f"task: {len(took)} documents in {total:.1f} s; the province's PDF "
            f"{took['.pdf']:.1f} s, XLSX {took['.xlsx']:.1f} s; {len(groups) // 2} "
            f"groups' PDF {sum(v for k, v in groups.items() if k.endswith('pdf')):.1f}"
            f" s and XLSX {sum(v for k, v in groups.items() if k.endswith('xlsx')):.1f}"
            f" s",
            flush=True,
        )
        for kind, group in (("pdf", ""), ("xlsx", "")):
            cache.clear()  # a web process other than the worker's: the file
            seconds, size = download(latest.year, kind, group)
            print(
                f"download after the task {kind} {group or 'province'}: "
                f"{seconds * 1000:.0f} ms, {size // 1024:,} KiB",
                flush=True,
            )
    print(f"load average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
