"""Closing the year's cycle after the deadline (DOMAIN.md section 5; issue 17,
item 9): no single unit may hold back the province's publication.

Once a framework's deadline has passed, every assessment of it that is not
submitted is taken for appraisal as it stands:

- a draft (never submitted: not started, or started and left) becomes
  submitted and is marked late ("quá hạn"); the lateness is a fact the
  catalogue deducts for (rule ``late_submission``, proposed by the
  computation and decided with four eyes like the other proposals);
- a returned assessment (submitted on time, sent back for revision and not
  resubmitted) goes back to the reviewer as it stands, not marked late: it
  was submitted by the deadline;
- a unit of the kind without an assessment (it appeared after the framework
  was opened) gets an empty one first, then is taken like a draft;
- an assessment whose extension still runs is left alone: the beat takes it
  the day after its extension ends.

A Home Affairs reviewer who manages the framework closes it from its page;
the daily beat does the same for every open framework the day after its
deadline (``cycles_close_due``). Closing twice changes nothing the second
time: the states are moved with the rows locked, and only the ones still
not submitted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from scoring import access
from scoring.assessments import services
from scoring.models import Assessment, AssessmentState, Framework, FrameworkState

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

NOT_SUBMITTED = (AssessmentState.DRAFT, AssessmentState.RETURNED)


@dataclass
class Closing:
    """What closing did: assessments taken late (never submitted), taken back
    from a return, created empty, and the units whose extension still runs."""

    late: int = 0
    returned: int = 0
    created: int = 0
    waiting: list[str] = field(default_factory=list)

    @property
    def taken(self) -> int:
        return self.late + self.returned


def closable(framework: Framework, today: date) -> bool:
    """Open, and its deadline passed (the deadline day is the units' own:
    "chậm nhất là ngày 7/1", seed 004)."""
    return (
        framework.state == FrameworkState.OPEN
        and framework.deadline is not None
        and today > framework.deadline
    )


@transaction.atomic
def cycle_close(
    *, user: AnyUser | None, framework: Framework, now: datetime, today: date
) -> Closing:
    """Take every assessment of the framework not submitted by its deadline
    for appraisal (see the module). ``user`` None: the beat."""
    locked = Framework.objects.select_for_update().get(pk=framework.pk)
    if user is not None and not access.may_manage_framework(user, locked):
        raise PermissionDenied(access.framework_refusal(locked.unit_kind))
    if locked.state != FrameworkState.OPEN:
        raise ValidationError(
            _("Only an open framework's cycle can be closed; this one is %(state)s.")
            % {"state": locked.get_state_display().lower()}
        )
    if locked.deadline is None or today <= locked.deadline:
        raise ValidationError(
            _(
                "The cycle closes once its deadline has passed: units may submit "
                "until the end of %(deadline)s."
            )
            % {
                "deadline": locked.deadline.strftime("%d/%m/%Y")
                if locked.deadline
                else "—"
            }
        )
    # Imported here: frameworks.services imports the assessments' services.
    from scoring.frameworks.services import units_to_assess

    outcome = Closing()
    outcome.created = services.assessments_open(
        framework=locked, units=list(units_to_assess(locked, today))
    )
    pending = list(
        Assessment.objects.select_for_update(of=("self",))
        .select_related("unit")
        .filter(framework=locked, state__in=NOT_SUBMITTED)
        .order_by("unit__path")
    )
    taken = []
    for assessment in pending:
        if assessment.extended_until is not None and today <= assessment.extended_until:
            outcome.waiting.append(assessment.unit.name)
            continue
        if assessment.state == AssessmentState.DRAFT:
            assessment.late = True
            outcome.late += 1
        else:
            outcome.returned += 1
        assessment.state = AssessmentState.SUBMITTED
        assessment.round += 1
        assessment.closed_at = now
        assessment.closed_by_id = user.pk if user is not None else None
        assessment.updated_at = now
        taken.append(assessment)
    if taken:
        bulk_update_with_history(
            taken,
            Assessment,
            ["state", "round", "late", "closed_at", "closed_by", "updated_at"],
            default_user=user,
            default_change_reason="cycle closed",
        )
    if locked.closed_at is None:
        locked.closed_at = now
        locked.save(update_fields=["closed_at"])
    return outcome


def frameworks_due(today: date) -> list[int]:
    """Open frameworks whose deadline has passed and that still hold an
    assessment not submitted (or whose cycle was never closed)."""
    due = Framework.objects.filter(state=FrameworkState.OPEN, deadline__lt=today)
    return sorted(
        due.filter(Q(closed_at__isnull=True) | Q(assessments__state__in=NOT_SUBMITTED))
        .values_list("pk", flat=True)
        .distinct()
    )
