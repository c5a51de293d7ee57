"""Reads of the procedures app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from commitments.access import RECORD_WRITE_ROLES, user_roles
from commitments.models import Unit
from procedures import rules
from procedures.metrics import COUNT_FIELDS, periods_of_year
from procedures.models import ImportRun, UnitMetric

if TYPE_CHECKING:
    from commitments.access import AnyUser


# --- Import runs -----------------------------------------------------------------

# Who may upload case records: the roles the import engine lets write rows
# (procedures.importer.run_import_by_id), each for its own units only.
IMPORT_ROLES = RECORD_WRITE_ROLES


def import_upload_allowed(*, user: AnyUser) -> bool:
    """Whether the user may upload case records for at least some unit."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or bool(user_roles(user) & IMPORT_ROLES)


def import_runs_visible(*, user: AnyUser) -> QuerySet[ImportRun]:
    """The runs a user may open: a superuser every run, anyone else the runs
    they started. Any other run answers 404, as another unit's object does."""
    if not user.is_authenticated:
        return ImportRun.objects.none()
    if user.is_superuser:
        return ImportRun.objects.all()
    return ImportRun.objects.filter(user_id=user.pk)


def import_run_list(*, user: AnyUser) -> QuerySet[ImportRun]:
    """The user's runs, newest first, without the row errors (up to a thousand
    per run, and the list shows only their count)."""
    return (
        import_runs_visible(user=user)
        .select_related("user")
        .defer("errors")
        .order_by("-created_at", "-pk")
    )


def import_run_detail(*, user: AnyUser) -> QuerySet[ImportRun]:
    """The runs a user may open, with who started them and their row errors."""
    return import_runs_visible(user=user).select_related("user")


def import_run_progress(*, user: AnyUser) -> QuerySet[ImportRun]:
    """What the progress bar polls every second: the counts, not the errors."""
    return import_runs_visible(user=user).only(
        "status",
        "finished_at",
        "rows_expected",
        "rows_done",
        "rows_total",
        "rows_new",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
    )


# --- Metrics -----------------------------------------------------------------------


@dataclass(frozen=True)
class MetricRow:
    """One period of a unit's 766 figures: the stored counts and the rates
    derived from them (rules.metrics), None where a denominator is zero."""

    kind: str
    number: int
    counts: rules.Counts
    figures: rules.Metrics


def unit_metric_rows(*, unit: Unit, year: int) -> list[MetricRow]:
    """The unit's months, quarters and year, in one query. A period without a
    stored row has no dossier at all: every rate is "no data"."""
    stored = {
        (m.period_kind, m.number): m
        for m in UnitMetric.objects.filter(unit=unit, year=year)
    }
    rows = []
    for ref in periods_of_year(year):
        metric = stored.get((ref.kind, ref.number))
        counts = (
            rules.Counts(**{name: getattr(metric, name) for name in COUNT_FIELDS})
            if metric
            else rules.Counts()
        )
        rows.append(MetricRow(ref.kind, ref.number, counts, rules.metrics(counts)))
    return rows


def metric_years(*, unit: Unit) -> list[int]:
    return list(
        UnitMetric.objects.filter(unit=unit)
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )
