"""What the leaders' dashboard and its unit pages read: the precomputed
results of a year (a publication's, or a reviewer's provisional ones), the
stored yearly dossier figures and the committed targets. Nothing here
aggregates case records or recomputes an index: every figure is a stored one,
read in a fixed number of queries whatever the number of units.

The views (scoring.dashboard.views) decide who may see what and cache the
rendered group section; this module only gathers."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from commitments import progress
from commitments import rules as commitment_rules
from commitments.models import CommitmentState, Target
from commitments.organisation.access import scope_queryset
from commitments.organisation.models import Unit
from procedures import figures
from procedures import rules as procedure_rules
from procedures import selectors as procedure_selectors
from procedures.figures import Rate
from scoring.accountability import services as accountability
from scoring.models import AccountabilityState, Publication, PublishedResult, Result
from scoring.results import selectors as results

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

AnyResult = Result | PublishedResult

# The four procedure KPIs the chairman follows (seed 000), each with the
# catalogue indicator a commitment sets a target on (commitments.catalogue).
KPIS: tuple[tuple[str, str, Any], ...] = (
    (Rate.ON_TIME, "dung-han", _("Dossiers on time")),
    (Rate.ONLINE, "truc-tuyen", _("Dossiers online")),
    (Rate.DIGITIZATION, "so-hoa", _("Dossiers digitised")),
    (Rate.ONLINE_PAYMENT, "thanh-toan", _("Fees paid online")),
)
OPEN_CASES = (AccountabilityState.REQUESTED, AccountabilityState.EXPLAINED)
WATCH_LIMIT = 10


# --- the year's groups ----------------------------------------------------------------


@dataclass(frozen=True)
class GroupChoice:
    code: str
    name: str
    units: int


def group_code(result: AnyResult) -> str:
    """The code of the result's ranking group (results.group_key)."""
    return results.group_key(result)[0]


def groups_of(rows: QuerySet[Any]) -> list[GroupChoice]:
    """The ranking groups of a year's results with their sizes: one query."""
    found = (
        rows.select_related(None)
        .order_by()
        .values("group__code", "group__name", "framework__unit_kind", "framework__name")
        .annotate(n=Count("pk"))
    )
    merged: dict[str, GroupChoice] = {}
    for item in found:
        if item["group__code"]:
            code, name = item["group__code"], item["group__name"]
        else:
            code, name = f"kind-{item['framework__unit_kind']}", item["framework__name"]
        before = merged.get(code)
        units = item["n"] + (before.units if before else 0)
        merged[code] = GroupChoice(code, name, units)
    return sorted(merged.values(), key=lambda g: (g.name, g.code))


def in_group(rows: QuerySet[Any], code: str) -> QuerySet[Any]:
    if code.startswith("kind-"):
        return rows.filter(group__isnull=True, framework__unit_kind=code[5:])
    return rows.filter(group__code=code)


def group_rows(rows: QuerySet[Any], code: str) -> list[AnyResult]:
    """A group's rows in ranking order, without the leaf-by-leaf detail:
    one query."""
    found = list(
        in_group(rows, code)
        .select_related(None)
        .select_related("unit", "group", "framework")
        .defer("detail")
    )
    return sorted(found, key=results.ranking_order)


# --- figures over a group -------------------------------------------------------------


@dataclass
class Summary:
    units: int = 0
    ranked: int = 0
    mean: Decimal | None = None
    best: Decimal | None = None
    worst: Decimal | None = None
    # (tier, label, units), best tier first.
    tiers: list[tuple[str, str, int]] = field(default_factory=list)


def summary(rows: Sequence[AnyResult]) -> Summary:
    indices = [r.index for r in rows if r.rank is not None and r.index is not None]
    labels: dict[str, str] = {}
    counted: Counter[str] = Counter()
    for r in rows:
        if r.tier:
            counted[r.tier] += 1
            labels.setdefault(r.tier, r.tier_label)
    return Summary(
        units=len(rows),
        ranked=sum(1 for r in rows if r.rank is not None),
        mean=(
            (sum(indices, Decimal(0)) / len(indices)).quantize(Decimal("0.01"))
            if indices
            else None
        ),
        best=max(indices) if indices else None,
        worst=min(indices) if indices else None,
        tiers=[(tier, labels[tier], counted[tier]) for tier in sorted(counted)],
    )


@dataclass
class Kpi:
    name: str
    label: str
    # The group's rate: every unit's stored counts of the year added up.
    rate: Decimal | None
    # Units with a signed target on it, and those whose rate reaches it.
    committed: int = 0
    reaching: int = 0
    median_target: Decimal | None = None


def committed_targets(unit_ids: Any, year: int) -> dict[int, dict[str, Target]]:
    """The signed targets of the year on the four KPIs, by unit and
    indicator code: one query."""
    found = (
        Target.objects.filter(
            commitment__year=year,
            commitment__unit_id__in=unit_ids,
            indicator__code__in=[code for _name, code, _label in KPIS],
        )
        .exclude(commitment__state=CommitmentState.DRAFT)
        .select_related("indicator", "commitment")
        .order_by()
    )
    by_unit: dict[int, dict[str, Target]] = defaultdict(dict)
    for target in found:
        by_unit[target.commitment.unit_id][target.indicator.code] = target
    return by_unit


