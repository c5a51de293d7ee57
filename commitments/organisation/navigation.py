"""The menu each role sees. One table, so the base layout and the home page
agree on where a role's work is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from commitments.organisation.access import user_roles
from commitments.organisation.models import Membership, Role

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url: str


def navigation_for(user: AnyUser) -> list[NavItem]:
    """The organisation's items, then those of each app in
    settings.NAVIGATION_PROVIDERS (higher apps add theirs without this module
    importing them)."""
    if not user.is_authenticated:
        return []
    items = organisation_items(user)
    for dotted in settings.NAVIGATION_PROVIDERS:
        items.extend(import_string(dotted)(user))
    if user.is_superuser:
        items.append(NavItem("admin", _("Administration"), reverse("admin:index")))
    return items


def organisation_items(user: AnyUser) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    roles = user_roles(user)
    items: list[NavItem] = []
    if roles:
        # The to-do home, first: where every role's day starts.
        items.append(NavItem("todo", _("To do"), reverse("home")))
    own_units = (
        Membership.objects.filter(
            user_id=user.pk, role__in=[Role.UNIT_STAFF, Role.UNIT_HEAD]
        )
        .select_related("unit")
        .order_by("unit__name")
    )
    for membership in own_units:
        item = NavItem(
            key="my_unit",
            label=membership.unit.name,
            url=membership.unit.get_absolute_url(),
        )
        if item not in items:
            items.append(item)
    if user.is_superuser or roles & {Role.REVIEWER, Role.LEADER}:
        items.append(NavItem("units", _("Units"), reverse("unit_list")))
        items.append(NavItem("heads", _("Heads of units"), reverse("head_list")))
    return items
