"""The published ranking's documents laid out at publication and kept
(scoring.results.documents, scoring.tasks.published_documents_task): a
download afterwards lays nothing out, not even once the cache forgot them; a
later version has documents of its own; a task that fails leaves the
publication and the downloads as they were. And the ranking PDF of many
rows: the header row on every page, every row once, the signatures last.

The data are those of tests/scoring/results/test_views.py (2024: group "xa"
of five communes, group "phuong" of one)."""

# The fixtures imported from results/test_views are named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from scoring.models import Publication
from scoring.results import computation, documents, exports, publication
from tests.scoring.results.test_views import (  # noqa: F401 - fixtures
    compute_2024,
    framework_2025,
    units,
)

GROUPS = ("", "xa", "phuong")


@pytest.fixture
def computed_2024(framework_2025, units, reviewer):
    """2024 computed from the approved assessments, not published yet."""
    return compute_2024(framework_2025, units, reviewer)


@pytest.fixture
def publish(settings, reviewer, django_capture_on_commit_callbacks):
    """Publish 2024 as the page does, its on-commit work run then; the
    documents laid out at publication, as with a worker (in process they
    are not: test_in_process_...)."""
    settings.RESULTS_DOCUMENTS_AT_PUBLICATION = True

    def publishing(run) -> Publication:
        with django_capture_on_commit_callbacks(execute=True):
            return publication.publish(
                user=reviewer, year=2024, run_id=run.pk, now=timezone.now()
            )

    return publishing


@pytest.fixture
def reader(client, leader):
    client.force_login(leader)
    return client


@pytest.fixture
def laid_out(monkeypatch):
    """The documents WeasyPrint lays out and the workbooks openpyxl writes,
    counted."""
    import weasyprint

    counted = []
    pdf = weasyprint.HTML.write_pdf

    def counting_pdf(self, *args, **kwargs):
        counted.append("pdf")
        return pdf(self, *args, **kwargs)

    workbook = exports._workbook_bytes

    def counting_workbook(book):
        counted.append("xlsx")
        return workbook(book)

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", counting_pdf)
    monkeypatch.setattr(exports, "_workbook_bytes", counting_workbook)
    return counted


def ranking_url(kind: str, group: str = "", **query: str) -> str:
    url = reverse(f"results_export_{kind}", kwargs={"year": 2024})
    query = {**({"group": group} if group else {}), **query}
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def pdf_pages(content: bytes) -> list[str]:
    import pypdfium2

    document = pypdfium2.PdfDocument(content)
    pages = [
        " ".join(
            unicodedata.normalize("NFC", page.get_textpage().get_text_range()).split()
        )
        for page in document
    ]
    document.close()
    return pages


def test_publication_lays_out_every_document_and_downloads_lay_out_none(
    reader,
    computed_2024,
    publish,
    laid_out,
    monkeypatch,
):
    published = publish(computed_2024)
    # The province's and each group's, PDF and XLSX.
    assert sorted(laid_out) == ["pdf"] * 3 + ["xlsx"] * 3
    # Nothing laid out any more: the downloads find them kept, even once
    # the cache forgot them (Redis evicted them, or restarted empty).
    monkeypatch.setattr(exports, "_pdf", None)
    monkeypatch.setattr(exports, "_workbook_bytes", None)
    for forgotten in (False, True):
        if forgotten:
            cache.clear()
        for group in GROUPS:
            for kind in ("pdf", "xlsx"):
                response = reader.get(ranking_url(kind, group))
                assert response.status_code == 200, (kind, group)
    assert sorted(laid_out) == ["pdf"] * 3 + ["xlsx"] * 3
    pages = pdf_pages(reader.get(ranking_url("pdf", "xa")).content)
    assert "Nhóm xếp hạng: Nhóm xã" in pages[0]
    assert "Nhóm phường" not in " ".join(pages)
    assert f"công bố lần {published.version}" in pages[0]
    # A second task (a redelivery) finds them all kept.
    assert documents.published_documents_make(published.pk) == {}


def test_a_later_version_has_documents_of_its_own(
    reader,
    computed_2024,
    publish,
    laid_out,
):
    publish(computed_2024)
    first = reader.get(ranking_url("pdf")).content
    rerun = computation.compute_now(2024)
    second = publish(rerun)
    assert second.version == 2
    assert sorted(laid_out) == ["pdf"] * 6 + ["xlsx"] * 6
    latest = reader.get(ranking_url("pdf")).content
    assert latest != first
    assert "công bố lần 2" in pdf_pages(latest)[0]
    # The earlier version's own documents are still its own.
    assert reader.get(ranking_url("pdf", version="1")).content == first
    assert sorted(laid_out) == ["pdf"] * 6 + ["xlsx"] * 6


