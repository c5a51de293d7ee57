"""Forms of the framework pages. They read what a person typed (days as
dd/mm/yyyy, points with a comma or a dot, scoring parameters as "80" or
"95:1; 80:0.5"); the rules of a framework are checked by scoring.frameworks.services,
whose messages the views attach to the field they name."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from commitments.organisation.models import OfficeFunction, Unit, UnitKind
from procedures.figures import Rate
from scoring.frameworks import services as frameworks
from scoring.frameworks import thresholds
from scoring.frameworks.services import NodeData, TierData
from scoring.models import Method, Node, ScoringFunction

# A framework's workbook is a few dozen kilobytes; anything near this is not one.
MAX_WORKBOOK_BYTES = 5 * 1024 * 1024


class ReminderDaysField(forms.CharField):
    """Days before the deadline, as "7; 2"."""

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        text = super().to_python(value)
        try:
            return frameworks.parse_reminder_days(text)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return frameworks.reminder_days_text(value)
        return value


class PointsField(forms.CharField):
    """Maximum points, "2,5" or "2.5"."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return frameworks.parse_points(text)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc


def _date_field(label: Any, *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
        help_text=_("dd/mm/yyyy"),
    )


class FrameworkSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=frameworks.NAME_WIDTH)
    deadline = _date_field(_("Self-assessment deadline"))
    contest_days = forms.IntegerField(
        label=_("Days to contest an appraised score"), min_value=0, max_value=365
    )
    reminder_days = ReminderDaysField(
        label=_("Reminders, days before the deadline"),
        required=False,
        help_text=_("For example 7; 2: a reminder a week before and two days before."),
    )


def _percent_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
    )


def _tier_field(label: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=[(code, code) for code in thresholds.TIER_CODES]
    )


class FrameworkThresholdsForm(forms.Form):
    """The year's rule settings (issue 17, item 10)."""

    lateness_threshold = forms.IntegerField(
        label=_("Repeated lateness: late dossiers in the year after a reminder"),
        min_value=1,
        max_value=1000,
    )
    satisfaction_threshold = _percent_field(
        _("District bonus: communes' mean satisfaction above (%)")
    )
    excellent_exceeded_share = _percent_field(
        _("“Completed excellently”: share of targets exceeded, at least (%)")
    )
    excellent_min_tier = _tier_field(_("“Completed excellently”: lowest tier"))
    good_min_tier = _tier_field(_("“Completed well”: lowest tier"))
    completed_met_share = _percent_field(
        _("“Completed”: share of targets met, at least (%)")
    )
    completed_min_tier = _tier_field(_("“Completed”: lowest tier"))


class FrameworkCreateForm(FrameworkSettingsForm):
    year = forms.IntegerField(
        label=_("Year"), min_value=frameworks.FIRST_YEAR, max_value=frameworks.LAST_YEAR
    )
    unit_kind = forms.ChoiceField(label=_("Kind of unit"), choices=UnitKind.choices)

    field_order = ["year", "unit_kind", "name", "deadline"]


class NodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=frameworks.CODE_WIDTH,
        help_text=_("The parent's code and a number: 1, 1.2, 1.2.3."),
    )
    title = forms.CharField(
        label=_("Content"),
        max_length=frameworks.TITLE_WIDTH,
        widget=forms.TextInput(attrs={"size": 80}),
    )
    max_points = PointsField(label=_("Maximum points"))
    method = forms.ChoiceField(
        label=_("Scoring method"), choices=Method.choices, initial=Method.MANUAL
    )
    metric = forms.ChoiceField(
        label=_("Metric read"),
        choices=[("", "—"), *Rate.choices],
        required=False,
    )
    scoring = forms.ChoiceField(
        label=_("Scoring function"),
        choices=[("", "—"), *ScoringFunction.choices],
        required=False,
    )
    scoring_params = forms.CharField(
        label=_("Scoring parameters"),
        required=False,
        help_text=_(
            "Linear: the rate (%) that earns full points, such as 80. Banded: "
            "rate:share pairs, such as 95:1; 80:0.5 (full points from 95%, half "
            "from 80%)."
        ),
    )
    evidence_required = forms.BooleanField(label=_("Evidence required"), required=False)
    guidance = forms.CharField(
        label=_("Guidance"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    owner_unit = forms.CharField(
        label=_("Owner unit (code)"),
        required=False,
        help_text=_("The unit that answers for this item, if any."),
    )
    owner_kind = forms.ChoiceField(
        label=_("Owner office (in each city)"),
        choices=[("", "—"), *OfficeFunction.choices],
        required=False,
        help_text=_(
            "The office that answers for this item in every city or commune "
            "(e.g. Justice: each city's Phòng Tư pháp)."
        ),
    )

    def __init__(self, *args: Any, is_leaf: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_leaf = is_leaf
        if not is_leaf:
            # Only leaves are scored: an inner item has a code, a title, a
            # maximum, guidance and an owner.
            for name in ("method", "metric", "scoring", "scoring_params"):
                del self.fields[name]
            del self.fields["evidence_required"]

    @classmethod
    def initial_for(cls, node: Node) -> dict[str, Any]:
        return {
            "code": node.code,
            "title": node.title,
            "max_points": f"{node.max_points:f}",
            "method": node.method,
            "metric": node.metric,
            "scoring": node.scoring,
            "scoring_params": frameworks.scoring_params_text(
                node.scoring, node.scoring_params
            )
            if node.scoring
            else "",
            "evidence_required": node.evidence_required,
            "guidance": node.guidance,
            "owner_unit": node.owner_unit.code if node.owner_unit else "",
            "owner_kind": node.owner_kind,
        }

    def clean_owner_unit(self) -> Unit | None:
        code = self.cleaned_data["owner_unit"].strip()
        if not code:
            return None
        unit = Unit.objects.filter(code=code).first()
        if unit is None:
            raise ValidationError(
                _("No unit has the code “%(code)s”."), params={"code": code}
            )
        return unit

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.is_leaf:
            return data
        scoring = data.get("scoring") or ""
        if data.get("method") != Method.METRIC:
            # The metric fields are hidden for other methods: what they still
            # hold is not meant.
            data["metric"] = data["scoring"] = ""
            data["scoring_params"] = {}
            return data
        try:
            data["scoring_params"] = frameworks.parse_scoring_params(
                scoring, data.get("scoring_params", "")
            )
        except ValueError as exc:
            self.add_error("scoring_params", str(exc))
        return data

    def node_data(self) -> NodeData:
        data = self.cleaned_data
        return NodeData(
            code=data["code"].strip(),
            title=data["title"],
            max_points=data["max_points"],
            method=data.get("method", Method.MANUAL),
            metric=data.get("metric", ""),
            scoring=data.get("scoring", ""),
            scoring_params=data.get("scoring_params") or {},
            evidence_required=data.get("evidence_required", False),
            guidance=data["guidance"],
            owner_unit=data["owner_unit"],
            owner_kind=data.get("owner_kind", ""),
        )


class TierForm(forms.Form):
    code = forms.CharField(label=_("Tier"), max_length=frameworks.TIER_CODE_WIDTH)
    label = forms.CharField(label=_("Label"), max_length=frameworks.TIER_LABEL_WIDTH)
    min_index = forms.DecimalField(
        label=_("From index"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
    )


class BaseTierFormSet(forms.BaseFormSet):
    def tiers(self) -> list[TierData]:
        return [
            TierData(
                code=form.cleaned_data["code"].strip(),
                label=form.cleaned_data["label"].strip(),
                min_index=form.cleaned_data["min_index"],
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


TierFormSet = forms.formset_factory(
    TierForm, formset=BaseTierFormSet, extra=2, can_delete=True, max_num=20
)


def tier_formset(data: Any = None, *, initial: Any = None) -> BaseTierFormSet:
    return cast(BaseTierFormSet, TierFormSet(data, initial=initial))


def bounded_upload(upload: UploadedFile) -> UploadedFile:
    """An uploaded spreadsheet, refused when larger than any workbook read."""
    if upload.size is not None and upload.size > MAX_WORKBOOK_BYTES:
        raise ValidationError(
            _("The file is %(size)s; a workbook of at most %(limit)s is read."),
            params={
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(MAX_WORKBOOK_BYTES),
            },
        )
    return upload


class WorkbookImportForm(forms.Form):
    file = forms.FileField(
        label=_("Workbook (XLSX)"),
        validators=[FileExtensionValidator(["xlsx"])],
        widget=forms.FileInput(attrs={"accept": ".xlsx"}),
    )
    replace = forms.BooleanField(
        label=_("Replace the draft of the same year and kind of unit"),
        required=False,
        help_text=_(
            "Only a draft that is not yet open can be replaced; without this, "
            "a framework that already exists is refused."
        ),
    )

    def clean_file(self) -> UploadedFile:
        return bounded_upload(self.cleaned_data["file"])


class CopyForm(forms.Form):
    year = forms.IntegerField(
        label=_("New year"),
        min_value=frameworks.FIRST_YEAR,
        max_value=frameworks.LAST_YEAR,
    )


class SurveyFiguresImportForm(forms.Form):
    """A year's survey figures (issue 17, item 12): CSV or XLSX."""

    year = forms.IntegerField(
        label=_("Year"), min_value=frameworks.FIRST_YEAR, max_value=frameworks.LAST_YEAR
    )
    file = forms.FileField(
        label=_("Spreadsheet (CSV or XLSX)"),
        validators=[FileExtensionValidator(["csv", "xlsx"])],
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self) -> UploadedFile:
        return bounded_upload(self.cleaned_data["file"])
