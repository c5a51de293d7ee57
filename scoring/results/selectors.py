"""Reading results: who sees which, and the explanation of a unit's points.

- Published results (the latest version of a year, or a named one) are the
  province's public rankings: every signed-in user and API client reads them.
  Their explanation, leaf by leaf, is for the unit itself and those above it.
- Provisional results are the reviewers' working figures: only a reviewer
  (Home Affairs) sees them, for the units they review.

An explanation is built from what the results were computed with (the run's
or the publication's parameters) and the unit's stored detail, never from
today's framework: a published explanation stays what was published."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404, QueryDict

from commitments.organisation.access import units_q
from commitments.organisation.models import Unit
from scoring import access, rules
from scoring.models import (
    ComputationRun,
    Framework,
    Publication,
    PublishedResult,
    Result,
    RunState,
)
from scoring.results import formatting

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

ZERO = rules.ZERO


# --- which results a user sees (who may: scoring.access) ------------------------


def published_years() -> list[int]:
    return sorted(
        set(Publication.objects.order_by().values_list("year", flat=True).distinct()),
        reverse=True,
    )


def provisional_years(user: AnyUser) -> list[int]:
    if not access.may_see_provisional(user):
        return []
    return sorted(
        set(
            ComputationRun.objects.filter(state=RunState.SUCCEEDED)
            .order_by()
            .values_list("year", flat=True)
            .distinct()
        ),
        reverse=True,
    )


def publication_of(
    year: int, version: int | None = None, *, with_parameters: bool = True
) -> Publication | None:
    """The year's latest publication, or version ``version``. Without the
    rule parameters (a large JSON column) for a list that does not show them."""
    found = Publication.objects.filter(year=year)
    if version is not None:
        found = found.filter(version=version)
    found = found.select_related("published_by", "run")
    if not with_parameters:
        found = found.defer("parameters", "run__parameters")
    return found.order_by("-version").first()


class Stamp(NamedTuple):
    """What tells one publication from another, for a cache key and the
    HTTP validators: read in one narrow query, from the
    (year, version) index."""

    pk: int
    year: int
    version: int
    checksum: str
    published_at: datetime


def publication_stamp(year: int, version: int | None = None) -> Stamp | None:
    """The year's latest publication, or version ``version``: its stamp."""
    found = Publication.objects.filter(year=year)
    if version is not None:
        found = found.filter(version=version)
    row = (
        found.order_by("-version")
        .values_list("pk", "year", "version", "checksum", "published_at")
        .first()
    )
    return Stamp(*row) if row is not None else None


def published_results(publication: Publication) -> QuerySet[PublishedResult]:
    return PublishedResult.objects.filter(publication=publication).select_related(
        "unit", "group", "framework"
    )


def provisional_results(user: AnyUser, year: int) -> QuerySet[Result]:
    """The year's provisional results of the units the user reviews."""
    if not access.may_see_provisional(user):
        return Result.objects.none()
    return (
        Result.objects.filter(framework__year=year)
        .filter(access.reviewer_q(user))
        .select_related("unit", "group", "framework", "run")
    )


def explainable_units(user: AnyUser) -> QuerySet[Unit]:
    """Units whose published explanation a user may open: the unit's own
    people and those above it (leaders, reviewers)."""
    if not (user.is_authenticated and user.is_active):
        return Unit.objects.none()
    return Unit.objects.filter(units_q(user))


# --- the explanation -------------------------------------------------------------


