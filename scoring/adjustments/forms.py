"""Forms of the deductions and bonuses pages and of the province's criterion
ranks. They read what a person chose or typed; the rules (points with a comma
or a dot, the number of cases, a reason, four eyes, a frozen catalogue, one
rank per criterion and year) are checked by scoring.adjustments.services and
scoring.adjustments.criterion_ranks, whose messages the views attach to the field they
name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from commitments.organisation.models import Unit
from scoring.adjustments import services as adjustments
from scoring.adjustments.criterion_ranks import CODE_WIDTH, TITLE_WIDTH
from scoring.frameworks import services as frameworks
from scoring.models import (
    Adjustment,
    AdjustmentRule,
    AdjustmentState,
    CriterionRank,
    Framework,
)

EVIDENCE_WIDTH = Adjustment._meta.get_field("evidence").max_length or 500
RULE_CODE_WIDTH = AdjustmentRule._meta.get_field("code").max_length or 50
RULE_TITLE_WIDTH = AdjustmentRule._meta.get_field("title").max_length or 255


def signed(value: Any) -> str:
    """Points as the pages show them: a sign, and decimals only when there
    are any (+0,50, -1)."""
    text = floatformat(value, "-2")
    return f"+{text}" if value > 0 else text


def rule_label(rule: AdjustmentRule) -> str:
    """“Title (-1 per case, at most 2 a year)”: what choosing it means."""
    points = gettext("%(points)s per case") % {"points": signed(rule.points_per_case)}
    if rule.cap is not None:
        points += "; " + gettext("at most %(cap)s a year") % {
            "cap": floatformat(rule.cap, "-2")
        }
    return f"{rule.title} ({points})"


def framework_label(framework: Framework) -> str:
    return f"{framework.year} · {framework.get_unit_kind_display()} · {framework.name}"


class FrameworkChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return framework_label(obj)


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


class RuleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return rule_label(obj)


# --- the list -------------------------------------------------------------------------


class AdjustmentFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, required=False)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *AdjustmentState.choices],
    )
    unit = forms.CharField(label=_("Unit"), required=False, max_length=100)
    rule = forms.ChoiceField(label=_("Rule"), required=False)

    def __init__(
        self,
        *args: Any,
        years: list[int],
        rules: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        year = self.fields["year"]
        assert isinstance(year, forms.ChoiceField)
        year.choices = [("", _("All years")), *((y, str(y)) for y in years)]
        rule = self.fields["rule"]
        assert isinstance(rule, forms.ChoiceField)
        rule.choices = [("", _("All rules")), *rules]


# --- entering and deciding ------------------------------------------------------------


class FrameworkChoiceForm(forms.Form):
    """The first step of a new record: the year's framework, which says the
    kind of unit and the catalogue of rules."""

    framework = FrameworkChoiceField(
        label=_("Year and framework"),
        queryset=Framework.objects.none(),
        empty_label=None,
    )

    def __init__(self, *args: Any, frameworks: QuerySet[Framework], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["framework"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = frameworks


class AdjustmentForm(forms.Form):
    unit = UnitChoiceField(
        label=_("Unit"),
        queryset=Unit.objects.none(),
        to_field_name="code",
        empty_label="—",
    )
    rule = RuleChoiceField(
        label=_("Deduction or bonus"),
        queryset=AdjustmentRule.objects.none(),
        empty_label="—",
    )
    source = UnitChoiceField(
        label=_("Arose in"),
        queryset=Unit.objects.none(),
        to_field_name="code",
        empty_label="—",
        required=False,
        help_text=_(
            "For a deduction against a city: the office or commune it arose "
            "in, whose head is asked to explain it once the index is published."
        ),
    )
    # The service says what a number of cases may be, in its own words.
    cases = forms.CharField(
        label=_("Cases"),
        widget=forms.NumberInput(attrs={"min": 1, "max": 100, "class": "cases"}),
        help_text=_("The points of the rule are counted once per case."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What happened, and the decision or conclusion that established it."
        ),
    )
    evidence = forms.CharField(
        label=_("Evidence"),
        required=False,
        max_length=EVIDENCE_WIDTH,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text=_(
            "Where to find it: the number and date of a decision, an inspection "
            "conclusion, a newspaper article's address."
        ),
    )

    def __init__(
        self,
        *args: Any,
        units: QuerySet[Unit],
        rules: QuerySet[AdjustmentRule],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = units
        source = self.fields["source"]
        assert isinstance(source, forms.ModelChoiceField)
        source.queryset = adjustments.sources_for(units)
        rule = self.fields["rule"]
        assert isinstance(rule, forms.ModelChoiceField)
        rule.queryset = rules


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        # The two buttons of the page.
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
    )
    decision_reason = forms.CharField(
        label=_("Reason for the decision"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to reject: the entrant reads it."),
    )


# --- the catalogue --------------------------------------------------------------------


class RuleForm(forms.Form):
    title = forms.CharField(
        label=_("Rule"),
        max_length=RULE_TITLE_WIDTH,
        required=False,
        widget=forms.TextInput(attrs={"size": 80}),
    )
    # Read by the service: "-1", "0,5" or "0.5".
    points_per_case = forms.CharField(
        label=_("Points per case"),
        max_length=12,
        required=False,
        help_text=_("Negative for a deduction (-1), positive for a bonus (0,5)."),
    )
    cap = forms.CharField(
        label=_("At most per year"),
        max_length=12,
        required=False,
        help_text=_(
            "What the rule may add or take away for one unit in a year; empty "
            "for no limit."
        ),
    )


class RuleAddForm(RuleForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=RULE_CODE_WIDTH,
        required=False,
        help_text=_("Letters, digits, hyphens and underscores, such as late_reports."),
    )

    field_order = ["code", "title", "points_per_case", "cap"]


# --- the province's criterion ranks ---------------------------------------------------


class CriterionRankForm(forms.Form):
    year = forms.CharField(
        label=_("Year"),
        widget=forms.NumberInput(
            attrs={"min": frameworks.FIRST_YEAR, "max": frameworks.LAST_YEAR}
        ),
    )
    index = forms.ChoiceField(label=_("Index"), choices=CriterionRank.IndexName.choices)
    code = forms.CharField(
        label=_("Criterion code"),
        max_length=CODE_WIDTH,
        required=False,
        help_text=_("As the national results write it, such as 2.3 or CSTP5."),
    )
    title = forms.CharField(
        label=_("Criterion"),
        max_length=TITLE_WIDTH,
        required=False,
        widget=forms.TextInput(attrs={"size": 80}),
    )
    rank = forms.CharField(
        label=_("Rank of the province"),
        widget=forms.NumberInput(attrs={"min": 1}),
    )
    owner_unit = UnitChoiceField(
        label=_("Responsible department"),
        queryset=Unit.objects.none(),
        to_field_name="code",
        required=False,
        empty_label="—",
        help_text=_(
            "It earns the bonus when the province's rank on this criterion rises."
        ),
    )

    def __init__(self, *args: Any, owners: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner_unit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = owners
