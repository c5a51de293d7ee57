"""Writes of the self-assessment and appraisal cycle, each one transaction.

The states (DOMAIN.md section 5):

    draft ──submit (head)──► submitted ──approve (reviewer)──► approved
      ▲                        │   ▲                              │
      └──────── returned ◄─return (reviewer)   resubmit (head)    └─ contests
                                                                     (within the window)

Every write names the user; the history rows (django-simple-history) record
who, when, and the values before and after. A leaf is saved against the
version it was read at: a second person saving the same leaf from an older
copy is refused instead of silently overwriting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from cchc_portal import numbers
from scoring import access
from scoring.frameworks.survey import figure_in_use
from scoring.models import (
    Assessment,
    AssessmentState,
    Comment,
    Contest,
    ContestState,
    Evidence,
    Framework,
    FrameworkState,
    Method,
    Node,
    Score,
)
from scoring.notices import handovers

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from commitments.organisation.models import Unit

EDITABLE_STATES = frozenset({AssessmentState.DRAFT, AssessmentState.RETURNED})


class StaleVersion(ValidationError):
    """The leaf changed since the user read it."""


def _points(value: object, node: Node, *, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", "."))
    except InvalidOperation as exc:
        raise ValidationError(
            {
                field: _("%(leaf)s: “%(value)s” is not a number.")
                % {"leaf": node.code, "value": value}
            }
        ) from exc
    if not number.is_finite() or number < 0 or number > node.max_points:
        raise ValidationError(
            {
                field: _("%(leaf)s: the score must be from 0 to %(max)s.")
                % {"leaf": node.code, "max": numbers.number(node.max_points)}
            }
        )
    if number != number.quantize(Decimal("0.01")):
        raise ValidationError(
            {field: _("%(leaf)s: at most two decimals.") % {"leaf": node.code}}
        )
    return number


def leaves(framework: Framework):
    return Node.objects.filter(framework=framework, children__isnull=True)


def is_locked(assessment: Assessment, today: date) -> bool:
    """After the deadline a unit can no longer change its assessment, unless a
    reviewer extended it."""
    deadline = assessment.extended_until or assessment.framework.deadline
    return deadline is not None and today > deadline


@transaction.atomic
def assessment_open(*, framework: Framework, unit: Unit) -> Assessment:
    """The unit's assessment against the framework, with a score row for every
    leaf (created once; safe to call again)."""
    if framework.unit_kind != unit.kind:
        raise ValidationError(
            _("The framework is for another kind of unit than %(unit)s.")
            % {"unit": unit}
        )
    assessment, _created = Assessment.objects.get_or_create(
        framework=framework, unit=unit
    )
    have = set(assessment.scores.values_list("node_id", flat=True))
    Score.objects.bulk_create(
        Score(assessment=assessment, node=node, max_points=node.max_points)
        for node in leaves(framework)
        if node.pk not in have
    )
    return assessment


@transaction.atomic
def assessment_start(*, user: User, framework: Framework, unit: Unit) -> Assessment:
    """A unit's staff or head opens its assessment against an open framework
    (the framework's state as stored)."""
    if not access.may_start(user, unit):
        raise PermissionDenied
    stored = Framework.objects.filter(pk=framework.pk, state=FrameworkState.OPEN)
    if not stored.exists():
        raise ValidationError(_("This framework is not open for self-assessment."))
    return assessment_open(framework=framework, unit=unit)


@transaction.atomic
def assessments_open(*, framework: Framework, units: Sequence[Unit]) -> int:
    """assessment_open for many units at once (a framework opened for a whole
    province): a fixed number of queries whatever the number of units, and
    the same history rows. Returns how many assessments were created."""
    for unit in units:
        if framework.unit_kind != unit.kind:
            raise ValidationError(
                _("The framework is for another kind of unit than %(unit)s.")
                % {"unit": unit}
            )
    have = set(
        Assessment.objects.filter(framework=framework).values_list("unit_id", flat=True)
    )
    new = [
        Assessment(framework=framework, unit=unit)
        for unit in units
        if unit.pk not in have
    ]
    if new:
        bulk_create_with_history(new, Assessment)
    opened = dict(
        Assessment.objects.filter(
            framework=framework, unit__in=[unit.pk for unit in units]
        ).values_list("unit_id", "pk")
    )
    scored = set(
        Score.objects.filter(assessment_id__in=opened.values()).values_list(
            "assessment_id", "node_id"
        )
    )
    nodes = list(leaves(framework))
    Score.objects.bulk_create(
        (
            Score(assessment_id=assessment_id, node=node, max_points=node.max_points)
            for assessment_id in opened.values()
            for node in nodes
            if (assessment_id, node.pk) not in scored
        ),
        batch_size=2000,
    )
    return len(new)


def _locked_score(score_id: int) -> Score:
    return (
        Score.objects.select_for_update()
        .select_related("node", "assessment__framework", "assessment__unit")
        .get(pk=score_id)
    )


def _check_version(score: Score, version: int | None) -> None:
    """Called after the permission check: someone who may not change the leaf
    learns nothing about who did."""
    if version is None or score.version == version:
        return
    raise StaleVersion(
        _(
            "%(leaf)s was changed by %(user)s while you were editing it. "
            "Reload the page to see their version, then enter yours again."
        )
        % {
            "leaf": score.node.code,
            "user": (score.updated_by.get_full_name() or score.updated_by.username)
            if score.updated_by
            else _("someone else"),
        }
    )


def _not_of_assessment(score: Score) -> ValidationError:
    return ValidationError(
        _("%(leaf)s: a document is not part of this assessment.")
        % {"leaf": score.node.code}
    )


def _save(score: Score, user: User, fields: list[str]) -> None:
    score.version += 1
    score.updated_by = user
    score._history_user = user  # type: ignore[attr-defined]
    score.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


def check_fill_in(user: User, assessment: Assessment, today: date) -> None:
    if not access.may_fill_in(user, assessment):
        raise PermissionDenied
    if assessment.state not in EDITABLE_STATES:
        raise ValidationError(
            _("The assessment is %(state)s: it cannot be changed now.")
            % {"state": assessment.get_state_display().lower()}
        )
    if is_locked(assessment, today):
        raise ValidationError(
            _("The deadline has passed; ask Home Affairs for an extension.")
        )


@transaction.atomic
def score_self_save(
    *,
    user: User,
    score_id: int,
    self_score: object,
    explanation: str,
    version: int | None,
    today: date,
) -> Score:
    """A unit's self score and explanation for one manual leaf (a draft:
    nothing is checked for completeness until submit)."""
    score = _locked_score(score_id)
    check_fill_in(user, score.assessment, today)
    _check_version(score, version)
    if score.node.method != Method.MANUAL:
        raise ValidationError(
            _("%(leaf)s is not self-scored.") % {"leaf": score.node.code}
        )
    score.self_score = _points(self_score, score.node, field="self_score")
    score.explanation = explanation.strip()
    _save(score, user, ["self_score", "explanation"])
    return score


@transaction.atomic
def score_evidence_set(
    *,
    user: User,
    score_id: int,
    evidence_ids: list[int],
    today: date,
    shown_ids: list[int] | None = None,
) -> Score:
    """Which of the assessment's documents support this leaf, as the user
    ticked them. With ``shown_ids``, the documents their page showed
    attached: one attached since (read here, under the leaf's lock) was
    never offered to untick, and stays attached."""
    score = _locked_score(score_id)
    check_fill_in(user, score.assessment, today)
    if shown_ids is not None:
        attached_since = score.evidence.exclude(pk__in=shown_ids).values_list(
            "pk", flat=True
        )
        evidence_ids = [*evidence_ids, *attached_since]
    documents = list(
        Evidence.objects.filter(assessment=score.assessment, pk__in=evidence_ids)
    )
    if len(documents) != len(set(evidence_ids)):
        raise _not_of_assessment(score)
    score._history_user = user  # type: ignore[attr-defined]
    score.evidence.set(documents)
    _save(score, user, [])
    return score


@transaction.atomic
def score_evidence_attach(
    *, user: User, score_id: int, document: Evidence, today: date
) -> Score:
    """Attach one more document to the leaf. The links are read and written
    under the leaf's row lock: twenty uploads to one leaf at once wait for
    each other and all twenty stay attached."""
    score = _locked_score(score_id)
    check_fill_in(user, score.assessment, today)
    if document.assessment_id != score.assessment_id:
        raise _not_of_assessment(score)
    score._history_user = user  # type: ignore[attr-defined]
    score.evidence.add(document)
    _save(score, user, [])
    return score


@transaction.atomic
def score_evidence_detach(
    *, user: User, score_id: int, document: Evidence, today: date
) -> Score:
    """Take one document off the leaf, under its row lock (the others stay,
    whoever attached them meanwhile)."""
    score = _locked_score(score_id)
    check_fill_in(user, score.assessment, today)
    score._history_user = user  # type: ignore[attr-defined]
    score.evidence.remove(document)
    _save(score, user, [])
    return score


def completeness(assessment: Assessment) -> dict[str, list[str]]:
    """Leaf codes still without a self score, and those whose evidence is
    required but missing."""
    rows = (
        Score.objects.filter(assessment=assessment, node__method=Method.MANUAL)
        .values_list("node__code", "self_score", "node__evidence_required")
        .order_by("node__position")
    )
    with_evidence = set(
        Score.objects.filter(assessment=assessment, evidence__isnull=False).values_list(
            "node__code", flat=True
        )
    )
    empty = [code for code, value, _required in rows if value is None]
    missing = [
        code
        for code, _value, required in rows
        if required and code not in with_evidence
    ]
    return {"empty": empty, "missing_evidence": missing}


def _transition(
    assessment: Assessment, user: User, allowed: frozenset[str], target: str
) -> Assessment:
    """Compare-and-set on the state: two clicks, or two people, move it once."""
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.state not in allowed:
        raise ValidationError(
            _("The assessment is %(state)s: this step is not possible now.")
            % {"state": locked.get_state_display().lower()}
        )
    locked.state = target
    locked._history_user = user  # type: ignore[attr-defined]
    return locked


@transaction.atomic
def assessment_submit(
    *, user: User, assessment: Assessment, now: datetime, today: date
) -> Assessment:
    if not access.may_submit(user, assessment):
        raise PermissionDenied
    if is_locked(assessment, today):
        raise ValidationError(
            _("The deadline has passed; ask Home Affairs for an extension.")
        )
    gaps = completeness(assessment)
    problems = []
    if gaps["empty"]:
        problems.append(
            _("No self score yet: %(leaves)s.") % {"leaves": ", ".join(gaps["empty"])}
        )
    if gaps["missing_evidence"]:
        problems.append(
            _("Evidence required but missing: %(leaves)s.")
            % {"leaves": ", ".join(gaps["missing_evidence"])}
        )
    if problems:
        raise ValidationError(problems)
    if assessment.state == AssessmentState.RETURNED:
        unanswered = Comment.objects.filter(
            score__assessment=assessment, round=assessment.round, answer=""
        ).values_list("score__node__code", flat=True)
        if unanswered:
            raise ValidationError(
                _("Answer the reviewer's comments first: %(leaves)s.")
                % {"leaves": ", ".join(sorted(set(unanswered)))}
            )
    locked = _transition(assessment, user, EDITABLE_STATES, AssessmentState.SUBMITTED)
    locked.round += 1
    locked.submitted_at = now
    locked.submitted_by = user
    locked.save()
    handovers.submitted(locked, actor=user, now=now)
    return locked


def _check_review(user: User, assessment: Assessment) -> None:
    if not access.may_review(user, assessment):
        raise PermissionDenied


@transaction.atomic
def assessment_return(
    *, user: User, assessment: Assessment, comments: dict[int, str], now: datetime
) -> Assessment:
    """Back to the unit, with a comment on each leaf to revise."""
    _check_review(user, assessment)
    comments = {pk: text.strip() for pk, text in comments.items() if text.strip()}
    if not comments:
        raise ValidationError(
            _("Write a comment on at least one leaf to say what to revise.")
        )
    scores = Score.objects.filter(assessment=assessment, pk__in=comments)
    if scores.count() != len(comments):
        raise ValidationError(_("A comment names a leaf of another assessment."))
    locked = _transition(
        assessment,
        user,
        frozenset({AssessmentState.SUBMITTED}),
        AssessmentState.RETURNED,
    )
    locked.save()
    for score in scores:
        comment = Comment(
            score=score, round=locked.round, text=comments[score.pk], author=user
        )
        comment._history_user = user  # type: ignore[attr-defined]
        comment.save()
    handovers.returned(locked, comments=len(comments), actor=user, now=now)
    return locked


@transaction.atomic
def comment_answer(
    *, user: User, comment_id: int, answer: str, now: datetime, today: date
) -> Comment:
    comment = (
        Comment.objects.select_for_update()
        .select_related("score__assessment__unit", "score__assessment__framework")
        .get(pk=comment_id)
    )
    assessment = comment.score.assessment
    check_fill_in(user, assessment, today)
    if (
        assessment.state != AssessmentState.RETURNED
        or comment.round != assessment.round
    ):
        raise ValidationError(
            _("Only the comments of the current return can be answered.")
        )
    if not answer.strip():
        raise ValidationError({"answer": _("Write an answer.")})
    comment.answer = answer.strip()
    comment.answered_by = user
    comment.answered_at = now
    comment._history_user = user  # type: ignore[attr-defined]
    comment.save()
    unanswered = Comment.objects.filter(
        score__assessment=assessment, round=assessment.round, answer=""
    )
    if not unanswered.exists():
        # The last answer of the round: the reviewers know a resubmission
        # is coming (once per round, not once per leaf).
        handovers.answered(assessment, actor=user, now=now)
    return comment


@transaction.atomic
def score_appraise(
    *,
    user: User,
    score_id: int,
    appraised_score: object,
    reason: str,
    version: int | None,
) -> Score:
    """The reviewer's score for one leaf; a reason whenever it differs from
    the self score. Survey leaves are entered here too, unless the unit has
    an imported survey figure of the year, which gives them their points."""
    score = _locked_score(score_id)
    _check_review(user, score.assessment)
    _check_version(score, version)
    if score.assessment.state != AssessmentState.SUBMITTED:
        raise ValidationError(_("Only a submitted assessment is appraised."))
    if score.node.method == Method.METRIC:
        raise ValidationError(
            _("%(leaf)s is computed from the dossier figures.")
            % {"leaf": score.node.code}
        )
    _check_not_surveyed(score)
    value = _points(appraised_score, score.node, field="appraised_score")
    reason = reason.strip()
    differs = score.self_score is not None and value != score.self_score
    if value is not None and differs and not reason:
        raise ValidationError(
            {
                "appraisal_reason": _(
                    "%(leaf)s: give the reason why the appraised score differs "
                    "from the self score."
                )
                % {"leaf": score.node.code}
            }
        )
    score.appraised_score = value
    score.appraisal_reason = reason
    _save(score, user, ["appraised_score", "appraisal_reason"])
    return score


def surveyed(assessment: Assessment) -> bool:
    """Whether the unit has an imported survey figure for the framework's
    year: its survey leaves then take their points from it, and nobody
    enters or appraises them by hand (issue 17, item 12)."""
    return (
        figure_in_use(year=assessment.framework.year, unit_id=assessment.unit_id)
        is not None
    )


def _check_not_surveyed(score: Score) -> None:
    if score.node.method == Method.SURVEY and surveyed(score.assessment):
        raise ValidationError(
            _(
                "%(leaf)s takes its points from the imported survey figure: it "
                "is not appraised by hand."
            )
            % {"leaf": score.node.code}
        )


@dataclass(frozen=True)
class Acceptance:
    """What accepting the self scores did: how many leaves took their self
    score, and the leaves left as the reviewer had appraised them (code,
    title), in the order of the tree."""

    changed: int
    kept: list[tuple[str, str]]


@transaction.atomic
def scores_accept_self(
    *, user: User, assessment: Assessment, score_ids: list[int]
) -> Acceptance:
    """The appraised score becomes the self score on the leaves the reviewer
    agrees with and has not appraised yet. A leaf the reviewer already
    appraised at another score, or explained with a reason, keeps that
    appraisal: a bulk action never undoes a judgement made leaf by leaf
    (ticking every leaf to accept the rest is the usual way to use it)."""
    assessment = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=assessment.pk)
    )
    _check_review(user, assessment)
    if assessment.state != AssessmentState.SUBMITTED:
        raise ValidationError(_("Only a submitted assessment is appraised."))
    changed = 0
    kept: list[tuple[str, str]] = []
    for score in (
        Score.objects.select_for_update(of=("self",))
        .select_related("node")
        .filter(assessment=assessment, pk__in=score_ids, node__method=Method.MANUAL)
        .exclude(self_score__isnull=True)
        .order_by("node__position")
    ):
        if score.appraisal_reason or score.appraised_score not in (
            None,
            score.self_score,
        ):
            kept.append((score.node.code, score.node.title))
            continue
        if score.appraised_score == score.self_score:
            continue  # accepted already
        score.appraised_score = score.self_score
        _save(score, user, ["appraised_score"])
        changed += 1
    return Acceptance(changed=changed, kept=kept)


