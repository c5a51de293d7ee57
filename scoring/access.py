"""Who may see, fill in and appraise which assessment. Built on
commitments.access: the unit's own staff and head fill in; the reviewers whose
jurisdiction holds the unit (below their own unit: nobody appraises their own
unit) appraise; leaders of the jurisdiction read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from commitments.access import UNIT_EDIT_ROLES, memberships, scope_queryset
from commitments.models import Role
from scoring.models import Assessment

if TYPE_CHECKING:
    from commitments.access import AnyUser


def assessments_visible(
    user: AnyUser, queryset: QuerySet[Assessment] | None = None
) -> QuerySet[Assessment]:
    queryset = Assessment.objects.all() if queryset is None else queryset
    return scope_queryset(user, queryset)


def _holds(user: AnyUser, assessment: Assessment, roles: frozenset[str]) -> bool:
    path = assessment.unit.path
    return any(
        role in roles and unit_path == path for role, unit_path in memberships(user)
    )


def may_fill_in(user: AnyUser, assessment: Assessment) -> bool:
    """The unit's own staff and head enter self scores and evidence."""
    return user.is_active and _holds(user, assessment, UNIT_EDIT_ROLES)


def may_submit(user: AnyUser, assessment: Assessment) -> bool:
    """The head submits (DOMAIN.md: the unit head approves and submits)."""
    return user.is_active and _holds(user, assessment, frozenset({Role.UNIT_HEAD}))


def reviewer_q(user: AnyUser, prefix: str = "unit__") -> Q:
    """Units a user appraises: strictly below a unit where they are a
    reviewer; every unit for a superuser."""
    if not (user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    q = Q(pk__in=[])
    for role, unit_path in memberships(user):
        if role == Role.REVIEWER:
            q |= Q(**{f"{prefix}path__startswith": unit_path}) & ~Q(
                **{f"{prefix}path": unit_path}
            )
    return q


def may_review(user: AnyUser, assessment: Assessment) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    path = assessment.unit.path
    return any(
        role == Role.REVIEWER and path.startswith(unit_path) and path != unit_path
        for role, unit_path in memberships(user)
    )


def reviewable(user: AnyUser, queryset: QuerySet[Assessment]) -> QuerySet[Assessment]:
    return queryset.filter(reviewer_q(user))
