"""The commitment pages: the list, creating a year's commitments from a
template, a commitment with its targets' progress, adjusting a draft,
signing, counter-signing, reporting and checking manual indicators, and the
targets across units for reviewers. Each view checks access, calls one
service or read, renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cchc_portal import numbers
from cchc_portal.forms import applied, attach
from commitments import access, progress, rules, services, signatures
from commitments.forms import (
    CheckForm,
    CountersignForm,
    CreateFromTemplateForm,
    ReportForm,
    SignForm,
    TargetForm,
    TargetRemoveForm,
)
from commitments.models import Commitment, CommitmentState, CommitmentTemplate, Target
from commitments.organisation.access import (
    get_scoped_or_404,
    scope_queryset,
    units_q,
)
from commitments.organisation.models import Role, Unit, UnitKind


def _visible(request: HttpRequest) -> QuerySet[Commitment]:
    return scope_queryset(request.user, Commitment.objects.all()).select_related(
        "unit", "unit__parent", "head"
    )


def _commitment(request: HttpRequest, pk: int) -> Commitment:
    return get_scoped_or_404(
        request.user,
        Commitment.objects.select_related(
            "unit", "unit__parent", "head", "signature_check__head"
        ),
        pk=pk,
    )


def _targets(commitment: Commitment) -> list[Target]:
    return list(
        commitment.targets.select_related(
            "indicator", "commitment", "reported_by", "checked_by"
        )
    )


def _year(request: HttpRequest, default: int) -> int:
    try:
        return int(request.GET.get("year", default))
    except ValueError:
        return default


@login_required
def commitment_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    visible = _visible(request)
    years = sorted(
        set(visible.order_by().values_list("year", flat=True).distinct())
        | {today.year},
        reverse=True,
    )
    year = _year(request, today.year)
    commitments = visible.filter(year=year)
    kind = request.GET.get("kind", "")
    if kind in UnitKind.values:
        commitments = commitments.filter(unit__kind=kind)
    state = request.GET.get("state", "")
    if state in CommitmentState.values:
        commitments = commitments.filter(state=state)
    met = request.GET.get("met", "")
    if met in ("1", "0"):
        commitments = commitments.filter(met=met == "1")
    search = request.GET.get("q", "").strip()
    if search:
        commitments = commitments.filter(unit__name__icontains=search)
    page = Paginator(commitments.order_by("unit__path"), 50).get_page(
        request.GET.get("page")
    )
    targets = list(
        Target.objects.filter(commitment__in=list(page))
        .select_related("indicator", "commitment")
        .order_by("commitment", "position", "pk")
    )
    by_commitment: dict[int, list[progress.TargetProgress]] = {}
    for item in progress.targets_progress(targets, today=today):
        by_commitment.setdefault(item.target.commitment_id, []).append(item)
    rows = [
        (commitment, progress.tally(by_commitment.get(commitment.pk, [])))
        for commitment in page
    ]
    return render(
        request,
        "commitments/commitment_list.html",
        {
            "page": page,
            "rows": rows,
            "year": year,
            "years": years,
            "kinds": UnitKind.choices,
            "states": CommitmentState.choices,
            "may_create": access.may_create_from_template(request.user),
            "may_follow": access.may_follow(request.user),
        },
    )


@login_required
def commitment_create(request: HttpRequest) -> HttpResponse:
    """A year's commitments for many units at once, from the template of
    their kind."""
    if not access.may_create_from_template(request.user):
        raise PermissionDenied
    templates = CommitmentTemplate.objects.all()
    picked = (request.POST if request.method == "POST" else request.GET).get(
        "template", ""
    )
    chosen = get_object_or_404(templates, pk=picked) if picked.isdigit() else None
    year = _year(request, timezone.localdate().year)
    units = Unit.objects.filter(units_q(request.user, roles=frozenset({Role.REVIEWER})))
    if chosen is not None:
        units = units.filter(kind=chosen.unit_kind)
    units = units.filter(valid_to__isnull=True).order_by("path")
    choices = [(str(unit.pk), unit.name) for unit in units]
    form = CreateFromTemplateForm(
        request.POST or None,
        unit_choices=choices,
        initial={
            "year": year,
            "template": chosen,
            "units": [c for c, _label in choices],
        },
    )
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = services.commitments_create(
                year=form.cleaned_data["year"],
                template=form.cleaned_data["template"],
                units=Unit.objects.filter(pk__in=form.cleaned_data["units"]),
                user=request.user,
            )
        except ValidationError as exc:
            attach(form, exc)
        else:
            messages.success(
                request,
                _("%(count)d commitments drafted for %(year)d.")
                % {"count": len(report.created), "year": form.cleaned_data["year"]},
            )
    return render(
        request,
        "commitments/commitment_create.html",
        {"form": form, "templates": templates, "chosen": chosen, "report": report},
    )


def _history(commitment: Commitment) -> list[dict[str, Any]]:
    """Who did what to the commitment and its targets, newest first."""
    entries = []
    for row in commitment.history.select_related("history_user").order_by(
        "history_date"
    ):
        entries.append(
            {
                "when": row.history_date,
                "who": row.history_user,
                "what": _("Commitment: %(state)s") % {"state": row.get_state_display()},
            }
        )
    targets = Target.history.filter(commitment_id=commitment.pk).select_related(
        "history_user", "indicator"
    )
    labels = {"+": _("added"), "~": _("changed"), "-": _("removed")}
    for row in targets.order_by("history_date"):
        what = _("Target %(indicator)s %(change)s: %(comparison)s %(value)s") % {
            "indicator": row.indicator.name,
            "change": labels.get(row.history_type, ""),
            "comparison": row.get_comparison_display(),
            "value": numbers.number(row.value),
        }
        if not row.mandatory:
            what += " – " + _("not mandatory: %(reason)s") % {
                "reason": row.optional_reason
            }
        if row.history_type == "-" and row.history_change_reason:
            # Why Home Affairs removed it (commitment_services.target_delete).
            what += " – " + _("removed because: %(reason)s") % {
                "reason": row.history_change_reason
            }
        entries.append(
            {"when": row.history_date, "who": row.history_user, "what": what}
        )
    entries.sort(key=lambda entry: entry["when"], reverse=True)
    return entries


def _warnings(
    commitment: Commitment, targets: list[Target]
) -> list[tuple[Target, Any]]:
    """Targets below last year's own result: read now while drafting, as
    recorded at signing afterwards."""
    if commitment.state == CommitmentState.DRAFT:
        return progress.below_last_year(commitment)
    return [
        (target, target.last_year_value)
        for target in targets
        if target.last_year_value is not None
        and rules.below_last_year(progress.rule_target(target), target.last_year_value)
    ]


def _detail_context(
    request: HttpRequest, commitment: Commitment, **extra: Any
) -> dict[str, Any]:
    user = request.user
    targets = _targets(commitment)
    today = timezone.localdate()
    rows = progress.targets_progress(targets, today=today)
    return {
        "commitment": commitment,
        "rows": [
            {
                "item": item,
                "may_report": access.may_report(user, item.target),
                "may_check": access.may_check(user, item.target)
                and item.target.check_state != "",
                "may_remove": access.may_remove(user, item.target),
            }
            for item in rows
        ],
        "tally": progress.tally(rows),
        "warnings": _warnings(commitment, targets),
        "may_prepare": commitment.state == CommitmentState.DRAFT
        and access.may_prepare(user, commitment.unit),
        "may_sign": access.may_sign(user, commitment),
        "may_countersign": access.may_countersign(user, commitment),
        # The level above, but the account that signed: said, not just hidden.
        "countersign_by_another": access.is_level_above(user, commitment)
        and access.took_part_in_signing(user, commitment),
        "head_today": services.head_in_office(commitment.unit, today),
        "signature": _signature(commitment),
        "history": _history(commitment),
        "sign_form": extra.pop("sign_form", None)
        or SignForm(initial={"signed_on": today}),
        "countersign_form": extra.pop("countersign_form", None)
        or CountersignForm(initial={"countersigned_on": today}),
        "target_form": extra.pop("target_form", None) or TargetForm(),
        **extra,
    }


def _signature(commitment: Commitment) -> dict[str, Any]:
    """The signed document: digitally signed (what its signature said) or a
    plain scan."""
    check = getattr(commitment, "signature_check", None)
    lines = signatures.described(check, scanned=bool(commitment.scan))
    return {"check": check, "line": lines[:1], "notes": lines[1:]}


@login_required
def commitment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = _commitment(request, pk)
    return render(
        request,
        "commitments/commitment_detail.html",
        _detail_context(request, commitment),
    )


@login_required
@require_POST
def commitment_sign(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = _commitment(request, pk)
    if not access.may_sign(request.user, commitment):
        raise PermissionDenied
    form = SignForm(request.POST, request.FILES)
    if form.is_valid():
        warnings = progress.below_last_year(commitment)
        if warnings and not form.cleaned_data["acknowledge"]:
            form.add_error(
                "acknowledge",
                _(
                    "%(count)d targets are set below the unit's own result of last "
                    "year: read them and confirm before signing."
                )
                % {"count": len(warnings)},
            )
        else:
            try:
                services.commitment_sign(
                    commitment=commitment,
                    user=request.user,
                    signed_on=form.cleaned_data["signed_on"],
                    scan=form.cleaned_data["scan"],
                )
            except ValidationError as exc:
                attach(form, exc)
            else:
                messages.success(request, _("The commitment is signed."))
                return redirect(commitment)
    return render(
        request,
        "commitments/commitment_detail.html",
        _detail_context(request, commitment, sign_form=form),
        status=400,
    )


@login_required
@require_POST
def commitment_countersign(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = _commitment(request, pk)
    # Who signed is refused by the service, with the reason on the form.
    if not access.is_level_above(request.user, commitment):
        raise PermissionDenied
    form = CountersignForm(request.POST)
    if applied(
        form,
        lambda: services.commitment_countersign(
            commitment=commitment, user=request.user, **form.cleaned_data
        ),
    ):
        messages.success(request, _("The counter-signature is recorded."))
        return redirect(commitment)
    return render(
        request,
        "commitments/commitment_detail.html",
        _detail_context(request, commitment, countersign_form=form),
        status=400,
    )


@login_required
def commitment_scan(request: HttpRequest, pk: int) -> FileResponse:
    commitment = _commitment(request, pk)
    if not commitment.scan:
        raise Http404
    return FileResponse(
        commitment.scan.open("rb"),
        as_attachment=True,
        filename=f"cam-ket-{commitment.unit.code}-{commitment.year}-ky"
        f"{commitment.scan_extension}",
    )


def _target(request: HttpRequest, pk: int, target_pk: int) -> Target:
    commitment = _commitment(request, pk)
    return get_object_or_404(
        Target.objects.select_related("indicator", "commitment__unit"),
        commitment=commitment,
        pk=target_pk,
    )


@login_required
def target_edit(
    request: HttpRequest, pk: int, target_pk: int | None = None
) -> HttpResponse:
    """Add a target to a draft, or change one."""
    commitment = _commitment(request, pk)
    target = _target(request, pk, target_pk) if target_pk is not None else None
    if not access.may_prepare(request.user, commitment.unit):
        raise PermissionDenied
    initial = (
        {
            "indicator": target.indicator,
            "comparison": target.comparison,
            "value": target.value,
            "deadline": target.deadline,
            "mandatory": target.mandatory,
            "optional_reason": target.optional_reason,
        }
        if target
        else {"mandatory": True}
    )
    form = TargetForm(
        request.POST or None,
        initial=initial,
        decides_mandatory=access.may_make_optional(request.user, commitment.unit),
    )
    if request.method == "POST" and applied(
        form,
        lambda: services.target_save(
            commitment=commitment,
            user=request.user,
            target=target,
            **form.cleaned_data,
        ),
    ):
        return redirect(commitment)
    return render(
        request,
        "commitments/target_form.html",
        {"commitment": commitment, "target": target, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def target_delete(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    target = _target(request, pk, target_pk)
    form = TargetRemoveForm(request.POST)
    form.is_valid()  # a free text, always valid; the service decides
    try:
        services.target_delete(
            target=target,
            user=request.user,
            reason=form.cleaned_data.get("reason", ""),
        )
    except ValidationError as exc:
        # Said on the commitment's page, which stays as it was.
        messages.error(request, " ".join(exc.messages))
        return render(
            request,
            "commitments/commitment_detail.html",
            _detail_context(request, _commitment(request, pk)),
            status=400,
        )
    messages.success(request, _("The target is removed."))
    return redirect(target.commitment)


@login_required
def target_report(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    target = _target(request, pk, target_pk)
    if not access.may_report(request.user, target):
        raise PermissionDenied
    form = ReportForm(
        request.POST or None,
        initial={"value": target.reported_value, "note": target.report_note},
    )
    if request.method == "POST" and applied(
        form,
        lambda: services.target_report(
            target=target, user=request.user, **form.cleaned_data
        ),
    ):
        messages.success(request, _("The value is reported; a reviewer will check it."))
        return redirect(target.commitment)
    return render(
        request,
        "commitments/target_report.html",
        {"target": target, "commitment": target.commitment, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def target_check(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    target = _target(request, pk, target_pk)
    if not access.may_check(request.user, target):
        raise PermissionDenied
    form = CheckForm(request.POST or None)
    if request.method == "POST" and applied(
        form,
        lambda: services.target_check(
            target=target,
            user=request.user,
            accepted=request.POST.get("decision") == "accept",
            note=form.cleaned_data["note"],
        ),
    ):
        return redirect(target.commitment)
    return render(
        request,
        "commitments/target_check.html",
        {"target": target, "commitment": target.commitment, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def target_progress(request: HttpRequest) -> HttpResponse:
    """Reviewers and leaders: every target of their units in a year, with
    its progress, the ones at risk first."""
    if not access.may_follow(request.user):
        raise Http404
    today = timezone.localdate()
    year = _year(request, today.year)
    targets = scope_queryset(
        request.user,
        Target.objects.filter(commitment__year=year).exclude(
            commitment__state=CommitmentState.DRAFT
        ),
        unit_field="commitment__unit",
    )
    wanted = request.GET.get("progress", "")
    if wanted not in {state.value for state in rules.Progress}:
        wanted = ""
    page, tally = progress.progress_page(
        targets, today=today, wanted=wanted, number=request.GET.get("page")
    )
    return render(
        request,
        "commitments/target_progress.html",
        {
            "page": page,
            "year": year,
            "tally": tally,
            "wanted": wanted,
            "states": [(p.value, p) for p in rules.Progress],
        },
    )