@transaction.atomic
def assessment_approve(
    *, user: User, assessment: Assessment, now: datetime
) -> Assessment:
    _check_review(user, assessment)
    # Survey leaves fed by an imported figure are not the reviewer's to
    # appraise; without one they are, like the manual leaves.
    by_hand = (
        [Method.MANUAL] if surveyed(assessment) else [Method.MANUAL, Method.SURVEY]
    )
    pending = list(
        Score.objects.filter(
            assessment=assessment,
            node__method__in=by_hand,
            appraised_score__isnull=True,
        )
        .order_by("node__position")
        .values_list("node__code", flat=True)
    )
    if pending:
        raise ValidationError(
            _("Not yet appraised: %(leaves)s.") % {"leaves": ", ".join(pending)}
        )
    locked = _transition(
        assessment,
        user,
        frozenset({AssessmentState.SUBMITTED}),
        AssessmentState.APPROVED,
    )
    locked.approved_at = now
    locked.approved_by = user
    locked.save()
    # The total as the unit's page shows it (caps and metric points
    # included). The selectors import this module: imported here.
    from scoring.assessments.selectors import assessment_sheet

    sheet = assessment_sheet(assessment=locked, user=user)
    handovers.approved(
        locked,
        total=sheet.appraised_total,
        maximum=sheet.max_total,
        actor=user,
        now=now,
    )
    return locked


