"""The administrator's view of frameworks and assessments. Frameworks are
built on their own pages (reviewers); here they can be inspected and, while
not published, corrected by a superuser. Anyone else with a staff account (a
city's reviewer given one, say) reads them at most: model permissions granted
in the admin would otherwise let them change the province's frameworks past
scoring.access.may_manage_framework. Assessments change only through the
cycle's pages, so the admin shows them read only, with their history."""

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from scoring.models import (
    Assessment,
    DeadlineReminder,
    Evidence,
    Framework,
    Node,
    Notice,
    Score,
    Tier,
)


def _framework_of(obj: object) -> Framework | None:
    if isinstance(obj, Framework):
        return obj
    if isinstance(obj, Node | Tier):
        return obj.framework
    return None


class SuperuserWrites:
    """Add, change and delete for superusers only, and never on a framework
    whose year is published; viewing stays with Django's permissions."""

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        framework = _framework_of(obj)
        return (
            request.user.is_active
            and request.user.is_superuser
            and not (framework is not None and framework.is_frozen)
        )

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.has_change_permission(request, obj)


class TierInline(SuperuserWrites, admin.TabularInline):
    model = Tier
    extra = 0


@admin.register(Framework)
class FrameworkAdmin(SuperuserWrites, admin.ModelAdmin):
    list_display = ("name", "year", "unit_kind", "state", "deadline")
    list_filter = ("year", "unit_kind", "state")
    search_fields = ("name",)
    inlines = [TierInline]


@admin.register(Node)
class NodeAdmin(SuperuserWrites, admin.ModelAdmin):
    list_display = ("code", "title", "framework", "level", "max_points", "method")
    list_filter = ("framework", "level", "method")
    search_fields = ("code", "title")
    raw_id_fields = ("parent", "owner_unit")


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ("unit", "framework", "state", "round", "submitted_at")
    list_filter = ("framework", "state")
    search_fields = ("unit__code", "unit__name")


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = ("assessment", "node", "self_score", "appraised_score")
    list_filter = ("assessment__framework",)
    search_fields = ("assessment__unit__code", "node__code")


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "assessment", "content_type", "size")
    search_fields = ("original_name", "assessment__unit__code")


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("subject", "user", "created_at", "read_at")
    search_fields = ("subject", "user__username")


@admin.register(DeadlineReminder)
class DeadlineReminderAdmin(admin.ModelAdmin):
    list_display = ("assessment", "days_before", "sent_at", "situation")
