"""Writes to commitments and targets: each one transaction, each checking who
may do it and refusing with a message that names the field.

The life of a commitment: created for many units at once from the template
of their kind (a draft), adjusted per unit, signed by the head in office
(date and the signed scan; targets set below last year's own result are
said, and recorded), counter-signed by the level above. A signed commitment's
targets no longer change. During and after the year the unit reports its
manual indicators and a reviewer accepts or rejects each report."""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING

import filetype
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from commitments import access, handovers, progress, rules, signatures
from commitments.models import (
    CheckState,
    Commitment,
    CommitmentState,
    CommitmentTemplate,
    Indicator,
    SignatureCheck,
    Target,
)
from commitments.organisation.access import (
    units_q,
)
from commitments.organisation.models import Head, HeadPosition, Role, Unit
from commitments.organisation.selectors import heads_on

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

logger = logging.getLogger(__name__)

SCAN_TYPES = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
SCAN_MAX_BYTES = 20 * 1024 * 1024


# --- creating from templates -----------------------------------------------------


def due_date(year: int, month: int | None) -> date | None:
    if month is None:
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass
class Created:
    created: list[Commitment] = field(default_factory=list)
    # (unit, why it was left out)
    skipped: list[tuple[Unit, str]] = field(default_factory=list)


@transaction.atomic
def commitments_create(
    *, year: int, template: CommitmentTemplate, units: Iterable[Unit], user: AnyUser
) -> Created:
    """Draft the year's commitment of each unit from the template: units of
    another kind, units not in existence that year and units that already
    have one are left out, each with the reason. A fixed number of queries."""
    if not access.may_create_from_template(user):
        raise PermissionDenied
    units = list(units)
    writable = (
        set(
            Unit.objects.filter(
                units_q(user, roles=frozenset({Role.REVIEWER}))
            ).values_list("pk", flat=True)
        )
        if not user.is_superuser
        else None
    )
    existing = set(
        Commitment.objects.filter(year=year, unit__in=units).values_list(
            "unit_id", flat=True
        )
    )
    start, end = date(year, 1, 1), date(year, 12, 31)
    report = Created()
    chosen = []
    for unit in units:
        if writable is not None and unit.pk not in writable:
            report.skipped.append((unit, _("outside your jurisdiction")))
        elif unit.kind != template.unit_kind:
            report.skipped.append((unit, _("the template is for another kind of unit")))
        elif unit.valid_from > end or (
            unit.valid_to is not None and unit.valid_to < start
        ):
            report.skipped.append(
                (unit, _("the unit does not exist in %(year)s") % {"year": year})
            )
        elif unit.pk in existing:
            report.skipped.append(
                (unit, _("already has a commitment for %(year)s") % {"year": year})
            )
        else:
            chosen.append(unit)
    # With their history rows: the audit trail starts at the draft.
    author = user if user.is_authenticated else None
    commitments = bulk_create_with_history(
        [Commitment(unit=unit, year=year, template=template) for unit in chosen],
        Commitment,
        default_user=author,
    )
    template_targets = list(template.targets.all())
    bulk_create_with_history(
        [
            Target(
                commitment=commitment,
                indicator_id=item.indicator_id,
                comparison=item.comparison,
                value=item.value,
                deadline=due_date(year, item.due_month),
                # Mandatory whatever the template says: a template cannot say
                # why one unit's target would not be; Home Affairs decides
                # that per unit on its draft (target_save), with the reason.
                mandatory=True,
                position=item.position,
            )
            for commitment in commitments
            for item in template_targets
        ],
        Target,
        default_user=author,
    )
    report.created = commitments
    now = timezone.now()
    for commitment in commitments:
        handovers.commitment_drafted(commitment, actor=user, now=now)
    return report


# --- adjusting a draft -------------------------------------------------------------


def _require_draft(commitment: Commitment) -> None:
    if commitment.state != CommitmentState.DRAFT:
        raise ValidationError(
            _("The commitment is signed: its targets no longer change.")
        )


