"""The leaders' dashboard: a year's ranking by group with its charts, the
group's procedure KPIs against what its units committed, a unit's trend,
and what needs attention (open accountability cases, targets at risk); and
the unit page it drills down to, gathering a unit's results, explanation,
commitments, dossier figures, ratings and cases.

For leaders and Home Affairs reviewers (and administrators). Published
results are read as published (the latest version); reviewers may switch
to their provisional figures. Everything is read from stored results and
figures (scoring.dashboard.selectors), in a fixed number of queries.

The group section (summary, ranking page, heat map, chart data, KPIs) is
the same for every user with the same memberships: it is rendered once and
kept in the cache under the results it shows (a publication, or the run
that wrote provisional results), so a new publication or run is a new key
and no stale table is ever shown. The section listing what needs attention
is the user's own and is kept for WATCH_SECONDS.

A page of published results is also kept whole for its reader, for
PAGE_SECONDS (scoring.results.page_cache): a new publication shows at once, a
change of the reader's memberships or notices too, and a page read again
costs one round trip to the cache. Provisional pages are never kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from commitments.models import Commitment
from commitments.organisation.access import memberships, units_visible_to
from commitments.organisation.models import Unit
from scoring import access
from scoring.accountability import services as accountability
from scoring.dashboard import selectors as dashboard
from scoring.models import ComputationRun, Publication
from scoring.results import formatting, generation, page_cache, publication
from scoring.results import selectors as results
from scoring.results.selectors import PROVISIONAL, PUBLISHED

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PER_PAGE = 50
GROUP_SECONDS = 10 * 60
WATCH_SECONDS = 5 * 60
# A whole page is no older than what it shows of the reader's own.
PAGE_SECONDS = WATCH_SECONDS
# The heat map's steps, best first: what each colour means.
HEAT_STEPS = (
    ("h5", "≥ 90"),
    ("h4", "80–90"),
    ("h3", "70–80"),
    ("h2", "60–70"),
    ("h1", "50–60"),
    ("h0", "< 50"),
)


def _user(request: HttpRequest) -> User:
    user = request.user
    if not access.may_use_dashboard(user):
        raise PermissionDenied
    assert user.is_authenticated
    return user


def _scope_key(user: User) -> str:
    """Users with the same memberships see the same rows and links."""
    source = f"{user.is_superuser}:{sorted(memberships(user))}"
    return hashlib.sha256(source.encode()).hexdigest()[:16]


class Source:
    """The results a dashboard shows: a year's latest publication, or the
    provisional ones of the latest run (reviewers)."""

    def __init__(
        self,
        year: int,
        publication: Publication | None = None,
        run: ComputationRun | None = None,
    ) -> None:
        self.year = year
        self.publication = publication
        self.run = run

    @property
    def provisional(self) -> bool:
        return self.publication is None

    @property
    def key(self) -> str:
        if self.publication is not None:
            source = f"p{self.publication.pk}:{self.publication.checksum}"
        else:
            assert self.run is not None
            source = f"r{self.run.pk}:{self.run.finished_at}"
        return hashlib.sha256(source.encode()).hexdigest()[:24]

    def rows(self, user: User) -> Any:
        if self.publication is not None:
            return results.published_results(self.publication)
        return results.provisional_results(user, self.year)

    def parameters(self) -> dict[str, Any]:
        model = Publication if self.publication is not None else ComputationRun
        pk = self.publication.pk if self.publication is not None else self.run.pk  # type: ignore[union-attr]
        found = model.objects.filter(pk=pk).values_list("parameters", flat=True)
        return found[0] if found else {}


def _source(request: HttpRequest, user: User, year: int) -> Source | None:
    """Published results unless a reviewer asks for the provisional ones
    (?view=provisional), or nothing is published yet for the year."""
    view = request.GET.get("view") or ""
    if view not in ("", PUBLISHED, PROVISIONAL):
        raise Http404
    if view != PROVISIONAL:
        found = results.publication_of(year, with_parameters=False)
        if found is not None:
            return Source(year, publication=found)
        if view == PUBLISHED:
            raise Http404
    if not access.may_see_provisional(user):
        if view == PROVISIONAL:
            raise Http404
        return None
    run = (
        ComputationRun.objects.filter(
            pk__in=results.provisional_results(user, year).values("run_id")[:1]
        )
        .defer("parameters")
        .first()
    )
    return Source(year, run=run) if run is not None else None


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _query(source: Source, **extra: Any) -> str:
    params = QueryDict(mutable=True)
    params["year"] = str(source.year)
    if source.provisional:
        params["view"] = PROVISIONAL
    for key, value in extra.items():
        if value:
            params[key] = str(value)
    return params.urlencode()


def _export_url(source: Source, group: str) -> str:
    """The ranking table of the group as the XLSX sent upward."""
    params = QueryDict(mutable=True)
    if source.provisional:
        params["view"] = PROVISIONAL
    params["group"] = group
    url = reverse("results_export_xlsx", kwargs={"year": source.year})
    return f"{url}?{params.urlencode()}"


def _default_group(
    user: User, source: Source, groups: list[dashboard.GroupChoice]
) -> str:
    """The group of the user's own unit when it is ranked, else the first."""
    paths = [path for _role, path in memberships(user)]
    if paths:
        own = (
            source.rows(user)
            .filter(unit__path__in=paths)
            .select_related("group", "framework")
            .defer("detail")
            .first()
        )
        if own is not None:
            return dashboard.group_code(own)
    return groups[0].code