@transaction.atomic
def extension_grant(
    *, user: User, assessment: Assessment, until: date, today: date
) -> Assessment:
    _check_review(user, assessment)
    if until < today:
        raise ValidationError({"until": _("The extension must end today or later.")})
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.state not in EDITABLE_STATES:
        raise ValidationError(
            _("The assessment is %(state)s: an extension would change nothing.")
            % {"state": locked.get_state_display().lower()}
        )
    locked.extended_until = until
    locked._history_user = user  # type: ignore[attr-defined]
    locked.save()
    return locked


@transaction.atomic
def provisional_results_open(*, user: User, framework: Framework, today: date) -> int:
    """Show the appraised scores of the approved assessments the user reviews
    and open the window in which units may contest them."""
    from datetime import timedelta

    if not access.is_reviewer(user):
        raise PermissionDenied

    until = today + timedelta(days=framework.contest_days)
    count = 0
    for assessment in access.reviewable(
        user,
        # Already shown: its window stays as it was announced.
        Assessment.objects.select_for_update(of=("self",))
        .select_related("unit", "framework")
        .filter(
            framework=framework,
            state=AssessmentState.APPROVED,
            contest_until__isnull=True,
        ),
    ):
        assessment.contest_until = until
        assessment._history_user = user  # type: ignore[attr-defined]
        assessment.save(update_fields=["contest_until", "updated_at"])
        handovers.window_opened(assessment, actor=user, now=timezone.now())
        count += 1
    return count


