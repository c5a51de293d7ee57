"""The organisation in the admin: ranking groups, units, heads, memberships
and the logins they belong to."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from cchc_portal.admin import SpreadsheetAdmin
from commitments.organisation.models import Head, Membership, RankingGroup, Unit
from commitments.organisation.resources import HeadResource, UnitResource


@admin.register(RankingGroup)
class RankingGroupAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class HeadInline(admin.TabularInline):
    model = Head
    extra = 0
    fields = ("full_name", "title", "position", "tenure_from", "tenure_to", "user")
    autocomplete_fields = ("user",)


@admin.register(Unit)
class UnitAdmin(SpreadsheetAdmin):
    resource_classes = [UnitResource]
    list_display = (
        "code",
        "name",
        "kind",
        "parent",
        "ranking_group",
        "valid_from",
        "valid_to",
    )
    list_filter = ("kind", "ranking_group")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent", "predecessors")
    list_select_related = ("parent", "ranking_group")
    inlines = [HeadInline]


@admin.register(Head)
class HeadAdmin(SpreadsheetAdmin):
    resource_classes = [HeadResource]
    list_display = (
        "full_name",
        "title",
        "position",
        "unit",
        "tenure_from",
        "tenure_to",
    )
    list_filter = ("position", "unit__kind")
    search_fields = ("full_name", "unit__name", "unit__code")
    autocomplete_fields = ("unit", "user")
    list_select_related = ("unit",)
    date_hierarchy = "tenure_from"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "unit")
    list_filter = ("role",)
    search_fields = ("user__username", "user__last_name", "unit__name", "unit__code")
    autocomplete_fields = ("user", "unit")
    list_select_related = ("user", "unit")


admin.site.site_header = _("CCHC portal administration")
admin.site.site_title = _("CCHC portal")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ("unit",)


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """Accounts with their units and roles on the same page."""

    inlines = [MembershipInline]
    list_display = ("username", "last_name", "first_name", "email", "is_active")