@dataclass
class Row:
    r: dashboard.AnyResult
    fields: list[Decimal | None]
    heat: list[tuple[Decimal | None, str]]
    rank_change: str
    index_change: str
    url: str
    trend_url: str


def _group_section(
    user: User, source: Source, group: dashboard.GroupChoice, page_number: int | None
) -> tuple[str, str]:
    """The rendered group section and the code of its first unit on the
    page (the trend's default)."""
    rows = dashboard.group_rows(source.rows(user), group.code)
    summary = dashboard.summary(rows)
    framework_ids = sorted({r.framework_id for r in rows})
    fields = results.field_columns(source.parameters(), framework_ids)
    codes = [code for code, _title in fields]
    page = Paginator(rows, PER_PAGE).get_page(page_number)
    explainable = set(results.explainable_units(user).values_list("pk", flat=True))
    unit_ids = [r.unit_id for r in rows]
    query = _query(source, group=group.code)
    shown: list[Row] = []
    for r in page.object_list:
        values = dashboard.field_values(r, codes)
        shown.append(
            Row(
                r=r,
                fields=values,
                heat=[(v, dashboard.heat_class(v)) for v in values],
                rank_change=formatting.rank_change(r.rank_change),
                index_change=formatting.signed(r.index_change),
                url=(
                    reverse("dashboard_unit", kwargs={"code": r.unit.code})
                    + f"?{query}"
                    if r.unit_id in explainable
                    else ""
                ),
                trend_url="?"
                + _query(source, group=group.code, page=page.number, unit=r.unit.code)
                + "#trend",
            )
        )
    chart = {
        "labels": [row.r.unit.name for row in shown],
        "index": [
            float(row.r.index) if row.r.index is not None else None for row in shown
        ],
        "tier": [row.r.tier for row in shown],
    }
    kpis = dashboard.kpis(unit_ids, source.year)
    kpi_chart = {
        "labels": [k.label for k in kpis],
        "rate": [float(k.rate) if k.rate is not None else None for k in kpis],
        "target": [
            float(k.median_target) if k.median_target is not None else None
            for k in kpis
        ],
    }
    html = render_to_string(
        "scoring/dashboard/_group.html",
        {
            "source": source,
            "group": group,
            "summary": summary,
            "fields": fields,
            "rows": shown,
            "page": page,
            "page_query": _query(source, group=group.code),
            "chart": chart,
            "kpis": kpis,
            "kpi_chart": kpi_chart,
            "heat_steps": HEAT_STEPS,
            "xlsx": _export_url(source, group.code),
        },
    )
    first = shown[0].r.unit.code if shown else ""
    return html, first


def _watch_section(user: User) -> str:
    key = f"dashboard:watch:{user.pk}:{get_language()}"
    html = cache.get(key)
    if html is None:
        today = timezone.localdate()
        html = render_to_string(
            "scoring/dashboard/_watch.html",
            {"watch": dashboard.watch(user, today), "today": today},
        )
        cache.set(key, html, WATCH_SECONDS)
    return str(html)


def _trend(unit: Unit | None) -> dict[str, Any]:
    if unit is None:
        return {}
    found = dashboard.unit_trend(unit)
    return {
        "unit": unit,
        "rows": [
            {"r": r, "rank_change": formatting.rank_change(r.rank_change)}
            for r in found
        ],
        "chart": {
            "labels": [str(r.publication.year) for r in found],
            "index": [float(r.index) if r.index is not None else None for r in found],
            "rank": [r.rank for r in found],
        },
    }


@never_cache
@login_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    # Read before anything the page shows, so kept with what was read.
    kept = page_cache.lookup(request, "dashboard")
    if kept.body is not None:
        # Only ever kept after the permission check, for this reader, with
        # the memberships they still have.
        return HttpResponse(kept.body)
    user = _user(request)
    response, source = _dashboard(request, user)
    if source is not None and not source.provisional:
        page_cache.keep(kept, response.content, PAGE_SECONDS)
    return response


