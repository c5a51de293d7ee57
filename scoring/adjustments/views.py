"""The deductions and bonuses pages (DOMAIN.md section 6): the records of the
units a reviewer reviews, entering one, deciding on one (four eyes), each
framework's catalogue of rules, and the province's criterion ranks on the
national indices that the computation turns into proposed bonuses.

Only Home Affairs reviewers and superusers reach these pages (anyone else:
403). A record of a unit the reviewer does not review answers 404; the
services (scoring.adjustments.services, scoring.adjustments.criterion_ranks)
decide everything else and their messages are shown beside the field they
name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cchc_portal.forms import attach
from cchc_portal.numbers import number
from scoring import access
from scoring.adjustments import criterion_ranks
from scoring.adjustments import services as adjustments
from scoring.adjustments.forms import (
    AdjustmentFilterForm,
    AdjustmentForm,
    CriterionRankForm,
    DecisionForm,
    FrameworkChoiceForm,
    RuleAddForm,
    RuleForm,
)
from scoring.assessments import selectors
from scoring.frameworks import services as frameworks
from scoring.models import (
    Adjustment,
    AdjustmentRule,
    AdjustmentState,
    CriterionRank,
    Framework,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PER_PAGE = 50


# --- helpers --------------------------------------------------------------------------


def _reviewer(request: HttpRequest) -> User:
    """The user, when a Home Affairs reviewer or a superuser; 403 for anyone
    else (they have no record to see here)."""
    user = request.user
    assert user.is_authenticated  # behind login_required
    if not access.is_reviewer(user):
        raise PermissionDenied
    return user


def _records(user: User) -> QuerySet[Adjustment]:
    return adjustments.adjustments_visible(user).select_related(
        "framework", "unit", "rule", "entered_by", "decided_by"
    )


# --- the list -------------------------------------------------------------------------


def _rule_choices() -> list[tuple[str, str]]:
    """Each rule code once, named by its latest wording."""
    titles: dict[str, str] = {}
    for code, title in AdjustmentRule.objects.order_by(
        "code", "-framework__year"
    ).values_list("code", "title"):
        titles.setdefault(code, title)
    return sorted(titles.items(), key=lambda item: item[1])


@login_required
@require_GET
def adjustment_list(request: HttpRequest) -> HttpResponse:
    """The records of the units the user reviews, those awaiting approval
    first."""
    user = _reviewer(request)
    years = list(
        Framework.objects.order_by("-year").values_list("year", flat=True).distinct()
    )
    form = AdjustmentFilterForm(request.GET or None, years=years, rules=_rule_choices())
    records = _records(user)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["year"]:
            records = records.filter(framework__year=data["year"])
        if data["state"]:
            records = records.filter(state=data["state"])
        if data["rule"]:
            records = records.filter(rule__code=data["rule"])
        if search := data["unit"].strip():
            records = records.filter(
                Q(unit__code__icontains=search) | Q(unit__name__icontains=search)
            )
    elif form.is_bound:
        records = records.none()
    records = records.annotate(
        waiting=Case(
            When(state=AdjustmentState.PROPOSED, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("waiting", "-framework__year", "-entered_at", "-pk")
    page = Paginator(records, PER_PAGE).get_page(request.GET.get("page"))
    # What the user may approve from the list: awaiting approval and entered
    # by someone else (or proposed by the computation).
    approvable = {
        record.pk
        for record in page
        if record.state == AdjustmentState.PROPOSED and not _why_not(user, record)
    }
    return render(
        request,
        "scoring/adjustments/list.html",
        {
            "form": form,
            "page": page,
            "states": AdjustmentState,
            "approvable": approvable,
            "query": request.GET.urlencode(),
        },
    )


# --- entering a record ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def adjustment_new(request: HttpRequest) -> HttpResponse:
    """First the year's framework (?framework=<id>), which gives the kind of
    unit and the catalogue; then the unit, the rule and the facts."""
    user = _reviewer(request)
    choosable = adjustments.frameworks_for(user)
    chooser = FrameworkChoiceForm(
        request.GET if "framework" in request.GET else None, frameworks=choosable
    )
    if not chooser.is_valid():
        return render(
            request,
            "scoring/adjustments/new.html",
            {"chooser": chooser, "framework": None},
        )
    framework: Framework = chooser.cleaned_data["framework"]
    units = adjustments.units_for(user, framework)
    rules = framework.adjustment_rules.order_by("position", "code")
    if request.method == "POST":
        form = AdjustmentForm(request.POST, units=units, rules=rules)
        if form.is_valid():
            try:
                record = adjustments.adjustment_enter(
                    user=user,
                    framework=framework,
                    now=timezone.now(),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                attach(form, exc)
            else:
                messages.success(
                    request,
                    gettext(
                        "Recorded for %(unit)s: it counts once another reviewer "
                        "approves it."
                    )
                    % {"unit": record.unit.name},
                )
                return redirect("adjustment_detail", pk=record.pk)
    else:
        form = AdjustmentForm(
            initial={"cases": 1, "unit": request.GET.get("unit")},
            units=units,
            rules=rules,
        )
    return render(
        request,
        "scoring/adjustments/new.html",
        {
            "chooser": chooser,
            "framework": framework,
            "form": form,
            "rules": rules,
            "has_units": units.exists(),
        },
    )


# --- one record -----------------------------------------------------------------------


def _history(record: Adjustment) -> list[selectors.HistoryEntry]:
    """Every recorded change of the record, newest first, with who made it."""
    rows = list(
        Adjustment.history.filter(id=record.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    ids = {row.entered_by_id for row in rows} | {row.decided_by_id for row in rows}
    users = {
        person.pk: person.get_full_name() or person.get_username()
        for person in get_user_model().objects.filter(pk__in=ids - {None})
    }
    entries = selectors.history_entries(
        rows,
        subject=lambda row: gettext("Record"),
        # The rule never changes; a history row's rule id is not a user.
        fields_=selectors.tracked_fields(
            Adjustment, exclude={"rule", "proposed_by_computation"}
        ),
        users=users,
    )
    entries.sort(key=lambda entry: (entry.when, entry.order), reverse=True)
    return entries


def _why_not(user: User, record: Adjustment) -> str:
    """Why the user cannot decide on the record ("" when they can)."""
    if record.state != AdjustmentState.PROPOSED:
        return ""
    if record.entered_by_id is not None and record.entered_by_id == user.pk:
        return gettext(
            "You entered this record: another reviewer approves or rejects it."
        )
    return ""


def _detail(
    request: HttpRequest, user: User, record: Adjustment, form: DecisionForm
) -> HttpResponse:
    why_not = _why_not(user, record)
    return render(
        request,
        "scoring/adjustments/detail.html",
        {
            "record": record,
            "history": _history(record),
            "form": form,
            "may_decide": record.state == AdjustmentState.PROPOSED and not why_not,
            "why_not": why_not,
        },
    )


@login_required
@require_GET
def adjustment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reviewer(request)
    record = get_object_or_404(_records(user), pk=pk)
    return _detail(request, user, record, DecisionForm())


@login_required
@require_POST
def adjustment_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or reject (with a reason); whoever entered it cannot."""
    user = _reviewer(request)
    record = get_object_or_404(_records(user), pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            adjustments.adjustment_decide(
                user=user,
                adjustment=record,
                approve=approve,
                reason=form.cleaned_data["decision_reason"],
                now=timezone.now(),
            )
        except ValidationError as exc:
            attach(form, exc)
        else:
            messages.success(
                request,
                gettext("Approved: it counts in the next computation.")
                if approve
                else gettext("Rejected: it does not count."),
            )
            return redirect("adjustment_detail", pk=record.pk)
    return _detail(request, user, record, form)


@login_required
@require_POST
def adjustments_approve(request: HttpRequest) -> HttpResponse:
    """Approve the ticked records of the list at once (all or nothing), each
    with the same four eyes as one at a time; back to the list as it was
    filtered."""
    user = _reviewer(request)
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    back = reverse("adjustment_list")
    if query := request.POST.get("back", "").lstrip("?"):
        back = f"{back}?{query}"
    try:
        approved = adjustments.adjustments_approve_many(
            user=user,
            adjustments=_records(user).filter(pk__in=ids),
            now=timezone.now(),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s record approved: it counts in the next computation.",
                "%(count)s records approved: they count in the next computation.",
                len(approved),
            )
            % {"count": number(len(approved))},
        )
    return redirect(back)


