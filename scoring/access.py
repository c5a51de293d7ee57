"""Who may see, fill in and appraise which assessment, and who manages a
framework. Built on commitments.organisation.access: the unit's own staff and head fill
in; the reviewers whose jurisdiction holds the unit (below their own unit:
nobody appraises their own unit) appraise; leaders of the jurisdiction read.

A framework is the province's, for every unit of its kind: changing it
(settings and deadline, items, tiers, the catalogue of deductions and
bonuses, opening, copying, importing) is for a reviewer who appraises every
one of those units, as publishing the year's results is for one who
appraises every unit assessed (``reviews_every`` is that one test). A city's
Phòng Nội vụ appraises its communes but does not set the departments'
deadline.

Every ``may_*`` of scoring lives here (accountability's, for now, in
scoring.accountability.services), each written once and made of a few
tests: ``is_reviewer`` (a Home Affairs reviewer of some unit),
``reviews_unit`` (a reviewer above this unit; ``reviewer_q`` in a query) and
``reviews_every``. The services call them and refuse (PermissionDenied);
views ask them only to choose what a page shows, or to refuse before reading
anything else."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from commitments.organisation.access import (
    UNIT_EDIT_ROLES,
    memberships,
    reaches,
    scope_queryset,
    user_roles,
)
from commitments.organisation.models import Role, Unit, UnitKind
from scoring.models import Assessment, Framework

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

# Who opens the leaders' dashboard (and sees it in the menu).
DASHBOARD_ROLES = frozenset({Role.REVIEWER, Role.LEADER})


def assessments_visible(
    user: AnyUser, queryset: QuerySet[Assessment] | None = None
) -> QuerySet[Assessment]:
    queryset = Assessment.objects.all() if queryset is None else queryset
    return scope_queryset(user, queryset)


# --- the tests the others are made of --------------------------------------------


def is_reviewer(user: AnyUser) -> bool:
    """A Home Affairs reviewer of some unit, or a superuser: who reaches the
    reviewers' pages (frameworks being prepared, deductions and bonuses,
    criterion ranks, provisional results, the units not started). Which
    units they appraise is ``reviews_unit`` (``reviewer_q`` in a query)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or Role.REVIEWER in user_roles(user)


def reviews_unit(user: AnyUser, unit: Unit) -> bool:
    """Does the user appraise ``unit``: a reviewer strictly below whose unit
    it lies (nobody appraises their own unit), or a superuser?
    ``reviewer_q``'s rule in Python: no query once the memberships are read."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    path = unit.path
    return any(
        role == Role.REVIEWER and path.startswith(unit_path) and path != unit_path
        for role, unit_path in memberships(user)
    )


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


def reviews_every(
    user: AnyUser, queryset: QuerySet[Any], *, prefix: str = "unit__"
) -> bool:
    """Does the user appraise every row of ``queryset`` (a row's unit reached
    through ``prefix``; "" for units themselves)? Superusers do. The one
    coverage test behind publishing a year and managing a framework."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return not queryset.exclude(reviewer_q(user, prefix=prefix)).exists()


def _holds(user: AnyUser, unit: Unit, roles: frozenset[str]) -> bool:
    return any(
        role in roles and unit_path == unit.path
        for role, unit_path in memberships(user)
    )


# --- assessments -------------------------------------------------------------------


def may_start(user: AnyUser, unit: Unit) -> bool:
    """The unit's own staff and head open its assessment."""
    return user.is_active and _holds(user, unit, UNIT_EDIT_ROLES)


def may_fill_in(user: AnyUser, assessment: Assessment) -> bool:
    """The unit's own staff and head enter self scores and evidence."""
    return may_start(user, assessment.unit)


def may_submit(user: AnyUser, assessment: Assessment) -> bool:
    """The head submits (DOMAIN.md: the unit head approves and submits)."""
    return user.is_active and _holds(user, assessment.unit, frozenset({Role.UNIT_HEAD}))


def may_review(user: AnyUser, assessment: Assessment) -> bool:
    """Reviewers above the unit appraise, return, approve, extend and decide
    contests."""
    return reviews_unit(user, assessment.unit)


