"""Scoring's items of the to-do home (settings.TODO_PROVIDERS): the unit's
self-assessment, the reviewers' appraisals, contests and deductions, the
leaders' cases, ratings and flagged heads. A fixed number of queries per role
(one more per unit a person fills in for, usually one)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commitments.organisation.access import UNIT_EDIT_ROLES, memberships
from commitments.organisation.models import Role, Unit
from commitments.organisation.todo import TodoItem, TodoLine
from scoring import access
from scoring.assessments import services
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    Adjustment,
    AdjustmentState,
    Assessment,
    AssessmentState,
    Contest,
    ContestState,
    Framework,
    FrameworkState,
    HeadRating,
    Notice,
)

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

# Lines listed under an item before "and N more".
LINES = 5
# A deadline this close is shown first.
SOON = timedelta(days=7)


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def items(user: AnyUser, *, today: date) -> list[TodoItem]:
    found: list[TodoItem] = []
    paths = memberships(user)
    if any(role in UNIT_EDIT_ROLES for role, _path in paths):
        found += unit_items(user, today=today)
    if any(role == Role.UNIT_HEAD for role, _path in paths):
        found += cases_to_explain(user)
    if any(role == Role.REVIEWER for role, _path in paths):
        found += reviewer_items(user)
    if any(role == Role.LEADER for role, _path in paths):
        found += leader_items(user)
    found += unread_notices(user)
    return found


def unread_notices(user: AnyUser) -> list[TodoItem]:
    """The latest notices not read yet: what reached the user lately (the
    work itself is counted by the other items)."""
    if user.pk is None:
        return []
    latest = list(
        Notice.objects.filter(user_id=int(user.pk), read_at__isnull=True).order_by(
            "-created_at", "-pk"
        )[:LINES]
    )
    if not latest:
        return []
    return [
        TodoItem(
            key="notices",
            nav="notices",
            title=_("New notices"),
            url=reverse("notice_list"),
            count=0,
            lines=tuple(
                TodoLine(
                    label=notice.subject,
                    url=notice.url or reverse("notice_list"),
                    note=notice.created_at.astimezone(
                        timezone.get_current_timezone()
                    ).strftime("%d/%m/%Y %H:%M"),
                )
                for notice in latest
            ),
        )
    ]


# --- the unit's staff and head ------------------------------------------------------


def current_assessments(user: AnyUser) -> list[Assessment]:
    """For each unit the user fills in for, the assessment of its latest
    framework (the one being filled in, or the last one appraised), and an
    earlier one approved whose year is not published yet (its result, its
    window to ask for a review)."""
    unit_paths = [path for role, path in memberships(user) if role in UNIT_EDIT_ROLES]
    latest: dict[int, Assessment] = {}
    earlier: list[Assessment] = []
    for assessment in (
        Assessment.objects.filter(unit__path__in=unit_paths)
        .exclude(framework__state=FrameworkState.DRAFT)
        .select_related("framework", "unit")
        .annotate(
            unanswered=Count(
                "scores__comments",
                filter=Q(scores__comments__answer="")
                & Q(scores__comments__round=F("round")),
            )
        )
        .order_by("unit_id", "-framework__year")
    ):
        if assessment.unit_id not in latest:
            latest[assessment.unit_id] = assessment
        elif (
            assessment.state == AssessmentState.APPROVED
            and assessment.framework.state != FrameworkState.PUBLISHED
        ):
            earlier.append(assessment)
    return sorted(
        [*latest.values(), *earlier],
        key=lambda a: (a.unit.name, -a.framework.year),
    )


def unit_items(user: AnyUser, *, today: date) -> list[TodoItem]:
    found: list[TodoItem] = []
    assessments = current_assessments(user)
    for assessment in assessments:
        if (
            assessment.state == AssessmentState.APPROVED
            and assessment.framework.state == FrameworkState.PUBLISHED
        ):
            continue  # the year is over: its results are on the results pages
        found.append(assessment_item(user, assessment, today=today))
    started = {(a.unit_id, a.framework_id) for a in assessments}
    from scoring.assessments.selectors import assessments_startable

    for framework, unit in assessments_startable(user=user):
        if (unit.pk, framework.pk) in started or not _to_start(framework, unit, today):
            continue
        found.append(
            TodoItem(
                key="assessment_start",
                nav="assessments",
                title=_("Start the self-assessment %(year)d of %(unit)s")
                % {"year": framework.year, "unit": unit.name},
                url=reverse("assessment_list"),
                due=framework.deadline,
                urgent=_soon(framework.deadline, today),
            )
        )
    return found


def _to_start(framework: Framework, unit: Unit, today: date) -> bool:
    """Worth starting: before the deadline (after it, the cycle's closing
    takes what there is), and for a unit still there at the year's end (a
    unit merged away during the year is assessed through its successor)."""
    if framework.deadline is not None and framework.deadline < today:
        return False
    return unit.valid_to is None or unit.valid_to >= date(framework.year, 12, 31)


def _soon(deadline: date | None, today: date) -> bool:
    return deadline is not None and deadline - today <= SOON


def assessment_item(user: AnyUser, assessment: Assessment, *, today: date) -> TodoItem:
    """The assessment's state, what is missing, its deadline and its link."""
    framework: Framework = assessment.framework
    names = {"year": framework.year, "unit": assessment.unit.name}
    url = reverse("assessment_detail", kwargs={"pk": assessment.pk})
    deadline = assessment.extended_until or framework.deadline
    state = assessment.state
    if state in (AssessmentState.DRAFT, AssessmentState.RETURNED):
        if services.is_locked(assessment, today):
            return TodoItem(
                key="assessment",
                nav="assessments",
                title=_("Self-assessment %(year)d of %(unit)s: the deadline passed")
                % names,
                detail=_("Ask Home Affairs for an extension to go on."),
                url=url,
                due=deadline,
                urgent=True,
            )
        gaps = services.completeness(assessment)
        parts = []
        if gaps["empty"]:
            parts.append(
                ngettext(
                    "%(n)d leaf without a self score",
                    "%(n)d leaves without a self score",
                    len(gaps["empty"]),
                )
                % {"n": len(gaps["empty"])}
            )
        if gaps["missing_evidence"]:
            parts.append(
                ngettext(
                    "%(n)d leaf without its required evidence",
                    "%(n)d leaves without their required evidence",
                    len(gaps["missing_evidence"]),
                )
                % {"n": len(gaps["missing_evidence"])}
            )
        unanswered = getattr(assessment, "unanswered", 0)
        if state == AssessmentState.RETURNED:
            title = _("Self-assessment %(year)d of %(unit)s: returned") % names
            if unanswered:
                parts.insert(
                    0,
                    ngettext(
                        "%(n)d comment of Home Affairs to answer",
                        "%(n)d comments of Home Affairs to answer",
                        unanswered,
                    )
                    % {"n": unanswered},
                )
        else:
            title = _("Self-assessment %(year)d of %(unit)s: draft") % names
        if not parts:
            parts.append(
                _("Complete: the head submits it.")
                if not access.may_submit(user, assessment)
                else _("Complete: submit it to Home Affairs.")
            )
        return TodoItem(
            key="comments" if unanswered else "assessment",
            nav="assessments",
            title=title,
            detail="; ".join(str(part) for part in parts),
            url=url,
            due=deadline,
            urgent=_soon(deadline, today),
        )
    if state == AssessmentState.SUBMITTED:
        return TodoItem(
            key="assessment",
            nav="assessments",
            title=_("Self-assessment %(year)d of %(unit)s: submitted") % names,
            detail=_("Waiting for appraisal by Home Affairs since %(day)s.")
            % {"day": _day(assessment.submitted_at.date())}
            if assessment.submitted_at
            else "",
            url=url,
            count=0,
        )
    # Approved: its result, and the window to ask for a review while open.
    if assessment.contest_until is not None and today <= assessment.contest_until:
        return TodoItem(
            key="assessment",
            nav="assessments",
            title=_("Self-assessment %(year)d of %(unit)s: approved") % names,
            detail=_(
                "See the appraised scores; you may ask for a review until %(day)s."
            )
            % {"day": _day(assessment.contest_until)},
            url=url,
            count=0,
            due=assessment.contest_until,
        )
    return TodoItem(
        key="assessment",
        nav="assessments",
        title=_("Self-assessment %(year)d of %(unit)s: approved") % names,
        detail=_("See the appraised scores and the reviewer's reasons."),
        url=url,
        count=0,
    )


