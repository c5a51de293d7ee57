from django.contrib import admin

from commitments.admin import SpreadsheetAdmin
from procedures.models import CaseRecord, ImportRun, Procedure
from procedures.resources import ProcedureResource


@admin.register(Procedure)
class ProcedureAdmin(SpreadsheetAdmin):
    resource_classes = [ProcedureResource]
    list_display = ("code", "name", "field", "level", "online_level", "fee_required")
    list_filter = ("level", "online_level", "publicly_listed", "fee_required")
    search_fields = ("code", "name", "field")


@admin.register(CaseRecord)
class CaseRecordAdmin(admin.ModelAdmin):
    """Read only: case records change through imports, so that every change is
    traceable to the file it came from."""

    list_display = (
        "case_code",
        "unit",
        "procedure",
        "received_at",
        "due_at",
        "finished_at",
        "status",
        "channel",
    )
    list_filter = ("status", "channel", "digitized")
    search_fields = ("case_code", "officer", "unit__code", "procedure__code")
    list_select_related = ("unit", "procedure")
    date_hierarchy = "received_at"
    show_full_result_count = False  # a count over millions of rows is slow

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "source",
        "user",
        "file_name",
        "status",
        "rows_total",
        "rows_new",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
    )
    list_filter = ("status", "source")
    search_fields = ("file_name", "user__username")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