@dataclass
class Line:
    """One node of the framework for one unit."""

    code: str
    title: str
    level: str
    depth: int
    maximum: Decimal
    points: Decimal
    is_leaf: bool
    method: str = ""
    self_score: Decimal | None = None
    appraised: Decimal | None = None
    reason: str = ""
    metric: dict[str, Any] | None = None
    # A survey leaf fed by an imported figure: {"source", "rate"}.
    survey: dict[str, Any] | None = None
    scoring: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    # The plain sum of the children before the cap (inner nodes).
    children_sum: Decimal | None = None

    @property
    def capped(self) -> bool:
        return self.children_sum is not None and self.children_sum > self.maximum

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "level": self.level,
            "max_points": str(self.maximum),
            "points": str(self.points),
            "is_leaf": self.is_leaf,
            "depth": self.depth,
            "children": self.children,
            "method": self.method or None,
            "self_score": _str(self.self_score),
            "appraised_score": _str(self.appraised),
            "appraisal_reason": self.reason,
            "metric": self.metric,
            "survey": self.survey,
            "scoring": self.scoring or None,
            "scoring_params": self.params or None,
            "children_sum": _str(self.children_sum),
        }


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@dataclass
class Explanation:
    year: int
    unit: Unit
    framework_name: str
    published: bool
    version: int | None
    published_at: datetime | None
    checksum: str
    computed_at: datetime | None
    approved: bool
    lines: list[Line]
    adjustments: list[dict[str, Any]]
    adjustments_by_rule: list[dict[str, Any]]
    adjustments_entered: Decimal
    obtained: Decimal
    adjustments_counted: Decimal
    final: Decimal
    maximum: Decimal
    index: Decimal | None
    field_indices: dict[str, str | None]
    tier: str
    tier_label: str
    rank: int | None
    group: str
    group_size: int
    previous_rank: int | None
    previous_index: Decimal | None
    rank_change: int | None
    index_change: Decimal | None

    def problems(self) -> list[str]:
        """Where the explanation does not add up to the result (an empty
        list: every point is accounted for)."""
        found = []
        by_code = {line.code: line for line in self.lines}
        for line in self.lines:
            if line.is_leaf:
                if not ZERO <= line.points <= line.maximum:
                    found.append(f"{line.code}: {line.points} outside 0–{line.maximum}")
                continue
            total = sum((by_code[c].points for c in line.children), ZERO)
            if line.points != min(line.maximum, total):
                found.append(
                    f"{line.code}: {line.points} ≠ min({line.maximum}, {total})"
                )
        obtained = sum((line.points for line in self.lines if line.depth == 0), ZERO)
        if obtained != self.obtained:
            found.append(f"fields add up to {obtained}, not {self.obtained}")
        counted = sum((Decimal(r["counted"]) for r in self.adjustments_by_rule), ZERO)
        if counted != self.adjustments_entered:
            found.append(f"rules add up to {counted}, not {self.adjustments_entered}")
        final = rules.final_points(
            obtained=obtained, adjustments=[counted], maximum=self.maximum
        )
        if final != self.final:
            found.append(f"final {final} ≠ {self.final}")
        if rules.index_of(final, self.maximum) != self.index:
            found.append(f"index {rules.index_of(final, self.maximum)} ≠ {self.index}")
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "unit": {"code": self.unit.code, "name": self.unit.name},
            "framework": self.framework_name,
            "status": "published" if self.published else "provisional",
            "version": self.version,
            "published_at": self.published_at,
            "checksum": self.checksum or None,
            "computed_at": self.computed_at,
            "approved": self.approved,
            "points_obtained": str(self.obtained),
            "adjustments": self.adjustments,
            "adjustments_by_rule": self.adjustments_by_rule,
            "adjustments_total": str(self.adjustments_entered),
            "final_points": str(self.final),
            "max_points": str(self.maximum),
            "index": _str(self.index),
            "field_indices": self.field_indices,
            "tier": self.tier or None,
            "tier_label": self.tier_label or None,
            "rank": self.rank,
            "ranking_group": self.group or None,
            "group_size": self.group_size,
            "previous_rank": self.previous_rank,
            "previous_index": _str(self.previous_index),
            "rank_change": self.rank_change,
            "index_change": _str(self.index_change),
            "lines": [line.as_json() for line in self.lines],
        }