def cases_to_explain(user: AnyUser) -> list[TodoItem]:
    """Cases of the units the user heads (or naming them as the head)."""
    head_paths = [path for role, path in memberships(user) if role == Role.UNIT_HEAD]
    cases = list(
        AccountabilityCase.objects.filter(state=AccountabilityState.REQUESTED)
        .filter(Q(unit__path__in=head_paths) | Q(head__user_id=user.pk))
        .select_related("unit")
        .order_by("opened_at", "pk")
    )
    if not cases:
        return []
    return [
        TodoItem(
            key="cases_to_explain",
            nav="accountability",
            title=ngettext(
                "%(n)d explanation requested of you",
                "%(n)d explanations requested of you",
                len(cases),
            )
            % {"n": len(cases)},
            url=cases[0].get_absolute_url()
            if len(cases) == 1
            else reverse("accountability_list"),
            count=len(cases),
            lines=tuple(
                TodoLine(
                    label=f"{case.get_kind_display()} – {case.unit.name} – {case.year}",
                    url=case.get_absolute_url(),
                )
                for case in cases[:LINES]
            ),
            urgent=True,
        )
    ]


# --- reviewers ---------------------------------------------------------------------


def _more(count: int) -> str:
    return _("and %(n)d more") % {"n": count - LINES} if count > LINES else ""


