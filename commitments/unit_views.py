"""The organisation's pages: the units a user may see, a unit (its heads,
lineage and commitments) and the heads in office; the home redirect."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from commitments import access, selectors
from commitments.organisation import selectors as organisation
from commitments.organisation.access import (
    access_unit,
    scope_queryset,
    units_visible_to,
    user_roles,
)
from commitments.organisation.models import HeadPosition, RankingGroup, UnitKind
from commitments.organisation.todo import todo_counts, todo_for, todo_remember


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The to-do home of every role: what waits for the user, gathered from
    each app (commitments.organisation.todo). An administrator without a role
    works in the admin; an account without one is told whom to ask."""
    user = request.user
    if not user_roles(user):
        if user.is_superuser:
            return redirect("admin:index")
        return render(request, "core/no_unit.html")
    items = todo_for(user, today=timezone.localdate())
    todo_remember(user, items)
    return render(
        request,
        "core/home.html",
        {
            "waiting": [item for item in items if item.waiting],
            "known": [item for item in items if not item.waiting],
        },
    )


@login_required
@require_GET
def todo_counts_json(request: HttpRequest) -> JsonResponse:
    """The menu's counts, filled in by static/js/todo.js: kept a minute, so
    the menu of every page costs no query."""
    counts = todo_counts(request.user, today=timezone.localdate())
    response = JsonResponse(counts)
    response["Cache-Control"] = "private, no-store"
    return response


def _require_oversight(request: HttpRequest) -> None:
    if not access.may_follow(request.user):
        raise Http404


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    _require_oversight(request)
    today = timezone.localdate()
    units = organisation.unit_list(
        user=request.user,
        search=request.GET.get("q", "").strip(),
        kind=request.GET.get("kind", ""),
        ranking_group=request.GET.get("group", ""),
        include_ended=request.GET.get("ended") == "1",
        today=today,
    )
    page = Paginator(units, 100).get_page(request.GET.get("page"))
    # Indent relative to the shallowest unit listed: a city's reviewer sees the
    # city flush left, not one step in from a province they cannot see.
    top = min((unit.depth for unit in page), default=0)
    return render(
        request,
        "commitments/unit_list.html",
        {
            "page": page,
            "rows": [(unit, unit.depth - top) for unit in page],
            "kinds": UnitKind.choices,
            "groups": RankingGroup.objects.filter(
                units__in=units_visible_to(request.user)
            ).distinct(),
            "today": today,
        },
    )


@login_required
def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
    unit = access_unit(request.user, code)
    context = {"unit": unit, **selectors.unit_detail(unit=unit, user=request.user)}
    return render(request, "commitments/unit_detail.html", context)


@login_required
def head_list(request: HttpRequest) -> HttpResponse:
    _require_oversight(request)
    today = timezone.localdate()
    heads = scope_queryset(
        request.user, organisation.heads_on(day=today).select_related("unit")
    ).order_by("unit__path", "position", "full_name")
    position = request.GET.get("position", "")
    if position in HeadPosition.values:
        heads = heads.filter(position=position)
    search = request.GET.get("q", "").strip()
    if search:
        heads = heads.filter(
            Q(full_name__icontains=search) | Q(unit__name__icontains=search)
        )
    page = Paginator(heads, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "commitments/head_list.html",
        {"page": page, "positions": HeadPosition.choices, "today": today},
    )
