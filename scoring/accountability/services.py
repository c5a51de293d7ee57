"""After the year: each commitment judged, accountability opened, heads'
ratings proposed (DOMAIN.md section 8; seeds 000, 001, 003). The rules are
commitments.rules; this module reads the data they need (targets and their
values, the year's results for the tier, repeated lateness for the cap) and
writes what follows from them.

- ``evaluate_year`` runs inside ``compute_year`` once the year is over: every
  signed commitment's targets judged on their final value, the commitment
  met or missed, a case for each unit missing two years running, a rating
  proposal for each head who signed.
- ``criterion_cases`` runs when a year is published: a district's (city's)
  own index losing points on a criterion owned by one of its offices or
  communes asks that unit's head to explain.
- The workflow: the head explains, the leader above decides (handled,
  mitigated with its ground, dismissed), every step kept with who and when;
  the leader above confirms or changes each rating, with a reason."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from commitments import progress
from commitments import services as commitment_services
from commitments.models import Commitment, Target
from commitments.organisation.access import attached, reaches, scope_queryset
from commitments.organisation.models import (
    Head,
    HeadPosition,
    Membership,
    Role,
    Unit,
    UnitKind,
)
from commitments.organisation.selectors import heads_on
from scoring.accountability import rules
from scoring.frameworks import thresholds
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    CaseKind,
    CaseStep,
    Decision,
    HeadRating,
    MitigationGround,
    Node,
    Notice,
    Publication,
    PublishedResult,
    RatingLevel,
    Result,
    StepAction,
)
from scoring.results import page_cache

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

# A criterion scoring below this share of its maximum "scores low" (seed 000);
# any point lost asks for an explanation.
LOW_SHARE = Decimal("0.5")


@dataclass(frozen=True)
class Evaluation:
    year: int
    commitments: int = 0
    met: int = 0
    missed: int = 0
    cases_opened: int = 0
    cases_withdrawn: int = 0
    ratings: int = 0
    skipped: str = ""


def year_over(year: int, today: date) -> bool:
    return today > date(year, 12, 31)


def current_head(unit: Unit, day: date) -> Head | None:
    return (
        heads_on(day=day)
        .filter(unit=unit, position=HeadPosition.HEAD)
        .order_by("-tenure_from")
        .first()
    )


def _target_fact(target: Target) -> dict[str, Any]:
    return {
        "indicator": target.indicator.name,
        "comparison": target.get_comparison_display(),
        "value": str(target.value),
        "judged_value": None
        if target.judged_value is None
        else str(target.judged_value),
        "deadline": target.deadline.isoformat() if target.deadline else None,
    }


def _year_fact(commitment: Commitment) -> dict[str, Any]:
    return {
        "year": commitment.year,
        "unit": commitment.unit.code,
        "unit_name": commitment.unit.name,
        "signed_by": commitment.head.full_name if commitment.head else "",
        "signed_by_title": commitment.head.title if commitment.head else "",
        "missed": [
            _target_fact(target)
            for target in commitment.targets.all()
            if target.mandatory and target.met is False
        ],
    }


def tiers_of(year: int) -> dict[int, str]:
    """Each unit's tier in the year: the latest publication's, else the
    provisional results'."""
    publication = Publication.objects.filter(year=year).order_by("-version").first()
    if publication is not None:
        rows = PublishedResult.objects.filter(publication=publication)
    else:
        rows = Result.objects.filter(framework__year=year)  # type: ignore[assignment]
    return {
        unit_id: tier
        for unit_id, tier, approved in rows.values_list("unit_id", "tier", "approved")
        if approved and tier
    }


