"""Spreadsheet import and export for the admin (django-import-export): the
procedure catalogue, and case records in small files.

Case records have their own engine (procedures.importer) for the files of a
province, hundreds of thousands of rows: the upload page, the import_cases
command and the REST door. The admin's import reads the same columns and the
same values for a few thousand rows (a correction, a late export of one
commune), validates each row as a model (so the database's check constraints
become row errors in the preview) and has the touched figures recomputed.
The engine's rule on who may change which dossier (procedures.ownership)
applies here too, row by row, against each dossier as stored."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, widgets

from cchc_portal import numbers
from cchc_portal.spreadsheets import CodeWidget, DuplicateCodeCheck, SpreadsheetResource
from commitments.organisation.models import Unit
from procedures.importer import import_scope_for, refusal_message
from procedures.models import CLOSED_STATUSES, CaseMove, CaseRecord, Procedure
from procedures.ownership import SYSTEM, ImportScope, Refusal, refusal
from procedures.parsing import (
    ALIASES,
    CHANNEL_VALUES,
    FALSE_VALUES,
    LOCAL_TZ,
    SATISFACTION_VALUES,
    STATUS_VALUES,
    TRUE_VALUES,
    parse_datetime,
)


class ProcedureResource(DuplicateCodeCheck, SpreadsheetResource):
    duplicate_key = ("code",)

    publicly_listed = fields.Field(
        attribute="publicly_listed",
        column_name="publicly_listed",
        widget=widgets.BooleanWidget(),
    )
    fee_required = fields.Field(
        attribute="fee_required",
        column_name="fee_required",
        widget=widgets.BooleanWidget(),
    )

    class Meta:
        model = Procedure
        import_id_fields = ("code",)
        fields = (
            "code",
            "name",
            "field",
            "level",
            "online_level",
            "publicly_listed",
            "fee_required",
        )
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True


# Beyond this the admin (which holds the file in memory and validates row by
# row, several queries each) is the wrong door: the import page streams.
ADMIN_IMPORT_MAX_ROWS = 5_000
# The admin's export builds the whole file in memory: a filtered list, not a
# province's year (the REST API pages through those).
ADMIN_EXPORT_MAX_ROWS = 50_000


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class LocalDateTimeWidget(widgets.Widget):
    """A date and time as the interchange format writes it
    (procedures.parsing.parse_datetime): ISO 8601 or dd/mm/yyyy[ HH:MM[:SS]],
    local (Asia/Ho_Chi_Minh) when no offset is given. Rendered day first, in
    local time, to the second, so that an export imports back unchanged."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> datetime | None:
        if isinstance(value, datetime):  # an XLSX date cell: local wall time
            return value if timezone.is_aware(value) else value.replace(tzinfo=LOCAL_TZ)
        if isinstance(value, date):
            return datetime.combine(value, time.min, tzinfo=LOCAL_TZ)
        text = _text(value)
        if not text:
            return None
        try:
            return parse_datetime(text)
        except ValueError as exc:
            raise ValueError(
                _("“%(value)s” is not a date; write dd/mm/yyyy HH:MM or ISO 8601.")
                % {"value": text}
            ) from exc

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if not isinstance(value, datetime):
            return ""
        local = timezone.localtime(value, LOCAL_TZ)
        if kwargs.get("force_native_type"):  # XLSX cells hold no time zone
            return local.replace(tzinfo=None)
        return local.strftime("%d/%m/%Y %H:%M:%S")


class FlagWidget(widgets.Widget):
    """1/0, có/không, true/false, yes/no, x; empty is no."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        text = _text(value).lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise ValueError(_("“%(value)s” is not 1/0 (có/không).") % {"value": value})

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "1" if value else "0"


class CodeChoiceWidget(widgets.Widget):
    """One of the interchange format's values (case-insensitive, with the
    English aliases the engine accepts for the status)."""

    def __init__(self, values: dict[str, str], *, required: bool = True) -> None:
        super().__init__()
        self.values = values
        self.required = required

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = _text(value)
        if not text and self.required:
            raise ValueError(_("This column is required."))
        found = self.values.get(text.lower())
        if found is None:
            raise ValueError(
                _("Unknown value “%(value)s”; expected one of: %(allowed)s.")
                % {
                    "value": text,
                    "allowed": ", ".join(sorted(set(self.values.values()) - {""})),
                }
            )
        return found

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value or ""


class CountWidget(widgets.Widget):
    """A whole number from 0 to 32767 (the column's range); empty is 0."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int:
        if isinstance(value, float) and value.is_integer():  # an XLSX number
            value = int(value)
        text = _text(value) or "0"
        try:
            number = int(text)
        except ValueError:
            number = -1
        if not 0 <= number <= 32767:
            raise ValueError(
                _("“%(value)s” is not a whole number from 0 to %(max)s.")
                % {"value": text, "max": numbers.number(32767)}
            )
        return number

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value or 0)


