"""Commitments: indicators, templates, each year's commitment and its targets.
The organisation's models (units, heads, memberships) are
`commitments.organisation.models`, under the same app label."""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from commitments.organisation.models import (
    Head,
    Unit,
    UnitKind,
)
from procedures.figures import Rate


class IndicatorKind(models.TextChoices):
    METRIC = "metric", _("From the case records")
    MANUAL = "manual", _("Reported by the unit")


class Comparison(models.TextChoices):
    AT_LEAST = "gte", "≥"
    AT_MOST = "lte", "≤"


class Indicator(models.Model):
    """What a target measures. A metric indicator is read from the unit's
    case-record figures; a manual one is reported by the unit and checked by a
    reviewer."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("source"), max_length=10, choices=IndicatorKind.choices)
    metric = models.CharField(
        _("metric"), max_length=30, choices=Rate.choices, blank=True
    )
    unit_label = models.CharField(_("measured in"), max_length=20, default="%")
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="metric", metric__gt="") | Q(kind="manual", metric=""),
                name="indicator_metric_iff_metric_kind",
                violation_error_message=_(
                    "A metric indicator names its metric; a manual one does not."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name


class CommitmentTemplate(models.Model):
    """The targets a kind of unit usually commits to (departments and communes
    differ): a year's commitments are created from it, then adjusted per unit."""

    name = models.CharField(_("name"), max_length=200)
    unit_kind = models.CharField(
        _("kind of unit"), max_length=20, choices=UnitKind.choices
    )

    class Meta:
        verbose_name = _("commitment template")
        verbose_name_plural = _("commitment templates")
        ordering = ["unit_kind", "name"]

    def __str__(self) -> str:
        return self.name


