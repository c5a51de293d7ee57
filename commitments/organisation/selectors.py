"""Reads of the organisation: heads in office, the units a user may see."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet

from commitments.organisation.access import units_visible_to
from commitments.organisation.models import Head, HeadPosition, Unit

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser


def heads_on(*, day: date) -> QuerySet[Head]:
    return Head.objects.filter(
        Q(tenure_to__isnull=True) | Q(tenure_to__gte=day), tenure_from__lte=day
    )


def unit_list(
    *,
    user: AnyUser,
    search: str = "",
    kind: str = "",
    ranking_group: str = "",
    include_ended: bool = False,
    today: date,
) -> QuerySet[Unit]:
    """The units a user may see, each with its current head prefetched."""
    units = units_visible_to(user).select_related("parent", "ranking_group")
    if search:
        units = units.filter(Q(name__icontains=search) | Q(code__icontains=search))
    if kind:
        units = units.filter(kind=kind)
    if ranking_group:
        units = units.filter(ranking_group__code=ranking_group)
    if not include_ended:
        units = units.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    return units.prefetch_related(
        Prefetch(
            "heads",
            queryset=heads_on(day=today).filter(position=HeadPosition.HEAD),
            to_attr="current_heads",
        )
    )
