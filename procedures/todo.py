"""Procedures' item of the to-do home (settings.TODO_PROVIDERS): the user's
latest case import, when it left rows rejected or failed. One query."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commitments.organisation.todo import TodoItem
from procedures.models import ImportRun, ImportStatus

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

# An import older than this is no longer news on the home page.
RECENT = timedelta(days=30)


def items(user: AnyUser, *, today: date) -> list[TodoItem]:
    if user.pk is None:
        return []
    latest = (
        ImportRun.objects.filter(
            user_id=int(user.pk),
            created_at__gte=timezone.now() - RECENT,
            status__in=[
                ImportStatus.SUCCEEDED,
                ImportStatus.FAILED,
                ImportStatus.INTERRUPTED,
            ],
        )
        .order_by("-created_at", "-pk")
        .only("pk", "file_name", "status", "rows_rejected", "created_at")
        .first()
    )
    if latest is None:
        return []
    url = reverse("import_detail", kwargs={"pk": latest.pk})
    name = latest.file_name or _("case records")
    if latest.status == ImportStatus.SUCCEEDED:
        if not latest.rows_rejected:
            return []
        return [
            TodoItem(
                key="import_rejected",
                nav="imports",
                title=ngettext(
                    "Import of %(file)s: %(n)d row rejected",
                    "Import of %(file)s: %(n)d rows rejected",
                    latest.rows_rejected,
                )
                % {"file": name, "n": latest.rows_rejected},
                detail=_("Correct the rows named in the error list and import again."),
                url=url,
            )
        ]
    return [
        TodoItem(
            key="import_failed",
            nav="imports",
            title=_("Import of %(file)s did not finish: %(status)s")
            % {"file": name, "status": latest.get_status_display().lower()},
            detail=_("Open it to see why, then import the file again."),
            url=url,
        )
    ]