@transaction.atomic
def contest_raise(
    *,
    user: User,
    score_id: int,
    requested_score: object,
    reason: str,
    now: datetime,
    today: date,
) -> Contest:
    score = _locked_score(score_id)
    assessment = score.assessment
    if not access.may_fill_in(user, assessment):
        raise PermissionDenied
    if assessment.state != AssessmentState.APPROVED or assessment.contest_until is None:
        raise ValidationError(_("Appraised scores can be contested only once shown."))
    if today > assessment.contest_until:
        raise ValidationError(
            _("The window to contest closed on %(day)s.")
            % {"day": assessment.contest_until.strftime("%d/%m/%Y")}
        )
    if score.node.method == Method.METRIC:
        raise ValidationError(
            _("%(leaf)s is computed from the dossier figures.")
            % {"leaf": score.node.code}
        )
    _check_not_surveyed(score)
    value = _points(requested_score, score.node, field="requested_score")
    if value is None:
        raise ValidationError({"requested_score": _("Give the score you ask for.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for contesting.")})
    if score.contests.filter(state=ContestState.OPEN).exists():
        raise ValidationError(
            _("%(leaf)s is already contested.") % {"leaf": score.node.code}
        )
    contest = Contest(
        score=score,
        requested_score=value,
        reason=reason.strip(),
        raised_by=user,
        raised_at=now,
    )
    contest._history_user = user  # type: ignore[attr-defined]
    contest.save()
    handovers.contest_raised(contest, actor=user, now=now)
    return contest


