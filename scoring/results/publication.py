"""Publishing a year's results: a frozen, versioned snapshot.

Publishing copies the provisional results of the year's latest run into a new
Publication (version 1, 2, …) with the rule parameters they were computed
with and a SHA-256 checksum over both. Nothing is published that the
reviewer has not seen: the run they looked at must still be the latest, and
a fresh calculation from today's inputs must give exactly its results.
A published snapshot is never updated nor deleted (Immutable, and database
triggers, migration 0003); a later recomputation only creates provisional
results, and publishing those creates the next version."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from scoring.access import may_run
from scoring.accountability import services as accountability
from scoring.models import (
    Assessment,
    AssessmentState,
    ComputationRun,
    Contest,
    ContestState,
    Framework,
    FrameworkState,
    Publication,
    PublishedResult,
    Result,
    RunState,
)
from scoring.notices import handovers
from scoring.results import computation, generation

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} in a published result")


def canonical(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: the same bytes for the same
    content, whatever the database or the order rows came back in."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    ).encode()


def result_record(columns: dict[str, Any], unit_code: str) -> dict[str, Any]:
    record = dict(columns)
    record["unit"] = unit_code
    return record


def checksum(
    *, year: int, version: int, parameters: dict[str, Any], results: list[dict]
) -> str:
    """SHA-256 over the year, the version, the parameters and every result
    (in unit-code order)."""
    digest = hashlib.sha256()
    digest.update(canonical({"year": year, "version": version}))
    digest.update(canonical(parameters))
    for record in sorted(results, key=lambda r: r["unit"]):
        digest.update(canonical(record))
    return digest.hexdigest()


def published_records(publication: Publication) -> list[dict[str, Any]]:
    return [
        result_record(computation.columns_of(result), result.unit.code)
        for result in PublishedResult.objects.filter(
            publication=publication
        ).select_related("unit")
    ]


def verify(publication: Publication) -> bool:
    """Does the stored snapshot still match its checksum?"""
    return (
        checksum(
            year=publication.year,
            version=publication.version,
            parameters=publication.parameters,
            results=published_records(publication),
        )
        == publication.checksum
    )


def latest_run(year: int) -> ComputationRun | None:
    return (
        ComputationRun.objects.filter(year=year, state=RunState.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .first()
    )


def latest_publication(year: int) -> Publication | None:
    return Publication.objects.filter(year=year).order_by("-version").first()


def blockers(year: int) -> list[str]:
    """Why the year's results cannot be published yet."""
    found = []
    pending = (
        Assessment.objects.filter(framework__year=year)
        .exclude(state=AssessmentState.APPROVED)
        .order_by("unit__code")
        .values_list("unit__name", flat=True)
    )
    names = list(pending[:6])
    if names:
        count = pending.count()
        found.append(
            _("%(count)d assessments are not approved yet: %(units)s")
            % {
                "count": count,
                "units": ", ".join(names[:5]) + ("…" if count > 5 else ""),
            }
        )
    contests = Contest.objects.filter(
        score__assessment__framework__year=year, state=ContestState.OPEN
    ).count()
    if contests:
        found.append(
            _("%(count)d contests of an appraised score await a decision.")
            % {"count": contests}
        )
    return found


@transaction.atomic
def publish(
    *, user: User, year: int, run_id: int, now: datetime, note: str = ""
) -> Publication:
    """Freeze the results of run ``run_id`` as the year's next version."""
    if not may_run(user, year):
        raise PermissionDenied
    year_frameworks = list(
        Framework.objects.select_for_update().filter(year=year).order_by("pk")
    )
    if not year_frameworks:
        raise ValidationError(
            _("There is no index framework for %(year)d.") % {"year": year}
        )
    problems = blockers(year)
    if problems:
        raise ValidationError(problems)
    run = latest_run(year)
    if run is None or run.pk != run_id:
        raise ValidationError(
            _(
                "The results were computed again since you opened this page: "
                "check the new results before publishing."
            )
        )
    already = Publication.objects.filter(year=year, run=run).first()
    if already is not None:
        raise ValidationError(
            _(
                "These results are already published as version %(version)d: "
                "compute them again to publish a new version."
            )
            % {"version": already.version}
        )
    stored = list(
        Result.objects.filter(framework__year=year, run=run).select_related("unit")
    )
    fresh = computation.calculate(year)
    fresh_columns = {row.unit_id: row.columns() for row in fresh.rows}
    if fresh.parameters != run.parameters or fresh_columns != {
        result.unit_id: computation.columns_of(result) for result in stored
    }:
        raise ValidationError(
            _(
                "Scores, figures or deductions and bonuses changed after the "
                "results were computed: compute them again and check them "
                "before publishing."
            )
        )
    version = (
        Publication.objects.filter(year=year).aggregate(v=Max("version"))["v"] or 0
    ) + 1
    records = [result_record(computation.columns_of(r), r.unit.code) for r in stored]
    publication = Publication.objects.create(
        year=year,
        version=version,
        run=run,
        published_at=now,
        published_by=user,
        note=note.strip(),
        parameters=run.parameters,
        checksum=checksum(
            year=year, version=version, parameters=run.parameters, results=records
        ),
    )
    PublishedResult.objects.bulk_create(
        (
            PublishedResult(publication=publication, **computation.columns_of(r))
            for r in stored
        ),
        batch_size=1000,
    )
    for framework in year_frameworks:
        if framework.state != FrameworkState.PUBLISHED:
            framework.state = FrameworkState.PUBLISHED
            framework.save(update_fields=["state"])
    # A city's own index losing points on a criterion one of its units owns:
    # that unit's head is asked to explain (seed 000).
    accountability.criterion_cases(publication, now, timezone.localdate(now))
    handovers.published(publication, actor=user, now=now)
    # What is cached from the earlier versions is left behind once this commits.
    generation.advance()
    # Its documents laid out once it commits, before anyone downloads them.
    from scoring.tasks import published_documents_queue

    published_documents_queue(publication.pk)
    return publication
