"""Forms of the procedures app."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cchc_portal.widgets import QuickSelect
from commitments.organisation.models import Unit
from procedures import rules
from procedures.metrics import Month, MonthRange
from procedures.models import Channel, ImportRun, ImportSource
from procedures.parsing import LOCAL_TZ
from procedures.selectors import LateCaseFilters, LateKind

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Years a filter or a reminder may name: wide enough for any archive, narrow
# enough that a typo (20255) is an error rather than an empty page.
FIRST_YEAR = 2000
LAST_YEAR = 2100


def max_upload_bytes() -> int:
    return int(settings.CASE_IMPORT_MAX_UPLOAD_BYTES)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        validators=[FileExtensionValidator(["csv", "xlsx"])],
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    atomic = forms.BooleanField(
        label=_("All or nothing"),
        required=False,
        help_text=_("If any row is rejected, import no row at all."),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = max_upload_bytes()
        # The size the browser sent, counted by Django as the file streamed in.
        if upload.size is not None and upload.size > limit:
            raise ValidationError(
                _("The file is %(size)s; a file of at most %(limit)s can be imported."),
                code="too_large",
                params={
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(limit),
                },
            )
        return upload

    def save(self, *, user: User) -> ImportRun:
        """A pending run holding the file, for the import task to take up."""
        upload: UploadedFile = self.cleaned_data["file"]
        return ImportRun.objects.create(
            source=ImportSource.UPLOAD,
            user=user,
            file_name=(upload.name or "")[:255],
            file=upload,
            atomic=self.cleaned_data["atomic"],
        )


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def _year_field(label: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=FIRST_YEAR, max_value=LAST_YEAR
    )


class LateCaseFilterForm(forms.Form):
    """The filters of the late-dossier list (GET). Dates are local days,
    dd/mm/yyyy or yyyy-mm-dd; the unit is checked against the user's scope by
    the view."""

    unit = forms.CharField(label=_("Unit"), required=False, max_length=50)
    procedure = forms.CharField(
        label=_("Procedure code"), required=False, max_length=50
    )
    officer = forms.CharField(
        label=_("Handling officer"), required=False, max_length=200
    )
    year = _year_field(_("Year received"))
    month = forms.TypedChoiceField(
        label=_("Month received"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *((m, str(m)) for m in range(1, 13))],
    )
    received_from = forms.DateField(label=_("Received from"), required=False)
    received_to = forms.DateField(label=_("Received to"), required=False)
    kind = forms.ChoiceField(
        label=_("Type of lateness"), required=False, choices=LateKind.choices
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels")), *Channel.choices],
    )
    late_year = _year_field(_("Counted late in year (766)"))
    # The moment of the figures the list was opened from (ISO 8601): late in
    # the year as those figures count it (selectors.late_judged_at).
    as_of = forms.DateTimeField(
        label=_("Figures as of"), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Counted late in a range of whole months (766), as a range of the
        # figures counts them; "from" is a Python keyword, so named here.
        self.fields["from"] = MonthField(
            label=_("Counted late from month (766)"), required=False
        )
        self.fields["to"] = MonthField(label=_("to month"), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("month") and not data.get("year"):
            self.add_error("month", _("Choose the year of the month."))
        first, last = data.get("received_from"), data.get("received_to")
        if first and last and first > last:
            self.add_error("received_to", _("The end date is before the start date."))
        data["late_range"] = clean_month_range(self, ("from", "to"))
        return data

    def filters(self, *, unit: Unit | None) -> LateCaseFilters:
        """The valid form's filters; receipt bounds combine the year, the month
        and the date range (all that are given must hold)."""
        data = self.cleaned_data
        starts: list[datetime] = []
        ends: list[datetime] = []
        if data.get("year"):
            period = (
                rules.Period.month(data["year"], data["month"], LOCAL_TZ)
                if data.get("month")
                else rules.Period.year(data["year"], LOCAL_TZ)
            )
            starts.append(period.start)
            ends.append(period.end)
        if data.get("received_from"):
            starts.append(_local_midnight(data["received_from"]))
        if data.get("received_to"):
            ends.append(_local_midnight(data["received_to"] + timedelta(days=1)))
        return LateCaseFilters(
            unit=unit,
            procedure_code=data.get("procedure") or "",
            officer=data.get("officer") or "",
            received_from=max(starts) if starts else None,
            received_before=min(ends) if ends else None,
            kind=data.get("kind") or LateKind.ALL,
            channel=data.get("channel") or "",
            late_in_year=data.get("late_year"),
            late_in_range=data.get("late_range"),
            late_as_of=data.get("as_of"),
        )


# --- A range of whole months: the figures page, its download, the API ---------------

MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
MONTH_PATTERN = f"^{MONTH.pattern}$"
NOT_A_MONTH = _("Enter a month as yyyy-mm (2026-01 for January 2026).")
MONTH_OUT_OF_RANGE = _("The year must be from %(first)s to %(last)s.")
RANGE_NEEDS_BOTH = _("Give both ends of the range: from and to (yyyy-mm).")
RANGE_BACKWARDS = _("The range ends before it starts.")


class MonthField(forms.CharField):
    """A whole month as yyyy-mm (what a browser's month input sends), read as
    (year, month)."""

    def to_python(self, value: Any) -> Month | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        found = MONTH.fullmatch(text)
        if found is None:
            raise ValidationError(NOT_A_MONTH, code="invalid")
        year, month = int(found[1]), int(found[2])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValidationError(
                MONTH_OUT_OF_RANGE,
                code="invalid",
                params={"first": FIRST_YEAR, "last": LAST_YEAR},
            )
        return (year, month)


def clean_month_range(
    form: forms.Form, names: tuple[str, str], *, blank_is_missing: bool = True
) -> MonthRange | None:
    """The range of the form's two month fields, both given and in order;
    an error on the field at fault otherwise. None when neither is given, or
    one is already refused. ``blank_is_missing`` False leaves a field given
    blank to a form that refuses blank values itself (the API's)."""
    first_name, last_name = names
    if first_name in form.errors or last_name in form.errors:
        return None
    first = form.cleaned_data.get(first_name)
    last = form.cleaned_data.get(last_name)
    if first is None and last is None:
        return None
    if first is None or last is None:
        missing = first_name if first is None else last_name
        if blank_is_missing or form.add_prefix(missing) not in form.data:
            form.add_error(missing, ValidationError(RANGE_NEEDS_BOTH, code="required"))
        return None
    if last < first:
        form.add_error(last_name, ValidationError(RANGE_BACKWARDS, code="invalid"))
        return None
    return MonthRange(first, last)


class FigureRangeForm(forms.Form):
    """A range of whole months (GET: ``from`` and ``to``, yyyy-mm), counted as
    the 766 rules count any period: each dossier once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword: the fields are named here, not declared.
        self.fields["from"] = MonthField(label=_("From month"), required=False)
        self.fields["to"] = MonthField(label=_("To month"), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        self.cleaned_data["range"] = clean_month_range(self, ("from", "to"))
        return self.cleaned_data


class ReminderFilterForm(forms.Form):
    year = _year_field(_("Year"))
    unit = forms.CharField(label=_("Unit"), required=False, max_length=50)


class ReminderForm(forms.Form):
    """A reminder to record, for one of the units the user may remind."""

    unit = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=Unit.objects.none(),
        to_field_name="code",
        # A reviewer of the province chooses among thousands of units.
        widget=QuickSelect,
    )
    officer = forms.CharField(
        label=_("Handling officer"),
        required=False,
        max_length=200,
        help_text=_(
            "Leave empty for the unit as a whole; otherwise the officer's name or "
            "code exactly as in the case records."
        ),
    )
    issued_on = forms.DateField(label=_("Date issued"), initial=timezone.localdate)
    year = _year_field(_("Year concerned"))
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.ModelChoiceField)
        unit_field.queryset = units
        self.fields["year"].help_text = _(
            "The year whose late dossiers it concerns; empty for the year of the date."
        )
