"""Writes to the organisation. Each runs in one transaction and validates the
row the way a form would, so the demo, imports and the admin obey the same rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.contrib.auth.models import User
from django.db import transaction

from commitments.organisation.models import (
    Head,
    HeadPosition,
    Membership,
    RankingGroup,
    Unit,
    UnitKind,
)


@transaction.atomic
def ranking_group_upsert(*, code: str, name: str) -> RankingGroup:
    group, _ = RankingGroup.objects.update_or_create(code=code, defaults={"name": name})
    return group


@transaction.atomic
def unit_upsert(
    *,
    code: str,
    name: str,
    kind: UnitKind | str,
    valid_from: date,
    parent: Unit | None = None,
    ranking_group: RankingGroup | None = None,
    valid_to: date | None = None,
    predecessors: Iterable[Unit] = (),
    office_function: str = "",
) -> Unit:
    """Create the unit with this code, or bring an existing one up to date
    (``office_function``: what a specialised office does, blank otherwise)."""
    unit = Unit.objects.select_for_update().filter(code=code).first() or Unit(code=code)
    unit.name = name
    unit.kind = kind
    unit.office_function = office_function
    unit.parent = parent
    unit.ranking_group = ranking_group
    unit.valid_from = valid_from
    unit.valid_to = valid_to
    unit.full_clean(validate_unique=False)
    unit.save()
    if predecessors:
        unit.predecessors.set(predecessors)
    return unit


@transaction.atomic
def head_upsert(
    *,
    unit: Unit,
    full_name: str,
    tenure_from: date,
    tenure_to: date | None = None,
    title: str = "",
    position: HeadPosition | str = HeadPosition.HEAD,
    user: User | None = None,
) -> Head:
    """Record a tenure, keyed by unit, person, position and start date.

    The unit row is locked first, so two concurrent appointments to the same
    unit are checked one after the other rather than both passing the overlap
    check."""
    Unit.objects.select_for_update().filter(pk=unit.pk).first()
    head = Head.objects.filter(
        unit=unit, full_name=full_name, position=position, tenure_from=tenure_from
    ).first() or Head(
        unit=unit, full_name=full_name, position=position, tenure_from=tenure_from
    )
    head.tenure_to = tenure_to
    head.title = title
    head.user = user
    head.full_clean()
    head.save()
    return head


@transaction.atomic
def user_upsert(
    *,
    username: str,
    full_name: str,
    password: str,
    email: str = "",
    is_superuser: bool = False,
) -> User:
    user = User.objects.filter(username=username).first() or User(username=username)
    # Django joins first and last name Western style; a Vietnamese name is kept
    # whole, family name first, so that it reads the way officials write it.
    user.first_name, user.last_name = full_name, ""
    user.email = email
    user.is_superuser = is_superuser
    user.is_staff = is_superuser
    user.is_active = True
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def membership_grant(*, user: User, unit: Unit, role: str) -> Membership:
    membership, _ = Membership.objects.get_or_create(user=user, unit=unit, role=role)
    return membership