class TextWidget(widgets.CharWidget):
    """Text with the surrounding blanks removed, as the engine reads cells."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return _text(value)


class StrippedCodeWidget(CodeWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return super().clean(_text(value), row, **kwargs)


def _local_month(moment: datetime) -> tuple[int, int]:
    local = timezone.localtime(moment, LOCAL_TZ)
    return local.year, local.month


class CaseRecordResource(DuplicateCodeCheck, SpreadsheetResource):
    """Case records in the interchange format's columns (English headers, or
    the Vietnamese aliases), keyed by case code: importing a file again changes
    nothing, a later export of the same dossier updates it.

    Rows are saved one by one after ``full_clean`` (never in bulk), so the
    check constraints on the dates become row errors in the preview. Once the
    import is committed, the figures of the touched units are recomputed from
    the earliest month touched (before and after the change)."""

    duplicate_key = ("case_code",)

    case_code = fields.Field(
        attribute="case_code", column_name="case_code", widget=TextWidget()
    )
    procedure = fields.Field(
        attribute="procedure",
        column_name="procedure_code",
        widget=StrippedCodeWidget(Procedure, field="code"),
    )
    unit = fields.Field(
        attribute="unit",
        column_name="unit_code",
        widget=StrippedCodeWidget(Unit, field="code"),
    )
    received_at = fields.Field(
        attribute="received_at", column_name="received_at", widget=LocalDateTimeWidget()
    )
    due_at = fields.Field(
        attribute="due_at", column_name="due_at", widget=LocalDateTimeWidget()
    )
    finished_at = fields.Field(
        attribute="finished_at", column_name="finished_at", widget=LocalDateTimeWidget()
    )
    status = fields.Field(
        attribute="status", column_name="status", widget=CodeChoiceWidget(STATUS_VALUES)
    )
    channel = fields.Field(
        attribute="channel",
        column_name="channel",
        widget=CodeChoiceWidget(CHANNEL_VALUES),
    )
    digitized = fields.Field(
        attribute="digitized", column_name="digitized", widget=FlagWidget()
    )
    fee_required = fields.Field(
        attribute="fee_required", column_name="fee_required", widget=FlagWidget()
    )
    paid_online = fields.Field(
        attribute="paid_online", column_name="paid_online", widget=FlagWidget()
    )
    supplement_requests = fields.Field(
        attribute="supplement_requests",
        column_name="supplement_requests",
        widget=CountWidget(),
    )
    satisfaction = fields.Field(
        attribute="satisfaction",
        column_name="satisfaction",
        widget=CodeChoiceWidget(SATISFACTION_VALUES, required=False),
    )
    complaint = fields.Field(
        attribute="complaint", column_name="complaint", widget=FlagWidget()
    )
    officer = fields.Field(
        attribute="officer", column_name="officer", widget=TextWidget()
    )

    class Meta:
        model = CaseRecord
        import_id_fields = ("case_code",)
        fields = (
            "case_code",
            "procedure",
            "unit",
            "received_at",
            "due_at",
            "finished_at",
            "status",
            "channel",
            "digitized",
            "fee_required",
            "paid_online",
            "supplement_requests",
            "satisfaction",
            "complaint",
            "officer",
        )
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_bulk = False

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self._touched: set[tuple[int, int, int]] = set()
        # The admin passes the user importing; without one (a script calling
        # the resource) it is the administrator's own act.
        self._user = kwargs.get("user")
        self._scope: ImportScope = (
            import_scope_for(self._user) if self._user is not None else SYSTEM
        )
        rows = len(dataset)
        if rows > ADMIN_IMPORT_MAX_ROWS:
            # django-import-export reports this error and then goes on with the
            # rows: leave it none to go through.
            headers = dataset.headers
            dataset.wipe()
            dataset.headers = headers
            raise ValueError(
                _(
                    "The file has %(rows)s rows; the administration imports at "
                    "most %(limit)s. Import larger files on the import page or "
                    "with the import_cases command."
                )
                % {
                    "rows": numbers.number(rows),
                    "limit": numbers.number(ADMIN_IMPORT_MAX_ROWS),
                }
            )
        # The Vietnamese header names the engine accepts, as their English
        # column.
        if dataset.headers:
            dataset.headers = [
                ALIASES.get(_text(header).lstrip("\ufeff").lower(), header)
                for header in dataset.headers
            ]
        super().before_import(dataset, **kwargs)

    def after_init_instance(
        self, instance: CaseRecord, new: bool, row: Any, **kwargs: Any
    ) -> None:
        # Where the dossier counted before this row changes it: a move to
        # another unit or month changes the old one's figures too. Its unit
        # as stored also decides who may change it.
        if not new:
            instance._stored_unit = instance.unit_id  # type: ignore[attr-defined]
            instance._counted_in = (  # type: ignore[attr-defined]
                instance.unit_id,
                *_local_month(instance.received_at),
            )
        super().after_init_instance(instance, new, row, **kwargs)

    def import_instance(self, instance: CaseRecord, row: Any, **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        # As the engine (procedures.parsing.parse_row): the metrics read a
        # dossier's end from its finish date alone.
        if (
            not {"status", "finished_at"} & errors.keys()
            and instance.status in CLOSED_STATUSES
            and instance.finished_at is None
        ):
            errors["finished_at"] = [
                _("A finished, returned or rejected case needs its finish date.")
            ]
        if "unit" not in errors and instance.unit_id is not None:
            problem = self._refusal(instance)
            if problem:
                errors["unit"] = [problem]
        if errors:
            raise ValidationError(errors)

    def _refusal(self, instance: CaseRecord) -> str:
        stored = getattr(instance, "_stored_unit", None)
        reason = refusal(
            getattr(self, "_scope", SYSTEM), stored=stored, new=instance.unit_id
        )
        if reason is None:
            return ""
        if reason is Refusal.TARGET:
            return _("You may not import case records for unit “%(code)s”.") % {
                "code": instance.unit.code
            }
        # Refused only for a dossier already stored: stored is its unit.
        stored_code = Unit.objects.filter(pk=stored or 0).values_list("code", flat=True)
        return refusal_message(reason, instance.case_code, stored_code.first() or "")

    def before_save_instance(
        self, instance: CaseRecord, row: Any, **kwargs: Any
    ) -> None:
        # The row no longer is as that import run left it.
        instance.last_import = None
        super().before_save_instance(instance, row, **kwargs)

    def after_save_instance(
        self, instance: CaseRecord, row: Any, **kwargs: Any
    ) -> None:
        self._touched.add((instance.unit_id, *_local_month(instance.received_at)))
        before = getattr(instance, "_counted_in", None)
        if before is not None:
            self._touched.add(before)
        stored = getattr(instance, "_stored_unit", None)
        if stored is not None and stored != instance.unit_id:
            # A reviewer's act, kept for an auditor as the engine keeps it.
            user = getattr(self, "_user", None)
            CaseMove.objects.create(
                case_code=instance.case_code,
                from_unit_id=stored,
                to_unit_id=instance.unit_id,
                moved_by=user if user is not None and user.is_authenticated else None,
                moved_at=timezone.now(),
            )
        super().after_save_instance(instance, row, **kwargs)

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        touched = sorted([list(key) for key in getattr(self, "_touched", ())])
        if kwargs.get("dry_run") or not touched:
            return
        # Imported here: tasks import the engine, which imports this app's
        # models; and only once the rows are committed (a rolled-back import
        # drops the callback).
        from cchc_portal.queue import enqueue_on_commit
        from procedures.tasks import recompute_metrics_task

        enqueue_on_commit(recompute_metrics_task, touched)
