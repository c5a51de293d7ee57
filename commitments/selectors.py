"""Reads of the organisation."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from commitments import progress
from commitments.access import units_visible_to
from commitments.models import Commitment, Head, HeadPosition, Unit

if TYPE_CHECKING:
    from commitments.access import AnyUser


def head_overlapping(
    *,
    unit_id: int,
    tenure_from: date,
    tenure_to: date | None,
    exclude_pk: int | None = None,
) -> Head | None:
    """Another head of the unit whose tenure shares at least one day with the
    given one (tenures are closed intervals; an open end runs to today and on)."""
    overlapping = Head.objects.filter(
        unit_id=unit_id, position=HeadPosition.HEAD
    ).filter(Q(tenure_to__isnull=True) | Q(tenure_to__gte=tenure_from))
    if tenure_to is not None:
        overlapping = overlapping.filter(tenure_from__lte=tenure_to)
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    return overlapping.order_by("tenure_from").first()


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


def unit_detail(*, unit: Unit, user: AnyUser) -> dict[str, object]:
    """What the unit page shows: its heads over time, its place in the tree and
    its lineage (only the related units the user may see are listed)."""
    visible = units_visible_to(user)
    commitments = list(
        Commitment.objects.filter(unit=unit).select_related("head").order_by("-year")
    )
    today = timezone.localdate()
    current = next((c for c in commitments if c.year == today.year), None)
    return {
        "commitments": commitments,
        "current": current
        and {
            "commitment": current,
            "rows": progress.targets_progress(
                list(current.targets.select_related("indicator", "commitment")),
                today=today,
            ),
        },
        "heads": unit.heads.order_by("position", "-tenure_from"),
        "children": visible.filter(parent=unit).order_by("kind", "name"),
        "predecessors": visible.filter(successors=unit).order_by("name"),
        "successors": visible.filter(predecessors=unit).order_by("name"),
    }
