"""The procedures app's menu items (settings.NAVIGATION_PROVIDERS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from commitments.organisation.access import UNIT_EDIT_ROLES, user_roles
from commitments.organisation.models import Membership
from commitments.organisation.navigation import NavItem
from procedures.selectors import import_upload_allowed, reminder_allowed

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser


def items(user: AnyUser) -> list[NavItem]:
    """Staff and heads: their unit's dossier figures. Every role: the late
    dossiers it may see. Reviewers and leaders: reminders and repeated
    lateness. Importing case records for the roles the upload page admits."""
    found: list[NavItem] = []
    if not user.is_authenticated:
        return found
    own = Membership.objects.filter(
        user_id=user.pk, role__in=UNIT_EDIT_ROLES
    ).values_list("unit__code", flat=True)
    for code in sorted(set(own)):
        found.append(
            NavItem(
                "metrics",
                _("Dossier figures"),
                reverse("unit_metrics", kwargs={"code": code}),
            )
        )
    if user.is_superuser or user_roles(user):
        found.append(NavItem("late_cases", _("Late dossiers"), reverse("late_cases")))
    if reminder_allowed(user=user):
        found.append(NavItem("reminders", _("Reminders"), reverse("reminder_list")))
        found.append(
            NavItem(
                "repeated_lateness",
                _("Repeated lateness"),
                reverse("repeated_lateness"),
            )
        )
    if import_upload_allowed(user=user):
        found.append(
            NavItem("imports", _("Import case records"), reverse("import_list"))
        )
    return found
