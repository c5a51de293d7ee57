"""Who may see and change which units. Every queryset a user can reach is
filtered through here; an object outside the user's scope answers 404."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from commitments.organisation.models import SUBTREE_ROLES, Membership, Role, Unit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser

ALL_ROLES = frozenset(Role)
# Roles that may change a unit's own records (self-assessment, evidence, …).
UNIT_EDIT_ROLES = frozenset({Role.UNIT_STAFF, Role.UNIT_HEAD})
# Roles that may write records for a unit: its own people, and the reviewers
# whose jurisdiction it lies in (case imports, and later appraisal).
RECORD_WRITE_ROLES = UNIT_EDIT_ROLES | {Role.REVIEWER}


def user_roles(user: AnyUser) -> frozenset[str]:
    """The roles a user holds in any unit (cached on the user for the request)."""
    return frozenset(role for role, _ in memberships(user))


def units_q(user: AnyUser, *, roles: frozenset[str] = ALL_ROLES, prefix: str = "") -> Q:
    """A filter on Unit (or, with ``prefix="unit__"``, on anything with a unit
    foreign key) matching the units the user reaches through ``roles``.

    Superusers reach every unit. A user with no matching membership reaches none.
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    q = Q(pk__in=[]) if not prefix else Q(**{f"{prefix}pk__in": []})
    for role, unit_path in memberships(user):
        if role not in roles:
            continue
        if role in SUBTREE_ROLES:
            q |= Q(**{f"{prefix}path__startswith": unit_path})
        else:
            q |= Q(**{f"{prefix}path": unit_path})
    return q


def reaches(
    user: AnyUser, unit: Unit | None, roles: frozenset[str] = ALL_ROLES
) -> bool:
    """Does the user reach ``unit`` through ``roles``? units_q's rule on the
    unit's path, in Python: no query once the memberships are read, so a page
    asking it for every row costs nothing more."""
    if unit is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(
        role in roles
        and (unit.path.startswith(path) if role in SUBTREE_ROLES else unit.path == path)
        for role, path in memberships(user)
    )


def attached(user: AnyUser, unit: Unit | None, role: str) -> bool:
    """Does the user hold ``role`` on exactly this unit (not one above it)?"""
    if unit is None or not user.is_authenticated or not user.is_active:
        return False
    return any(r == role and path == unit.path for r, path in memberships(user))


def units_visible_to(user: AnyUser) -> QuerySet[Unit]:
    return Unit.objects.filter(units_q(user))


def scope_queryset[M: Model](
    user: AnyUser,
    queryset: QuerySet[M],
    *,
    unit_field: str = "unit",
    roles: frozenset[str] = ALL_ROLES,
) -> QuerySet[M]:
    """Restrict any queryset whose rows belong to a unit to what the user may see."""
    return queryset.filter(units_q(user, roles=roles, prefix=f"{unit_field}__"))


def get_scoped_or_404[M: Model](
    user: AnyUser,
    queryset: QuerySet[M],
    *,
    unit_field: str = "unit",
    roles: frozenset[str] = ALL_ROLES,
    **lookup: Any,
) -> M:
    """The object, or 404 when it does not exist *or* lies outside the user's
    scope: another unit's object must not even be confirmed to exist."""
    scoped = (
        queryset.filter(units_q(user, roles=roles))
        if queryset.model is Unit
        else scope_queryset(user, queryset, unit_field=unit_field, roles=roles)
    )
    try:
        return scoped.get(**lookup)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


def access_unit(user: AnyUser, code: str) -> Unit:
    return get_scoped_or_404(user, Unit.objects.select_related("parent"), code=code)


def can_edit_unit(user: AnyUser, unit: Unit) -> bool:
    """Staff and heads change their own unit's records; reviewers oversee (and
    change) those of their jurisdiction; superusers administer everything."""
    return Unit.objects.filter(
        units_q(user, roles=RECORD_WRITE_ROLES), pk=unit.pk
    ).exists()


def may_write_organisation(user: AnyUser) -> bool:
    """Units and heads are the administrators' (superusers'): in /admin/, by
    the import_units and import_heads commands and by the API's bulk upsert."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def unit_ids_writable_by(user: AnyUser) -> set[int] | None:
    """The ids of the units whose records ``user`` may write; None for all
    (a superuser)."""
    if user.is_superuser and user.is_active:
        return None
    return set(
        Unit.objects.filter(units_q(user, roles=RECORD_WRITE_ROLES)).values_list(
            "pk", flat=True
        )
    )


def memberships(user: AnyUser) -> list[tuple[str, str]]:
    """(role, unit path) of each of the user's memberships, read once per request."""
    if not user.is_authenticated:
        return []
    cached: list[tuple[str, str]] | None = getattr(user, "_cchc_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user_id=user.pk).values_list("role", "unit__path")
        )
        user._cchc_memberships = cached  # type: ignore[attr-defined]
    return cached
