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
    Adjustment,
    CaseKind,
    CaseStep,
    Decision,
    HeadRating,
    MitigationGround,
    Node,
    Publication,
    PublishedResult,
    RatingLevel,
    Result,
    StepAction,
)
from scoring.notices import handovers
from scoring.notices.services import notices_send

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


def _successors(unit_ids: Iterable[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    through = Unit.predecessors.through.objects.filter(to_unit_id__in=list(unit_ids))
    for successor, predecessor in through.values_list("from_unit_id", "to_unit_id"):
        found[predecessor].append(successor)
    return found


def gone_by(unit: Unit, year: int) -> bool:
    """The unit no longer exists at the end of the year (dissolved, merged)."""
    return unit.valid_to is not None and unit.valid_to < date(year, 12, 31)


def open_two_year_cases(year: int, now: datetime, today: date) -> tuple[int, int]:
    """A case per unit missing its commitment in ``year`` and the year
    before (its predecessors', for a merged unit), for its current head. A
    unit gone by the end of the year has none: its miss passes to its
    successor (rules.pass_to_successors). A case is opened only for a head
    in office to answer it: with none recorded it waits for the next run.
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
    dissolved = [
        unit_id
        for unit_id in units_this_year
        if gone_by(by_key[(unit_id, year)].unit, year)
    ]
    found = rules.pass_to_successors(
        rules.two_years_running(
            year=year, verdicts=verdicts, predecessors=_predecessors(units_this_year)
        ),
        dissolved=dissolved,
        successors=_successors(dissolved),
    )
    units = Unit.objects.in_bulk(list(found))
    opened = 0
    for unit_id, made_of in found.items():
        years = [_year_fact(by_code[(v.unit, v.year)]) for v in made_of]
        facts = {"years": years}
        case = AccountabilityCase.objects.filter(
            kind=CaseKind.TWO_YEARS, unit_id=unit_id, year=year, subject=""
        ).first()
        if case is None:
            unit = units[unit_id]
            head = current_head(unit, today)
            if head is None or gone_by(unit, year):
                # Nobody to answer it: opened once a head is recorded.
                continue
            case = AccountabilityCase.objects.create(
                kind=CaseKind.TWO_YEARS,
                unit=unit,
                year=year,
                subject="",
                head=head,
                facts=facts,
                opened_at=now,
                updated_at=now,
            )
            _opened(case, now)
            opened += 1
        elif case.state == AccountabilityState.REQUESTED and case.facts != facts:
            case.facts = facts
            case.updated_at = now
            case.save(update_fields=["facts", "updated_at"])
    withdrawn = 0
    stale = (
        AccountabilityCase.objects.filter(
            kind=CaseKind.TWO_YEARS, year=year, state=AccountabilityState.REQUESTED
        )
        .exclude(unit_id__in=list(found))
        .select_related("unit")
    )
    for case in stale:
        if gone_by(case.unit, year):
            text = _(
                "The unit no longer exists: its miss passes to the unit that "
                "succeeded it."
            )
        else:
            text = _("The commitments were judged again: the case no longer holds.")
        _withdraw(case, now, text)
        withdrawn += 1
    return opened, withdrawn


def _withdraw(case: AccountabilityCase, now: datetime, text: str) -> None:
    case.state = AccountabilityState.WITHDRAWN
    case.updated_at = now
    case.save(update_fields=["state", "updated_at"])
    CaseStep.objects.create(case=case, action=StepAction.WITHDRAWN, at=now, text=text)


KINDS_WITH_INDEX = frozenset({UnitKind.DEPARTMENT, UnitKind.DISTRICT, UnitKind.COMMUNE})


def has_index(unit: Unit) -> bool:
    """Departments, districts and communes are scored on a year's index;
    offices, branches (and the province itself) are rated on their targets."""
    return unit.kind in KINDS_WITH_INDEX


def _tenures(unit_ids: Iterable[int], year: int) -> dict[int, list[Any]]:
    """The head tenures of each unit that share a day with the year."""
    found: dict[int, list[Any]] = defaultdict(list)
    heads = (
        Head.objects.filter(
            unit_id__in=list(unit_ids),
            position=HeadPosition.HEAD,
            tenure_from__lte=date(year, 12, 31),
        )
        .filter(Q(tenure_to__isnull=True) | Q(tenure_to__gte=date(year, 1, 1)))
        .order_by("tenure_from", "pk")
    )
    for head in heads:
        found[head.unit_id].append(
            rules.Tenure(head=head, start=head.tenure_from, until=head.tenure_to)
        )
    return found


def rated_heads(commitment: Commitment, tenures: list[Any], year: int) -> list[Head]:
    """Who is rated for the unit's year: each head in the post for at least
    six months of it (rules.heads_to_rate); with no tenure recorded, the
    head who signed."""
    heads: list[Head] = rules.heads_to_rate(tenures, year)
    if not heads and commitment.head is not None:
        heads = [commitment.head]
    return heads


def propose_ratings(year: int, commitments: list[Commitment], now: datetime) -> int:
    """A rating proposal for each head who held the post for a meaningful
    part of the year (rules.heads_to_rate), every one on the same facts of
    the unit's judged commitment (rules.rating_proposal): the targets, the
    unit's tier, and the cap for repeated lateness after a reminder. No
    proposal where the unit's kind has an index and the year has no result
    for it (the leader rates). A decision already taken stands as taken,
    with the proposal it was taken on (HeadRating.decided_proposal); the
    proposal and its basis are brought up to date beside it, and when the
    proposal of a decided rating changes, the leader who decided is told,
    once for that change. An undecided proposal for a head no longer rated
    (the tenures were corrected) is withdrawn."""
    tiers = tiers_of(year)
    # Locked against a leader deciding at the same moment: the decision is
    # taken on the proposal before or after this run, never half of each.
    existing = {
        (rating.unit_id, rating.head_id): rating
        for rating in HeadRating.objects.select_for_update(of=("self",))
        .filter(year=year)
        .select_related("unit", "rated_by", "head")
    }
    moved: list[tuple[HeadRating, int | None]] = []
    # The year's settings of each kind's framework (issue 17, item 10).
    year_settings = thresholds.by_kind(year)
    late = thresholds.late_unit_ids(year, year_settings)
    judged = [c for c in commitments if c.met is not None]
    tenures = _tenures([c.unit_id for c in judged], year)
    kept: set[tuple[int, int]] = set()
    written = 0
    for commitment in judged:
        heads = rated_heads(commitment, tenures.get(commitment.unit_id, []), year)
        if not heads:
            continue
        outcomes = [progress.judged_outcome(t) for t in commitment.targets.all()]
        tier = tiers.get(commitment.unit_id)
        indexed = has_index(commitment.unit)
        repeatedly_late = commitment.unit_id in late
        parameters = thresholds.rating_parameters(
            year_settings.get(commitment.unit.kind)
        )
        proposed = rules.rating_proposal(
            outcomes,
            tier,
            repeatedly_late=repeatedly_late,
            has_index=indexed,
            **parameters,
        )
        uncapped = rules.rating_proposal(
            outcomes, tier, repeatedly_late=False, has_index=indexed, **parameters
        )
        basis = {
            "targets": len(outcomes),
            "met": sum(o.met for o in outcomes),
            "exceeded": sum(o.exceeded for o in outcomes),
            "tier": tier or "",
            "repeatedly_late": repeatedly_late,
            "capped": proposed != uncapped,
            "no_result": proposed is None,
        }
        value = None if proposed is None else int(proposed)
        for head in heads:
            kept.add((commitment.unit_id, head.pk))
            rating = existing.get((commitment.unit_id, head.pk))
            if rating is None:
                HeadRating.objects.create(
                    unit_id=commitment.unit_id,
                    year=year,
                    head=head,
                    proposed=value,
                    basis=basis,
                    proposed_at=now,
                )
            else:
                before = rating.proposed
                rating.proposed = value
                rating.basis = basis
                rating.proposed_at = now
                rating.save(update_fields=["proposed", "basis", "proposed_at"])
                if rating.final is not None and rating.proposed != before:
                    moved.append((rating, before))
            written += 1
    for key, rating in existing.items():
        if key not in kept and rating.final is None:
            rating.delete()
    flags_refresh(year, now)
    for rating, before in moved:
        _proposal_moved(rating, before, now)
    return written


def _level_label(level: int | None) -> str:
    if level is None:
        return str(_("no proposal"))
    return str(RatingLevel(level).label)


def _proposal_moved(rating: HeadRating, before: int | None, now: datetime) -> None:
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
            "decided": _level_label(rating.decided_proposal),
            "before": _level_label(before),
            "after": _level_label(rating.proposed),
            "final": rating.get_final_display(),
        }
    notices_send(
        users=[leader], subject=subject, body=body, url=rating_url(rating), now=now
    )


def rating_url(rating: HeadRating) -> str:
    return f"{reverse('rating_list')}?year={rating.year}#rating-{rating.pk}"


def flags_refresh(year: int, now: datetime | None = None) -> None:
    """Flag the heads rated "not completed" in the year and the year before
    (the decision, or the proposal while undecided), for this year and the
    next. A head newly flagged is reported to the leader who rates them (a
    notice, once per rating: ``flag_notified_at``)."""
    for y in (year, year + 1):
        ratings = list(
            HeadRating.objects.filter(year__in=[y - 1, y]).select_related(
                "unit__parent", "head"
            )
        )
        by_head: dict[int, dict[int, rules.Rating]] = defaultdict(dict)
        for rating in ratings:
            if rating.effective is not None:
                by_head[rating.head_id][rating.year] = rules.Rating(rating.effective)
        for rating in ratings:
            if rating.year != y:
                continue
            flagged = rules.not_completed_twice(by_head[rating.head_id], y)
            if flagged != rating.flagged:
                rating.flagged = flagged
                rating.save(update_fields=["flagged"])
            if flagged and rating.flag_notified_at is None:
                _flag_notice(rating, now or timezone.now())


def rating_leaders(rating: HeadRating) -> list[Any]:
    """Who rates the head: the leaders attached to the unit's parent (the
    chairman for departments and districts, the district chairman for its
    offices and communes; seed 001)."""
    from django.contrib.auth import get_user_model

    if rating.unit.parent_id is None:
        return []
    return list(
        get_user_model()
        .objects.filter(
            memberships__role=Role.LEADER,
            memberships__unit_id=rating.unit.parent_id,
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def _flag_notice(rating: HeadRating, now: datetime) -> None:
    """Law on Cadres and Civil Servants (2019 amendment): "not completed"
    two years running is reported to the leader who rates the head."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(
            "%(head)s (%(unit)s) rated not completed in %(before)d and %(year)d"
        ) % {
            "head": rating.head.full_name,
            "unit": rating.unit.name,
            "before": rating.year - 1,
            "year": rating.year,
        }
    notices_send(
        users=rating_leaders(rating), subject=subject, url=rating_url(rating), now=now
    )
    rating.flag_notified_at = now
    rating.save(update_fields=["flag_notified_at"])


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


