"""The published ranking's documents, laid out once per publication and kept.

A published result never changes (scoring.results.publication), nor then do
its documents, dated on the day of publication: the ranking's XLSX and PDF,
of the whole province and of each group the ranking page offers. Laying out
the province's PDF takes WeasyPrint more than a minute at 3,321 units, so
nobody should wait for it at a download: once a publication commits a
worker lays them all out (scoring.tasks.published_documents_task) and keeps
them (exports.published_document_keep: a file under MEDIA_ROOT, the cache in
front). A download that still finds nothing (the task not done yet, or
failed; the templates changed by a deployment since) lays its document out
as before and keeps it.

The downloads (scoring.results.export_views) and the task build the same
documents from the same rows here, and find them under the same key
(ranking_key)."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from commitments import printing
from commitments.organisation.models import Unit, UnitKind
from scoring.models import Publication
from scoring.results import exports
from scoring.results import selectors as results

logger = logging.getLogger(__name__)

# The body that issues the rankings (Home Affairs of the province).
ISSUER = "SỞ NỘI VỤ"
# What each extension is built by; the PDF first, the longer wait spared.
BUILDERS = {"pdf": exports.ranking_pdf, "xlsx": exports.ranking_xlsx}


def at_publication() -> bool:
    """Are the documents laid out when a publication commits?

    settings.RESULTS_DOCUMENTS_AT_PUBLICATION if set; otherwise where a
    worker takes the tasks (not CELERY_TASK_ALWAYS_EAGER). Running in process
    (the quick start, the demo's seeding, the tests) the work would fall on
    the process that publishes, for documents of a few units that a download
    lays out in a moment anyway."""
    chosen = getattr(settings, "RESULTS_DOCUMENTS_AT_PUBLICATION", None)
    if chosen is not None:
        return bool(chosen)
    return not settings.CELERY_TASK_ALWAYS_EAGER


def heading(day: date) -> exports.Heading:
    """The province (the root unit) above Sở Nội vụ, and the date line
    dated from the province's place ("Hải Dương, ngày …")."""
    province = (
        Unit.objects.filter(kind=UnitKind.PROVINCE, parent__isnull=True)
        .order_by("pk")
        .first()
    )
    place = printing.place_name(province) if province else printing.BLANK
    return exports.Heading(
        issuer_parent=province.name.upper() if province else "",
        issuer=ISSUER,
        date_line=printing.date_line(place, day, day.year),
    )


def published_on(selection: results.Selection) -> date | None:
    """A published result's documents are dated on the day of publication:
    what was published does not change, nor then do its documents."""
    if selection.publication is None:
        return None
    return timezone.localdate(selection.publication.published_at)


def status(selection: results.Selection, computed_at: datetime | None) -> str:
    if selection.publication is not None:
        return (
            f"Kết quả chính thức – công bố lần {selection.publication.version} "
            f"ngày {timezone.localtime(selection.publication.published_at):%d/%m/%Y}"
        )
    line = "Kết quả tạm thời, chưa công bố"
    if computed_at is None:
        return line
    when = timezone.localtime(computed_at).strftime("%d/%m/%Y %H:%M")
    return f"{line} – tính lúc {when}"


def ranking(
    selection: results.Selection,
    groups: list[results.Group],
    run: object | None,
    wanted: str,
) -> exports.Ranking:
    """The ranking as the builders' rows: the group ``wanted`` (its code),
    or every group when it names none of them, as the page shows it."""
    shown = [g for g in groups if g.code == wanted] or groups
    return exports.Ranking(
        year=selection.year,
        status=status(selection, getattr(run, "finished_at", None)),
        checksum=selection.publication.checksum if selection.publication else "",
        provisional=selection.provisional,
        published_on=published_on(selection),
        groups=[
            exports.TableGroup(
                name=group.name,
                fields=group.fields,
                rows=[
                    exports.RankingRow(
                        rank=row.result.rank,
                        unit_code=row.result.unit.code,
                        unit_name=row.result.unit.name,
                        approved=row.result.approved,
                        index=row.result.index,
                        tier=row.result.tier,
                        tier_label=row.result.tier_label,
                        fields=row.fields,
                        rank_change=row.result.rank_change,
                        index_change=row.result.index_change,
                    )
                    for row in group.rows
                ],
            )
            for group in shown
        ],
    )


def ranking_key(
    publication: Publication, extension: str, group: str, dated: exports.Heading
) -> str:
    """Where the publication's ranking document is kept: the same for every
    reader, found before the province's rows are read and laid out."""
    return exports.published_key(
        "ranking",
        extension,
        publication.pk,
        publication.checksum,
        group,
        dated,
    )


def published_documents_make(publication_id: int) -> dict[str, float]:
    """Lay out and keep every document of the publication's ranking not
    kept yet: the province's, then each group's, PDF and XLSX. Each is kept
    as soon as it is laid out, so that a task cut short (or a second one)
    leaves what it made and makes only the rest. A document that fails is
    logged and left for its first download to lay out; the others are made
    all the same. Returns the seconds each took, by "group.extension" (""
    the whole province)."""
    publication = Publication.objects.get(pk=publication_id)
    selection = results.Selection(publication.year, results.PUBLISHED, publication)
    dated = heading(timezone.localdate(publication.published_at))
    groups, _run = results.ranking_groups(None, selection)
    took: dict[str, float] = {}
    for wanted in ["", *(group.code for group in groups)]:
        rows: exports.Ranking | None = None
        for extension, build in BUILDERS.items():
            key = ranking_key(publication, extension, wanted, dated)
            if exports.published_document_kept(key):
                continue
            started = time.perf_counter()
            rows = rows or ranking(selection, groups, None, wanted)
            try:
                exports.published_document_keep(key, build(rows, dated))
            except Exception:
                logger.exception(
                    "The %s of publication %s (group %r) could not be laid out.",
                    extension,
                    publication.pk,
                    wanted,
                )
                continue
            took[f"{wanted}.{extension}"] = time.perf_counter() - started
    logger.info(
        "Publication %s (%s, version %s): %d documents laid out in %.1f s.",
        publication.pk,
        publication.year,
        publication.version,
        len(took),
        sum(took.values()),
    )
    return took