def _check_target(
    commitment: Commitment,
    *,
    value: Decimal,
    deadline: date | None,
    indicator: Indicator,
) -> None:
    errors: dict[str, str] = {}
    if deadline is not None and deadline.year != commitment.year:
        errors["deadline"] = _("The deadline must fall within %(year)s.") % {
            "year": commitment.year
        }
    if value < 0:
        errors["value"] = _("A target cannot be negative.")
    if indicator.unit_label == "%" and value > 100:
        errors["value"] = _("A percentage cannot be above 100.")
    if errors:
        raise ValidationError(errors)


def _set_mandatory(
    target: Target,
    *,
    user: AnyUser,
    unit: Unit,
    mandatory: bool,
    reason: str,
    now: datetime,
) -> None:
    """Make a target optional (with the reason) or mandatory again (no
    reason needed). Only may_make_optional's users; submitting what is
    stored already is no decision and needs no right."""
    reason = reason.strip()
    if mandatory == target.mandatory and (
        mandatory or reason == target.optional_reason
    ):
        return
    if not access.may_make_optional(user, unit):
        raise PermissionDenied(
            _(
                "Only Home Affairs of the unit's jurisdiction or an administrator "
                "decides whether a target is mandatory."
            )
        )
    if mandatory:
        target.mandatory = True
        target.optional_reason = ""
        target.optional_by = None
        target.optional_at = None
        return
    if not reason:
        raise ValidationError(
            {"optional_reason": _("Say why this target is not mandatory.")}
        )
    target.mandatory = False
    target.optional_reason = reason
    target.optional_by = user  # type: ignore[assignment]
    target.optional_at = now


def _check_what_is_measured(
    target: Target,
    *,
    user: AnyUser,
    unit: Unit,
    indicator: Indicator,
    comparison: str,
) -> None:
    """Another indicator or comparison is another target: for a mandatory
    one, the same as removing it (and "at most" a value the unit already
    beats is no warning at signing); for an optional one, Home Affairs'
    reason was about what it measured. So only may_make_optional's users
    change them; the unit removes an optional target and adds another."""
    if (
        indicator.pk == target.indicator_id and comparison == target.comparison
    ) or access.may_make_optional(user, unit):
        return
    field = "indicator" if indicator.pk != target.indicator_id else "comparison"
    raise ValidationError(
        {
            field: _(
                "Only Home Affairs of the unit's jurisdiction or an administrator "
                "changes what a target measures (its indicator or comparison)."
            )
        }
    )


