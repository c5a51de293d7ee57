"""Forms of the assessment pages. They only shape the input: numbers, limits
and states are checked by scoring.assessments.services, whose messages name the leaf."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from scoring.assessments.selectors import NOT_STARTED, QueueFilters
from scoring.models import AssessmentState, Framework

COMMENT_PREFIX = "comment-"


class SelfScoreForm(forms.Form):
    # Text, not a number field: "3,5" is how many people write it, and the
    # service reads it and says what is wrong in the leaf's words.
    self_score = forms.CharField(label=_("self score"), required=False, max_length=20)
    explanation = forms.CharField(
        label=_("explanation"), required=False, widget=forms.Textarea
    )
    version = forms.IntegerField(min_value=1)


class AppraiseForm(forms.Form):
    appraised_score = forms.CharField(
        label=_("appraised score"), required=False, max_length=20
    )
    appraisal_reason = forms.CharField(
        label=_("reason for the appraised score"),
        required=False,
        widget=forms.Textarea,
    )
    version = forms.IntegerField(min_value=1)


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(label=_("Document"))
    # The leaf to attach the new document to, if any.
    score = forms.IntegerField(required=False)


class EvidenceSetForm(forms.Form):
    documents = forms.TypedMultipleChoiceField(
        label=_("Documents"), coerce=int, required=False
    )
    # The documents the page showed attached: one attached since (an upload
    # from another window) was never offered to untick, so it stays.
    shown = forms.TypedMultipleChoiceField(coerce=int, required=False)
    # Sent by the page (which lists what it showed, possibly nothing).
    listed = forms.BooleanField(required=False)

    def __init__(self, *args: Any, document_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("documents", "shown"):
            field = self.fields[name]
            assert isinstance(field, forms.TypedMultipleChoiceField)
            field.choices = [(pk, pk) for pk in document_ids]


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("answer"), widget=forms.Textarea)


class ExtensionForm(forms.Form):
    until = forms.DateField(
        label=_("Extended until"),
        widget=forms.TextInput(attrs={"placeholder": "dd/mm/yyyy", "size": 10}),
    )


class ContestForm(forms.Form):
    requested_score = forms.CharField(label=_("score asked for"), max_length=20)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept")), ("reject", _("Reject"))],
    )
    reason = forms.CharField(
        label=_("reason for the decision"), required=False, widget=forms.Textarea
    )


def comments_from(data: QueryDict) -> dict[int, str]:
    """The reviewer's comments of a return: one field per leaf, named
    comment-<score id>."""
    comments: dict[int, str] = {}
    for key in data:
        if not key.startswith(COMMENT_PREFIX):
            continue
        try:
            comments[int(key.removeprefix(COMMENT_PREFIX))] = str(data.get(key, ""))
        except ValueError:
            continue
    return comments


def score_ids_from(data: QueryDict) -> list[int]:
    ids = []
    for value in data.getlist("score"):
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return ids


class QueueFilterForm(forms.Form):
    framework = forms.ModelChoiceField(
        label=_("Framework"),
        queryset=Framework.objects.none(),
        required=False,
        empty_label=_("All frameworks"),
    )
    year = forms.IntegerField(
        label=_("Year"), required=False, min_value=2000, max_value=2100
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("All states")),
            (NOT_STARTED, _("Not started")),
            *AssessmentState.choices,
        ],
    )
    q = forms.CharField(label=_("Unit"), required=False, max_length=100)

    def __init__(self, *args: Any, frameworks: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["framework"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = frameworks

    def filters(self) -> QueueFilters:
        data = self.cleaned_data
        return QueueFilters(
            framework=data.get("framework"),
            year=data.get("year"),
            state=data.get("state") or "",
            search=(data.get("q") or "").strip(),
        )