def explain(
    result: Result | PublishedResult,
    parameters: dict[str, Any],
    *,
    publication: Publication | None = None,
    group_size: int = 0,
) -> Explanation:
    """A unit's result node by node, from the parameters it was computed with
    (``parameters`` is the run's or the publication's, keyed by framework)."""
    framework = parameters[str(result.framework_id)]
    detail = result.detail
    leaves = detail.get("leaves", {})
    nodes = detail.get("nodes", {})
    children: dict[str | None, list[str]] = {}
    for node in framework["nodes"]:
        children.setdefault(node["parent"], []).append(node["code"])
    depth: dict[str, int] = {}
    lines = []
    for node in framework["nodes"]:
        code = node["code"]
        depth[code] = 0 if node["parent"] is None else depth[node["parent"]] + 1
        kids = children.get(code, [])
        line = Line(
            code=code,
            title=node["title"],
            level=node["level"],
            depth=depth[code],
            maximum=Decimal(node["max"]),
            points=ZERO,
            is_leaf=not kids,
            children=kids,
        )
        if kids:
            line.points = Decimal(nodes.get(code, "0"))
        else:
            entry = leaves.get(code, {})
            line.points = Decimal(entry.get("p", "0"))
            line.method = node["method"]
            line.self_score = _dec(entry.get("s"))
            line.appraised = _dec(entry.get("a"))
            line.reason = entry.get("r", "")
            line.metric = entry.get("m")
            line.survey = entry.get("sv")
            line.scoring = node["scoring"]
            line.params = node["params"]
        lines.append(line)
    by_code = {line.code: line for line in lines}
    for line in lines:
        if not line.is_leaf:
            line.children_sum = sum((by_code[c].points for c in line.children), ZERO)
    rule_titles = {rule["code"]: rule for rule in framework.get("rules", [])}
    by_rule = [
        {
            "rule": code,
            "title": rule_titles.get(code, {}).get("title", code),
            "points_per_case": rule_titles.get(code, {}).get("points_per_case"),
            "cap": rule_titles.get(code, {}).get("cap"),
            "entered": values["entered"],
            "counted": values["counted"],
        }
        for code, values in sorted(detail.get("adjustments_by_rule", {}).items())
    ]
    adjustments = [
        {**entry, "title": rule_titles.get(entry["rule"], {}).get("title", "")}
        for entry in detail.get("adjustments", [])
    ]
    run = getattr(result, "run", None)
    return Explanation(
        year=framework["year"],
        unit=result.unit,
        framework_name=framework["name"],
        published=publication is not None,
        version=publication.version if publication else None,
        published_at=publication.published_at if publication else None,
        checksum=publication.checksum if publication else "",
        computed_at=(
            publication.run.finished_at
            if publication
            else (run.finished_at if run else None)
        ),
        approved=result.approved,
        lines=lines,
        adjustments=adjustments,
        adjustments_by_rule=by_rule,
        adjustments_entered=Decimal(detail.get("adjustments_entered") or "0"),
        obtained=result.obtained,
        adjustments_counted=result.adjustments,
        final=result.final,
        maximum=result.maximum,
        index=result.index,
        field_indices=result.field_indices,
        tier=result.tier,
        tier_label=result.tier_label,
        rank=result.rank,
        group=result.group.name if result.group else "",
        group_size=group_size,
        previous_rank=result.previous_rank,
        previous_index=result.previous_index,
        rank_change=result.rank_change,
        index_change=result.index_change,
    )


def group_size(result: Result | PublishedResult) -> int:
    """How many units were ranked in the result's group."""
    same: QuerySet[Any]
    if isinstance(result, PublishedResult):
        same = PublishedResult.objects.filter(publication_id=result.publication_id)
    else:
        same = Result.objects.filter(framework__year=result.framework.year)
    same = same.filter(rank__isnull=False)
    if result.group_id:
        return same.filter(group_id=result.group_id).count()
    return same.filter(framework_id=result.framework_id, group__isnull=True).count()


def explanation_published(
    year: int, unit: Unit, version: int | None = None
) -> Explanation | None:
    publication = publication_of(year, version)
    if publication is None:
        return None
    result = (
        PublishedResult.objects.filter(publication=publication, unit=unit)
        .select_related("unit", "group", "framework")
        .first()
    )
    if result is None:
        return None
    return explain(
        result,
        publication.parameters,
        publication=publication,
        group_size=group_size(result),
    )


def explanation_provisional(year: int, unit: Unit) -> Explanation | None:
    result = (
        Result.objects.filter(framework__year=year, unit=unit)
        .select_related("unit", "group", "framework", "run")
        .first()
    )
    if result is None:
        return None
    return explain(result, result.run.parameters, group_size=group_size(result))


# --- reads for lists (the API's years and rankings) -----------------------------------


def units_in(publication_ref: Any) -> Coalesce:
    """How many units a publication holds, as a subquery: a join and GROUP BY
    would group on the publication's parameters, a large JSON column."""
    counted = (
        PublishedResult.objects.filter(publication=publication_ref)
        .order_by()
        .values("publication")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), Value(0), output_field=IntegerField())


def _latest_publications() -> dict[int, Publication]:
    latest = (
        Publication.objects.filter(year=OuterRef("year"))
        .order_by("-version")
        .values("version")[:1]
    )
    return {
        found.year: found
        for found in Publication.objects.filter(version=Subquery(latest))
        .defer("parameters")
        .annotate(units=units_in(OuterRef("pk")))
        .order_by()
    }


