"""The assessment pages: the unit's self-assessment (autosaved leaf by leaf,
evidence documents, submit, answers to the reviewer, contests), the
reviewers' queue and appraisal page (appraise, accept the self scores, return,
approve, extend, provisional results, decide contests), and the history of an
assessment.

Each view checks what the user may see (another unit's assessment, document
or comment answers 404), calls one service or selector, and renders; a
forbidden action on a visible assessment answers 403 (the service's
PermissionDenied). A service's ValidationError is shown as a message that
names the leaf, beside the leaf when the page saved it by script."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from commitments.organisation.access import (
    access_unit,
)
from scoring import access
from scoring.assessments import evidence, selectors, services
from scoring.assessments.forms import (
    AnswerForm,
    AppraiseForm,
    ContestForm,
    DecisionForm,
    EvidenceSetForm,
    EvidenceUploadForm,
    ExtensionForm,
    QueueFilterForm,
    SelfScoreForm,
    comments_from,
    score_ids_from,
)
from scoring.models import (
    Assessment,
    AssessmentState,
    ContestState,
    Framework,
    Score,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

QUEUE_PER_PAGE = 250


# --- Helpers --------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    assert user.is_authenticated  # behind login_required
    return user


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _text(exc: ValidationError) -> str:
    return " ".join(str(message) for message in exc.messages)


def _anchor(score: Score) -> str:
    return f"leaf-{score.node.code}"


def _back(assessment: Assessment, *, page: str = "", anchor: str = "") -> HttpResponse:
    name = "assessment_appraise" if page == "appraise" else "assessment_detail"
    url = reverse(name, kwargs={"pk": assessment.pk})
    return redirect(f"{url}#{anchor}" if anchor else url)


def _points(value: Decimal | None) -> str | None:
    """Points as the page shows them (a decimal comma in Vietnamese)."""
    return None if value is None else formats.number_format(value, decimal_pos=2)


def _local_time(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def lock_reason(assessment: Assessment, today: date) -> str:
    """Why the unit cannot change its assessment now ("" when it can)."""
    if assessment.state == AssessmentState.SUBMITTED:
        return _(
            "Submitted to Home Affairs on %(day)s: it is being appraised and "
            "cannot be changed unless it is returned."
        ) % {"day": timezone.localtime(assessment.submitted_at).strftime("%d/%m/%Y")}
    if assessment.state == AssessmentState.APPROVED:
        return _("Approved by Home Affairs: it can no longer be changed.")
    if services.is_locked(assessment, today):
        deadline = assessment.extended_until or assessment.framework.deadline
        assert deadline is not None
        return _(
            "The deadline of %(day)s has passed: the self-assessment can no longer "
            "be changed. Ask Home Affairs for an extension."
        ) % {"day": deadline.strftime("%d/%m/%Y")}
    return ""


def _totals_json(assessment: Assessment, user: User) -> dict[str, Any]:
    sheet = selectors.assessment_sheet(assessment=assessment, user=user)
    return {
        "self_totals": {
            str(row.node.pk): _points(row.self_points) for row in sheet.rows
        },
        "appraised_totals": {
            str(row.node.pk): _points(row.appraised_points) for row in sheet.rows
        },
        "self_total": _points(sheet.self_total),
        "appraised_total": _points(sheet.appraised_total),
        "completeness": sheet.completeness,
        "appraised": sheet.appraised,
        "to_appraise": sheet.to_appraise,
        "pending": sheet.pending,
    }


def _refused(
    request: HttpRequest,
    assessment: Assessment,
    score: Score,
    exc: ValidationError,
    *,
    status: int,
    page: str = "",
) -> HttpResponse:
    """A save the service refused: JSON with its message for the script, or
    the message on the page, at the leaf."""
    message = _text(exc)
    if _wants_json(request):
        current = Score.objects.filter(pk=score.pk).values_list("version", flat=True)
        return JsonResponse(
            {
                "ok": False,
                "error": message,
                "stale": status == 409,
                "version": current.first(),
            },
            status=status,
        )
    messages.error(request, message)
    return _back(assessment, page=page, anchor=_anchor(score))


def _forbidden_json(request: HttpRequest) -> HttpResponse:
    if not _wants_json(request):
        raise PermissionDenied
    return JsonResponse(
        {"ok": False, "error": _("Your role does not allow this action.")},
        status=403,
    )


# --- The list and the queue -----------------------------------------------------------


@login_required
@require_GET
def assessment_list(request: HttpRequest) -> HttpResponse:
    """The assessments the user sees: a unit's own, a reviewer's queue (with
    progress and filters), a leader's jurisdiction."""
    user = _user(request)
    if not request.GET and selectors.waiting_for_appraisal(user=user).exists():
        # A reviewer's queue opens on what waits for them (the oldest
        # first); "All states" shows the rest.
        return redirect(f"{request.path}?state={AssessmentState.SUBMITTED}")
    form = QueueFilterForm(
        request.GET or None, frameworks=selectors.queue_frameworks(user=user)
    )
    filters = form.filters() if form.is_valid() else selectors.QueueFilters()
    if request.GET and not form.is_valid():
        page = Paginator(Assessment.objects.none(), QUEUE_PER_PAGE).get_page(1)
    else:
        page = selectors.queue_page(
            user=user,
            filters=filters,
            number=request.GET.get("page"),
            per_page=QUEUE_PER_PAGE,
        )
    reviewer = access.is_reviewer(user)
    rows = [
        (assessment, access.may_review(user, assessment) if reviewer else False)
        for assessment in page
    ]
    provisional = (
        selectors.provisional_summary(user=user, framework=filters.framework)
        if reviewer and filters.framework is not None
        else None
    )
    return render(
        request,
        "scoring/assessment_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "reviewer": reviewer,
            "provisional": provisional,
            "startable": selectors.assessments_startable(user=user),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def assessment_start(
    request: HttpRequest, framework_pk: int, code: str
) -> HttpResponse:
    """A unit's staff or head opens its assessment against an open framework."""
    user = _user(request)
    unit = access_unit(user, code)
    framework = get_object_or_404(Framework, pk=framework_pk)
    try:
        assessment = services.assessment_start(
            user=user, framework=framework, unit=unit
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
        return redirect("assessment_list")
    return _back(assessment)


# --- The unit's self-assessment -------------------------------------------------------


@login_required
@require_GET
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    today = timezone.localdate()
    fills_in = access.may_fill_in(user, assessment)
    reason = lock_reason(assessment, today)
    editable = fills_in and not reason
    contest_open = (
        fills_in
        and assessment.state == AssessmentState.APPROVED
        and assessment.contest_until is not None
        and today <= assessment.contest_until
    )
    return render(
        request,
        "scoring/assessment_detail.html",
        {
            "assessment": assessment,
            "sheet": selectors.assessment_sheet(assessment=assessment, user=user),
            "fills_in": fills_in,
            "editable": editable,
            "lock_reason": reason,
            "may_submit": access.may_submit(user, assessment),
            "may_review": access.may_review(user, assessment),
            "contest_open": contest_open,
            "max_upload_bytes": evidence.max_upload_bytes(),
            "accepted_types": evidence.accepted_label(),
            "deadline": assessment.extended_until or assessment.framework.deadline,
        },
    )


def _leaf_save(
    request: HttpRequest,
    pk: int,
    score_pk: int,
    *,
    may: Callable[[User, Assessment], bool],
    form_class: type[forms.Form],
    save: Callable[[User, Score, dict[str, Any]], Score],
    shown: tuple[str, str],
    done: str,
    page: str = "",
) -> HttpResponse:
    """One leaf saved against the version the page read, by the page's
    script (JSON) or a plain form post: 403 first for a user who ``may``
    not, the service's refusal at the leaf (409 for a stale version), else
    the leaf's ``shown`` fields as saved and the new totals."""
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    score = selectors.score_get(assessment=assessment, pk=score_pk)
    if not may(user, assessment):
        return _forbidden_json(request)
    form = form_class(request.POST)
    if not form.is_valid():
        return _refused(
            request,
            assessment,
            score,
            ValidationError(_("Reload the page and enter the score again.")),
            status=400,
            page=page,
        )
    try:
        saved = save(user, score, form.cleaned_data)
    except services.StaleVersion as exc:
        return _refused(request, assessment, score, exc, status=409, page=page)
    except ValidationError as exc:
        return _refused(request, assessment, score, exc, status=400, page=page)
    except PermissionDenied:
        return _forbidden_json(request)
    if _wants_json(request):
        points, text = shown
        return JsonResponse(
            {
                "ok": True,
                "version": saved.version,
                points: _points(getattr(saved, points)),
                text: getattr(saved, text),
                "saved_at": _local_time(saved.updated_at),
                **_totals_json(assessment, user),
            }
        )
    messages.success(request, done % {"leaf": score.node.code})
    return _back(assessment, page=page, anchor=_anchor(score))


@never_cache
@login_required
@require_POST
def score_save(request: HttpRequest, pk: int, score_pk: int) -> HttpResponse:
    """One leaf's self score and explanation (the autosave's endpoint)."""

    def save(user: User, score: Score, data: dict[str, Any]) -> Score:
        return services.score_self_save(
            user=user,
            score_id=score.pk,
            self_score=data["self_score"],
            explanation=data["explanation"],
            version=data["version"],
            today=timezone.localdate(),
        )

    return _leaf_save(
        request,
        pk,
        score_pk,
        may=access.may_fill_in,
        form_class=SelfScoreForm,
        save=save,
        shown=("self_score", "explanation"),
        done=_("%(leaf)s saved."),
    )


@login_required
@require_POST
def score_evidence(request: HttpRequest, pk: int, score_pk: int) -> HttpResponse:
    """Which of the assessment's documents support this leaf."""
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    score = selectors.score_get(assessment=assessment, pk=score_pk)
    form = EvidenceSetForm(
        request.POST,
        document_ids=list(assessment.documents.values_list("pk", flat=True)),
    )
    if not form.is_valid():
        messages.error(
            request,
            _("%(leaf)s: a document is not part of this assessment.")
            % {"leaf": score.node.code},
        )
        return _back(assessment, anchor=_anchor(score))
    # The page says which documents it showed attached (None: a bare list).
    shown = form.cleaned_data["shown"] if form.cleaned_data["listed"] else None
    try:
        services.score_evidence_set(
            user=user,
            score_id=score.pk,
            evidence_ids=form.cleaned_data["documents"],
            today=timezone.localdate(),
            shown_ids=shown,
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(
            request,
            _("%(leaf)s: documents saved.") % {"leaf": score.node.code},
        )
    return _back(assessment, anchor=_anchor(score))


@login_required
@require_POST
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a document; attached at once to the leaf it was uploaded from."""
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    form = EvidenceUploadForm(request.POST, request.FILES)
    score = None
    if form.is_valid() and form.cleaned_data["score"]:
        score = selectors.score_get(
            assessment=assessment, pk=form.cleaned_data["score"]
        )
    anchor = _anchor(score) if score else "documents"
    if not form.is_valid():
        messages.error(request, _("Choose a file to upload."))
        return _back(assessment, anchor=anchor)
    try:
        document = evidence.evidence_add(
            user=user,
            assessment=assessment,
            upload=form.cleaned_data["file"],
            today=timezone.localdate(),
            attach_to=score,
        )
    except ValidationError as exc:
        prefix = f"{score.node.code}: " if score else ""
        messages.error(request, prefix + _text(exc))
    else:
        if score is not None:
            messages.success(
                request,
                _("“%(name)s” uploaded and attached to %(leaf)s.")
                % {"name": document.original_name, "leaf": score.node.code},
            )
        else:
            messages.success(
                request, _("“%(name)s” uploaded.") % {"name": document.original_name}
            )
    return _back(assessment, anchor=anchor)


@login_required
@require_POST
def evidence_delete(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    document = selectors.document_get(assessment=assessment, pk=document_pk)
    try:
        evidence.evidence_remove(
            user=user,
            assessment=assessment,
            document=document,
            today=timezone.localdate(),
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(
            request, _("“%(name)s” deleted.") % {"name": document.original_name}
        )
    return _back(assessment, anchor="documents")


@login_required
@require_GET
def evidence_download(request: HttpRequest, token: UUID) -> FileResponse:
    """The file, as an attachment under its original name, for those who may
    see its assessment; 404 for anyone else."""
    document = selectors.document_for_download(user=_user(request), token=token)
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


@login_required
@require_POST
def assessment_submit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    try:
        services.assessment_submit(
            user=user,
            assessment=assessment,
            now=timezone.now(),
            today=timezone.localdate(),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _back(assessment, anchor="completeness")
    messages.success(request, _("The self-assessment was submitted to Home Affairs."))
    return _back(assessment)


@login_required
@require_POST
def comment_answer(request: HttpRequest, pk: int, comment_pk: int) -> HttpResponse:
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    comment = selectors.comment_get(assessment=assessment, pk=comment_pk)
    form = AnswerForm(request.POST)
    leaf = comment.score.node.code
    try:
        if not form.is_valid():
            raise ValidationError(_("Write an answer."))
        services.comment_answer(
            user=user,
            comment_id=comment.pk,
            answer=form.cleaned_data["answer"],
            now=timezone.now(),
            today=timezone.localdate(),
        )
    except ValidationError as exc:
        messages.error(request, f"{leaf}: {_text(exc)}")
    else:
        messages.success(request, _("%(leaf)s: answer saved.") % {"leaf": leaf})
    return _back(assessment, anchor=_anchor(comment.score))


@login_required
@require_POST
def contest_raise(request: HttpRequest, pk: int, score_pk: int) -> HttpResponse:
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    score = selectors.score_get(assessment=assessment, pk=score_pk)
    form = ContestForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(
                _("%(leaf)s: give the score you ask for and the reason.")
                % {"leaf": score.node.code}
            )
        services.contest_raise(
            user=user,
            score_id=score.pk,
            requested_score=form.cleaned_data["requested_score"],
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
            today=timezone.localdate(),
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(
            request,
            _("%(leaf)s: your request for review was sent to Home Affairs.")
            % {"leaf": score.node.code},
        )
    return _back(assessment, anchor=_anchor(score))


# --- Appraisal ------------------------------------------------------------------------


def _reviewed(request: HttpRequest, pk: int) -> tuple[User, Assessment]:
    """The assessment for a reviewer's page: 404 out of sight, 403 when the
    user sees it but does not appraise it (a leader, the unit itself)."""
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    if not access.may_review(user, assessment):
        raise PermissionDenied
    return user, assessment


@login_required
@require_GET
def assessment_appraise(request: HttpRequest, pk: int) -> HttpResponse:
    user, assessment = _reviewed(request, pk)
    return render(
        request,
        "scoring/assessment_appraise.html",
        {
            "assessment": assessment,
            "sheet": selectors.assessment_sheet(assessment=assessment, user=user),
            "appraising": assessment.state == AssessmentState.SUBMITTED,
            "extension_form": ExtensionForm(),
            "deadline": assessment.extended_until or assessment.framework.deadline,
            "locked": services.is_locked(assessment, timezone.localdate()),
        },
    )


@never_cache
@login_required
@require_POST
def score_appraise(request: HttpRequest, pk: int, score_pk: int) -> HttpResponse:
    """One leaf's appraised score and reason (a reason whenever it differs
    from the self score: the service says so, naming the leaf)."""

    def save(user: User, score: Score, data: dict[str, Any]) -> Score:
        return services.score_appraise(
            user=user,
            score_id=score.pk,
            appraised_score=data["appraised_score"],
            reason=data["appraisal_reason"],
            version=data["version"],
        )

    return _leaf_save(
        request,
        pk,
        score_pk,
        may=access.may_review,
        form_class=AppraiseForm,
        save=save,
        shown=("appraised_score", "appraisal_reason"),
        done=_("%(leaf)s appraised."),
        page="appraise",
    )


@login_required
@require_POST
def scores_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """The self score becomes the appraised score on the checked leaves."""
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    ids = score_ids_from(request.POST)
    if not ids:
        messages.error(request, _("Check the leaves whose self score you accept."))
        return _back(assessment, page="appraise")
    try:
        done = services.scores_accept_self(
            user=user, assessment=assessment, score_ids=ids
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(
            request,
            _("Self score accepted on %(count)s leaves.") % {"count": done.changed},
        )
        if done.kept:
            messages.warning(
                request,
                _("Left as you appraised them (another score or a reason): %(leaves)s.")
                % {"leaves": "; ".join(f"{code} {title}" for code, title in done.kept)},
            )
    return _back(assessment, page="appraise")


@login_required
@require_POST
def assessment_return(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    try:
        services.assessment_return(
            user=user,
            assessment=assessment,
            comments=comments_from(request.POST),
            now=timezone.now(),
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
        return _back(assessment, page="appraise")
    messages.success(
        request,
        _("The assessment was returned to %(unit)s.") % {"unit": assessment.unit},
    )
    return _back(assessment, page="appraise")


@login_required
@require_POST
def assessment_approve(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    try:
        services.assessment_approve(
            user=user, assessment=assessment, now=timezone.now()
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(request, _("The assessment was approved."))
    return _back(assessment, page="appraise")


@login_required
@require_POST
def extension_grant(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    form = ExtensionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Give the date as dd/mm/yyyy."))
        granted = services.extension_grant(
            user=user,
            assessment=assessment,
            until=form.cleaned_data["until"],
            today=timezone.localdate(),
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        assert granted.extended_until is not None
        messages.success(
            request,
            _("%(unit)s may change its self-assessment until %(day)s.")
            % {
                "unit": assessment.unit,
                "day": granted.extended_until.strftime("%d/%m/%Y"),
            },
        )
    return _back(assessment, page="appraise")


@login_required
@require_POST
def contest_decide(request: HttpRequest, pk: int, contest_pk: int) -> HttpResponse:
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    contest = selectors.contest_get(assessment=assessment, pk=contest_pk)
    form = DecisionForm(request.POST)
    leaf = contest.score.node.code
    try:
        if not form.is_valid():
            raise ValidationError(_("Accept or reject the request."))
        decided = services.contest_decide(
            user=user,
            contest_id=contest.pk,
            accept=form.cleaned_data["decision"] == "accept",
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
        )
    except ValidationError as exc:
        messages.error(request, f"{leaf}: {_text(exc)}")
    else:
        if decided.state == ContestState.ACCEPTED:
            text = _(
                "%(leaf)s: request accepted; the appraised score is now %(score)s."
            ) % {"leaf": leaf, "score": decided.requested_score}
        else:
            text = _("%(leaf)s: request rejected.") % {"leaf": leaf}
        messages.success(request, text)
    return _back(assessment, page="appraise", anchor=_anchor(contest.score))


@login_required
@require_POST
def provisional_open(request: HttpRequest, framework_pk: int) -> HttpResponse:
    """Show the appraised scores of the approved assessments the reviewer
    appraises in a framework, and open the window to contest them."""
    user = _user(request)
    # Refused before the framework is looked up, as the service would: a
    # non-reviewer learns nothing of which frameworks exist.
    if not access.is_reviewer(user):
        raise PermissionDenied
    framework = get_object_or_404(Framework, pk=framework_pk)
    count = services.provisional_results_open(
        user=user, framework=framework, today=timezone.localdate()
    )
    query = QueryDict(mutable=True)
    query["framework"] = str(framework.pk)
    if count:
        messages.success(
            request,
            _(
                "Provisional results shown to %(count)s units; they may ask for a "
                "review for %(days)s days."
            )
            % {"count": count, "days": framework.contest_days},
        )
    else:
        messages.error(request, _("No approved assessment to show yet."))
    return redirect(f"{reverse('assessment_list')}?{query.urlencode()}")


# --- History --------------------------------------------------------------------------


@login_required
@require_GET
def assessment_history(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    assessment = selectors.assessment_get(user=user, pk=pk)
    return render(
        request,
        "scoring/assessment_history.html",
        {
            "assessment": assessment,
            "entries": selectors.assessment_history(assessment=assessment),
            "may_review": access.may_review(user, assessment),
        },
    )
