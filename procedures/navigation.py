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
    own = dict(
        Membership.objects.filter(user_id=user.pk, role__in=UNIT_EDIT_ROLES)
        .order_by("unit__code")
        .values_list("unit__code", "unit__name")
    )
    for code, name in own.items():
        # Someone of two units (a merged ward and its predecessor) tells the
        # two items apart by the unit's name.
        label = (
            _("Dossier figures")
            if len(own) == 1
            else _("Dossier figures: %(unit)s") % {"unit": name}
        )
        found.append(
            NavItem("metrics", label, reverse("unit_metrics", kwargs={"code": code}))
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
