"""How the commitments API loads what it answers, shared by the reads
(views.py) and the workflow steps (actions.py): the commitments the caller
sees with their targets, and progress computed for a page at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from commitments import progress
from commitments.models import Commitment, Target
from commitments.organisation.access import scope_queryset

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser


def with_progress(targets: Sequence[Target]) -> list[progress.TargetProgress]:
    """The targets' progress as of today, also set on each target as
    ``live`` for the serializers: one read of the figures for them all. Each
    target's commitment must be loaded (select_related, or the reverse
    relation's prefetch)."""
    found = progress.targets_progress(targets, today=timezone.localdate())
    for item in found:
        item.target.live = item  # type: ignore[attr-defined]
    return found


def commitments_visible(user: AnyUser) -> QuerySet[Commitment]:
    """The commitments of the units the user sees, with their targets."""
    # Targets with their indicators in one query for a whole page; their
    # commitment is set by the prefetch (progress reads its year).
    targets = Target.objects.select_related("indicator").order_by("position", "pk")
    return scope_queryset(
        user,
        Commitment.objects.select_related("unit", "head").prefetch_related(
            Prefetch("targets", queryset=targets)
        ),
    )


def count_progress(commitments: Sequence[Commitment]) -> None:
    """Set ``progress_counts`` on each commitment: its targets by progress
    state, from one read of the figures for the whole page."""
    found = with_progress([t for c in commitments for t in c.targets.all()])
    by_commitment: dict[int, list[progress.TargetProgress]] = defaultdict(list)
    for item in found:
        by_commitment[item.target.commitment_id].append(item)
    for commitment in commitments:
        commitment.progress_counts = progress.tally(  # type: ignore[attr-defined]
            by_commitment[commitment.pk]
        )
