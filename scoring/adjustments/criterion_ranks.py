"""The province's ranks on the criteria of the national indices (PAR INDEX,
PCI), with the department responsible for each (seed 004).

A Home Affairs reviewer copies them from the national results every year; the
computation compares a year with the one before and proposes a bonus to the
department whose criterion climbed (scoring.results.computation.
criterion_rank_proposals). Frameworks managers write them, for the
departments they review."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from commitments.organisation.models import Unit, UnitKind
from scoring import access
from scoring.frameworks import services as frameworks
from scoring.models import CriterionRank

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

CODE_WIDTH = CriterionRank._meta.get_field("code").max_length or 20
TITLE_WIDTH = CriterionRank._meta.get_field("title").max_length or 255
# PositiveSmallIntegerField; a country has far fewer provinces.
MAX_RANK = 32767


# --- who may do what ------------------------------------------------------------------


def owners_for(user: AnyUser) -> QuerySet[Unit]:
    """The departments a user may name as responsible: those they review."""
    return Unit.objects.filter(
        access.reviewer_q(user, prefix=""), kind=UnitKind.DEPARTMENT
    )


def ranks_visible(user: AnyUser) -> QuerySet[CriterionRank]:
    """The ranks whose responsible department the user reviews; nothing for
    anyone who does not manage frameworks."""
    if not access.is_reviewer(user):
        return CriterionRank.objects.none()
    return CriterionRank.objects.filter(access.reviewer_q(user, prefix="owner_unit__"))


def _check_writer(user: AnyUser) -> None:
    if not access.is_reviewer(user):
        raise PermissionDenied


# --- reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class RankRow:
    """One criterion of a year, beside the same criterion a year before.
    ``change`` is positive when the province climbed (rank 5 → 3: +2)."""

    rank: CriterionRank
    previous: int | None

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.previous - self.rank.rank

    @property
    def fall(self) -> int:
        """Places lost (0 unless the rank fell)."""
        return max(0, -(self.change or 0))

    @property
    def improved(self) -> bool:
        return self.change is not None and self.change > 0


def rank_rows(user: AnyUser, year: int) -> list[RankRow]:
    """The year's ranks the user sees, each with last year's rank of the same
    index and criterion code (two queries)."""
    current = list(
        ranks_visible(user)
        .filter(year=year)
        .select_related("owner_unit")
        .order_by("index", "code")
    )
    before = {
        (index, code): rank
        for index, code, rank in CriterionRank.objects.filter(
            year=year - 1, index__in={row.index for row in current}
        ).values_list("index", "code", "rank")
    }
    return [RankRow(row, before.get((row.index, row.code))) for row in current]


def rank_years(user: AnyUser) -> list[int]:
    return sorted(
        set(ranks_visible(user).values_list("year", flat=True).distinct()),
        reverse=True,
    )


# --- writing --------------------------------------------------------------------------


def _whole(value: object, *, low: int, high: int) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


@transaction.atomic
def criterion_rank_upsert(
    *,
    user: AnyUser,
    instance: CriterionRank | None,
    year: object,
    index: str,
    code: str,
    title: str,
    rank: object,
    owner_unit: Unit | None,
) -> CriterionRank:
    """Enter a criterion's rank for a year (``instance`` None) or correct one.
    One row per year, index and criterion code; the responsible unit is a
    department the user reviews."""
    _check_writer(user)
    if instance is not None and not ranks_visible(user).filter(pk=instance.pk).exists():
        raise PermissionDenied
    errors: dict[str, str] = {}
    year_value = _whole(year, low=frameworks.FIRST_YEAR, high=frameworks.LAST_YEAR)
    if year_value is None:
        errors["year"] = _("The year is a whole number from %(low)d to %(high)d.") % {
            "low": frameworks.FIRST_YEAR,
            "high": frameworks.LAST_YEAR,
        }
    if index not in CriterionRank.IndexName.values:
        errors["index"] = _("Choose PAR INDEX or PCI.")
    # Upper case, as the national results write them: the computation
    # matches a criterion with last year's by its exact code.
    code = code.strip().upper()
    if not code:
        errors["code"] = _(
            "Give the criterion's code, as the national results write it."
        )
    elif len(code) > CODE_WIDTH:
        errors["code"] = _("A criterion code has at most %(width)d characters.") % {
            "width": CODE_WIDTH
        }
    title = title.strip()
    if not title:
        errors["title"] = _("Name the criterion.")
    elif len(title) > TITLE_WIDTH:
        errors["title"] = _("A criterion's name has at most %(width)d characters.") % {
            "width": TITLE_WIDTH
        }
    rank_value = _whole(rank, low=1, high=MAX_RANK)
    if rank_value is None:
        errors["rank"] = _("The rank is a whole number, 1 or more.")
    if owner_unit is None:
        errors["owner_unit"] = _("Choose the department responsible for it.")
    elif owner_unit.kind != UnitKind.DEPARTMENT:
        errors["owner_unit"] = _(
            "%(unit)s is not a department: a criterion's rank belongs to the "
            "department responsible for it."
        ) % {"unit": owner_unit.name}
    elif not owners_for(user).filter(pk=owner_unit.pk).exists():
        raise PermissionDenied
    if year_value is not None and "index" not in errors and "code" not in errors:
        taken = CriterionRank.objects.filter(
            year=year_value, index=index, code__iexact=code
        )
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if taken.exists():
            errors["code"] = _(
                "The %(index)s ranks of %(year)d already hold criterion %(code)s."
            ) % {
                "index": CriterionRank.IndexName(index).label,
                "year": year_value,
                "code": code,
            }
    if errors:
        raise ValidationError(errors)
    assert year_value is not None
    assert rank_value is not None
    assert owner_unit is not None
    row = instance if instance is not None else CriterionRank()
    row.year, row.index, row.code, row.title = year_value, index, code, title
    row.rank, row.owner_unit = rank_value, owner_unit
    try:
        # Two people entering the same criterion at once: the second is told,
        # as if it had been there already.
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"code": _("This criterion was entered meanwhile: reload the list.")}
        ) from exc
    return row


@transaction.atomic
def criterion_rank_delete(*, user: AnyUser, rank: CriterionRank) -> None:
    _check_writer(user)
    if not ranks_visible(user).filter(pk=rank.pk).exists():
        raise PermissionDenied
    rank.delete()