@transaction.atomic
def target_save(
    *,
    commitment: Commitment,
    user: AnyUser,
    indicator: Indicator,
    comparison: str,
    value: Decimal,
    deadline: date | None,
    mandatory: bool | None = None,
    optional_reason: str = "",
    target: Target | None = None,
    now: datetime | None = None,
) -> Target:
    """Add a target to a draft, or change one. A new target is mandatory;
    ``mandatory`` None leaves the flag as stored, and changing it is Home
    Affairs' decision (may_make_optional), a reason required to make it
    optional."""
    # As stored, locked against a signature recorded meanwhile.
    commitment = (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("unit__parent")
        .get(pk=commitment.pk)
    )
    if not access.may_prepare(user, commitment.unit):
        raise PermissionDenied
    _require_draft(commitment)
    if target is not None:
        # The flag and reason as stored, not as the caller's copy says.
        target = commitment.targets.get(pk=target.pk)
        _check_what_is_measured(
            target,
            user=user,
            unit=commitment.unit,
            indicator=indicator,
            comparison=comparison,
        )
    _check_target(commitment, value=value, deadline=deadline, indicator=indicator)
    duplicate = commitment.targets.filter(indicator=indicator)
    if target is not None:
        duplicate = duplicate.exclude(pk=target.pk)
    if duplicate.exists():
        raise ValidationError(
            {"indicator": _("The commitment already has a target for this indicator.")}
        )
    if target is None:
        last = (
            commitment.targets.order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        target = Target(commitment=commitment, position=(last or 0) + 1)
    target.indicator = indicator
    target.comparison = comparison
    target.value = value
    target.deadline = deadline
    if mandatory is not None:
        _set_mandatory(
            target,
            user=user,
            unit=commitment.unit,
            mandatory=mandatory,
            reason=optional_reason,
            now=now or timezone.now(),
        )
    if user.is_authenticated:
        # Who changed it, in the history, whether or not a request is around.
        target._history_user = user  # type: ignore[attr-defined]
    target.save()
    return target


@transaction.atomic
def target_delete(*, target: Target, user: AnyUser, reason: str = "") -> None:
    """Remove a target from a draft. Removing a mandatory one waives it, so
    it is Home Affairs' act (may_make_optional), saying why; the reason and
    who are kept on the history row of the removal (its change reason and
    user), shown in the commitment's history."""
    # As stored, locked against a signature recorded meanwhile.
    commitment = (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("unit__parent")
        .get(pk=target.commitment_id)
    )
    if not access.may_prepare(user, commitment.unit):
        raise PermissionDenied
    _require_draft(commitment)
    # The flag as stored, not as the caller's copy says.
    target = commitment.targets.get(pk=target.pk)
    reason = reason.strip()
    if target.mandatory:
        if not access.may_make_optional(user, commitment.unit):
            raise ValidationError(
                _(
                    "This target is mandatory: only Home Affairs of the unit's "
                    "jurisdiction or an administrator removes it, saying why."
                )
            )
        if not reason:
            raise ValidationError(
                {"reason": _("Say why this mandatory target is removed.")}
            )
    target._change_reason = reason or None  # type: ignore[attr-defined]
    if user.is_authenticated:
        # Who removed it, in the history, whether or not a request is around.
        target._history_user = user  # type: ignore[attr-defined]
    target.delete()


# --- signing -----------------------------------------------------------------------


def head_in_office(unit: Unit, day: date) -> Head | None:
    return (
        heads_on(day=day)
        .filter(unit=unit, position=HeadPosition.HEAD)
        .order_by("-tenure_from")
        .first()
    )


def scan_kind(stream: IO[bytes]) -> str:
    """The scan's extension by its content: PDF, PNG or JPEG only."""
    head = stream.read(8192)
    stream.seek(0)
    guess = filetype.guess(head)
    if guess is None or guess.mime not in SCAN_TYPES:
        raise ValidationError(
            {"scan": _("The signed scan must be a PDF, PNG or JPEG file.")}
        )
    return SCAN_TYPES[guess.mime]


def scan_signatures(
    scan: File, *, extension: str, now: datetime
) -> list[signatures.Verification]:
    """The digital signatures of a signed PDF, checked against the
    deployment's trust roots; none for a plain scan. A signature that does
    not hold is refused on the scan's field."""
    if extension != ".pdf":
        return []
    scan.seek(0)
    data = scan.read()
    scan.seek(0)
    roots, problems = signatures.read_trust_roots(settings.SIGNATURE_TRUST_ROOTS)
    for problem in problems:
        logger.error("SIGNATURE_TRUST_ROOTS: %s", problem)
    try:
        return signatures.verify(
            data,
            trust_roots=roots,
            now=now,
            fetch_revocation=settings.SIGNATURE_FETCH_REVOCATION,
        )
    except signatures.SignatureRefused as exc:
        raise ValidationError({"scan": str(exc)}) from exc


def _signature_check(
    commitment: Commitment,
    found: list[signatures.Verification],
    *,
    signed_on: date,
    now: datetime,
) -> SignatureCheck | None:
    """Keep what the head's signature said: the one whose certificate names
    the head in office on its signing day, else the first (the head signs
    before the level above). Nothing for a plain scan."""
    SignatureCheck.objects.filter(commitment=commitment).delete()
    if not found:
        return None

    def head_on_signing_day(verification: signatures.Verification) -> Head | None:
        day = (
            timezone.localdate(verification.signed_at)
            if verification.signed_at is not None
            else signed_on
        )
        return head_in_office(commitment.unit, day)

    def keep(
        verification: signatures.Verification, head: Head | None, *, is_head: bool
    ) -> SignatureCheck:
        return SignatureCheck.objects.create(
            commitment=commitment,
            status=verification.status,
            reason=verification.reason,
            signer_name=verification.signer_name,
            signer_organisation=verification.signer_organisation,
            issuer_name=verification.issuer_name,
            signed_at=verification.signed_at,
            head=head,
            signer_is_head=is_head,
            checked_at=now,
        )

    for verification in found:
        head = head_on_signing_day(verification)
        if head is not None and signatures.same_person(
            verification.signer_name, head.full_name
        ):
            return keep(verification, head, is_head=True)
    return keep(found[0], head_on_signing_day(found[0]), is_head=False)


@transaction.atomic
def commitment_sign(
    *,
    commitment: Commitment,
    user: AnyUser,
    signed_on: date,
    scan: File,
    today: date | None = None,
    now: datetime | None = None,
) -> Commitment:
    """Record the head's signature: the head in office on the day, the
    signed scan, and each target's last-year result (those set below it are
    counted in ``signing_warnings``). A signed PDF's digital signature is
    verified (``scan_signatures``) and what it said kept
    (``SignatureCheck``); a plain scan is accepted as a scan."""
    commitment = (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=commitment.pk)
    )
    if not access.may_sign(user, commitment):
        raise PermissionDenied
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    if signed_on > today:
        errors["signed_on"] = _("The signing date cannot be in the future.")
    elif signed_on.year not in (commitment.year - 1, commitment.year):
        errors["signed_on"] = _(
            "A commitment for %(year)s is signed in %(before)s or %(year)s."
        ) % {"year": commitment.year, "before": commitment.year - 1}
    head = head_in_office(commitment.unit, signed_on)
    if head is None and "signed_on" not in errors:
        errors["signed_on"] = _("The unit had no head in office on that day.")
    if not commitment.targets.filter(mandatory=True).exists():
        errors["__all__"] = _("A commitment needs at least one mandatory target.")
    if scan is None or not scan.size:
        errors["scan"] = _("Attach the signed scan.")
    elif scan.size > SCAN_MAX_BYTES:
        errors["scan"] = _("The signed scan is larger than 20 MB.")
    if errors:
        raise ValidationError(errors)
    extension = scan_kind(scan)
    now = now or timezone.now()
    found = scan_signatures(scan, extension=extension, now=now)
    last = progress.last_year_values(commitment)
    warnings = 0
    for target in commitment.targets.select_related("indicator"):
        target.last_year_value = last.get(target.pk)
        if target.last_year_value is not None and progress.rules.below_last_year(
            progress.rule_target(target), target.last_year_value
        ):
            warnings += 1
        target.save(update_fields=["last_year_value"])
    commitment.scan_extension = extension
    commitment.scan_name = (getattr(scan, "name", "") or "")[:255]
    commitment.scan.save("scan", scan, save=False)
    commitment.head = head
    commitment.signed_on = signed_on
    commitment.signing_recorded_by = user if user.is_authenticated else None
    commitment.signing_warnings = warnings
    commitment.state = CommitmentState.SIGNED
    commitment.save()
    _signature_check(commitment, found, signed_on=signed_on, now=now)
    handovers.commitment_signed(commitment, actor=user, now=now)
    return commitment