def _request_explanation(
    *,
    kind: str,
    unit: Unit,
    year: int,
    subject: str,
    facts: dict[str, Any],
    now: datetime,
    today: date,
) -> bool:
    """Open the case once, for the head in office: with none recorded,
    nothing (a case nobody can answer is not opened). True when opened."""
    if AccountabilityCase.objects.filter(
        kind=kind, unit=unit, year=year, subject=subject
    ).exists():
        return False
    head = current_head(unit, today)
    if head is None:
        return False
    case = AccountabilityCase.objects.create(
        kind=kind,
        unit=unit,
        year=year,
        subject=subject,
        head=head,
        facts=facts,
        opened_at=now,
        updated_at=now,
    )
    _opened(case, now)
    return True


def criterion_owners(node: Node, within: Unit, year: int) -> list[Unit]:
    """Who owns the criterion inside ``within`` (a city, or a commune of the
    two-tier years): the unit named on the node, when it lies there, and
    each office there whose function the node names (issue 17, item 11)."""
    owners: list[Unit] = []
    if (
        node.owner_unit is not None
        and node.owner_unit.path.startswith(within.path)
        and node.owner_unit_id != within.pk
    ):
        owners.append(node.owner_unit)
    if node.owner_kind:
        offices = Unit.objects.filter(
            path__startswith=within.path,
            kind=UnitKind.OFFICE,
            office_function=node.owner_kind,
            valid_from__lte=date(year, 12, 31),
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=date(year, 1, 1)))
        owners.extend(o for o in offices.order_by("path") if o not in owners)
    return owners