# --- a framework's catalogue ----------------------------------------------------------


def _catalogue(
    request: HttpRequest, user: User, framework: Framework, form: RuleAddForm
) -> HttpResponse:
    rules = framework.adjustment_rules.annotate(used=Count("adjustments")).order_by(
        "position", "code"
    )
    manages = access.may_manage_framework(user, framework)
    return render(
        request,
        "scoring/adjustments/rules.html",
        {
            "framework": framework,
            "rules": rules,
            "form": form,
            "editable": manages and not framework.is_frozen,
            "refusal": "" if manages else access.framework_refusal(framework.unit_kind),
        },
    )


def _check_manages(user: User, framework: Framework) -> None:
    """403, saying why, for a reviewer who reads this catalogue but does not
    manage its framework (the service refuses them too)."""
    if not access.may_manage_framework(user, framework):
        raise PermissionDenied(access.framework_refusal(framework.unit_kind))


def _managed_rule(
    request: HttpRequest, pk: int, rule_pk: int
) -> tuple[User, AdjustmentRule]:
    """The reviewer and a rule of framework ``pk`` they manage (404 for a
    rule of another framework, 403 saying why for one they do not)."""
    user = _reviewer(request)
    rule = get_object_or_404(
        AdjustmentRule.objects.select_related("framework"), pk=rule_pk, framework_id=pk
    )
    _check_manages(user, rule.framework)
    return user, rule