def reviewer_items(user: AnyUser) -> list[TodoItem]:
    found: list[TodoItem] = []
    waiting = access.reviewable(
        user, Assessment.objects.filter(state=AssessmentState.SUBMITTED)
    )
    count = waiting.count()
    if count:
        oldest = list(
            waiting.select_related("unit", "framework").order_by("submitted_at", "pk")[
                :LINES
            ]
        )
        found.append(
            TodoItem(
                key="to_appraise",
                nav="assessments",
                title=ngettext(
                    "%(n)d assessment waiting for appraisal",
                    "%(n)d assessments waiting for appraisal",
                    count,
                )
                % {"n": count},
                detail=_more(count),
                url=reverse("assessment_list") + f"?state={AssessmentState.SUBMITTED}",
                count=count,
                lines=tuple(
                    TodoLine(
                        label=f"{a.unit.name} ({a.framework.year})",
                        url=reverse("assessment_appraise", kwargs={"pk": a.pk}),
                        note=_("submitted %(day)s")
                        % {"day": _day(a.submitted_at.date())}
                        if a.submitted_at
                        else "",
                    )
                    for a in oldest
                ),
            )
        )
    contests = Contest.objects.filter(
        state=ContestState.OPEN,
        score__assessment__in=access.reviewable(user, Assessment.objects.all()),
    )
    open_contests = list(
        contests.values("score__assessment_id", "score__assessment__unit__name")
        .annotate(n=Count("pk"))
        .order_by("score__assessment__unit__name")
    )
    if open_contests:
        total = sum(row["n"] for row in open_contests)
        found.append(
            TodoItem(
                key="contests",
                nav="assessments",
                title=ngettext(
                    "%(n)d request for a review to decide",
                    "%(n)d requests for a review to decide",
                    total,
                )
                % {"n": total},
                url=reverse(
                    "assessment_appraise",
                    kwargs={"pk": open_contests[0]["score__assessment_id"]},
                ),
                count=total,
                lines=tuple(
                    TodoLine(
                        label=row["score__assessment__unit__name"],
                        url=reverse(
                            "assessment_appraise",
                            kwargs={"pk": row["score__assessment_id"]},
                        ),
                        note=str(row["n"]),
                    )
                    for row in open_contests[:LINES]
                ),
            )
        )
    second = (
        Adjustment.objects.filter(state=AdjustmentState.PROPOSED)
        .filter(access.reviewer_q(user))
        # Four eyes: what the user entered waits for another reviewer.
        .exclude(entered_by_id=user.pk)
    )
    second_count = second.count()
    if second_count:
        found.append(
            TodoItem(
                key="adjustments",
                nav="adjustments",
                title=ngettext(
                    "%(n)d deduction or bonus waiting for your approval",
                    "%(n)d deductions or bonuses waiting for your approval",
                    second_count,
                )
                % {"n": second_count},
                url=reverse("adjustment_list") + f"?state={AdjustmentState.PROPOSED}",
                count=second_count,
            )
        )
    return found