class TemplateTarget(models.Model):
    template = models.ForeignKey(
        CommitmentTemplate, on_delete=models.CASCADE, related_name="targets"
    )
    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("indicator"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    comparison = models.CharField(
        _("comparison"), max_length=3, choices=Comparison.choices, default="gte"
    )
    value = models.DecimalField(_("value"), max_digits=9, decimal_places=2)
    # Due at the end of this month of the year (digitisation ≥ 50% by
    # October); empty: at the end of the year.
    due_month = models.PositiveSmallIntegerField(
        _("due by the end of month"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    mandatory = models.BooleanField(_("mandatory"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("template target")
        verbose_name_plural = _("template targets")
        ordering = ["template", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "indicator"], name="template_target_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.get_comparison_display()} {self.value}"


class CommitmentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed by the head")
    COUNTERSIGNED = "countersigned", _("Counter-signed")


def scan_path(instance: Commitment, filename: str) -> str:
    # Server-generated: the uploader's file name is kept only as a label.
    return f"commitments/{instance.scan_token}{instance.scan_extension}"


class Commitment(models.Model):
    """A unit's commitment for a year: drafted (from a template), signed by
    the head in office with the signed scan, counter-signed by the level
    above, judged after the year."""

    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="commitments",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=CommitmentState.choices,
        default=CommitmentState.DRAFT,
    )
    template = models.ForeignKey(
        CommitmentTemplate,
        verbose_name=_("template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Signed by the head in office on the day.
    head = models.ForeignKey(
        Head,
        verbose_name=_("signed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commitments",
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    scan_token = models.UUIDField(default=uuid.uuid4, editable=False)
    scan_extension = models.CharField(max_length=10, blank=True)
    scan = models.FileField(_("signed scan"), upload_to=scan_path, blank=True)
    scan_name = models.CharField(_("file name"), max_length=255, blank=True)
    signing_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Targets set below last year's own result, as shown at signing.
    signing_warnings = models.PositiveSmallIntegerField(default=0)
    # Counter-signed by the level above.
    countersigned_on = models.DateField(_("counter-signed on"), null=True, blank=True)
    countersigner_name = models.CharField(
        _("counter-signed by"), max_length=200, blank=True
    )
    countersigner_title = models.CharField(_("title"), max_length=200, blank=True)
    countersign_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # After the year (scoring.accountability.services.evaluate_year): every mandatory
    # target met; None until judged, or with no mandatory target.
    met = models.BooleanField(_("commitment met"), null=True, blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["scan"])

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["-year", "unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year"], name="commitment_one_per_unit_year"
            ),
            models.CheckConstraint(
                condition=Q(state="draft")
                | Q(head__isnull=False, signed_on__isnull=False),
                name="commitment_signed_has_head_and_date",
                violation_error_message=_(
                    "A signed commitment names its head and date."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} – {self.year}"

    def get_absolute_url(self) -> str:
        return reverse("commitment_detail", kwargs={"pk": self.pk})

    @property
    def signed(self) -> bool:
        return self.state != CommitmentState.DRAFT


class SignatureStatus(models.TextChoices):
    VALID = "valid", _("valid")
    INVALID = "invalid", _("not valid")
    CHAIN_UNVERIFIED = "chain_unverified", _("the certificate chain cannot be verified")


class SignatureReason(models.TextChoices):
    """Why a signature is not valid, or its chain not verified."""

    NO_TRUST_ROOTS = "no_trust_roots", _("No trust roots are configured on the portal.")
    UNKNOWN_ISSUER = (
        "unknown_issuer",
        _("The certificate does not lead to a trust root configured on the portal."),
    )
    REVOCATION_UNKNOWN = (
        "revocation_unknown",
        _("Whether the certificate is revoked could not be established."),
    )
    REVOKED = "revoked", _("The certificate is revoked.")
    OUT_OF_VALIDITY = (
        "out_of_validity",
        _("The certificate had expired or was not yet valid."),
    )
    NOT_FOR_SIGNING = (
        "not_for_signing",
        _("The certificate is not meant for signing documents."),
    )
    CHAIN_FAILED = "chain_failed", _("The certificate chain failed validation.")


class SignatureCheck(models.Model):
    """What the digital signature (PAdES) of a commitment's signed PDF said
    when it was uploaded (commitments.signatures): who signed it by their
    certificate, when, whether the certificate chain leads to a trust root
    of the deployment, and whether the signer was the unit's head in office
    that day. A plain scan has none."""

    commitment = models.OneToOneField(
        Commitment,
        verbose_name=_("commitment"),
        on_delete=models.CASCADE,
        related_name="signature_check",
    )
    status = models.CharField(
        _("signature"), max_length=20, choices=SignatureStatus.choices
    )
    reason = models.CharField(
        _("reason"), max_length=30, choices=SignatureReason.choices, blank=True
    )
    signer_name = models.CharField(_("signer"), max_length=255)
    signer_organisation = models.CharField(
        _("signer's organisation"), max_length=255, blank=True
    )
    issuer_name = models.CharField(_("certificate issued by"), max_length=255)
    # From a trusted timestamp when the signature has one, else as the
    # signer's computer reported it; None when the signature says nothing.
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    # The head in office on the signing day (the signature's, else the
    # commitment's date), and whether the certificate names them.
    head = models.ForeignKey(
        Head,
        verbose_name=_("head in office that day"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    signer_is_head = models.BooleanField(_("signed by the head"))
    checked_at = models.DateTimeField(_("checked at"))

    class Meta:
        verbose_name = _("signature check")
        verbose_name_plural = _("signature checks")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="valid", reason="")
                | (~Q(status="valid") & ~Q(reason="")),
                name="signature_check_reason_iff_not_valid",
                violation_error_message=_(
                    "A signature not found valid says why; a valid one does not."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.signer_name}: {self.get_status_display()}"


class CheckState(models.TextChoices):
    PENDING = "pending", _("Awaiting check")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class Target(models.Model):
    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="targets"
    )
    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("indicator"),
        on_delete=models.PROTECT,
        related_name="targets",
    )
    comparison = models.CharField(
        _("comparison"), max_length=3, choices=Comparison.choices, default="gte"
    )
    value = models.DecimalField(_("value"), max_digits=9, decimal_places=2)
    deadline = models.DateField(
        _("deadline"),
        null=True,
        blank=True,
        help_text=_("Within the year; empty: by the end of the year."),
    )
    mandatory = models.BooleanField(_("mandatory"), default=True)
    # Only Home Affairs above the unit, or an administrator, makes a target
    # optional (commitments.access.may_make_optional), always saying why;
    # the reason is printed on the signed document and kept in the history.
    optional_reason = models.TextField(_("why it is not mandatory"), blank=True)
    optional_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made optional by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    optional_at = models.DateTimeField(_("made optional at"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # The unit's own result of the year before, as read at signing (None: none).
    last_year_value = models.DecimalField(
        null=True, blank=True, max_digits=9, decimal_places=2
    )
    # Manual indicators: reported by the unit, checked by a reviewer.
    reported_value = models.DecimalField(
        _("reported value"), null=True, blank=True, max_digits=9, decimal_places=2
    )
    report_note = models.TextField(_("how it was achieved"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reported_at = models.DateTimeField(null=True, blank=True)
    check_state = models.CharField(
        _("check"), max_length=10, choices=CheckState.choices, blank=True
    )
    check_note = models.TextField(_("reviewer's note"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    # After the year: the value it was judged on, met, exceeded.
    judged_value = models.DecimalField(
        _("judged on"), null=True, blank=True, max_digits=9, decimal_places=2
    )
    met = models.BooleanField(_("met"), null=True, blank=True)
    exceeded = models.BooleanField(_("exceeded"), null=True, blank=True)
    # The change reason holds why Home Affairs removed a mandatory target
    # (commitment_services.target_delete): a text, not 100 characters.
    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True))

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["commitment", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "indicator"], name="target_indicator_once"
            ),
            models.CheckConstraint(
                condition=Q(mandatory=True) | ~Q(optional_reason=""),
                name="target_optional_has_reason",
                violation_error_message=_("A target that is not mandatory says why."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.get_comparison_display()} {self.value}"

    @property
    def due(self) -> date:
        """Its deadline, or the last day of the year."""
        return self.deadline or date(self.commitment.year, 12, 31)
