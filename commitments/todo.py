"""Commitments' items of the to-do home (settings.TODO_PROVIDERS): the unit's
commitment to sign and its manual targets to report; the reviewers' reports
to check and the commitments to counter-sign. Four queries at most."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commitments.access import OVERSIGHT
from commitments.models import (
    CheckState,
    Commitment,
    CommitmentState,
    IndicatorKind,
    Target,
)
from commitments.organisation.access import UNIT_EDIT_ROLES, memberships, units_q
from commitments.organisation.models import Role
from commitments.organisation.todo import TodoItem, TodoLine

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

LINES = 5


def items(user: AnyUser, *, today: date) -> list[TodoItem]:
    roles = {role for role, _path in memberships(user)}
    found: list[TodoItem] = []
    if roles & UNIT_EDIT_ROLES:
        found += unit_items(user, today=today)
    if roles & OVERSIGHT:
        found += oversight_items(user)
    return found


def _own_paths(user: AnyUser) -> list[str]:
    return [path for role, path in memberships(user) if role in UNIT_EDIT_ROLES]


def unit_items(user: AnyUser, *, today: date) -> list[TodoItem]:
    """This year's (and next year's, once drafted) commitments of the user's
    units still to sign, and their manual targets to report."""
    found: list[TodoItem] = []
    paths = _own_paths(user)
    is_head = any(role == Role.UNIT_HEAD for role, _path in memberships(user))
    for commitment in (
        Commitment.objects.filter(unit__path__in=paths, year__gte=today.year)
        .exclude(state=CommitmentState.COUNTERSIGNED)
        .select_related("unit")
        .order_by("year", "unit__name")
    ):
        names = {"year": commitment.year, "unit": commitment.unit.name}
        if commitment.state == CommitmentState.DRAFT:
            found.append(
                TodoItem(
                    key="commitment_sign",
                    nav="commitments",
                    title=_("Commitment %(year)d of %(unit)s: waiting for signature")
                    % names,
                    detail=_("Check the targets, then sign and attach the scan.")
                    if is_head
                    else _("Check the targets; the head signs it."),
                    url=commitment.get_absolute_url(),
                )
            )
        else:
            found.append(
                TodoItem(
                    key="commitment_signed",
                    nav="commitments",
                    title=_(
                        "Commitment %(year)d of %(unit)s: waiting for the level "
                        "above to counter-sign"
                    )
                    % names,
                    url=commitment.get_absolute_url(),
                    count=0,
                )
            )
    to_report = list(
        Target.objects.filter(
            commitment__unit__path__in=paths,
            commitment__year=today.year,
            commitment__state__in=[
                CommitmentState.SIGNED,
                CommitmentState.COUNTERSIGNED,
            ],
            indicator__kind=IndicatorKind.MANUAL,
            met__isnull=True,
        )
        .filter(Q(reported_value__isnull=True) | Q(check_state=CheckState.REJECTED))
        .select_related("indicator", "commitment__unit")
        .order_by("commitment__unit__name", "position")
    )
    if to_report:
        rejected = sum(1 for t in to_report if t.check_state == CheckState.REJECTED)
        found.append(
            TodoItem(
                key="reports",
                nav="commitments",
                title=ngettext(
                    "%(n)d target to report",
                    "%(n)d targets to report",
                    len(to_report),
                )
                % {"n": len(to_report)},
                detail=ngettext(
                    "%(n)d report was rejected: report it again.",
                    "%(n)d reports were rejected: report them again.",
                    rejected,
                )
                % {"n": rejected}
                if rejected
                else "",
                url=to_report[0].commitment.get_absolute_url(),
                count=len(to_report),
                urgent=bool(rejected),
                lines=tuple(
                    TodoLine(
                        label=target.indicator.name,
                        url=target.commitment.get_absolute_url(),
                        note=_("rejected")
                        if target.check_state == CheckState.REJECTED
                        else "",
                    )
                    for target in to_report[:LINES]
                ),
            )
        )
    return found


def oversight_items(user: AnyUser) -> list[TodoItem]:
    found: list[TodoItem] = []
    if any(role == Role.REVIEWER for role, _path in memberships(user)):
        checks = list(
            Target.objects.filter(
                check_state=CheckState.PENDING,
                reported_value__isnull=False,
                met__isnull=True,
            )
            .filter(
                units_q(
                    user, roles=frozenset({Role.REVIEWER}), prefix="commitment__unit__"
                )
            )
            .values("commitment_id", "commitment__unit__name", "commitment__year")
            .annotate(n=Count("pk"))
            .order_by("commitment__unit__name")
        )
        if checks:
            total = sum(row["n"] for row in checks)
            found.append(
                TodoItem(
                    key="reports_to_check",
                    nav="commitments",
                    title=ngettext(
                        "%(n)d reported value to check",
                        "%(n)d reported values to check",
                        total,
                    )
                    % {"n": total},
                    url=reverse(
                        "commitment_detail", kwargs={"pk": checks[0]["commitment_id"]}
                    ),
                    count=total,
                    lines=tuple(
                        TodoLine(
                            label="{} ({})".format(
                                row["commitment__unit__name"], row["commitment__year"]
                            ),
                            url=reverse(
                                "commitment_detail", kwargs={"pk": row["commitment_id"]}
                            ),
                            note=str(row["n"]),
                        )
                        for row in checks[:LINES]
                    ),
                )
            )
    # Counter-signed by the level above; never by whoever took part in the
    # head's signature (commitments.access.may_countersign).
    countersign = (
        Commitment.objects.filter(state=CommitmentState.SIGNED)
        .filter(units_q(user, roles=OVERSIGHT, prefix="unit__parent__"))
        .exclude(signing_recorded_by_id=user.pk)
        .exclude(head__user_id=int(user.pk or 0))
        .select_related("unit")
        .order_by("signed_on", "pk")
    )
    # Always counted: the same queries whether five wait or fifty.
    count = countersign.count()
    waiting = list(countersign[:LINES]) if count else []
    if waiting:
        found.append(
            TodoItem(
                key="countersign",
                nav="commitments",
                title=ngettext(
                    "%(n)d commitment to counter-sign",
                    "%(n)d commitments to counter-sign",
                    count,
                )
                % {"n": count},
                url=reverse("commitment_list") + f"?state={CommitmentState.SIGNED}",
                count=count,
                lines=tuple(
                    TodoLine(
                        label=f"{c.unit.name} ({c.year})",
                        url=c.get_absolute_url(),
                    )
                    for c in waiting[:LINES]
                ),
            )
        )
    return found
