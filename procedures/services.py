"""Writes of the procedures app outside the import engine: reminders (nhắc nhở)
about late dossiers. Each runs in one transaction and validates the row the way
a form would."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from commitments.models import Unit
from procedures.models import Reminder
from procedures.selectors import reminder_allowed_for

if TYPE_CHECKING:
    from django.contrib.auth.models import User


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


@transaction.atomic
def reminder_withdraw(*, user: User, reminder: Reminder) -> None:
    """Delete a reminder recorded by mistake; the same people who may record
    one for its unit may withdraw it."""
    if not reminder_allowed_for(user=user, unit=reminder.unit):
        raise PermissionDenied
    Reminder.objects.filter(pk=reminder.pk).delete()
