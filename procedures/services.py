"""Writes of the procedures app outside the import engine: reminders (nhắc nhở)
about late dossiers. Each runs in one transaction and validates the row the way
a form would."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments.organisation.access import reaches, units_q
from commitments.organisation.models import Role, Unit
from procedures.models import Reminder
from procedures.selectors import reminder_allowed_for

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from commitments.organisation.access import AnyUser


@transaction.atomic
def reminder_issue(
    *,
    user: User,
    unit: Unit,
    issued_on: date,
    officer: str = "",
    year: int | None = None,
    reason: str = "",
) -> Reminder:
    """Record a reminder to ``unit`` (or, with ``officer``, to one of its
    handling officers). Reviewers and leaders for the units of their
    jurisdiction, superusers for any; PermissionDenied for anyone else.

    ``year`` is the year whose late dossiers it concerns, by default that of
    ``issued_on``."""
    if not reminder_allowed_for(user=user, unit=unit):
        raise PermissionDenied
    reminder = Reminder(
        unit=unit,
        officer=officer.strip(),
        issued_on=issued_on,
        year=issued_on.year if year is None else year,
        reason=reason.strip(),
        issued_by=user,
    )
    reminder.full_clean()
    try:
        # Its own savepoint: a concurrent identical reminder that slipped past
        # the check above fails here, and the caller's transaction goes on.
        with transaction.atomic():
            reminder.save()
    except IntegrityError as exc:
        raise ValidationError(
            _("This unit or officer already has a reminder on this date.")
        ) from exc
    return reminder


# Who withdraws a reminder: Home Affairs, the side that records them, for
# the units of its jurisdiction; superusers anywhere. Never a leader: a
# leader rates the heads whose lateness cap a reminder sets (seed 003).
WITHDRAW_ROLES = frozenset({Role.REVIEWER})


def reminder_withdraw_allowed(*, user: AnyUser, unit: Unit) -> bool:
    return reaches(user, unit, WITHDRAW_ROLES)


def reminder_withdraw_units(*, user: AnyUser) -> QuerySet[Unit]:
    """The units whose reminders the user may withdraw."""
    return Unit.objects.filter(units_q(user, roles=WITHDRAW_ROLES))


@transaction.atomic
def reminder_withdraw(
    *, user: User, reminder: Reminder, reason: str, now: datetime | None = None
) -> Reminder:
    """Withdraw a reminder (recorded by mistake, or settled), with the
    reason. It stays in the list, marked withdrawn with who, when and why,
    and no longer counts towards repeated lateness. Checked against the
    reminder as stored; a reminder already withdrawn is refused."""
    locked = (
        Reminder.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=reminder.pk)
    )
    if not reminder_withdraw_allowed(user=user, unit=locked.unit):
        raise PermissionDenied
    if locked.withdrawn_at is not None:
        raise ValidationError(
            _("This reminder was already withdrawn on %(day)s.")
            % {"day": timezone.localtime(locked.withdrawn_at).strftime("%d/%m/%Y")}
        )
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"withdrawal_reason": _("Say why the reminder is withdrawn.")}
        )
    locked.withdrawn_at = now or timezone.now()
    locked.withdrawn_by = user
    locked.withdrawal_reason = reason
    locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    return locked