def _dashboard(request: HttpRequest, user: User) -> tuple[HttpResponse, Source | None]:
    """The page, and the results it shows."""
    years = results.years_with_results(user)
    year = _int(request.GET.get("year"))
    if year is None or year not in years:
        year = years[0] if years else None
    source = _source(request, user, year) if year is not None else None
    if source is None:
        return render(
            request, "scoring/dashboard/page.html", {"years": years, "year": year}
        ), None
    scope = _scope_key(user)
    # With the generation too: a unit or group renamed starts a new one
    # (scoring.signals), and its sections are read again.
    fresh = generation.current()
    groups_key = f"dashboard:groups:{source.key}:{fresh}:{scope}"
    groups: list[dashboard.GroupChoice] | None = cache.get(groups_key)
    if groups is None:
        groups = dashboard.groups_of(source.rows(user))
        cache.set(groups_key, groups, GROUP_SECONDS)
    if not groups:
        return render(
            request, "scoring/dashboard/page.html", {"years": years, "year": year}
        ), None
    wanted = request.GET.get("group") or ""
    group = next((g for g in groups if g.code == wanted), None)
    if group is None:
        code = _default_group(user, source, groups)
        group = next(g for g in groups if g.code == code)
    page_number = _int(request.GET.get("page")) or 1
    pages = max(1, -(-group.units // PER_PAGE))
    page_number = min(max(page_number, 1), pages)
    section_key = (
        f"dashboard:group:{source.key}:{fresh}:{scope}:{group.code}:{page_number}:"
        f"{get_language()}"
    )
    cached = cache.get(section_key)
    if cached is None:
        cached = _group_section(user, source, group, page_number)
        cache.set(section_key, cached, GROUP_SECONDS)
    group_html, first_code = cached
    assert year is not None
    unit_code = request.GET.get("unit") or first_code
    trend_unit = Unit.objects.filter(code=unit_code).first() if unit_code else None
    return render(
        request,
        "scoring/dashboard/page.html",
        {
            "years": years,
            "year": year,
            "source": source,
            "groups": groups,
            "group": group,
            "page_number": page_number,
            "group_html": mark_safe(group_html),  # rendered by our template
            "watch_html": mark_safe(_watch_section(user)),
            "trend": _trend(trend_unit),
            "reviewer": access.may_see_provisional(user),
            "has_publication": source.publication is not None
            or results.publication_of(year, with_parameters=False) is not None,
        },
    ), source


# --- the unit page ----------------------------------------------------------------


@never_cache
@login_required
@require_GET
def dashboard_unit(request: HttpRequest, code: str) -> HttpResponse:
    """One unit, everything about it: its published results over the years
    (and the explanation of the chosen one), its procedure KPIs against its
    targets, its commitments, its heads' ratings and its accountability
    cases. For the units the user oversees or belongs to."""
    user = _user(request)
    unit = get_object_or_404(
        units_visible_to(user).select_related("parent", "ranking_group"), code=code
    )
    trend = _trend(unit)
    published_years = [row["r"].publication.year for row in trend["rows"]]
    year = _int(request.GET.get("year"))
    if year is None:
        year = published_years[-1] if published_years else timezone.localdate().year
    chosen = next(
        (row["r"] for row in trend["rows"] if row["r"].publication.year == year), None
    )
    fields: list[tuple[str, str, Any, str]] = []
    if chosen is not None:
        parameters = (
            Publication.objects.filter(pk=chosen.publication_id)
            .values_list("parameters", flat=True)
            .first()
            or {}
        )
        columns = results.field_columns(parameters, [chosen.framework_id])
        values = dashboard.field_values(chosen, [c for c, _t in columns])
        fields = [
            (code_, title, value, dashboard.heat_class(value))
            for (code_, title), value in zip(columns, values, strict=True)
        ]
    provisional = None
    if access.may_explain_provisional(user, unit):
        provisional = (
            results.provisional_results(user, year)
            .filter(unit=unit)
            .defer("detail")
            .first()
        )
    commitments = list(
        Commitment.objects.filter(unit=unit).select_related("head").order_by("-year")
    )
    ratings = list(
        accountability.ratings_visible(user)
        .filter(unit=unit)
        .select_related("head")
        .order_by("-year", "head__full_name")
    )
    cases = list(
        accountability.cases_visible(user)
        .filter(unit=unit)
        .select_related("head")
        .order_by("-year", "-opened_at")
    )
    latest = publication.latest_publication(year) if chosen is not None else None
    # The dashboard's group (and results) carried to and from the unit page.
    keep = QueryDict(mutable=True)
    for name in ("group", "view"):
        if request.GET.get(name):
            keep[name] = request.GET[name]
    back = keep.copy()
    back["year"] = str(year)
    return render(
        request,
        "scoring/dashboard/unit.html",
        {
            "unit": unit,
            "year": year,
            "years": sorted(
                set(published_years) | {timezone.localdate().year}, reverse=True
            ),
            "trend": trend,
            "chosen": chosen,
            "chosen_rank_change": formatting.rank_change(chosen.rank_change)
            if chosen
            else "",
            "chosen_index_change": formatting.signed(chosen.index_change)
            if chosen
            else "",
            "latest": latest,
            "fields": fields,
            "provisional": provisional,
            "kpis": dashboard.unit_kpis(unit, year),
            "commitments": commitments,
            "ratings": ratings,
            "cases": cases,
            "keep": keep.urlencode(),
            "back": f"{reverse('dashboard')}?{back.urlencode()}",
        },
    )