# --- leaders ------------------------------------------------------------------------


def _leader_q(user: AnyUser, field: str, *, exact: bool) -> Q:
    q = Q(pk__in=[])
    for role, path in memberships(user):
        if role == Role.LEADER:
            lookup = f"{field}__path" if exact else f"{field}__path__startswith"
            q |= Q(**{lookup: path})
    return q


def leader_items(user: AnyUser) -> list[TodoItem]:
    found: list[TodoItem] = []
    # Decided by a leader whose jurisdiction holds the unit's parent.
    cases = (
        AccountabilityCase.objects.filter(state=AccountabilityState.EXPLAINED)
        .filter(_leader_q(user, "unit__parent", exact=False))
        .select_related("unit")
        .order_by("updated_at", "pk")
    )
    # Always counted: the same queries whether five wait or fifty.
    count = cases.count()
    case_list = list(cases[:LINES]) if count else []
    if case_list:
        found.append(
            TodoItem(
                key="cases_to_decide",
                nav="accountability",
                title=ngettext(
                    "%(n)d explanation waiting for your decision",
                    "%(n)d explanations waiting for your decision",
                    count,
                )
                % {"n": count},
                detail=_more(count),
                url=reverse("accountability_list"),
                count=count,
                urgent=True,
                lines=tuple(
                    TodoLine(
                        label=f"{case.unit.name} – {case.year}",
                        url=case.get_absolute_url(),
                        note=case.get_kind_display(),
                    )
                    for case in case_list[:LINES]
                ),
            )
        )
    # Rated by the leader attached to the unit's parent (the level directly
    # above, as scoring.accountability.services.may_rate).
    ratings = HeadRating.objects.filter(final__isnull=True).filter(
        _leader_q(user, "unit__parent", exact=True)
    )
    by_year = list(
        ratings.values("year")
        .annotate(n=Count("pk"), flagged=Count("pk", filter=Q(flagged=True)))
        .order_by("-year")
    )
    for row in by_year:
        url = reverse("rating_list") + f"?year={row['year']}"
        found.append(
            TodoItem(
                key="ratings",
                nav="accountability",
                title=ngettext(
                    "%(n)d head's rating %(year)d to confirm",
                    "%(n)d heads' ratings %(year)d to confirm",
                    row["n"],
                )
                % {"n": row["n"], "year": row["year"]},
                url=url,
                count=row["n"],
            )
        )
        if row["flagged"]:
            found.append(
                TodoItem(
                    key="flagged",
                    nav="accountability",
                    title=ngettext(
                        "%(n)d head not completed two years running (%(year)d)",
                        "%(n)d heads not completed two years running (%(year)d)",
                        row["flagged"],
                    )
                    % {"n": row["flagged"], "year": row["year"]},
                    detail=_(
                        "The law asks the leader who rates them to consider "
                        "their position."
                    ),
                    url=url,
                    count=0,
                    urgent=True,
                )
            )
    return found