@transaction.atomic
def contest_decide(
    *, user: User, contest_id: int, accept: bool, reason: str, now: datetime
) -> Contest:
    contest = (
        Contest.objects.select_for_update()
        .select_related("score__assessment__unit", "score__node")
        .get(pk=contest_id)
    )
    _check_review(user, contest.score.assessment)
    if contest.state != ContestState.OPEN:
        raise ValidationError(_("This contest is already decided."))
    if not reason.strip():
        raise ValidationError(
            {"decision_reason": _("Give the reason for the decision.")}
        )
    contest.state = ContestState.ACCEPTED if accept else ContestState.REJECTED
    contest.decision_reason = reason.strip()
    contest.decided_by = user
    contest.decided_at = now
    contest._history_user = user  # type: ignore[attr-defined]
    contest.save()
    if accept:
        score = _locked_score(contest.score_id)
        score.appraised_score = contest.requested_score
        score.appraisal_reason = _("Contest accepted: %(reason)s") % {
            "reason": contest.decision_reason
        }
        _save(score, user, ["appraised_score", "appraisal_reason"])
    handovers.contest_decided(contest, actor=user, now=now)
    return contest


def framework_check_editable(framework: Framework) -> None:
    if framework.state == FrameworkState.PUBLISHED:
        raise ValidationError(
            _("The %(year)s results are published: their framework cannot change.")
            % {"year": framework.year}
        )
