"""The administrator's view of frameworks and assessments. Frameworks are
built on their own pages (reviewers); here they can be inspected and, while
not published, corrected. Assessments change only through the cycle's pages,
so the admin shows them read only, with their history."""

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


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ("name", "year", "unit_kind", "state", "deadline")
    list_filter = ("year", "unit_kind", "state")
    search_fields = ("name",)
    inlines = [TierInline]


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
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
