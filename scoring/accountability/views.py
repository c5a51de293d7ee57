"""Accountability cases and head ratings: lists scoped by role, a case with
its steps (the head explains, the leader above decides), ratings confirmed
or changed by the level above."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from cchc_portal.forms import applied
from commitments.organisation.access import get_scoped_or_404
from scoring.accountability import services as accountability
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    CaseKind,
    Decision,
    MitigationGround,
    RatingLevel,
)


class ExplainForm(forms.Form):
    explanation = forms.CharField(
        label=gettext_lazy("Explanation"), widget=forms.Textarea(attrs={"rows": 6})
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=Decision.choices,
        widget=forms.RadioSelect,
    )
    ground = forms.ChoiceField(
        label=gettext_lazy("Ground for mitigation"),
        choices=[("", "—"), *MitigationGround.choices],
        required=False,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 4})
    )


class RateForm(forms.Form):
    # "—" first: a rating with no proposal is chosen, never defaulted.
    level = forms.TypedChoiceField(
        label=gettext_lazy("Rating"),
        choices=[("", "—"), *RatingLevel.choices],
        coerce=int,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = accountability.cases_visible(request.user).select_related("unit", "head")
    years = sorted(set(cases.values_list("year", flat=True)), reverse=True)
    year = _int(request.GET.get("year"))
    if year is not None:
        cases = cases.filter(year=year)
    kind = request.GET.get("kind", "")
    if kind in CaseKind.values:
        cases = cases.filter(kind=kind)
    state = request.GET.get("state", "")
    if state == "open":
        cases = cases.filter(
            state__in=[AccountabilityState.REQUESTED, AccountabilityState.EXPLAINED]
        )
    elif state in AccountabilityState.values:
        cases = cases.filter(state=state)
    page = Paginator(cases.order_by("-year", "state", "unit__path"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "scoring/accountability/list.html",
        {
            "page": page,
            "years": years,
            "year": year,
            "kinds": CaseKind.choices,
            "states": AccountabilityState.choices,
        },
    )


def _case(request: HttpRequest, pk: int) -> AccountabilityCase:
    return get_scoped_or_404(
        request.user,
        AccountabilityCase.objects.select_related("unit", "unit__parent", "head"),
        pk=pk,
    )


def _case_context(
    request: HttpRequest, case: AccountabilityCase, **forms_: Any
) -> dict[str, Any]:
    return {
        "case": case,
        "steps": case.steps.select_related("by").order_by("at", "pk"),
        "may_explain": accountability.may_explain(request.user, case),
        "may_decide": accountability.may_decide(request.user, case),
        "explain_form": forms_.get("explain_form")
        or ExplainForm(initial={"explanation": case.explanation}),
        "decide_form": forms_.get("decide_form") or DecideForm(),
    }


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    return render(
        request, "scoring/accountability/detail.html", _case_context(request, case)
    )


@login_required
@require_POST
def case_explain(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if not accountability.may_explain(request.user, case):
        raise PermissionDenied
    form = ExplainForm(request.POST)
    if applied(
        form,
        lambda: accountability.case_explain(
            case=case, user=request.user, text=form.cleaned_data["explanation"]
        ),
    ):
        messages.success(request, _("The explanation is sent to the leader."))
        return redirect(case)
    return render(
        request,
        "scoring/accountability/detail.html",
        _case_context(request, case, explain_form=form),
        status=400,
    )


@login_required
@require_POST
def case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if not accountability.may_decide(request.user, case):
        raise PermissionDenied
    form = DecideForm(request.POST)
    if applied(
        form,
        lambda: accountability.case_decide(
            case=case, user=request.user, **form.cleaned_data
        ),
    ):
        messages.success(request, _("The decision is recorded."))
        return redirect(case)
    return render(
        request,
        "scoring/accountability/detail.html",
        _case_context(request, case, decide_form=form),
        status=400,
    )


def _ratings_page(
    request: HttpRequest, query: QueryDict, failed: RateForm | None = None
) -> dict[str, Any]:
    """The ratings of a year as ``query`` filters and pages them; ``failed``,
    a rating's refused form, is shown on its row with its errors."""
    ratings = accountability.ratings_visible(request.user).select_related(
        "unit", "unit__parent", "head", "rated_by"
    )
    years = sorted(set(ratings.values_list("year", flat=True)), reverse=True)
    year = _int(query.get("year")) or (years[0] if years else timezone.localdate().year)
    ratings = ratings.filter(year=year)
    if query.get("flagged") == "1":
        ratings = ratings.filter(flagged=True)
    if query.get("undecided") == "1":
        ratings = ratings.filter(final__isnull=True)
    if query.get("changed") == "1":
        ratings = accountability.ratings_proposal_changed(ratings)
    page = Paginator(
        ratings.order_by("unit__path", "head__tenure_from", "pk"), 50
    ).get_page(query.get("page"))
    rows = [
        (
            rating,
            accountability.may_rate(request.user, rating),
            failed
            if failed is not None and failed.prefix == f"r{rating.pk}"
            else RateForm(initial={"level": rating.effective}, prefix=f"r{rating.pk}"),
        )
        for rating in page
    ]
    confirmable = [
        rating.pk
        for rating, may_rate, _form in rows
        if may_rate and rating.final is None
    ]
    if failed is not None and not any(form is failed for *_rest, form in rows):
        # Its row is no longer on the page (decided meanwhile): say it here.
        errors = [str(m) for field in failed.errors.values() for m in field]
        messages.error(request, " ".join(errors))
    return {
        "page": page,
        "rows": rows,
        "years": years,
        "year": year,
        "filters": query,
        "list_url": reverse("rating_list"),
        # Where a rating's form comes back to: this page, as filtered.
        "here": f"{reverse('rating_list')}?{query.urlencode()}",
        "confirmable": confirmable,
    }