def _latest_runs(years: list[int]) -> dict[int, ComputationRun]:
    latest = (
        ComputationRun.objects.filter(year=OuterRef("year"))
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    return {
        run.year: run
        for run in ComputationRun.objects.filter(year__in=years, pk=Subquery(latest))
        .select_related("requested_by")
        .defer("parameters")
        .order_by()
    }


def result_years(user: AnyUser) -> list[dict[str, Any]]:
    """Each year with published results, and for reviewers each year with
    provisional ones, newest first: a fixed number of queries."""
    published = _latest_publications()
    provisional = provisional_years(user)
    runs = _latest_runs(provisional) if provisional else {}
    in_scope: dict[int, int] = {}
    if provisional:
        in_scope = dict(
            Result.objects.filter(framework__year__in=provisional)
            .filter(access.reviewer_q(user))
            .order_by()
            .values("framework__year")
            .annotate(n=Count("pk"))
            .values_list("framework__year", "n")
        )
    years = []
    for year in sorted(set(published) | set(provisional), reverse=True):
        found = published.get(year)
        years.append(
            {
                "year": year,
                "published": (
                    {
                        "version": found.version,
                        "published_at": found.published_at,
                        "checksum": found.checksum,
                        "units": found.units,  # type: ignore[attr-defined]
                    }
                    if found is not None
                    else None
                ),
                "provisional": (
                    {"units": in_scope.get(year, 0), "latest_run": runs.get(year)}
                    if year in provisional
                    else None
                ),
            }
        )
    return years


def ranking_rows(
    rows: QuerySet[Any], *, group: str | None, unit_kind: str | None
) -> QuerySet[Any]:
    """Filtered, and in the order of the ranking: by group, then rank (the
    unranked last), then unit code. Units without a group are ranked within
    their framework, so they are listed framework by framework."""
    if group:
        rows = rows.filter(group__code=group)
    if unit_kind:
        rows = rows.filter(framework__unit_kind=unit_kind)
    return (
        rows.select_related(None)
        .select_related("unit", "group", "framework")
        # The leaf-by-leaf detail is the explanation's, not the list's.
        .defer("detail")
        .order_by(
            F("group__code").asc(nulls_last=True),
            Case(
                When(group__isnull=True, then=F("framework__unit_kind")),
                default=Value(""),
                output_field=CharField(),
            ),
            F("rank").asc(nulls_last=True),
            "unit__code",
        )
    )


# --- the ranking as the pages and their downloads show it ------------------------
# The results pages, their CSV, XLSX and PDF downloads and the dashboard read
# the same selection, groups and order: they are written here once.

PUBLISHED, PROVISIONAL = "published", "provisional"


def years_with_results(user: AnyUser) -> list[int]:
    """Years with results the user reads (published, or provisional ones of
    their units), the latest first."""
    return sorted(
        set(published_years()) | set(provisional_years(user)),
        reverse=True,
    )


@dataclass
class Selection:
    """The results a request shows: a publication's, or the provisional ones."""

    year: int
    view: str
    publication: Publication | None = None
    # A version named in the address (?version=N): links keep it.
    pinned: bool = False

    @property
    def provisional(self) -> bool:
        return self.view == PROVISIONAL

    def query(self, **extra: str) -> str:
        """The query string that selects the same results (and ``extra``)."""
        params = QueryDict(mutable=True)
        if self.provisional:
            params["view"] = PROVISIONAL
        elif self.pinned and self.publication is not None:
            params["version"] = str(self.publication.version)
        for key, value in extra.items():
            if value:
                params[key] = value
        return params.urlencode()


def select(user: AnyUser, year: int, *, view: str, version: str) -> Selection:
    """The results the address asks for (?view=, ?version=): published
    ones by default (the latest version, or version N); provisional ones for
    reviewers (view=provisional, or by default where nothing is published
    yet). Anything else the user may not see is Http404, as another unit's
    object is elsewhere: pages and downloads answer alike."""
    if view not in ("", PUBLISHED, PROVISIONAL):
        raise Http404
    if view != PROVISIONAL:
        try:
            number = int(version) if version else None
        except ValueError as exc:
            raise Http404 from exc
        found = publication_of(year, number)
        if found is not None:
            return Selection(year, PUBLISHED, found, pinned=number is not None)
        if view == PUBLISHED or version:
            raise Http404
    if not access.may_see_provisional(user):
        raise Http404
    if not Framework.objects.filter(year=year).exists():
        raise Http404
    return Selection(year, PROVISIONAL)


def group_key(result: Result | PublishedResult) -> tuple[str, str]:
    """(code, name) of the result's ranking group. Units without one are
    ranked within their framework (scoring.results.computation.rank_rows),
    so their "group" is the unit kind's."""
    if result.group is not None:
        return result.group.code, result.group.name
    return f"kind-{result.framework.unit_kind}", result.framework.name


def ranking_order(result: Result | PublishedResult) -> tuple[Any, ...]:
    """The order of a group's rows: ranked units by rank (equal ranks by
    name, then code), then the unranked (not approved) ones."""
    return (
        result.rank is None,
        result.rank or 0,
        not result.approved,
        result.unit.name,
        result.unit.code,
    )


def field_columns(
    parameters: dict[str, Any], framework_ids: Iterable[int]
) -> list[tuple[str, str]]:
    """The top-level fields (code, title) of the frameworks, as the results
    were computed with them (a later edit of a framework does not rename a
    published column)."""
    columns: dict[str, str] = {}
    for framework_id in framework_ids:
        framework = parameters.get(str(framework_id), {})
        for node in framework.get("nodes", []):
            if node["parent"] is None:
                columns.setdefault(node["code"], node["title"])
    return list(columns.items())


@dataclass
class Row:
    """A unit's line in the ranking. ``url`` (its explanation) is the
    page's to fill: only for rows whose ``explainable`` is true."""

    result: Result | PublishedResult
    fields: list[Decimal | None]
    explainable: bool
    rank_change: str
    index_change: str
    url: str = ""


@dataclass
class Group:
    code: str
    name: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    @property
    def ranked(self) -> int:
        return sum(1 for row in self.rows if row.result.rank is not None)


def _table_results(
    user: AnyUser | None, selection: Selection
) -> tuple[list[Result | PublishedResult], dict[str, Any], ComputationRun | None]:
    """The rows (without their leaf detail), the parameters they were
    computed with and, for provisional results, the run that wrote them."""
    if selection.publication is not None:
        published = published_results(selection.publication)
        rows: list[Result | PublishedResult] = list(published.defer("detail"))
        return rows, selection.publication.parameters, None
    # Provisional results are a reviewer's: someone reads them.
    assert user is not None
    provisional = list(
        provisional_results(user, selection.year).defer("detail", "run__parameters")
    )
    # Every provisional result of a year comes from the run that wrote it
    # (a run replaces them all).
    run = (
        ComputationRun.objects.filter(pk=provisional[0].run_id).first()
        if provisional
        else None
    )
    found: list[Result | PublishedResult] = list(provisional)
    return found, run.parameters if run else {}, run


def _explainable(user: AnyUser | None, selection: Selection) -> set[int] | None:
    """Units whose explanation the user may open: those of their scope
    (access.may_explain_published, for every row at once); every provisional row
    (the query is already the reviewer's units). None: all of them. No
    user (a published ranking's documents, laid out for every reader):
    none of them."""
    if selection.provisional:
        return None
    if user is None:
        return set()
    return set(explainable_units(user).values_list("pk", flat=True))


def ranking_groups(
    user: AnyUser | None, selection: Selection
) -> tuple[list[Group], ComputationRun | None]:
    """The selection's ranking, group by group (by name, then code), each
    in ranking order with its field columns; and for provisional results
    the run that wrote them. ``user`` None: a published ranking as every
    reader sees it, no row marked explainable (its documents)."""
    found, parameters, run = _table_results(user, selection)
    explainable = _explainable(user, selection)
    by_code: dict[str, Group] = {}
    framework_ids: dict[str, list[int]] = {}
    for result in sorted(found, key=ranking_order):
        code, name = group_key(result)
        group = by_code.get(code)
        if group is None:
            group = by_code[code] = Group(code, name)
            framework_ids[code] = []
        if result.framework_id not in framework_ids[code]:
            framework_ids[code].append(result.framework_id)
        group.rows.append(
            Row(
                result,
                [],
                explainable is None or result.unit_id in explainable,
                formatting.rank_change(result.rank_change),
                formatting.signed(result.index_change),
            )
        )
    for code, group in by_code.items():
        group.fields = field_columns(parameters, framework_ids[code])
        for row in group.rows:
            values = row.result.field_indices or {}
            row.fields = [
                Decimal(values[c]) if values.get(c) is not None else None
                for c, _title in group.fields
            ]
    groups = sorted(by_code.values(), key=lambda g: (g.name, g.code))
    return groups, run


def unit_explanation(
    user: AnyUser, year: int, code: str, *, view: str, version: str
) -> tuple[Unit, Selection, Explanation]:
    """The unit, the selection (select) and the unit's explanation, as the
    address asks for them; Http404 for a unit whose explanation the user may
    not read, so the page and its downloads answer alike."""
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise Http404
    selection = select(user, year, view=view, version=version)
    explanation: Explanation | None
    if selection.provisional:
        explanation = (
            explanation_provisional(year, unit)
            if access.may_explain_provisional(user, unit)
            else None
        )
    else:
        assert selection.publication is not None
        explanation = (
            explanation_published(year, unit, version=selection.publication.version)
            if access.may_explain_published(user, unit)
            else None
        )
    if explanation is None:
        raise Http404
    return unit, selection, explanation
