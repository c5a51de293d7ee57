"""The year's PAR index (Chỉ số CCHC): frameworks as trees of fields, criteria
and sub-criteria; each unit's assessment against its framework, leaf by leaf,
with self scores, evidence, appraisal, the rounds of returns and answers,
contests of an appraised score, and the history of every change."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from commitments.models import Unit, UnitKind


class FrameworkState(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    OPEN = "open", _("Open for self-assessment")
    # The year's results are published: nothing in it changes any more.
    PUBLISHED = "published", _("Results published")


def default_reminder_days() -> list[int]:
    return [7, 2]


class Framework(models.Model):
    """One year's index for one kind of unit."""

    year = models.PositiveSmallIntegerField(_("year"))
    unit_kind = models.CharField(
        _("unit kind"), max_length=20, choices=UnitKind.choices
    )
    name = models.CharField(_("name"), max_length=255)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=FrameworkState.choices,
        default=FrameworkState.DRAFT,
    )
    # Self-assessments are locked after this day (local date) unless extended.
    deadline = models.DateField(_("self-assessment deadline"), null=True, blank=True)
    contest_days = models.PositiveSmallIntegerField(
        _("days to contest an appraised score"), default=10
    )
    # Days before the deadline on which incomplete units are reminded.
    reminder_days = models.JSONField(_("reminder days"), default=default_reminder_days)
    copied_from = models.ForeignKey(
        "self",
        verbose_name=_("copied from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("index framework")
        verbose_name_plural = _("index frameworks")
        ordering = ["-year", "unit_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "unit_kind"], name="framework_one_per_year_and_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"

    @property
    def is_frozen(self) -> bool:
        return self.state == FrameworkState.PUBLISHED


class Tier(models.Model):
    """A band of the index: A ≥ 90, B ≥ 80, … with its label (Tốt, Khá, …)."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="tiers"
    )
    code = models.CharField(_("code"), max_length=10)
    label = models.CharField(_("label"), max_length=100)
    min_index = models.DecimalField(_("from index"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["framework", "-min_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "code"], name="tier_code_unique_in_framework"
            ),
            models.CheckConstraint(
                condition=Q(min_index__gte=0, min_index__lte=100),
                name="tier_min_index_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.label}"


class NodeLevel(models.TextChoices):
    FIELD = "field", _("Field")
    CRITERION = "criterion", _("Criterion")
    SUBCRITERION = "subcriterion", _("Sub-criterion")


class Method(models.TextChoices):
    MANUAL = "manual", _("Self-scored with evidence")
    METRIC = "metric", _("From the dossier figures")
    SURVEY = "survey", _("From the survey")


class MetricName(models.TextChoices):
    """The rates of procedures.rules.Metrics a leaf may read."""

    ON_TIME = "on_time_rate", _("On-time rate")
    ONLINE = "online_rate", _("Online rate")
    ONLINE_FULL = "online_full_rate", _("Fully online rate")
    DIGITIZATION = "digitization_rate", _("Digitisation rate")
    ONLINE_PAYMENT = "online_payment_rate", _("Online payment rate")
    SATISFACTION = "satisfaction_rate", _("Satisfaction rate")


class ScoringFunction(models.TextChoices):
    LINEAR = "linear", _("Linear up to the full-marks rate")
    BANDED = "banded", _("Points by bands of the rate")


class Node(models.Model):
    """A field, criterion or sub-criterion. A node without children is a leaf:
    it is what units score."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="nodes"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
    )
    level = models.CharField(_("level"), max_length=15, choices=NodeLevel.choices)
    # "1", "1.2", "1.2.3": unique in the framework.
    code = models.CharField(_("code"), max_length=20)
    # The rank of the node in the tree read top to bottom (pre-order).
    position = models.PositiveIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=500)
    max_points = models.DecimalField(
        _("maximum points"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
    )
    method = models.CharField(
        _("scoring method"),
        max_length=10,
        choices=Method.choices,
        default=Method.MANUAL,
    )
    metric = models.CharField(
        _("metric read"), max_length=30, choices=MetricName.choices, blank=True
    )
    scoring = models.CharField(
        _("scoring function"),
        max_length=10,
        choices=ScoringFunction.choices,
        blank=True,
    )
    # linear: {"full_at": 80} (rate in %); banded: {"bands": [[95, 1], [80, 0.5]]}
    # (from this rate, this share of the maximum).
    scoring_params = models.JSONField(_("scoring parameters"), default=dict, blank=True)
    evidence_required = models.BooleanField(_("evidence required"), default=False)
    guidance = models.TextField(_("guidance"), blank=True)
    owner_unit = models.ForeignKey(
        Unit,
        verbose_name=_("owner unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_criteria",
    )

    class Meta:
        verbose_name = _("index item")
        verbose_name_plural = _("index items")
        ordering = ["framework", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "code"], name="node_code_unique_in_framework"
            ),
            models.CheckConstraint(
                condition=Q(max_points__gte=0), name="node_max_points_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(method="metric") | ~Q(metric=""),
                name="node_metric_method_names_its_metric",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.title}"


class AssessmentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for revision")
    APPROVED = "approved", _("Approved")


class Assessment(models.Model):
    """A unit's self-assessment against its year's framework, and its
    appraisal. The state changes only through scoring.services."""

    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="assessments"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assessments")
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=AssessmentState.choices,
        default=AssessmentState.DRAFT,
    )
    extended_until = models.DateField(_("extended until"), null=True, blank=True)
    # Which round of submission this is: 1 at the first submit, +1 per resubmit.
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Provisional results shown: appraised scores may be contested until then.
    contest_until = models.DateField(_("contest until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["framework", "unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "unit"], name="assessment_one_per_unit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} – {self.framework}"


class Score(models.Model):
    """One leaf of one assessment."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="scores"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="scores")
    # The leaf's maximum, copied so that the database itself refuses a score
    # above it (kept equal to node.max_points by scoring.services).
    max_points = models.DecimalField(
        _("maximum points"), max_digits=6, decimal_places=2
    )
    self_score = models.DecimalField(
        _("self score"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    explanation = models.TextField(_("explanation"), blank=True)
    appraised_score = models.DecimalField(
        _("appraised score"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    appraisal_reason = models.TextField(_("reason for the appraised score"), blank=True)
    # Optimistic locking: a save names the version it started from.
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    evidence: models.ManyToManyField[Evidence, Any] = models.ManyToManyField(
        "Evidence", verbose_name=_("evidence"), blank=True, related_name="scores"
    )
    history = HistoricalRecords(
        excluded_fields=["updated_at", "version"], m2m_fields=[evidence]
    )

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        ordering = ["assessment", "node__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "node"], name="score_one_per_leaf"
            ),
            models.CheckConstraint(
                condition=Q(self_score__isnull=True)
                | Q(self_score__gte=0, self_score__lte=F("max_points")),
                name="score_self_within_maximum",
            ),
            models.CheckConstraint(
                condition=Q(appraised_score__isnull=True)
                | Q(appraised_score__gte=0, appraised_score__lte=F("max_points")),
                name="score_appraised_within_maximum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment} – {self.node.code}"


def evidence_path(instance: Evidence, filename: str) -> str:
    # Server-generated: the uploader's file name is kept only as a label.
    return f"evidence/{instance.token}{instance.extension}"


class Evidence(models.Model):
    """A document a unit attaches as evidence; one document may support
    several leaves of the same assessment."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="documents"
    )
    token = models.UUIDField(_("token"), unique=True, editable=False)
    extension = models.CharField(_("extension"), max_length=10)
    file = models.FileField(_("file"), upload_to=evidence_path)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    history = HistoricalRecords(excluded_fields=["file"])

    class Meta:
        verbose_name = _("evidence document")
        verbose_name_plural = _("evidence documents")
        ordering = ["assessment", "original_name"]

    def __str__(self) -> str:
        return self.original_name


class Comment(models.Model):
    """A reviewer's comment on a leaf when returning an assessment, and the
    unit's answer."""

    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="comments")
    round = models.PositiveSmallIntegerField(_("round"))
    text = models.TextField(_("comment"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("review comment")
        verbose_name_plural = _("review comments")
        ordering = ["score", "created_at"]

    def __str__(self) -> str:
        return self.text[:60]


class ContestState(models.TextChoices):
    OPEN = "open", _("Awaiting decision")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class Contest(models.Model):
    """A unit contests an appraised score after the provisional results."""

    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="contests")
    reason = models.TextField(_("reason"))
    requested_score = models.DecimalField(
        _("score asked for"), max_digits=6, decimal_places=2
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ContestState.choices, default="open"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("raised at"))
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contest")
        verbose_name_plural = _("contests")
        ordering = ["-raised_at"]
        constraints = [
            # One open contest per leaf at a time.
            models.UniqueConstraint(
                fields=["score"],
                condition=Q(state="open"),
                name="contest_one_open_per_score",
            ),
            models.CheckConstraint(
                condition=Q(requested_score__gte=0), name="contest_score_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(state="open") | Q(decided_at__isnull=False),
                name="contest_decided_has_a_date",
            ),
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True)
                | Q(decided_at__gte=F("raised_at")),
                name="contest_decided_after_raised",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score} ({self.get_state_display()})"


class Notice(models.Model):
    """A message to one user inside the portal (besides any e-mail)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    assessment = models.ForeignKey(
        Assessment,
        verbose_name=_("assessment"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notices",
    )
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_user_unread")]

    def __str__(self) -> str:
        return self.subject


class DeadlineReminder(models.Model):
    """One reminder of the self-assessment deadline, sent once: the unique
    key makes a second run of the beat task send nothing."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="deadline_reminders"
    )
    days_before = models.PositiveSmallIntegerField(_("days before the deadline"))
    sent_at = models.DateTimeField(_("sent at"))
    # What the unit had done when reminded: "not_started" or "incomplete".
    situation = models.CharField(_("situation"), max_length=20)
    recipients = models.PositiveSmallIntegerField(_("recipients"), default=0)

    class Meta:
        verbose_name = _("deadline reminder")
        verbose_name_plural = _("deadline reminders")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "days_before"],
                name="deadline_reminder_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessment} (−{self.days_before})"