@login_required
def rating_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "scoring/accountability/ratings.html",
        _ratings_page(request, request.GET),
    )


def _ratings_query(request: HttpRequest, year: int) -> QueryDict:
    """The filters and page of the list the form was posted from (its
    ``next``), or the year's first page."""
    back = request.POST.get("next", "")
    parts = urlsplit(back)
    if parts.path == reverse("rating_list") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        return QueryDict(parts.query)
    return QueryDict(f"year={year}")


@login_required
@require_POST
def rating_decide(request: HttpRequest, pk: int) -> HttpResponse:
    rating = get_scoped_or_404(
        request.user,
        accountability.ratings_visible(request.user).select_related("unit"),
        pk=pk,
    )
    if not accountability.may_rate(request.user, rating):
        raise PermissionDenied
    form = RateForm(request.POST, prefix=f"r{rating.pk}")
    query = _ratings_query(request, rating.year)
    if applied(
        form,
        lambda: accountability.rating_decide(
            rating=rating, user=request.user, **form.cleaned_data
        ),
    ):
        messages.success(
            request,
            _("The rating of %(head)s is recorded.") % {"head": rating.head.full_name},
        )
        return redirect(
            f"{reverse('rating_list')}?{query.urlencode()}#rating-{rating.pk}"
        )
    # The refusal is shown on the row, with what was typed, not at the top of
    # a page of fifty rows; the first field at fault takes the focus.
    wrong = [name for name in form.errors if name in form.fields]
    for name in wrong:
        form.fields[name].widget.attrs.update(
            {"aria-invalid": "true", "aria-describedby": f"rating-{rating.pk}-errors"}
        )
    if wrong:
        form.fields[wrong[0]].widget.attrs["autofocus"] = True
    return render(
        request,
        "scoring/accountability/ratings.html",
        _ratings_page(request, query, failed=form),
        status=400,
    )


@login_required
@require_POST
def ratings_confirm(request: HttpRequest) -> HttpResponse:
    """Confirm the proposals of the undecided ratings listed on the page."""
    year = _int(request.POST.get("year"))
    if year is None:
        messages.error(request, _("Choose a year."))
        return redirect("rating_list")
    ids = [int(pk) for pk in request.POST.getlist("rating") if pk.isdigit()]
    visible = accountability.ratings_visible(request.user).filter(pk__in=ids)
    count = accountability.ratings_confirm(
        user=request.user, year=year, ids=visible.values_list("pk", flat=True)
    )
    messages.success(
        request,
        ngettext(
            "%(count)d proposal confirmed.", "%(count)d proposals confirmed.", count
        )
        % {"count": count},
    )
    return redirect(f"{reverse('rating_list')}?year={year}")