def test_a_failing_document_leaves_the_publication_and_the_others(
    reader,
    computed_2024,
    publish,
    laid_out,
    monkeypatch,
    caplog,
):
    """The province's PDF fails (pango out of fonts, the worker killed): the
    publication stands, the other documents are kept, and the first download
    of the missing one lays it out as before, and keeps it."""
    pdf = documents.BUILDERS["pdf"]

    def broken(ranking, heading):
        if len(ranking.groups) > 1:
            raise RuntimeError("pango is out of fonts")
        return pdf(ranking, heading)

    monkeypatch.setitem(documents.BUILDERS, "pdf", broken)
    published = publish(computed_2024)
    assert Publication.objects.filter(pk=published.pk, version=1).exists()
    assert "pango is out of fonts" in caplog.text
    assert sorted(laid_out) == ["pdf"] * 2 + ["xlsx"] * 3
    first = reader.get(ranking_url("pdf"))
    assert first.status_code == 200
    assert reader.get(ranking_url("pdf")).content == first.content
    assert reader.get(ranking_url("pdf", "xa")).status_code == 200
    assert sorted(laid_out) == ["pdf"] * 3 + ["xlsx"] * 3


def test_a_task_that_fails_before_any_document_leaves_the_publication(
    computed_2024, publish, monkeypatch, caplog
):
    """Whatever the task raises reaches the worker's log, never the request
    that published (the publication committed before the task ran)."""
    from scoring import tasks

    def broken(publication_id):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(documents, "published_documents_make", broken)
    assert tasks.published_documents_task.delay(0).get() == {}
    published = publish(computed_2024)
    assert Publication.objects.filter(pk=published.pk).exists()
    failed = [r for r in caplog.records if r.name == "scoring.tasks"]
    assert len(failed) == 2
    assert all("went away" in str(r.exc_info[1]) for r in failed)


def test_in_process_the_documents_wait_for_their_first_download(
    settings, computed_2024, publish, laid_out
):
    """Without a worker (the quick start, the demo, the tests) publishing
    lays nothing out; with one, the task is queued."""
    del settings.RESULTS_DOCUMENTS_AT_PUBLICATION  # as the settings have it
    assert settings.CELERY_TASK_ALWAYS_EAGER
    assert not documents.at_publication()
    publish(computed_2024)
    assert laid_out == []
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert documents.at_publication()
    settings.RESULTS_DOCUMENTS_AT_PUBLICATION = False
    assert not documents.at_publication()


def test_a_long_ranking_pdf_has_its_header_on_every_page_and_every_row_once():
    """Three pages of one group: each page begins with the table's header
    row, every unit is on exactly one page, the signatures close the last."""
    fields = [("1", "Công tác chỉ đạo"), ("2", "Thủ tục hành chính")]
    rows = [
        exports.RankingRow(
            rank=n,
            unit_code=f"X{n:03d}",
            unit_name=f"Xã Số {n:03d}",
            approved=True,
            index=Decimal("90") - Decimal(n) / 10,
            tier="B",
            tier_label="Tốt",
            fields=[Decimal("4.50"), Decimal("3.25")],
            rank_change=0,
            index_change=None,
        )
        for n in range(1, 56)
    ]
    ranking = exports.Ranking(
        year=2024,
        status="Kết quả chính thức – công bố lần 1 ngày 15/03/2025",
        checksum="",
        groups=[exports.TableGroup("Nhóm xã", fields, rows)],
        published_on=date(2025, 3, 15),
    )
    heading = exports.Heading(
        "UBND TỈNH", "SỞ NỘI VỤ", "Tỉnh, ngày 15 tháng 3 năm 2025"
    )
    pages = pdf_pages(exports.ranking_pdf(ranking, heading))
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert "Hạng Đơn vị Chỉ số CCHC Xếp loại 1. Công tác chỉ đạo" in page
        assert f"{number}/{len(pages)}" in page
    everything = " ".join(pages)
    for row in rows:
        assert everything.count(row.unit_name) == 1, row.unit_name
    assert [n for n, page in enumerate(pages) if "NGƯỜI LẬP BIỂU" in page] == [
        len(pages) - 1
    ]


def test_the_fixed_columns_share_the_page_as_the_automatic_layout_did():
    """Rank, unit, index and tier keep their widths; a column of wider
    numbers (signed changes) is wider than a field of small ones; together
    the whole width."""
    row = exports.RankingRow(
        rank=1,
        unit_code="X",
        unit_name="Xã X",
        approved=False,
        index=Decimal("80.00"),
        tier="B",
        tier_label="Tốt",
        fields=[Decimal("4.5"), Decimal("3.25")],
        rank_change=-12,
        index_change=Decimal("-10.25"),
    )
    group = exports.TableGroup("Nhóm xã", [("1", "A"), ("2", "B")], [row])
    widths = [float(w) for w in group.widths]
    assert widths[:4] == [5, 24, 8, 11]
    assert len(widths) == 4 + 2 + 3
    assert sum(widths) == pytest.approx(100, abs=0.05)
    field, _field, _rank_change, index_change, _note = widths[4:]
    assert index_change > field