def reaches(target: Target, value: Decimal | None) -> bool:
    if value is None:
        return False
    return commitment_rules.meets(
        commitment_rules.Comparison(target.comparison), target.value, value
    )


def kpis(unit_ids: Any, year: int) -> list[Kpi]:
    """The group's four KPIs of the year against what its units committed:
    two queries, whatever the number of units."""
    counts = procedure_selectors.year_counts(year, unit_ids)
    targets = committed_targets(unit_ids, year)
    total = sum(counts.values(), procedure_rules.Counts())
    group_rates = figures.rates(total)
    unit_rates = {unit_id: figures.rates(c) for unit_id, c in counts.items()}
    found = []
    for name, code, label in KPIS:
        kpi = Kpi(name, str(label), group_rates[name] if counts else None)
        values = []
        for unit_id, by_code in targets.items():
            target = by_code.get(code)
            if target is None:
                continue
            kpi.committed += 1
            values.append(target.value)
            if reaches(target, unit_rates.get(unit_id, {}).get(name)):
                kpi.reaching += 1
        if values:
            kpi.median_target = Decimal(statistics.median(values)).quantize(
                Decimal("0.01")
            )
        found.append(kpi)
    return found


# --- a unit over the years ------------------------------------------------------------


def latest_publications() -> QuerySet[Publication]:
    """The latest version of every published year."""
    latest = (
        Publication.objects.filter(year=OuterRef("year"))
        .order_by("-version")
        .values("version")[:1]
    )
    return Publication.objects.filter(version=Subquery(latest))


def unit_trend(unit: Unit) -> list[PublishedResult]:
    """The unit's published result of every year (the latest version), oldest
    first: one query."""
    return list(
        PublishedResult.objects.filter(unit=unit, publication__in=latest_publications())
        .select_related("publication", "group", "framework")
        .defer("detail", "publication__parameters")
        .order_by("publication__year")
    )


@dataclass
class UnitKpi:
    name: str
    label: str
    value: Decimal | None
    target: Target | None

    @property
    def reached(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return reaches(self.target, self.value)


def unit_kpis(unit: Unit, year: int) -> list[UnitKpi]:
    counts = procedure_selectors.year_counts(year, [unit.pk])
    values = figures.rates(counts[unit.pk]) if unit.pk in counts else {}
    targets = committed_targets([unit.pk], year).get(unit.pk, {})
    return [
        UnitKpi(name, str(label), values.get(name), targets.get(code))
        for name, code, label in KPIS
    ]


# --- what needs attention -------------------------------------------------------------


@dataclass
class Watch:
    cases: list[Any]
    cases_total: int
    at_risk: list[progress.TargetProgress]
    at_risk_total: int
    year: int
    # Heads rated "not completed" two years running (last year's ratings or
    # this year's): the leader above is to act (issue 17, item 8).
    flagged: list[Any] = field(default_factory=list)
    flagged_total: int = 0


def watch(user: AnyUser, today: date) -> Watch:
    """The open accountability cases, the heads flagged "not completed" two
    years running (ratings of last year and this one) and this year's
    targets at risk among the user's units, the first few of each with the
    totals."""
    cases = accountability.cases_visible(user).filter(state__in=OPEN_CASES)
    flagged = accountability.ratings_visible(user).filter(
        flagged=True, year__gte=today.year - 1
    )
    targets = list(
        scope_queryset(
            user,
            Target.objects.filter(commitment__year=today.year).exclude(
                commitment__state=CommitmentState.DRAFT
            ),
            unit_field="commitment__unit",
        ).select_related("indicator", "commitment__unit")
    )
    at_risk = [
        row
        for row in progress.targets_progress(targets, today=today)
        if row.progress == commitment_rules.Progress.AT_RISK
    ]
    at_risk.sort(key=lambda row: (row.target.commitment.unit.path, row.target.position))
    return Watch(
        cases=list(
            cases.select_related("unit", "head").order_by("-opened_at", "-pk")[
                :WATCH_LIMIT
            ]
        ),
        cases_total=cases.count(),
        at_risk=at_risk[:WATCH_LIMIT],
        at_risk_total=len(at_risk),
        year=today.year,
        flagged=list(
            flagged.select_related("unit", "head").order_by("-year", "unit__path")[
                :WATCH_LIMIT
            ]
        ),
        flagged_total=flagged.count(),
    )


def heat_class(value: Decimal | None) -> str:
    """A colour step of the heat map: h0 (under 50) … h5 (90 and over)."""
    if value is None:
        return "hn"
    for step, floor in enumerate((90, 80, 70, 60, 50)):
        if value >= floor:
            return f"h{5 - step}"
    return "h0"


def field_values(result: AnyResult, codes: Iterable[str]) -> list[Decimal | None]:
    values = result.field_indices or {}
    return [
        Decimal(values[code]) if values.get(code) is not None else None
        for code in codes
    ]
