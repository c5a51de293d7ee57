from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext

from cchc_portal import numbers
from cchc_portal.admin import SpreadsheetAdmin
from procedures.models import CaseMove, CaseRecord, ImportRun, Procedure, Reminder
from procedures.resources import (
    ADMIN_EXPORT_MAX_ROWS,
    ADMIN_IMPORT_MAX_ROWS,
    CaseRecordResource,
    ProcedureResource,
)


@admin.register(Procedure)
class ProcedureAdmin(SpreadsheetAdmin):
    resource_classes = [ProcedureResource]
    list_display = ("code", "name", "field", "level", "online_level", "fee_required")
    list_filter = ("level", "online_level", "publicly_listed", "fee_required")
    search_fields = ("code", "name", "field")


@admin.register(CaseRecord)
class CaseRecordAdmin(SpreadsheetAdmin):
    """Read only but for spreadsheet import and export: case records change
    through imports, so that every change is traceable to a file (the engine's
    runs, or the admin's log for this import).

    The import here is for small files, a few thousand rows at most
    (resources.ADMIN_IMPORT_MAX_ROWS): a correction, one commune's late export.
    The files of a province go through the engine (the import page, the
    import_cases command, the REST door), which streams them."""

    resource_classes = [CaseRecordResource]
    import_template_name = "procedures/admin_case_import.html"

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

    def get_import_context_data(self, **kwargs):
        return {
            **super().get_import_context_data(**kwargs),
            "max_rows": ADMIN_IMPORT_MAX_ROWS,
        }

    def has_import_permission(self, request: HttpRequest) -> bool:
        # The permissions the model grants, not the admin's refusals above,
        # which only keep the change form read-only.
        user = request.user
        return user.has_perm("procedures.add_caserecord") and user.has_perm(
            "procedures.change_caserecord"
        )

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("procedures.view_caserecord")

    def get_data_for_export(self, request, queryset, **kwargs):
        # A ValueError here is shown on the export form (django-import-export).
        rows = queryset.count()
        if rows > ADMIN_EXPORT_MAX_ROWS:
            raise ValueError(
                gettext(
                    "The list holds %(rows)s case records; the administration "
                    "exports at most %(limit)s. Filter the list first (date, "
                    "status, channel, search)."
                )
                % {
                    "rows": numbers.number(rows),
                    "limit": numbers.number(ADMIN_EXPORT_MAX_ROWS),
                }
            )
        return super().get_data_for_export(request, queryset, **kwargs)


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
        "rows_moved",
    )
    list_filter = ("status", "source")
    search_fields = ("file_name", "user__username")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CaseMove)
class CaseMoveAdmin(admin.ModelAdmin):
    """Dossiers moved from one unit to another by an import (a reviewer's
    act, procedures.ownership): what an auditor reads, never edits."""

    list_display = ("moved_at", "case_code", "from_unit", "to_unit", "moved_by", "run")
    search_fields = ("case_code", "from_unit__code", "to_unit__code")
    list_select_related = ("from_unit", "to_unit", "moved_by", "run")
    readonly_fields = [f.name for f in CaseMove._meta.fields]
    date_hierarchy = "moved_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """Reminders (nhắc nhở) about late dossiers. The portal's page
    (/reminders/) is where reviewers record and withdraw them; here an
    administrator corrects one. Never deleted: a reminder that should not
    count is withdrawn on the page, with a reason, and stays on record."""

    list_display = (
        "issued_on",
        "year",
        "unit",
        "officer",
        "issued_by",
        "created_at",
        "withdrawn_at",
    )
    list_filter = ("year", ("withdrawn_at", admin.EmptyFieldListFilter))
    search_fields = ("unit__code", "unit__name", "officer", "reason")
    autocomplete_fields = ("unit",)
    list_select_related = ("unit", "issued_by")
    readonly_fields = (
        "issued_by",
        "created_at",
        "withdrawn_at",
        "withdrawn_by",
        "withdrawal_reason",
    )
    date_hierarchy = "issued_on"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.issued_by = request.user
        super().save_model(request, obj, form, change)