@transaction.atomic
def commitment_countersign(
    *,
    commitment: Commitment,
    user: AnyUser,
    countersigned_on: date,
    signer_name: str,
    signer_title: str,
    today: date | None = None,
) -> Commitment:
    commitment = (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("unit__parent", "head")
        .get(pk=commitment.pk)
    )
    if not access.is_level_above(user, commitment):
        raise PermissionDenied
    if access.took_part_in_signing(user, commitment):
        raise ValidationError(
            _(
                "You took part in the head's signature: another account of the "
                "level above counter-signs."
            )
        )
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    assert commitment.signed_on is not None
    if countersigned_on > today:
        errors["countersigned_on"] = _("The date cannot be in the future.")
    elif countersigned_on < commitment.signed_on:
        errors["countersigned_on"] = _("The level above cannot sign before the head.")
    if not signer_name.strip():
        errors["signer_name"] = _("Name who signed for the level above.")
    if errors:
        raise ValidationError(errors)
    commitment.countersigned_on = countersigned_on
    commitment.countersigner_name = signer_name.strip()
    commitment.countersigner_title = signer_title.strip()
    commitment.countersign_recorded_by = user  # type: ignore[assignment]
    commitment.state = CommitmentState.COUNTERSIGNED
    commitment.save()
    handovers.commitment_countersigned(commitment, actor=user, now=timezone.now())
    return commitment


