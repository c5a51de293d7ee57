"""The organisation's pages: the units a user may see, a unit (its heads,
lineage and commitments) and the heads in office; the home redirect."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from commitments import access, selectors
from commitments.organisation import selectors as organisation
from commitments.organisation.access import (
    access_unit,
    scope_queryset,
    units_visible_to,
)
from commitments.organisation.models import HeadPosition, RankingGroup, UnitKind
from commitments.organisation.navigation import home_url_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    url = home_url_for(request.user)
    if url is not None:
        return redirect(url)
    return render(request, "core/no_unit.html")


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
