"""Reminders (nhắc nhở) over the API: recorded and withdrawn through the same
services as the reminders page (procedures.services), with the same
permission: reviewers and leaders record for the units of their jurisdiction;
only Home Affairs withdraws, saying why, and the reminder is kept, marked
withdrawn. A reminder the caller does not see answers 404.

    POST reminders/                 record one (Idempotency-Key)
    POST reminders/{id}/withdraw/   withdraw it, with the reason"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cchc_portal.api_steps import Step, answers, taken, user_of, valid
from cchc_portal.idempotency import IDEMPOTENCY_KEY, idempotent
from commitments.organisation.access import scope_queryset
from procedures import selectors, services
from procedures.api.serializers import (
    ReminderIssueSerializer,
    ReminderSerializer,
    ReminderWithdrawSerializer,
)
from procedures.models import Reminder

TAGS = ["reminders"]
REFUSED = OpenApiResponse(
    description=_(
        "Refused: the input is wrong (the messages name the field), the unit or "
        "officer already has a reminder that day, or it was already withdrawn."
    )
)


def _answer(pk: int, code: int = status.HTTP_200_OK) -> Response:
    reminder = Reminder.objects.select_related("unit", "issued_by", "withdrawn_by")
    return Response(ReminderSerializer(reminder.get(pk=pk)).data, status=code)


class ReminderIssueView(Step):
    @extend_schema(
        operation_id="reminders_record",
        tags=TAGS,
        summary=_("Record a reminder"),
        description=_(
            "A reviewer or leader records a reminder about late dossiers to a "
            "unit of their jurisdiction, or to one of its handling officers: "
            "one per unit or officer and day. It caps the head's rating when "
            "the unit is late again the next year."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=ReminderIssueSerializer,
        responses=answers(
            ReminderSerializer, 201, refused=REFUSED, missing=None, idempotent=True
        ),
    )
    @idempotent
    def post(self, request: Request) -> Response:
        user = user_of(request)
        if not selectors.reminder_allowed(user=user):
            raise PermissionDenied
        data = valid(ReminderIssueSerializer, request)
        unit = selectors.reminder_units(user=user).filter(code=data["unit"]).first()
        if unit is None:
            raise serializers.ValidationError(
                {
                    "unit": [
                        _("No unit “%(code)s” among those you may remind.")
                        % {"code": data["unit"]}
                    ]
                }
            )
        reminder = taken(
            lambda: services.reminder_issue(
                user=user,
                unit=unit,
                issued_on=data["issued_on"],
                officer=data["officer"],
                year=data["year"],
                reason=data["reason"],
            )
        )
        return _answer(reminder.pk, status.HTTP_201_CREATED)


class ReminderWithdrawView(Step):
    @extend_schema(
        operation_id="reminders_withdraw",
        tags=TAGS,
        summary=_("Withdraw a reminder"),
        description=_(
            "Home Affairs of the unit withdraws a reminder recorded by mistake "
            "or settled, saying why; it stays listed, marked withdrawn, and no "
            "longer counts towards repeated lateness. Never a leader."
        ),
        request=ReminderWithdrawSerializer,
        responses=answers(
            ReminderSerializer,
            refused=REFUSED,
            missing=OpenApiResponse(
                description=_("No such reminder among those the caller sees.")
            ),
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        user = user_of(request)
        reminder = (
            scope_queryset(user, Reminder.objects.select_related("unit"))
            .filter(pk=pk)
            .first()
        )
        if reminder is None:
            raise Http404
        # Who may, before what is sent: as the page, whose service says so first.
        if not services.reminder_withdraw_allowed(user=user, unit=reminder.unit):
            raise PermissionDenied
        data = valid(ReminderWithdrawSerializer, request)
        taken(
            lambda: services.reminder_withdraw(
                user=user, reminder=reminder, reason=data["reason"]
            ),
            renamed={"withdrawal_reason": "reason"},
        )
        return _answer(reminder.pk)
