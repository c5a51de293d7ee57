"""Forms of the procedures app."""

from __future__ import annotations

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

from commitments.organisation.models import Unit
from procedures import rules
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

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("month") and not data.get("year"):
            self.add_error("month", _("Choose the year of the month."))
        first, last = data.get("received_from"), data.get("received_to")
        if first and last and first > last:
            self.add_error("received_to", _("The end date is before the start date."))
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
        )


class ReminderFilterForm(forms.Form):
    year = _year_field(_("Year"))
    unit = forms.CharField(label=_("Unit"), required=False, max_length=50)


class ReminderForm(forms.Form):
    """A reminder to record, for one of the units the user may remind."""

    unit = forms.ModelChoiceField(
        label=_("Unit"), queryset=Unit.objects.none(), to_field_name="code"
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