def _predecessors(unit_ids: Iterable[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    through = Unit.predecessors.through.objects.filter(from_unit_id__in=list(unit_ids))
    for successor, predecessor in through.values_list("from_unit_id", "to_unit_id"):
        found[successor].append(predecessor)
    return found


def open_two_year_cases(year: int, now: datetime, today: date) -> tuple[int, int]:
    """A case per unit missing its commitment in ``year`` and the year
    before (its predecessors', for a merged unit), for its current head.
    A case still awaiting its explanation whose facts no longer hold is
    withdrawn. Returns (opened, withdrawn)."""
    judged = (
        Commitment.objects.filter(year__in=[year - 1, year], met__isnull=False)
        .select_related("unit", "head")
        .prefetch_related("targets__indicator")
    )
    by_key = {(c.unit_id, c.year): c for c in judged}
    by_code = {(c.unit.code, c.year): c for c in by_key.values()}
    verdicts = {
        key: rules.YearVerdict(
            unit=c.unit.code,
            year=c.year,
            met=bool(c.met),
            signed_by=c.head.full_name if c.head else "",
        )
        for key, c in by_key.items()
    }
    units_this_year = [unit_id for unit_id, y in by_key if y == year]
    found = rules.two_years_running(
        year=year, verdicts=verdicts, predecessors=_predecessors(units_this_year)
    )
    opened = 0
    for unit_id, made_of in found.items():
        commitment = by_key[(unit_id, year)]
        years = [_year_fact(by_code[(v.unit, v.year)]) for v in made_of]
        facts = {"years": years}
        case, created = AccountabilityCase.objects.get_or_create(
            kind=CaseKind.TWO_YEARS,
            unit_id=unit_id,
            year=year,
            subject="",
            defaults={
                "head": current_head(commitment.unit, today),
                "facts": facts,
                "opened_at": now,
                "updated_at": now,
            },
        )
        if created:
            _opened(case, now)
            opened += 1
        elif case.state == AccountabilityState.REQUESTED and case.facts != facts:
            case.facts = facts
            case.updated_at = now
            case.save(update_fields=["facts", "updated_at"])
    withdrawn = 0
    stale = AccountabilityCase.objects.filter(
        kind=CaseKind.TWO_YEARS, year=year, state=AccountabilityState.REQUESTED
    ).exclude(unit_id__in=list(found))
    for case in stale:
        _withdraw(
            case, now, _("The commitments were judged again: the case no longer holds.")
        )
        withdrawn += 1
    return opened, withdrawn


def _withdraw(case: AccountabilityCase, now: datetime, text: str) -> None:
    case.state = AccountabilityState.WITHDRAWN
    case.updated_at = now
    case.save(update_fields=["state", "updated_at"])
    CaseStep.objects.create(case=case, action=StepAction.WITHDRAWN, at=now, text=text)


def propose_ratings(year: int, commitments: list[Commitment], now: datetime) -> int:
    """A rating proposal for the head who signed each judged commitment
    (rules.rating_proposal): the targets, the unit's tier, and the cap for
    repeated lateness after a reminder. A decision already taken stands as
    taken, with the proposal it was taken on (HeadRating.decided_proposal);
    the proposal and its basis are brought up to date beside it, and when
    the proposal of a decided rating changes, the leader who decided is
    told, once for that change."""
    tiers = tiers_of(year)
    # Locked against a leader deciding at the same moment: the decision is
    # taken on the proposal before or after this run, never half of each.
    existing = {
        rating.unit_id: rating
        for rating in HeadRating.objects.select_for_update(of=("self",))
        .filter(year=year)
        .select_related("unit", "rated_by")
    }
    moved: list[tuple[HeadRating, int]] = []
    # The year's settings of each kind's framework (issue 17, item 10).
    year_settings = thresholds.by_kind(year)
    late = thresholds.late_unit_ids(year, year_settings)
    written = 0
    for commitment in commitments:
        if commitment.met is None or commitment.head is None:
            continue
        outcomes = [progress.judged_outcome(t) for t in commitment.targets.all()]
        tier = tiers.get(commitment.unit_id)
        has_index = commitment.unit.kind != UnitKind.OFFICE
        repeatedly_late = commitment.unit_id in late
        parameters = thresholds.rating_parameters(
            year_settings.get(commitment.unit.kind)
        )
        proposed = rules.rating_proposal(
            outcomes,
            tier if has_index else None,
            repeatedly_late=repeatedly_late,
            **parameters,
        )
        uncapped = rules.rating_proposal(
            outcomes, tier if has_index else None, repeatedly_late=False, **parameters
        )
        basis = {
            "targets": len(outcomes),
            "met": sum(o.met for o in outcomes),
            "exceeded": sum(o.exceeded for o in outcomes),
            "tier": tier or "",
            "repeatedly_late": repeatedly_late,
            "capped": proposed != uncapped,
        }
        rating = existing.get(commitment.unit_id)
        if rating is None:
            HeadRating.objects.create(
                unit_id=commitment.unit_id,
                year=year,
                head=commitment.head,
                proposed=int(proposed),
                basis=basis,
                proposed_at=now,
            )
        else:
            before = rating.proposed
            rating.head = commitment.head
            rating.proposed = int(proposed)
            rating.basis = basis
            rating.proposed_at = now
            rating.save(update_fields=["head", "proposed", "basis", "proposed_at"])
            if rating.final is not None and rating.proposed != before:
                moved.append((rating, before))
        written += 1
    flags_refresh(year)
    for rating, before in moved:
        _proposal_moved(rating, before, now)
    return written


def _proposal_moved(rating: HeadRating, before: int, now: datetime) -> None:
    """Tell the leader who decided the rating that its proposal changed
    (a deduction approved, a reminder withdrawn, figures corrected): the
    decision stands until they take it again."""
    leader = rating.rated_by
    if leader is None or not leader.is_active:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(
            "The proposed rating of %(head)s (%(unit)s, %(year)d) changed after "
            "your decision"
        ) % {
            "head": rating.head.full_name,
            "unit": rating.unit.name,
            "year": rating.year,
        }
        body = _(
            "Proposed when you decided: %(decided)s. Proposed before this "
            "computation: %(before)s. Proposed now: %(after)s. Your rating, "
            "%(final)s, stands until you rate again."
        ) % {
            "decided": RatingLevel(rating.decided_proposal).label
            if rating.decided_proposal is not None
            else "—",
            "before": RatingLevel(before).label,
            "after": rating.get_proposed_display(),
            "final": rating.get_final_display(),
        }
    notice = Notice.objects.create(
        user=leader,
        subject=subject[:255],
        body=body,
        url=rating_url(rating),
        created_at=now,
    )
    page_cache.forget_readers([notice.user_id])


def rating_url(rating: HeadRating) -> str:
    return f"{reverse('rating_list')}?year={rating.year}#rating-{rating.pk}"


def flags_refresh(year: int) -> None:
    """Flag the heads rated "not completed" in the year and the year before
    (the decision, or the proposal while undecided), for this year and the
    next."""
    for y in (year, year + 1):
        ratings = list(HeadRating.objects.filter(year__in=[y - 1, y]))
        by_head: dict[int, dict[int, rules.Rating]] = defaultdict(dict)
        for rating in ratings:
            by_head[rating.head_id][rating.year] = rules.Rating(rating.effective)
        for rating in ratings:
            if rating.year != y:
                continue
            flagged = rules.not_completed_twice(by_head[rating.head_id], y)
            if flagged != rating.flagged:
                rating.flagged = flagged
                rating.save(update_fields=["flagged"])


@transaction.atomic
def evaluate_year(
    year: int, *, now: datetime | None = None, today: date | None = None
) -> Evaluation:
    """Judge the year's commitments and what follows from them; nothing
    while the year runs (its targets are followed as progress)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    if not year_over(year, today):
        return Evaluation(year, skipped=_("the year is not over"))
    commitments = commitment_services.commitments_judge(year, now)
    opened, withdrawn = open_two_year_cases(year, now, today)
    ratings = propose_ratings(year, commitments, now)
    judged = [c for c in commitments if c.met is not None]
    return Evaluation(
        year,
        commitments=len(judged),
        met=sum(1 for c in judged if c.met),
        missed=sum(1 for c in judged if not c.met),
        cases_opened=opened,
        cases_withdrawn=withdrawn,
        ratings=ratings,
    )


# --- explanation requests on publication ---------------------------------------------


def criterion_cases(publication: Publication, now: datetime, today: date) -> int:
    """For each district (city) in the publication, each criterion owned by
    one of its offices or communes that lost points: an explanation request
    to that unit's head. Returns the number opened."""
    results = list(
        PublishedResult.objects.filter(
            publication=publication, unit__kind=UnitKind.DISTRICT
        ).select_related("unit")
    )
    opened = 0
    for result in results:
        owned = (
            Node.objects.filter(
                framework_id=result.framework_id,
                owner_unit__path__startswith=result.unit.path,
            )
            .exclude(owner_unit=result.unit)
            .select_related("owner_unit")
            .order_by("position")
        )
        leaves = result.detail.get("leaves", {})
        inner = result.detail.get("nodes", {})
        for node in owned:
            written = leaves.get(node.code, {}).get("p") or inner.get(node.code)
            if written is None:
                continue
            points = Decimal(written)
            if points >= node.max_points:
                continue
            owner = node.owner_unit
            assert owner is not None
            share = points / node.max_points if node.max_points else Decimal(0)
            facts = {
                "city": result.unit.code,
                "city_name": result.unit.name,
                "version": publication.version,
                "criterion": node.code,
                "title": node.title,
                "points": str(points),
                "maximum": str(node.max_points),
                "low": share < LOW_SHARE,
            }
            case, created = AccountabilityCase.objects.get_or_create(
                kind=CaseKind.CRITERION,
                unit=owner,
                year=publication.year,
                subject=node.code,
                defaults={
                    "head": current_head(owner, today),
                    "facts": facts,
                    "opened_at": now,
                    "updated_at": now,
                },
            )
            if created:
                _opened(case, now)
                opened += 1
    return opened


# --- notices ------------------------------------------------------------------


def head_accounts(case: AccountabilityCase) -> list[Any]:
    """Who answers for the unit: the head's own account and the unit's head
    role, each once, active only."""
    from django.contrib.auth import get_user_model

    ids = set(
        Membership.objects.filter(
            unit_id=case.unit_id, role=Role.UNIT_HEAD
        ).values_list("user_id", flat=True)
    )
    if case.head is not None and case.head.user_id is not None:
        ids.add(case.head.user_id)
    return list(
        get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("pk")
    )


def leaders_above(unit: Unit) -> list[Any]:
    """The leaders whose jurisdiction holds the unit's parent: who decide."""
    from django.contrib.auth import get_user_model

    if unit.parent is None:
        return []
    paths = [
        unit.parent.path[: i + 1]
        for i, char in enumerate(unit.parent.path)
        if char == "/" and i > 0
    ]
    return list(
        get_user_model()
        .objects.filter(
            memberships__role=Role.LEADER,
            memberships__unit__path__in=paths,
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def notify(
    users: Iterable[Any], case: AccountabilityCase, subject: str, now: datetime
) -> None:
    """A notice inside the portal for each user, linking to the case, in the
    portal's language (jobs have no request to take a language from)."""
    notices = Notice.objects.bulk_create(
        Notice(
            user=user,
            subject=subject,
            url=case.get_absolute_url(),
            created_at=now,
        )
        for user in users
    )
    page_cache.forget_readers(notice.user_id for notice in notices)


def _opened_subject(case: AccountabilityCase) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        if case.kind == CaseKind.TWO_YEARS:
            return _(
                "Explanation requested: the commitment of %(unit)s was missed in "
                "%(before)d and %(year)d"
            ) % {"unit": case.unit.name, "before": case.year - 1, "year": case.year}
        return _(
            "Explanation requested: %(unit)s lost points on criterion %(code)s of "
            "the published index %(year)d"
        ) % {"unit": case.unit.name, "code": case.subject, "year": case.year}


def _opened(case: AccountabilityCase, now: datetime) -> None:
    CaseStep.objects.create(case=case, action=StepAction.OPENED, at=now)
    notify(head_accounts(case), case, _opened_subject(case), now)


# --- who sees and does what -----------------------------------------------------


def cases_visible(user: AnyUser) -> QuerySet[AccountabilityCase]:
    return scope_queryset(user, AccountabilityCase.objects.all())


def ratings_visible(user: AnyUser) -> QuerySet[HeadRating]:
    """The unit's own head sees their rating; reviewers and leaders, those of
    their jurisdiction (staff do not see their head's rating)."""
    roles = frozenset({Role.UNIT_HEAD, Role.REVIEWER, Role.LEADER})
    return scope_queryset(user, HeadRating.objects.all(), roles=roles)


def ratings_proposal_changed(ratings: QuerySet[HeadRating]) -> QuerySet[HeadRating]:
    """Decided ratings whose proposal moved after the decision."""
    return ratings.filter(final__isnull=False).exclude(proposed=F("decided_proposal"))


def _is_head_of(user: AnyUser, case: AccountabilityCase) -> bool:
    if not user.is_authenticated:
        return False
    if case.head is not None and case.head.user_id == user.pk:
        return True
    return Membership.objects.filter(
        user_id=user.pk, unit_id=case.unit_id, role=Role.UNIT_HEAD
    ).exists()


def _leader_above(user: AnyUser, unit: Unit) -> bool:
    """A leader whose jurisdiction holds the unit's parent: the chairman
    for departments and districts, a district chairman for its offices and
    communes."""
    if not user.is_authenticated or not user.is_active:
        return False
    return reaches(user, unit.parent, frozenset({Role.LEADER}))


def may_explain(user: AnyUser, case: AccountabilityCase) -> bool:
    return case.is_open and _is_head_of(user, case)


def may_decide(user: AnyUser, case: AccountabilityCase) -> bool:
    return case.state == AccountabilityState.EXPLAINED and _leader_above(
        user, case.unit
    )


def may_rate(user: AnyUser, rating: HeadRating) -> bool:
    """The level directly above rates: a leader attached to the unit's
    parent (or a superuser)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return attached(user, rating.unit.parent, Role.LEADER)


@transaction.atomic
def case_explain(
    *,
    case: AccountabilityCase,
    user: AnyUser,
    text: str,
    now: datetime | None = None,
) -> AccountabilityCase:
    case = (
        AccountabilityCase.objects.select_for_update(of=("self",))
        .select_related("head", "unit")
        .get(pk=case.pk)
    )
    if not may_explain(user, case):
        raise PermissionDenied
    if not text.strip():
        raise ValidationError({"explanation": _("Write the explanation.")})
    now = now or timezone.now()
    case.explanation = text.strip()
    case.state = AccountabilityState.EXPLAINED
    case.updated_at = now
    case.save(update_fields=["explanation", "state", "updated_at"])
    CaseStep.objects.create(
        case=case,
        action=StepAction.EXPLAINED,
        by=user,  # type: ignore[misc]
        at=now,
        text=case.explanation,
    )
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("%(unit)s explained: a decision is awaited") % {
            "unit": case.unit.name
        }
    notify(leaders_above(case.unit), case, subject, now)
    return case


@transaction.atomic
def case_decide(
    *,
    case: AccountabilityCase,
    user: AnyUser,
    decision: str,
    reason: str,
    ground: str = "",
    now: datetime | None = None,
) -> AccountabilityCase:
    case = (
        AccountabilityCase.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=case.pk)
    )
    if not may_decide(user, case):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if decision not in Decision.values:
        errors["decision"] = _("Choose a decision.")
    if not reason.strip():
        errors["reason"] = _("Give the reason for the decision.")
    if decision == Decision.MITIGATED and ground not in MitigationGround.values:
        errors["ground"] = _(
            "A mitigation names its ground: everything required was done, or an "
            "objective cause."
        )
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    case.decision = decision
    case.ground = ground if decision == Decision.MITIGATED else ""
    case.decision_reason = reason.strip()
    case.state = AccountabilityState.DECIDED
    case.updated_at = now
    case.save(
        update_fields=["decision", "ground", "decision_reason", "state", "updated_at"]
    )
    CaseStep.objects.create(
        case=case,
        action=StepAction.DECIDED,
        by=user,  # type: ignore[misc]
        at=now,
        text=case.decision_reason,
        decision=case.decision,
        ground=case.ground,
    )
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Decision on the explanation of %(unit)s: %(decision)s") % {
            "unit": case.unit.name,
            "decision": case.get_decision_display(),
        }
    notify(head_accounts(case), case, subject, now)
    return case


@transaction.atomic
def rating_decide(
    *,
    rating: HeadRating,
    user: AnyUser,
    level: int,
    reason: str,
    now: datetime | None = None,
) -> HeadRating:
    """Confirm the proposal, or change it with a reason."""
    rating = (
        HeadRating.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=rating.pk)
    )
    if not may_rate(user, rating):
        raise PermissionDenied
    if level not in RatingLevel.values:
        raise ValidationError({"level": _("Choose a rating.")})
    if level != rating.proposed and not reason.strip():
        raise ValidationError(
            {"reason": _("A rating other than the proposal needs a reason.")}
        )
    rating.final = level
    rating.decided_proposal = rating.proposed
    rating.reason = reason.strip()
    rating.rated_by = user  # type: ignore[assignment]
    rating.rated_at = now or timezone.now()
    rating.save()
    flags_refresh(rating.year)
    return rating


def open_case_count(user: AnyUser) -> int:
    return (
        cases_visible(user)
        .filter(
            Q(state=AccountabilityState.REQUESTED)
            | Q(state=AccountabilityState.EXPLAINED)
        )
        .count()
    )


@transaction.atomic
def ratings_confirm(
    *, user: AnyUser, year: int, ids: Iterable[int], now: datetime | None = None
) -> int:
    """Confirm the proposals of the undecided ratings ``ids`` of the year
    that ``user`` may rate (the leader's "confirm what is proposed" for the
    heads below): the others are left as they are. Returns how many."""
    now = now or timezone.now()
    pending = (
        HeadRating.objects.select_for_update(of=("self",))
        .select_related("unit__parent")
        .filter(year=year, final__isnull=True, pk__in=list(ids))
    )
    confirmed = [rating for rating in pending if may_rate(user, rating)]
    for rating in confirmed:
        rating.final = rating.proposed
        rating.decided_proposal = rating.proposed
        rating.reason = ""
        rating.rated_by = user  # type: ignore[assignment]
        rating.rated_at = now
        rating.save()
    if confirmed:
        flags_refresh(year)
    return len(confirmed)
