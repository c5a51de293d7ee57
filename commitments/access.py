"""Who may do what with commitments: every `may_*` of the app, each asked by
the service that does it (against the commitment as stored) and by the pages
for what they offer. Built on the organisation's scoping
(`commitments.organisation.access`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commitments.models import Commitment, CommitmentState, IndicatorKind, Target
from commitments.organisation.access import (
    RECORD_WRITE_ROLES,
    UNIT_EDIT_ROLES,
    reaches,
    user_roles,
)
from commitments.organisation.models import SUBTREE_ROLES, Role, Unit

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

OVERSIGHT = frozenset({Role.REVIEWER, Role.LEADER})


def may_follow(user: AnyUser) -> bool:
    """Follow many units: the units and heads lists, every target's progress.
    Home Affairs reviewers and leaders (over their subtree), administrators."""
    return user.is_superuser or bool(user_roles(user) & SUBTREE_ROLES)


def may_prepare(user: AnyUser, unit: Unit) -> bool:
    """Draft a unit's commitment and adjust its targets: the unit's own people
    and the reviewers over it."""
    return reaches(user, unit, RECORD_WRITE_ROLES)


def may_create_from_template(user: AnyUser) -> bool:
    """Home Affairs reviewers draft the year's commitments of their units."""
    return user.is_superuser or Role.REVIEWER in user_roles(user)


def may_sign(user: AnyUser, commitment: Commitment) -> bool:
    """Record the head's signature (the signed scan): the unit's own people
    and the reviewers over it."""
    return commitment.state == CommitmentState.DRAFT and may_prepare(
        user, commitment.unit
    )


def is_level_above(user: AnyUser, commitment: Commitment) -> bool:
    """A signed commitment, and a leader or reviewer whose jurisdiction holds
    the unit's parent (or an administrator)."""
    return commitment.state == CommitmentState.SIGNED and reaches(
        user, commitment.unit.parent, OVERSIGHT
    )


def took_part_in_signing(user: AnyUser, commitment: Commitment) -> bool:
    """The account that recorded the head's signature, or the signing head's
    own login: four eyes, so neither counter-signs the same commitment, even
    holding a role above the unit or being an administrator."""
    if not user.is_authenticated:
        return False
    signers = {commitment.signing_recorded_by_id}
    if commitment.head is not None:
        signers.add(commitment.head.user_id)
    return user.pk in signers


def may_countersign(user: AnyUser, commitment: Commitment) -> bool:
    """Another account at the level above than the one that signed."""
    return is_level_above(user, commitment) and not took_part_in_signing(
        user, commitment
    )


def may_make_optional(user: AnyUser, unit: Unit) -> bool:
    """Decide whether a unit's target is mandatory: Home Affairs of the unit's
    jurisdiction (a reviewer strictly above it, as scoring's appraisers) or an
    administrator, never the unit itself, which would escape the two-year rule
    by waiving what it missed."""
    if user.is_superuser and user.is_active:
        # Also for a unit with nothing above it.
        return True
    return reaches(user, unit.parent, frozenset({Role.REVIEWER}))


def may_remove(user: AnyUser, target: Target) -> bool:
    """Remove a target from a draft: a mandatory one only as
    may_make_optional's users (removing it waives it, as the flag would),
    a target Home Affairs already made optional also as the unit's people."""
    unit = target.commitment.unit
    return (
        target.commitment.state == CommitmentState.DRAFT
        and may_prepare(user, unit)
        and (not target.mandatory or may_make_optional(user, unit))
    )


def may_report(user: AnyUser, target: Target) -> bool:
    return (
        target.commitment.signed
        and target.indicator.kind == IndicatorKind.MANUAL
        and target.met is None
        and reaches(user, target.commitment.unit, UNIT_EDIT_ROLES)
    )


def may_check(user: AnyUser, target: Target) -> bool:
    """A reviewer over the unit checks what it reported."""
    return (
        target.reported_value is not None
        and target.met is None
        and reaches(user, target.commitment.unit, frozenset({Role.REVIEWER}))
    )
