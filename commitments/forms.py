"""Forms of the commitment pages: they parse and label; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from commitments.models import CommitmentTemplate, Comparison, Indicator
from commitments.organisation.models import UnitKind

DATE_INPUT = forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"})
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


class CreateFromTemplateForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    template = forms.ModelChoiceField(
        label=_("Template"), queryset=CommitmentTemplate.objects.all()
    )
    units = forms.MultipleChoiceField(
        label=_("Units"), widget=forms.CheckboxSelectMultiple, required=True
    )

    def __init__(self, *args, unit_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["units"].choices = unit_choices  # type: ignore[attr-defined]


class TargetForm(forms.Form):
    indicator = forms.ModelChoiceField(
        label=_("Indicator"), queryset=Indicator.objects.all()
    )
    comparison = forms.ChoiceField(label=_("Comparison"), choices=Comparison.choices)
    value = forms.DecimalField(label=_("Value"), max_digits=9, decimal_places=2)
    deadline = forms.DateField(
        label=_("Deadline"),
        required=False,
        widget=DATE_INPUT,
        input_formats=DATE_FORMATS,
        help_text=_("Within the year; empty: by the end of the year."),
    )

    def __init__(self, *args, decides_mandatory: bool = False, **kwargs) -> None:
        """``decides_mandatory``: Home Affairs of the unit's jurisdiction or
        an administrator (commitments.access.may_make_optional). Anyone
        else's form has no such field, so whatever they post for it is not
        even read."""
        super().__init__(*args, **kwargs)
        if decides_mandatory:
            self.fields["mandatory"] = forms.BooleanField(
                label=_("Mandatory"), required=False, initial=True
            )
            self.fields["optional_reason"] = forms.CharField(
                label=_("Why it is not mandatory"),
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                help_text=_(
                    "Required to make the target optional; printed on the "
                    "signed document."
                ),
            )


class TargetRemoveForm(forms.Form):
    """The reason is required of Home Affairs removing a mandatory target
    (the service says so); kept in the history."""

    reason = forms.CharField(
        label=_("Why the target is removed"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class SignForm(forms.Form):
    signed_on = forms.DateField(
        label=_("Signed on"), widget=DATE_INPUT, input_formats=DATE_FORMATS
    )
    scan = forms.FileField(
        label=_("Signed scan"),
        help_text=_(
            "The signed document: PDF, PNG or JPEG. A PDF's digital signature "
            "is verified; one that does not cover the whole document is refused."
        ),
    )
    acknowledge = forms.BooleanField(
        label=_("I have read the warnings about targets below last year's result."),
        required=False,
    )


class CountersignForm(forms.Form):
    countersigned_on = forms.DateField(
        label=_("Counter-signed on"), widget=DATE_INPUT, input_formats=DATE_FORMATS
    )
    signer_name = forms.CharField(
        label=_("Signed for the level above by"), max_length=200
    )
    signer_title = forms.CharField(label=_("Title"), max_length=200, required=False)


class ReportForm(forms.Form):
    value = forms.DecimalField(
        label=_("Value achieved"), max_digits=9, decimal_places=2
    )
    note = forms.CharField(
        label=_("How it was achieved"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )


class CheckForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("reject", _("Reject"))],
        widget=forms.HiddenInput,
        required=False,
    )
    note = forms.CharField(
        label=_("Reviewer's note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class CommitmentFilterForm(forms.Form):
    year = forms.IntegerField(required=False)
    kind = forms.ChoiceField(
        required=False, choices=[("", _("All kinds")), *UnitKind.choices]
    )
    state = forms.CharField(required=False)
    q = forms.CharField(required=False)