def _frozen(request: HttpRequest, framework: Framework) -> HttpResponse | None:
    """Back to the catalogue, with a message, once the year is published."""
    if not framework.is_frozen:
        return None
    messages.error(
        request,
        gettext("The results of %(year)d are published: its catalogue is frozen.")
        % {"year": framework.year},
    )
    return redirect("adjustment_rules", pk=framework.pk)


@login_required
@require_http_methods(["GET", "POST"])
def adjustment_rules(request: HttpRequest, pk: int) -> HttpResponse:
    """The catalogue of a framework, and a rule added to it."""
    user = _reviewer(request)
    framework = get_object_or_404(Framework, pk=pk)
    if request.method != "POST":
        return _catalogue(request, user, framework, RuleAddForm())
    _check_manages(user, framework)
    if refused := _frozen(request, framework):
        return refused
    form = RuleAddForm(request.POST)
    if form.is_valid():
        try:
            rule = adjustments.rule_add(
                user=user, framework=framework, **form.cleaned_data
            )
        except ValidationError as exc:
            attach(form, exc)
        else:
            messages.success(
                request, gettext("Rule %(code)s added.") % {"code": rule.code}
            )
            return redirect("adjustment_rules", pk=framework.pk)
    return _catalogue(request, user, framework, form)


@login_required
@require_http_methods(["GET", "POST"])
def adjustment_rule_edit(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    user, rule = _managed_rule(request, pk, rule_pk)
    if refused := _frozen(request, rule.framework):
        return refused
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            try:
                adjustments.rule_update(user=user, rule=rule, **form.cleaned_data)
            except ValidationError as exc:
                attach(form, exc)
            else:
                messages.success(
                    request, gettext("Rule %(code)s saved.") % {"code": rule.code}
                )
                return redirect("adjustment_rules", pk=pk)
    else:
        form = RuleForm(
            initial={
                "title": rule.title,
                "points_per_case": _number(rule.points_per_case),
                "cap": _number(rule.cap) if rule.cap is not None else "",
            }
        )
    return render(
        request,
        "scoring/adjustments/rule_form.html",
        {
            "rule": rule,
            "framework": rule.framework,
            "form": form,
            "used": rule.adjustments.count(),
        },
    )


def _number(value: Any) -> str:
    """A decimal as a person types it: 0,5 in Vietnamese (the service reads
    either)."""
    return floatformat(value, "-2")


@login_required
@require_POST
def adjustment_rule_delete(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    user, rule = _managed_rule(request, pk, rule_pk)
    if refused := _frozen(request, rule.framework):
        return refused
    try:
        adjustments.rule_delete(user=user, rule=rule)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, gettext("Rule %(code)s deleted.") % {"code": rule.code}
        )
    return redirect("adjustment_rules", pk=pk)


# --- the province's criterion ranks ---------------------------------------------------


@login_required
@require_GET
def criterion_rank_list(request: HttpRequest) -> HttpResponse:
    user = _reviewer(request)
    years = criterion_ranks.rank_years(user)
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        # The national results of a year come out during the next.
        year = years[0] if years else timezone.localdate().year - 1
    if not frameworks.FIRST_YEAR <= year <= frameworks.LAST_YEAR:
        year = timezone.localdate().year - 1
    return render(
        request,
        "scoring/adjustments/criterion_ranks.html",
        {
            "year": year,
            "years": years,
            "rows": criterion_ranks.rank_rows(user, year),
            "may_name_owner": criterion_ranks.owners_for(user).exists(),
        },
    )


def _rank_form(
    request: HttpRequest, user: User, instance: CriterionRank | None
) -> HttpResponse:
    owners = criterion_ranks.owners_for(user).order_by("path")
    if request.method == "POST":
        form = CriterionRankForm(request.POST, owners=owners)
        if form.is_valid():
            try:
                saved = criterion_ranks.criterion_rank_upsert(
                    user=user, instance=instance, **form.cleaned_data
                )
            except ValidationError as exc:
                attach(form, exc)
            else:
                messages.success(
                    request,
                    gettext("%(index)s %(code)s of %(year)d saved.")
                    % {
                        "index": saved.get_index_display(),
                        "code": saved.code,
                        "year": saved.year,
                    },
                )
                return redirect(f"{reverse('criterion_rank_list')}?year={saved.year}")
    elif instance is not None:
        form = CriterionRankForm(
            initial={
                "year": instance.year,
                "index": instance.index,
                "code": instance.code,
                "title": instance.title,
                "rank": instance.rank,
                "owner_unit": instance.owner_unit.code,
            },
            owners=owners,
        )
    else:
        year = request.GET.get("year", "")
        form = CriterionRankForm(
            initial={"year": year if year.isdigit() else timezone.localdate().year - 1},
            owners=owners,
        )
    return render(
        request,
        "scoring/adjustments/criterion_rank_form.html",
        {"form": form, "instance": instance},
    )


@login_required
@require_http_methods(["GET", "POST"])
def criterion_rank_new(request: HttpRequest) -> HttpResponse:
    return _rank_form(request, _reviewer(request), None)


@login_required
@require_http_methods(["GET", "POST"])
def criterion_rank_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reviewer(request)
    instance = get_object_or_404(
        criterion_ranks.ranks_visible(user).select_related("owner_unit"), pk=pk
    )
    return _rank_form(request, user, instance)


@login_required
@require_POST
def criterion_rank_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reviewer(request)
    instance = get_object_or_404(criterion_ranks.ranks_visible(user), pk=pk)
    year = instance.year
    criterion_ranks.criterion_rank_delete(user=user, rank=instance)
    messages.success(
        request,
        gettext("%(index)s %(code)s of %(year)d deleted.")
        % {"index": instance.get_index_display(), "code": instance.code, "year": year},
    )
    return redirect(f"{reverse('criterion_rank_list')}?year={year}")
