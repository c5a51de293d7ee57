"""The results pages of the year's PAR index: the ranking tables by group,
a unit's explanation leaf by leaf, and for Home Affairs the computation runs
and the publication.

Published results (the latest version, or ?version=N) are the province's
rankings: every signed-in user reads the tables; a unit's explanation is for
the unit and those above it. Provisional results (?view=provisional) are
the reviewers' working figures, for the units they review. Anything out of
sight answers 404, as another unit's object does elsewhere.

Who sees what is scoring.results.selectors; computing is scoring.tasks.compute_queue;
publishing is scoring.results.publication.publish. These views choose, call, and
render."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cchc_portal.spreadsheets import formula_safe
from cchc_portal.throttling import export_throttled
from procedures.figures import COUNT_LABELS, RATE_COUNTS, Rate
from scoring import access, tasks
from scoring.models import (
    ComputationRun,
    Framework,
    Method,
    NodeLevel,
    Publication,
    RunState,
    ScoringFunction,
)
from scoring.results import formatting, page_cache, publication
from scoring.results import selectors as results
from scoring.results.selectors import PROVISIONAL, Group, Selection

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# While a run is queued or running the page reloads itself this often.
REFRESH_SECONDS = 5
RUNS_SHOWN = 20
ALIVE = (RunState.QUEUED, RunState.RUNNING)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert user.is_authenticated  # behind login_required
    return user


def _manager(request: HttpRequest, year: int) -> User:
    """The user, when they compute and publish the year; 404 for anyone
    else (access.may_run)."""
    user = _user(request)
    if not access.may_run(user, year):
        raise Http404
    return user


# --- which results a request asks for ---------------------------------------------


def _years_listed(user: User) -> list[int]:
    """The year switcher: years with results the user sees, and for Home
    Affairs every year with a framework (to compute it a first time)."""
    years = set(results.years_with_results(user))
    if access.is_reviewer(user):
        years |= set(Framework.objects.order_by().values_list("year", flat=True))
    return sorted(years, reverse=True)


def _select(request: HttpRequest, user: User, year: int) -> Selection:
    """The results the address asks for (scoring.results.selectors.select);
    404 for anything the user may not see."""
    return results.select(
        user,
        year,
        view=request.GET.get("view") or "",
        version=request.GET.get("version") or "",
    )


# --- the table ---------------------------------------------------------------------


def _groups(
    user: User, selection: Selection
) -> tuple[list[Group], ComputationRun | None]:
    """The ranking (scoring.results.selectors.ranking_groups), each row
    linked to its explanation where the user may open it."""
    groups, run = results.ranking_groups(user, selection)
    query = selection.query()
    for group in groups:
        for row in group.rows:
            if row.explainable:
                url = reverse(
                    "results_unit",
                    kwargs={"year": selection.year, "code": row.result.unit.code},
                )
                row.url = f"{url}?{query}" if query else url
    return groups, run


# --- Home Affairs: runs and publication ----------------------------------------------

TRIGGERS = {
    "manual": gettext_lazy("by hand"),
    "schedule": gettext_lazy("nightly"),
    "command": gettext_lazy("by the system administrator"),
    "publication": gettext_lazy("publication"),
}


def _latest_run(year: int) -> ComputationRun | None:
    return (
        ComputationRun.objects.filter(year=year)
        .select_related("requested_by")
        .defer("parameters")
        .order_by("-created_at", "-pk")
        .first()
    )


class PublishForm(forms.Form):
    run = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I have checked these results: publish them. Published results "
            "never change; a later publication is a new version."
        ),
        error_messages={
            "required": gettext_lazy("Tick the box to confirm the publication.")
        },
    )


def _manage_context(year: int) -> dict[str, Any]:
    """The run status box and the publication form."""
    run = _latest_run(year)
    computed = publication.latest_run(year)
    blockers = publication.blockers(year)
    already = (
        Publication.objects.filter(year=year, run=computed).order_by("-version").first()
        if computed is not None
        else None
    )
    alive = run is not None and run.state in ALIVE
    return {
        "run": run,
        "run_trigger": str(TRIGGERS.get(run.trigger, run.trigger)) if run else "",
        "run_alive": alive,
        "refresh_seconds": REFRESH_SECONDS if alive else None,
        "computed_run": computed,
        "blockers": blockers,
        "already_published": already,
        "may_publish": computed is not None
        and not blockers
        and not alive
        and already is None,
        "publish_form": PublishForm(initial={"run": computed.pk if computed else ""}),
    }


# --- pages ------------------------------------------------------------------------


@login_required
@require_GET
def results_home(request: HttpRequest) -> HttpResponse:
    """The latest year with results the user sees, or a page that says
    there are none yet."""
    user = _user(request)
    years = results.years_with_results(user)
    if years:
        url = reverse("results_year", kwargs={"year": years[0]})
        if years[0] not in results.published_years():
            url += "?view=provisional"
        return redirect(url)
    return render(
        request,
        "scoring/results/empty.html",
        {
            "manage": access.is_reviewer(user),
            "years": _years_listed(user),
        },
    )


# How long a page of published results is kept whole for its reader
# (scoring.results.page_cache): a new publication, or a change of the
# reader's memberships or notices, shows at once; the years listed (a
# reviewer's provisional years among them) within this time.
PAGE_SECONDS = 5 * 60


@never_cache
@login_required
@require_GET
def results_year(request: HttpRequest, year: int) -> HttpResponse:
    # Read before anything the page shows, so kept with what was read. A
    # province's ranking is thousands of rows: rendered once per reader and
    # publication, not at every visit.
    kept = page_cache.lookup(request, "results_year")
    if kept.body is not None:
        # Only ever kept after the checks below, for this reader.
        return HttpResponse(kept.body)
    response, selection = _results_year(request, year)
    if not selection.provisional:
        page_cache.keep(kept, response.content, PAGE_SECONDS)
    return response


def _results_year(request: HttpRequest, year: int) -> tuple[HttpResponse, Selection]:
    """The page, and the results it shows."""
    user = _user(request)
    selection = _select(request, user, year)
    groups, provisional_run = _groups(user, selection)
    wanted = request.GET.get("group") or ""
    shown = [g for g in groups if g.code == wanted] or groups
    manage = access.may_run(user, year)
    latest_version = None
    versions: list[Publication] = []
    if selection.publication is not None:
        versions = list(
            Publication.objects.filter(year=year)
            .select_related("published_by")
            .defer("parameters")
            .order_by("-version")
        )
        latest_version = versions[0].version
    context: dict[str, Any] = {
        "year": year,
        "selection": selection,
        "publication": selection.publication,
        "latest_version": latest_version,
        "versions": versions,
        "provisional_run": provisional_run,
        "groups": groups,
        "shown": shown,
        "group_code": wanted if len(shown) == 1 and shown[0].code == wanted else "",
        "years": _years_listed(user),
        "reviewer": access.may_see_provisional(user),
        "has_publication": bool(versions)
        or Publication.objects.filter(year=year).exists(),
        "query": selection.query(),
        "csv_query": selection.query(group=wanted if len(shown) == 1 else ""),
        "manage": manage and selection.provisional,
    }
    if manage and selection.provisional:
        context.update(_manage_context(year))
    return render(request, "scoring/results/year.html", context), selection


def _cell(value: object) -> object:
    return formula_safe(value)


def _plain(value: Decimal | None) -> str:
    return "" if value is None else str(value)


@login_required
@export_throttled
@require_GET
def results_csv(request: HttpRequest, year: int) -> HttpResponse:
    """The table as CSV, with the same choice of results and group."""
    user = _user(request)
    selection = _select(request, user, year)
    groups, _run = _groups(user, selection)
    wanted = request.GET.get("group") or ""
    shown = [g for g in groups if g.code == wanted] or groups
    codes: list[str] = []
    for group in shown:
        for code, _title in group.fields:
            if code not in codes:
                codes.append(code)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    status = (
        f"v{selection.publication.version}"
        if selection.publication is not None
        else PROVISIONAL
    )
    response["Content-Disposition"] = (
        f'attachment; filename="results-{year}-{status}.csv"'
    )
    # The byte-order mark tells Excel the file is UTF-8 (Vietnamese letters).
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            "year",
            "status",
            "ranking_group",
            "rank",
            "unit_code",
            "unit_name",
            "approved",
            "index",
            *[f"field_{code}" for code in codes],
            "tier",
            "tier_label",
            "previous_rank",
            "rank_change",
            "previous_index",
            "index_change",
            "points_obtained",
            "deductions_bonuses",
            "final_points",
            "max_points",
        ]
    )
    for group in shown:
        for row in group.rows:
            r = row.result
            values = r.field_indices or {}
            writer.writerow(
                [
                    year,
                    status,
                    _cell(group.name),
                    r.rank or "",
                    _cell(r.unit.code),
                    _cell(r.unit.name),
                    int(r.approved),
                    _plain(r.index),
                    *[values.get(code) or "" for code in codes],
                    _cell(r.tier),
                    _cell(r.tier_label),
                    r.previous_rank or "",
                    "" if r.rank_change is None else r.rank_change,
                    _plain(r.previous_index),
                    _plain(r.index_change),
                    _plain(r.obtained),
                    _plain(r.adjustments),
                    _plain(r.final),
                    _plain(r.maximum),
                ]
            )
    return response


@login_required
@require_POST
def results_compute(request: HttpRequest, year: int) -> HttpResponse:
    """Queue a run of the year (in the quick start it runs right here)."""
    user = _manager(request, year)
    if not Framework.objects.filter(year=year).exists():
        raise Http404
    # In the quick start (no broker) the run is carried out right here; a
    # failure is recorded on the run (scoring.tasks), never raised to here.
    run = tasks.compute_queue(year=year, trigger="manual", user=user)
    run.refresh_from_db()
    if run.state == RunState.SUCCEEDED:
        messages.success(
            request,
            _("Results of %(year)d computed: %(units)d units.")
            % {"year": year, "units": run.units},
        )
    elif run.state == RunState.FAILED:
        messages.error(
            request,
            _("The computation failed: %(error)s") % {"error": run.cause},
        )
    elif run.requested_by_id != user.pk or run.trigger != "manual":
        messages.info(
            request,
            _("A computation of %(year)d is already under way: it is shown below.")
            % {"year": year},
        )
    else:
        messages.info(
            request,
            _(
                "The computation of %(year)d is queued: this page refreshes "
                "until it finishes."
            )
            % {"year": year},
        )
    return redirect(
        f"{reverse('results_year', kwargs={'year': year})}?view=provisional"
    )


@login_required
@require_POST
def results_publish(request: HttpRequest, year: int) -> HttpResponse:
    user = _manager(request, year)
    if not Framework.objects.filter(year=year).exists():
        raise Http404
    back = f"{reverse('results_year', kwargs={'year': year})}?view=provisional"
    form = PublishForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    run_id = form.cleaned_data["run"]
    already = Publication.objects.filter(year=year, run_id=run_id).first()
    if already is not None:
        messages.error(
            request,
            _(
                "These results are already published as version %(version)d: "
                "compute them again to publish a new version."
            )
            % {"version": already.version},
        )
        return redirect(back)
    try:
        published = publication.publish(
            user=user,
            year=year,
            run_id=run_id,
            now=timezone.now(),
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(back)
    messages.success(
        request,
        _("The %(year)d results are published as version %(version)d.")
        % {"year": year, "version": published.version},
    )
    return redirect("results_year", year=year)


@never_cache
@login_required
@require_GET
def results_runs(request: HttpRequest, year: int) -> HttpResponse:
    _manager(request, year)
    if not Framework.objects.filter(year=year).exists():
        raise Http404
    runs = list(
        ComputationRun.objects.filter(year=year)
        .select_related("requested_by")
        .defer("parameters")
        .order_by("-created_at", "-pk")[:RUNS_SHOWN]
    )
    published = dict(
        Publication.objects.filter(run__in=runs).values_list("run_id", "version")
    )
    alive = any(run.state in ALIVE for run in runs)
    return render(
        request,
        "scoring/results/runs.html",
        {
            "year": year,
            "runs": [
                (
                    run,
                    str(TRIGGERS.get(run.trigger, run.trigger)),
                    published.get(run.pk),
                )
                for run in runs
            ],
            "shown": RUNS_SHOWN,
            "refresh_seconds": REFRESH_SECONDS if alive else None,
        },
    )


# --- a unit's explanation -------------------------------------------------------


@dataclass
class Counted:
    label: str
    value: int | None


def _metric_counts(metric: dict[str, Any] | None) -> list[Counted]:
    if not metric:
        return []
    names = RATE_COUNTS.get(metric.get("name", ""), ())
    return [
        Counted(str(COUNT_LABELS.get(name, name)), metric.get(name)) for name in names
    ]


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _labels(choices: Sequence[tuple[str, Any]]) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


@never_cache
@login_required
@require_GET
def results_unit(request: HttpRequest, year: int, code: str) -> HttpResponse:
    unit, selection, explanation = results.unit_explanation(
        _user(request),
        year,
        code,
        view=request.GET.get("view") or "",
        version=request.GET.get("version") or "",
    )
    methods = _labels(Method.choices)
    metrics = _labels(Rate.choices)
    scorings = _labels(ScoringFunction.choices)
    levels = _labels(NodeLevel.choices)
    lines = [
        {
            "line": line,
            "level": levels.get(line.level, line.level),
            "method": methods.get(line.method, line.method),
            "metric_name": metrics.get((line.metric or {}).get("name", ""), ""),
            "rate": _decimal((line.metric or {}).get("rate")),
            "counts": _metric_counts(line.metric),
            "scoring": scorings.get(line.scoring, line.scoring),
            "field_index": _decimal(explanation.field_indices.get(line.code))
            if line.depth == 0
            else None,
        }
        for line in explanation.lines
    ]
    rules = [
        {
            **rule,
            "entered": Decimal(rule["entered"] or "0"),
            "counted": Decimal(rule["counted"] or "0"),
            "cap": Decimal(rule["cap"]) if rule.get("cap") else None,
            "capped": rule["entered"] != rule["counted"],
        }
        for rule in explanation.adjustments_by_rule
    ]
    adjustments = [
        {**entry, "points": Decimal(entry["points"])}
        for entry in explanation.adjustments
    ]
    before_clamp = explanation.obtained + explanation.adjustments_entered
    latest = publication.latest_publication(year) if selection.publication else None
    back = reverse("results_year", kwargs={"year": year})
    query = selection.query()
    return render(
        request,
        "scoring/results/unit.html",
        {
            "year": year,
            "unit": unit,
            "selection": selection,
            "publication": selection.publication,
            "latest_version": latest.version if latest else None,
            "x": explanation,
            "lines": lines,
            "rules": rules,
            "adjustments": adjustments,
            "before_clamp": before_clamp,
            "clamped": before_clamp != explanation.final,
            "rank_change": formatting.rank_change(explanation.rank_change),
            "index_change": formatting.signed(explanation.index_change),
            "problems": explanation.problems(),
            "back": f"{back}?{query}" if query else back,
        },
    )
