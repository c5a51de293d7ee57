"""What each step of a commitment tells the people who act next (through
``commitments.organisation.handovers``: the notices live in scoring, above)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from commitments.organisation.handovers import hand_over, people_above, unit_people
from commitments.organisation.models import Role

if TYPE_CHECKING:
    from commitments.models import Commitment, Target


def _names(commitment: Commitment) -> dict[str, Any]:
    return {"unit": commitment.unit.name, "year": commitment.year}


def commitment_drafted(commitment: Commitment, *, actor: Any, now: datetime) -> None:
    """Drafted by Home Affairs → the unit adjusts it, the head signs."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(
            "The commitment %(year)s of %(unit)s is drafted: check its targets; "
            "the head signs it"
        ) % _names(commitment)
    hand_over(
        users=unit_people(commitment.unit_id),
        subject=subject,
        url=commitment.get_absolute_url(),
        now=now,
        actor=actor,
    )


def commitment_signed(commitment: Commitment, *, actor: Any, now: datetime) -> None:
    """Signed by the head → the level above counter-signs."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(
            "%(unit)s signed its commitment %(year)s: waiting for the level "
            "above to counter-sign"
        ) % _names(commitment)
    signers = {commitment.signing_recorded_by_id}
    if commitment.head is not None:
        signers.add(commitment.head.user_id)
    hand_over(
        users=people_above(commitment.unit, [Role.REVIEWER, Role.LEADER]).exclude(
            pk__in=[pk for pk in signers if pk is not None]
        ),
        subject=subject,
        url=commitment.get_absolute_url(),
        now=now,
        actor=actor,
    )


def commitment_countersigned(
    commitment: Commitment, *, actor: Any, now: datetime
) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(
            "The commitment %(year)s of %(unit)s is counter-signed by the level above"
        ) % _names(commitment)
    hand_over(
        users=unit_people(commitment.unit_id),
        subject=subject,
        url=commitment.get_absolute_url(),
        now=now,
        actor=actor,
    )


def report_made(target: Target, *, actor: Any, now: datetime) -> None:
    """A manual indicator reported → the reviewers above check it."""
    commitment = target.commitment
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("%(unit)s reported “%(indicator)s” (%(year)s): to check") % {
            **_names(commitment),
            "indicator": target.indicator.name,
        }
    hand_over(
        users=people_above(commitment.unit, [Role.REVIEWER]),
        subject=subject,
        url=commitment.get_absolute_url(),
        now=now,
        actor=actor,
    )


def report_rejected(target: Target, *, actor: Any, now: datetime) -> None:
    """A reported value rejected → the unit reports again."""
    commitment = target.commitment
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(
            "Home Affairs rejected the value reported for “%(indicator)s” "
            "(%(unit)s, %(year)s)"
        ) % {**_names(commitment), "indicator": target.indicator.name}
    hand_over(
        users=unit_people(commitment.unit_id),
        subject=subject,
        body=target.check_note,
        url=commitment.get_absolute_url(),
        now=now,
        actor=actor,
    )