def criterion_cases(publication: Publication, now: datetime, today: date) -> int:
    """For each city (district) or commune in the publication: each
    criterion owned by one of its offices or communes that lost points
    (the owner named by unit, or by office function and found inside the
    city), and each approved deduction on its index that arose in one of
    them: an explanation request to that unit's head (seed 000). Returns
    the number opened."""
    results = list(
        PublishedResult.objects.filter(
            publication=publication,
            unit__kind__in=[UnitKind.DISTRICT, UnitKind.COMMUNE],
        ).select_related("unit")
    )
    opened = 0
    for result in results:
        owned = (
            Node.objects.filter(framework_id=result.framework_id)
            .filter(
                Q(owner_unit__path__startswith=result.unit.path) | ~Q(owner_kind="")
            )
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
            for owner in criterion_owners(node, result.unit, publication.year):
                opened += _request_explanation(
                    kind=CaseKind.CRITERION,
                    unit=owner,
                    year=publication.year,
                    subject=node.code,
                    facts=facts,
                    now=now,
                    today=today,
                )
        opened += _deduction_cases(publication, result, now, today)
    return opened


def _deduction_cases(
    publication: Publication, result: PublishedResult, now: datetime, today: date
) -> int:
    """The approved deductions counted in the city's published index that
    name the office or commune they arose in."""
    counted = [entry["id"] for entry in result.detail.get("adjustments", [])]
    arisen = (
        Adjustment.objects.filter(
            pk__in=counted,
            unit_id=result.unit_id,
            points__lt=0,
            source__path__startswith=result.unit.path,
        )
        .exclude(source_id=result.unit_id)
        .select_related("source", "rule")
        .order_by("pk")
    )
    opened = 0
    for adjustment in arisen:
        assert adjustment.source is not None
        facts = {
            "city": result.unit.code,
            "city_name": result.unit.name,
            "version": publication.version,
            "rule": adjustment.rule.title,
            "points": str(adjustment.points),
            "reason": adjustment.reason,
            "evidence": adjustment.evidence,
        }
        opened += _request_explanation(
            kind=CaseKind.DEDUCTION,
            unit=adjustment.source,
            year=publication.year,
            subject=f"adjustment-{adjustment.pk}",
            facts=facts,
            now=now,
            today=today,
        )
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
    notices_send(users=users, subject=subject, url=case.get_absolute_url(), now=now)


def _opened_subject(case: AccountabilityCase) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        if case.kind == CaseKind.TWO_YEARS:
            return _(
                "Explanation requested: the commitment of %(unit)s was missed in "
                "%(before)d and %(year)d"
            ) % {"unit": case.unit.name, "before": case.year - 1, "year": case.year}
        if case.kind == CaseKind.DEDUCTION:
            return _(
                "Explanation requested: a deduction on the published index "
                "%(year)d of %(city)s arose in %(unit)s"
            ) % {
                "unit": case.unit.name,
                "city": case.facts.get("city_name", ""),
                "year": case.year,
            }
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
    # NULL on either side is a proposal too (none, at decision or now).
    same = Q(proposed=F("decided_proposal")) | Q(
        proposed__isnull=True, decided_proposal__isnull=True
    )
    return ratings.filter(final__isnull=False).exclude(same)


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
    if rating.proposed is None and not reason.strip():
        raise ValidationError(
            {"reason": _("Nothing was proposed: give the reason for the rating.")}
        )
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
    flags_refresh(rating.year, rating.rated_at)
    handovers.rating_decided(rating, actor=user, now=rating.rated_at)
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
        .filter(year=year, final__isnull=True, proposed__isnull=False, pk__in=list(ids))
    )
    confirmed = [rating for rating in pending if may_rate(user, rating)]
    for rating in confirmed:
        rating.final = rating.proposed
        rating.decided_proposal = rating.proposed
        rating.reason = ""
        rating.rated_by = user  # type: ignore[assignment]
        rating.rated_at = now
        rating.save()
        handovers.rating_decided(rating, actor=user, now=now)
    if confirmed:
        flags_refresh(year, now)
    return len(confirmed)
