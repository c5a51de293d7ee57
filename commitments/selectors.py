"""Reads of the organisation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from commitments import progress
from commitments.models import Commitment
from commitments.organisation.access import units_visible_to
from commitments.organisation.models import Unit

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser


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