def reviewable(user: AnyUser, queryset: QuerySet[Assessment]) -> QuerySet[Assessment]:
    return queryset.filter(reviewer_q(user))


def may_see_not_started(user: AnyUser) -> bool:
    """The units not started and their reminders: reviewers (for the units
    they appraise) and superusers."""
    return is_reviewer(user)


# --- deductions and bonuses -------------------------------------------------------


def may_enter_adjustment(user: AnyUser, unit: Unit) -> bool:
    """A deduction or bonus of a unit is entered and decided by its reviewers
    (Home Affairs above it) and superusers."""
    return reviews_unit(user, unit)


# --- results --------------------------------------------------------------------------


def may_see_provisional(user: AnyUser) -> bool:
    """Provisional results and runs are the reviewers' working figures (for
    the units they appraise); the published ones are everyone's."""
    return is_reviewer(user)


def may_explain_published(user: AnyUser, unit: Unit) -> bool:
    """A published result's explanation: the unit's own people and those
    above it (leaders, reviewers)."""
    return reaches(user, unit)


def may_explain_provisional(user: AnyUser, unit: Unit) -> bool:
    """A provisional explanation is for the reviewers of the unit."""
    return reviews_unit(user, unit)


def may_run(user: AnyUser, year: int) -> bool:
    """Computing and publishing a year's results is for the Home Affairs
    reviewers who review every unit assessed that year, and superusers: a
    city's reviewer appraises its communes but does not publish the
    province's rankings."""
    if not is_reviewer(user):
        return False
    return reviews_every(user, Assessment.objects.filter(framework__year=year))


def may_use_dashboard(user: AnyUser) -> bool:
    """The leaders' dashboard: reviewers, leaders and superusers."""
    return user.is_authenticated and (
        user.is_superuser or bool(user_roles(user) & DASHBOARD_ROLES)
    )


# --- frameworks -------------------------------------------------------------------


def framework_units(*, year: int, unit_kind: str) -> QuerySet[Unit]:
    """The units a framework of that year and kind is for: those of the kind
    valid on some day of the year (a unit merged away in June was assessed
    against it too)."""
    return Unit.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=date(year, 1, 1)),
        kind=unit_kind,
        valid_from__lte=date(year, 12, 31),
    )


def may_list_frameworks(user: AnyUser) -> bool:
    """The list of frameworks: reviewers and superusers (every framework),
    anyone with a role in a unit (the open ones of their kinds of unit)."""
    return is_reviewer(user) or bool(user_roles(user))


def may_manage_frameworks_of(user: AnyUser, *, year: int, unit_kind: str) -> bool:
    """May the user create, change, open, copy into or import the framework
    of ``year`` for ``unit_kind``? A superuser, or a reviewer who appraises
    every unit of the kind that year. While the province has no unit of the
    kind, nobody's jurisdiction is tested by them: then it takes a reviewer of
    the whole province (every unit below its top), never a city's by default."""
    if not is_reviewer(user):
        return False
    if user.is_superuser:
        return True
    units = framework_units(year=year, unit_kind=unit_kind)
    if not units.exists():
        units = Unit.objects.filter(parent__isnull=False)
    return reviews_every(user, units, prefix="")


def may_manage_framework(user: AnyUser, framework: Framework) -> bool:
    return may_manage_frameworks_of(
        user, year=framework.year, unit_kind=framework.unit_kind
    )


def framework_refusal(unit_kind: str) -> str:
    """Why a reviewer may read a framework but not change it."""
    kind = UnitKind(unit_kind).label if unit_kind in UnitKind.values else unit_kind
    return _(
        "Only a Home Affairs reviewer whose jurisdiction covers every unit of "
        "the kind “%(kind)s” in the province, or an administrator, manages "
        "the frameworks of that kind."
    ) % {"kind": kind}


def check_manage_framework(user: AnyUser, *, year: int, unit_kind: str) -> None:
    """PermissionDenied, with the reason, unless may_manage_frameworks_of."""
    if not may_manage_frameworks_of(user, year=year, unit_kind=unit_kind):
        raise PermissionDenied(framework_refusal(unit_kind))
