"""Deductions and bonuses (DOMAIN.md section 6, seed 004): each framework's
catalogue of rules and the records entered against it.

A reviewer of a unit (Home Affairs above it) enters a record or the
computation proposes one from the data; another reviewer approves or rejects
it. Only approved records count, each rule within its yearly cap, and the
final score never goes below 0 (scoring.rules.final_points)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext as _

from commitments.organisation.models import Unit, UnitKind
from scoring import access
from scoring.models import (
    Adjustment,
    AdjustmentRule,
    AdjustmentState,
    Framework,
)
from scoring.notices import handovers

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from commitments.organisation.access import AnyUser

# --- what a reviewer sees (who may: scoring.access) --------------------------------


def adjustments_visible(
    user: AnyUser, queryset: QuerySet[Adjustment] | None = None
) -> QuerySet[Adjustment]:
    """Records of the units a user reviews."""
    queryset = Adjustment.objects.all() if queryset is None else queryset
    return queryset.filter(access.reviewer_q(user))


def units_for(user: AnyUser, framework: Framework) -> QuerySet[Unit]:
    """The units a user may enter a record for: of the framework's kind,
    reviewed by the user, existing in its year (the page's and the API's
    choice of unit)."""
    return (
        Unit.objects.filter(
            access.reviewer_q(user, prefix=""),
            kind=framework.unit_kind,
            valid_from__year__lte=framework.year,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__year__gte=framework.year))
        .order_by("path")
    )


def frameworks_for(user: AnyUser) -> QuerySet[Framework]:
    """Frameworks of the kinds of unit the user reviews."""
    kinds = Unit.objects.filter(access.reviewer_q(user, prefix="")).values("kind")
    return Framework.objects.filter(unit_kind__in=kinds).order_by("-year", "unit_kind")


def sources_for(units: QuerySet[Unit]) -> QuerySet[Unit]:
    """Where a deduction against one of ``units`` may have arisen: their
    offices and communes."""
    return Unit.objects.filter(
        parent__in=units, kind__in=[UnitKind.OFFICE, UnitKind.COMMUNE]
    ).order_by("path")


# --- the catalogue ----------------------------------------------------------------


def _decimal(value: object, field: str, *, allow_empty: bool = False) -> Decimal | None:
    if value is None or str(value).strip() == "":
        if allow_empty:
            return None
        raise ValidationError({field: _("This field is required.")})
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValidationError(
            {field: _("“%(value)s” is not a number.") % {"value": value}}
        ) from exc
    if number != number.quantize(Decimal("0.01")) or abs(number) >= 1000:
        raise ValidationError(
            {field: _("Use at most two decimals and less than 1000 points.")}
        )
    return number


def _check_catalogue_editable(user: AnyUser, framework: Framework) -> None:
    # The catalogue is the framework's: managed by whoever manages it.
    if not access.is_reviewer(user):
        raise PermissionDenied
    framework = Framework.objects.get(pk=framework.pk)  # as stored
    access.check_manage_framework(
        user, year=framework.year, unit_kind=framework.unit_kind
    )
    if framework.is_frozen:
        raise ValidationError(
            _("The results of %(year)d are published: its catalogue is frozen.")
            % {"year": framework.year}
        )


def _rule_values(
    *, title: str, points_per_case: object, cap: object
) -> tuple[str, Decimal, Decimal | None]:
    errors: dict[str, str] = {}
    title = title.strip()
    if not title:
        errors["title"] = _("Name the rule.")
    points = cap_value = None
    try:
        points = _decimal(points_per_case, "points_per_case")
        if points == 0:
            errors["points_per_case"] = _(
                "Points per case cannot be 0: negative for a deduction, "
                "positive for a bonus."
            )
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    try:
        cap_value = _decimal(cap, "cap", allow_empty=True)
        if cap_value is not None and cap_value <= 0:
            errors["cap"] = _("A cap is a positive number of points, or empty.")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    assert points is not None
    return title, points, cap_value


@transaction.atomic
def rule_update(
    *,
    user: AnyUser,
    rule: AdjustmentRule,
    title: str,
    points_per_case: object,
    cap: object,
) -> AdjustmentRule:
    """Change a rule's wording, points or cap. Records already entered keep
    their points; a record entered from now on takes the new ones."""
    _check_catalogue_editable(user, rule.framework)
    rule.title, rule.points_per_case, rule.cap = _rule_values(
        title=title, points_per_case=points_per_case, cap=cap
    )
    rule.save()
    return rule


@transaction.atomic
def rule_add(
    *,
    user: AnyUser,
    framework: Framework,
    code: str,
    title: str,
    points_per_case: object,
    cap: object,
) -> AdjustmentRule:
    _check_catalogue_editable(user, framework)
    code = code.strip().lower()
    errors = {}
    try:
        title, points, cap_value = _rule_values(
            title=title, points_per_case=points_per_case, cap=cap
        )
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    from django.core.validators import validate_slug

    try:
        validate_slug(code)
    except ValidationError:
        errors["code"] = _(
            "A code is letters, digits, hyphens and underscores, without spaces."
        )
    if code and framework.adjustment_rules.filter(code=code).exists():
        errors["code"] = _("The catalogue already has a rule %(code)s.") % {
            "code": code
        }
    if errors:
        raise ValidationError(errors)
    position = framework.adjustment_rules.aggregate(p=Max("position"))["p"] or 0
    return AdjustmentRule.objects.create(
        framework=framework,
        code=code,
        title=title,
        points_per_case=points,
        cap=cap_value,
        position=position + 1,
    )


@transaction.atomic
def rule_delete(*, user: AnyUser, rule: AdjustmentRule) -> None:
    _check_catalogue_editable(user, rule.framework)
    if rule.adjustments.exists():
        raise ValidationError(
            _(
                "Records were entered under “%(rule)s”: change its points instead "
                "of deleting it."
            )
            % {"rule": rule.title}
        )
    rule.delete()


# --- records --------------------------------------------------------------------


@transaction.atomic
def adjustment_enter(
    *,
    user: User,
    framework: Framework,
    unit: Unit,
    rule: AdjustmentRule,
    cases: object,
    reason: str,
    evidence: str,
    now: datetime,
    source: Unit | None = None,
) -> Adjustment:
    """A reviewer's record: it counts once another reviewer approves it. A
    deduction against a city may name the office or commune of the city it
    arose in (``source``): that unit's head is asked to explain it once the
    index is published (seed 000)."""
    if not access.may_enter_adjustment(user, unit):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if rule.framework_id != framework.pk:
        errors["rule"] = _("Choose a rule of the %(year)d catalogue.") % {
            "year": framework.year
        }
    if unit.kind != framework.unit_kind:
        errors["unit"] = _("%(unit)s is not assessed against %(framework)s.") % {
            "unit": unit.name,
            "framework": framework.name,
        }
    try:
        count = int(str(cases).strip())
    except ValueError:
        count = 0
    if not 1 <= count <= 100:
        errors["cases"] = _("The number of cases is a whole number from 1 to 100.")
    if not reason.strip():
        errors["reason"] = _(
            "Give the reason: what happened, and the decision or conclusion "
            "that established it."
        )
    if source is not None and (
        not source.is_descendant_of(unit) or rule.points_per_case >= 0
    ):
        errors["source"] = _(
            "Only a deduction names where it arose: an office or commune of %(unit)s."
        ) % {"unit": unit.name}
    if errors:
        raise ValidationError(errors)
    adjustment = Adjustment(
        source=source,
        framework=framework,
        unit=unit,
        rule=rule,
        cases=count,
        points=rule.points_per_case * count,
        reason=reason.strip(),
        evidence=evidence.strip(),
        entered_by=user,
        entered_at=now,
    )
    adjustment._history_user = user  # type: ignore[attr-defined]
    adjustment.save()
    handovers.adjustment_entered(adjustment, actor=user, now=now)
    return adjustment


@transaction.atomic
def adjustment_decide(
    *,
    user: User,
    adjustment: Adjustment,
    approve: bool,
    reason: str,
    now: datetime,
) -> Adjustment:
    """Approve or reject a record awaiting approval. Whoever entered it
    cannot decide on it; a rejection says why."""
    locked = (
        Adjustment.objects.select_for_update()
        .select_related("unit", "rule")
        .get(pk=adjustment.pk)
    )
    if not access.may_enter_adjustment(user, locked.unit):
        raise PermissionDenied
    if locked.state != AdjustmentState.PROPOSED:
        raise ValidationError(
            _("This record was already %(state)s.")
            % {"state": locked.get_state_display().lower()}
        )
    if locked.entered_by_id is not None and locked.entered_by_id == user.pk:
        raise ValidationError(
            _("You entered this record: another reviewer approves or rejects it.")
        )
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationError({"decision_reason": _("Say why it is rejected.")})
    locked.state = AdjustmentState.APPROVED if approve else AdjustmentState.REJECTED
    locked.decided_by = user
    locked.decided_at = now
    locked.decision_reason = reason
    locked._history_user = user  # type: ignore[attr-defined]
    locked.save()
    return locked


@transaction.atomic
def adjustments_approve_many(
    *, user: User, adjustments: QuerySet[Adjustment], now: datetime
) -> list[Adjustment]:
    """Approve several records at once (the proposed bonuses of a year, say),
    each as ``adjustment_decide`` would: the same permission and the same four
    eyes. All or nothing: when one of them cannot be approved, none is, and
    the error names each one that could not, by unit and rule."""
    records = list(adjustments.select_related("unit", "rule").order_by("pk"))
    if not records:
        raise ValidationError(_("Tick the records to approve."))
    approved: list[Adjustment] = []
    problems: list[str] = []
    for record in records:
        try:
            approved.append(
                adjustment_decide(
                    user=user, adjustment=record, approve=True, reason="", now=now
                )
            )
        except (PermissionDenied, ValidationError) as exc:
            why = (
                "; ".join(exc.messages)
                if isinstance(exc, ValidationError)
                else _("you do not review this unit")
            )
            problems.append(
                _("%(unit)s, “%(rule)s”: %(why)s")
                % {"unit": record.unit.name, "rule": record.rule.title, "why": why}
            )
    if problems:
        raise ValidationError(
            [_("Nothing was approved. Untick these records and try again:"), *problems]
        )
    return approved
