"""The scoring app's menu items (settings.NAVIGATION_PROVIDERS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from commitments.organisation.access import user_roles
from commitments.organisation.models import Role
from commitments.organisation.navigation import NavItem
from scoring import access

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

ASSESSMENT_ROLES = frozenset(
    {Role.UNIT_STAFF, Role.UNIT_HEAD, Role.REVIEWER, Role.LEADER}
)
# Who reads head ratings (scoring.accountability.services.ratings_visible).
RATING_ROLES = frozenset({Role.UNIT_HEAD, Role.REVIEWER, Role.LEADER})


def items(user: AnyUser) -> list[NavItem]:
    """Every role: the assessments it fills in, appraises or reads, and the
    year's results. Reviewers and superusers: the year's frameworks, which
    they define, and the deductions and bonuses they enter and approve."""
    found: list[NavItem] = []
    if not user.is_authenticated:
        return found
    roles = user_roles(user)
    if access.may_use_dashboard(user):
        # The leaders' two minutes: first in their menu.
        found.append(NavItem("dashboard", _("Dashboard"), reverse("dashboard")))
    if user.is_superuser or roles & ASSESSMENT_ROLES:
        found.append(
            NavItem("assessments", _("Assessments"), reverse("assessment_list"))
        )
    if user.is_superuser or roles & ASSESSMENT_ROLES:
        # Published results are the province's public rankings.
        found.append(NavItem("results", _("Results"), reverse("results_home")))
        # Commitments live in the lower app; their menu item sits here, next
        # to the accountability that follows from them.
        found.append(
            NavItem("commitments", _("Commitments"), reverse("commitment_list"))
        )
        found.append(
            NavItem(
                "accountability", _("Accountability"), reverse("accountability_list")
            )
        )
    if user.is_superuser or roles & RATING_ROLES:
        # The head reads their own rating; the level above rates.
        found.append(NavItem("ratings", _("Head ratings"), reverse("rating_list")))
    if access.is_reviewer(user):
        found.append(NavItem("frameworks", _("Frameworks"), reverse("framework_list")))
        found.append(
            NavItem(
                "adjustments",
                _("Deductions and bonuses"),
                reverse("adjustment_list"),
            )
        )
    return found
