"""The procedures app's menu items (settings.NAVIGATION_PROVIDERS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from commitments.navigation import NavItem
from procedures.selectors import import_upload_allowed

if TYPE_CHECKING:
    from commitments.access import AnyUser


def items(user: AnyUser) -> list[NavItem]:
    """Importing case records for the roles the upload page admits."""
    if not import_upload_allowed(user=user):
        return []
    return [NavItem("imports", _("Import case records"), reverse("import_list"))]
