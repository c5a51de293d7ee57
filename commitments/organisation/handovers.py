"""Work handed to someone: who acts next on a unit's work, and the one way an
app below scoring asks for them to be told.

The notices themselves (``scoring.models.Notice``, the e-mails) belong to
scoring, above commitments and procedures. A lower app's service does not
import them: it sends ``handed_over`` with the people and the message, and
scoring, connected in its AppConfig.ready, writes the notices in the same
transaction (a rolled-back step tells nobody). See docs/decisions.md, issue 18.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.dispatch import Signal

from commitments.organisation.access import UNIT_EDIT_ROLES
from commitments.organisation.models import Role
from commitments.organisation.todo import todo_forget

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser
    from commitments.organisation.models import Unit


@dataclass(frozen=True)
class Handover:
    """A message to each of ``user_ids`` (the actor left out), linking to
    ``url``; subject and body already in the portal's language. ``actor_id``:
    who acted, whose own notices about ``url`` are now dealt with."""

    user_ids: tuple[int, ...]
    subject: str
    body: str
    url: str
    actor_id: int | None = None


# Sent with handover=Handover, now=datetime.
handed_over = Signal()


def hand_over(
    *,
    users: Iterable[Any],
    subject: str,
    url: str,
    now: datetime,
    body: str = "",
    actor: AnyUser | None = None,
) -> Handover:
    """Tell ``users`` (accounts or their ids) that work reached them."""
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    ids = sorted({getattr(user, "pk", user) for user in users} - {actor_id, None})
    handover = Handover(
        user_ids=tuple(ids),
        subject=subject[:255],
        body=body,
        url=url,
        actor_id=actor_id,
    )
    # What the actor just did is off their own to-do list.
    todo_forget([actor_id])
    if ids or actor_id is not None:
        handed_over.send(sender=Handover, handover=handover, now=now)
    return handover


# --- who acts next ----------------------------------------------------------------


def ancestor_paths(unit: Unit) -> list[str]:
    """The paths of the units strictly above ``unit`` ("/1/5/9/" gives "/1/"
    and "/1/5/")."""
    return [
        unit.path[: i + 1]
        for i, char in enumerate(unit.path)
        if char == "/" and 0 < i < len(unit.path) - 1
    ]


def unit_people(unit_id: int) -> QuerySet[Any]:
    """The unit's own staff and head (active accounts): who fill in, sign
    and answer for it."""
    return (
        get_user_model()
        .objects.filter(
            memberships__unit_id=unit_id,
            memberships__role__in=UNIT_EDIT_ROLES,
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def unit_heads(unit_id: int) -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(
            memberships__unit_id=unit_id,
            memberships__role=Role.UNIT_HEAD,
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def people_above(unit: Unit, roles: Iterable[str]) -> QuerySet[Any]:
    """Active accounts holding one of ``roles`` in a unit strictly above
    ``unit``: its reviewers (Home Affairs above it appraise it, never its
    own) or the leaders of the level above."""
    return (
        get_user_model()
        .objects.filter(
            memberships__role__in=list(roles),
            memberships__unit__path__in=ancestor_paths(unit),
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def reviewers_of(unit: Unit) -> QuerySet[Any]:
    return people_above(unit, [Role.REVIEWER])