# --- manual indicators -------------------------------------------------------------


@transaction.atomic
def target_report(
    *,
    target: Target,
    user: AnyUser,
    value: Decimal,
    note: str,
    now: datetime | None = None,
) -> Target:
    """The unit reports a manual indicator's value; a new report waits for a
    reviewer's check again."""
    if not access.may_report(user, target):
        raise PermissionDenied
    if value < 0 or (target.indicator.unit_label == "%" and value > 100):
        raise ValidationError({"value": _("The value must be between 0 and 100.")})
    target.reported_value = value
    target.report_note = note.strip()
    target.reported_by = user  # type: ignore[assignment]
    target.reported_at = now or timezone.now()
    target.check_state = CheckState.PENDING
    target.check_note = ""
    target.checked_by = None
    target.checked_at = None
    target.save()
    handovers.report_made(target, actor=user, now=target.reported_at)
    return target


@transaction.atomic
def target_check(
    *,
    target: Target,
    user: AnyUser,
    accepted: bool,
    note: str,
    now: datetime | None = None,
) -> Target:
    """A reviewer accepts the reported value or rejects it with a reason."""
    if not access.may_check(user, target):
        raise PermissionDenied
    if not accepted and not note.strip():
        raise ValidationError({"note": _("Say why the reported value is rejected.")})
    target.check_state = CheckState.ACCEPTED if accepted else CheckState.REJECTED
    target.check_note = note.strip()
    target.checked_by = user  # type: ignore[assignment]
    target.checked_at = now or timezone.now()
    target.save()
    if not accepted:
        handovers.report_rejected(target, actor=user, now=target.checked_at)
    return target


# --- after the year -----------------------------------------------------------------


def commitments_judge(year: int, now: datetime) -> list[Commitment]:
    """Every signed commitment of the year judged on its final values: each
    target met, missed or exceeded, the commitment met or not. Run after the
    year by the year's computation (scoring's accountability step)."""
    commitments = list(
        Commitment.objects.filter(year=year)
        .exclude(state=CommitmentState.DRAFT)
        .select_related("unit", "head")
        .prefetch_related("targets__indicator", "targets__commitment")
    )
    targets = [target for c in commitments for target in c.targets.all()]
    values = progress.target_values(targets, today=None, judging=True)
    for commitment in commitments:
        outcomes = []
        for target in commitment.targets.all():
            outcome = rules.judge(progress.rule_target(target), values[target.pk][0])
            target.judged_value = outcome.value
            target.met = outcome.met
            target.exceeded = outcome.exceeded
            outcomes.append(outcome)
        commitment.met = rules.commitment_met(outcomes)
        commitment.evaluated_at = now
    Target.objects.bulk_update(
        targets, ["judged_value", "met", "exceeded"], batch_size=500
    )
    Commitment.objects.bulk_update(commitments, ["met", "evaluated_at"], batch_size=500)
    return commitments
