"""The year's PAR index (Chỉ số CCHC): frameworks as trees of fields, criteria
and sub-criteria; each unit's assessment against its framework, leaf by leaf,
with self scores, evidence, appraisal, the rounds of returns and answers,
contests of an appraised score, and the history of every change."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from commitments.organisation.models import Head, OfficeFunction, Unit, UnitKind
from procedures.figures import Rate


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
    # The year's rule settings (issue 17, item 10): today's defaults, edited
    # on the framework's page until the year is published, copied with it.
    lateness_threshold = models.PositiveSmallIntegerField(
        _("late dossiers after a reminder that count as repeated lateness"),
        default=3,
        validators=[MinValueValidator(1)],
    )
    satisfaction_threshold = models.DecimalField(
        _("communes' satisfaction above which a district earns its bonus (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(85),
    )
    excellent_exceeded_share = models.DecimalField(
        _("share of targets exceeded for “excellent” (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(50),
    )
    completed_met_share = models.DecimalField(
        _("share of targets met for “completed” (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(50),
    )
    excellent_min_tier = models.CharField(
        _("lowest tier for “excellent”"), max_length=10, default="A"
    )
    good_min_tier = models.CharField(
        _("lowest tier for “good”"), max_length=10, default="B"
    )
    completed_min_tier = models.CharField(
        _("lowest tier for “completed”"), max_length=10, default="C"
    )
    # When Home Affairs (or the beat) closed the cycle after the deadline:
    # the assessments not submitted were taken as they stood (item 9).
    closed_at = models.DateTimeField(_("cycle closed at"), null=True, blank=True)
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
            ),
            models.CheckConstraint(
                condition=Q(
                    satisfaction_threshold__gte=0,
                    satisfaction_threshold__lte=100,
                    excellent_exceeded_share__gte=0,
                    excellent_exceeded_share__lte=100,
                    completed_met_share__gte=0,
                    completed_met_share__lte=100,
                ),
                name="framework_settings_are_percentages",
            ),
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
        _("metric read"), max_length=30, choices=Rate.choices, blank=True
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
    # The owner named by the function of its office (Phòng Tư pháp): found
    # inside each city or commune whose index lost the points, where one
    # owner_unit could name one city's office only.
    owner_kind = models.CharField(
        _("owner office"),
        max_length=20,
        choices=OfficeFunction.choices,
        blank=True,
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
    appraisal. The state changes only through scoring.assessments.services."""

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
    # "Quá hạn": not submitted by the deadline, taken as it stood when the
    # cycle was closed and sent to appraisal (issue 17, item 9).
    late = models.BooleanField(_("late (quá hạn)"), default=False)
    closed_at = models.DateTimeField(_("taken for appraisal at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken for appraisal by"),
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
    # above it (kept equal to node.max_points by scoring.assessments.services).
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
    # When it went out by e-mail (at once, or in the day's digest); empty
    # while it waits for the digest.
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    # A natural key for notices a beat task writes (the close of a review
    # window): written once per user however often the task runs.
    key = models.CharField(_("key"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notice_user_unread"),
            models.Index(
                fields=["emailed_at"],
                name="notice_not_emailed",
                condition=models.Q(emailed_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=~models.Q(key=""),
                name="notice_once_per_key",
            )
        ]

    def __str__(self) -> str:
        return self.subject


class EmailMode(models.TextChoices):
    DIGEST = "digest", _("One digest a day")
    IMMEDIATE = "immediate", _("At once, one e-mail per notice")
    NONE = "none", _("No e-mail (notices in the portal only)")


class NoticeSettings(models.Model):
    """How a user wants their notices by e-mail (no row: the daily digest)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="notice_settings",
    )
    email_mode = models.CharField(
        _("e-mail"), max_length=10, choices=EmailMode.choices, default=EmailMode.DIGEST
    )
    # The local day of the last digest: one a day, however often the task runs.
    digest_sent_on = models.DateField(_("last digest"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice settings")
        verbose_name_plural = _("notice settings")

    def __str__(self) -> str:
        return f"{self.user} – {self.get_email_mode_display()}"


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


# --- deductions and bonuses (DOMAIN.md section 6) ----------------------------------


class AdjustmentRule(models.Model):
    """One rule of a framework's catalogue of deductions and bonuses: points
    per case (negative for a deduction) and an optional cap on what the rule
    may add or take away for one unit in the year. A new framework starts
    from rules.DEFAULT_ADJUSTMENT_RULES for its kind of unit; the year's copy
    keeps last year's points."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="adjustment_rules"
    )
    code = models.SlugField(_("code"), max_length=50)
    title = models.CharField(_("rule"), max_length=255)
    points_per_case = models.DecimalField(
        _("points per case"), max_digits=5, decimal_places=2
    )
    cap = models.DecimalField(
        _("at most per year"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("deduction or bonus rule")
        verbose_name_plural = _("deduction and bonus rules")
        ordering = ["framework", "position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "code"], name="adjustment_rule_code_unique"
            ),
            models.CheckConstraint(
                condition=~Q(points_per_case=0), name="adjustment_rule_points_not_0"
            ),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gt=0),
                name="adjustment_rule_cap_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_bonus(self) -> bool:
        return self.points_per_case > 0


class AdjustmentState(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Adjustment(models.Model):
    """A deduction or bonus for one unit in one year: entered by a reviewer
    or proposed by the computation from the data, and counted only once
    another reviewer has approved it (four eyes: whoever entered a record
    cannot approve it)."""

    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="adjustments"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="adjustments")
    rule = models.ForeignKey(
        AdjustmentRule,
        verbose_name=_("rule"),
        on_delete=models.PROTECT,
        related_name="adjustments",
    )
    cases = models.PositiveSmallIntegerField(
        _("cases"), default=1, validators=[MinValueValidator(1)]
    )
    # The rule's points per case × cases when entered; the rule's cap applies
    # to the year's total of the rule in the computation.
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=2)
    reason = models.TextField(_("reason"))
    # A decision, an inspection conclusion, a newspaper article: where to find it.
    evidence = models.CharField(_("evidence"), max_length=500, blank=True)
    # A deduction entered against a city that arose in one of its offices or
    # communes: that unit's head explains it too (seed 000).
    source = models.ForeignKey(
        Unit,
        verbose_name=_("arose in"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustments_arisen",
    )
    # True when the computation proposed it from the data.
    proposed_by_computation = models.BooleanField(
        _("proposed by the computation"), default=False
    )
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=AdjustmentState.choices,
        default=AdjustmentState.PROPOSED,
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deduction or bonus")
        verbose_name_plural = _("deductions and bonuses")
        ordering = ["framework", "unit__path", "rule__position", "entered_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(points=0), name="adjustment_points_not_0"
            ),
            models.CheckConstraint(
                condition=Q(state="proposed") | Q(decided_at__isnull=False),
                name="adjustment_decided_has_a_date",
            ),
            # The computation proposes a rule once per unit and year.
            models.UniqueConstraint(
                fields=["framework", "unit", "rule"],
                condition=Q(proposed_by_computation=True),
                name="adjustment_one_proposal_per_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} – {self.rule} ({self.points})"


class CriterionRank(models.Model):
    """The province's rank on one criterion of a national index (PAR INDEX,
    PCI) in a year, and the department responsible for it: a department
    whose criterion climbs earns a bonus (seed 004)."""

    class IndexName(models.TextChoices):
        PAR = "par", _("PAR INDEX")
        PCI = "pci", _("PCI")

    year = models.PositiveSmallIntegerField(_("year"))
    index = models.CharField(_("index"), max_length=5, choices=IndexName.choices)
    code = models.CharField(_("criterion code"), max_length=20)
    title = models.CharField(_("criterion"), max_length=255)
    rank = models.PositiveSmallIntegerField(
        _("rank of the province"), validators=[MinValueValidator(1)]
    )
    owner_unit = models.ForeignKey(
        Unit,
        verbose_name=_("responsible unit"),
        on_delete=models.PROTECT,
        related_name="criterion_ranks",
    )

    class Meta:
        verbose_name = _("criterion rank of the province")
        verbose_name_plural = _("criterion ranks of the province")
        ordering = ["-year", "index", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "index", "code"], name="criterion_rank_once_a_year"
            ),
            models.CheckConstraint(
                condition=Q(rank__gte=1), name="criterion_rank_from_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_index_display()} {self.year} {self.code}: {self.rank}"


class SurveySource(models.TextChoices):
    SIPAS = "sipas", _("SIPAS (satisfaction survey)")
    PORTAL = "portal", _("National public service portal rating")


class SurveyFigure(models.Model):
    """A unit's satisfaction rate of a year from the survey (SIPAS) or the
    national portal's rating, imported by Home Affairs from a spreadsheet
    (issue 17, item 12). It feeds the survey leaves and the communes'
    satisfaction bonus; without one the case records' estimate is used."""

    year = models.PositiveSmallIntegerField(_("year"))
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="survey_figures"
    )
    source = models.CharField(_("source"), max_length=10, choices=SurveySource.choices)
    rate = models.DecimalField(
        _("satisfaction rate (%)"), max_digits=5, decimal_places=2
    )
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("survey figure")
        verbose_name_plural = _("survey figures")
        ordering = ["-year", "unit__path", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "unit", "source"], name="survey_figure_once"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lte=100),
                name="survey_figure_rate_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.year} {self.source}: {self.rate}"


# --- the computation and its results ---------------------------------------------


class RunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Completed")
    FAILED = "failed", _("Failed")
    # Its worker stopped without a word: no sign of life for too long.
    INTERRUPTED = "interrupted", _("Interrupted")


class RunError(models.TextChoices):
    """Why a run did not finish. The cause is stored as a code and its
    parameters and put into words when read, in the reader's language; what
    the exception said (a database's message, a traceback) goes to the log
    only."""

    NO_FRAMEWORK = "no_framework", _("No index framework")
    SCORING = "scoring", _("Unusable scoring parameters")
    INTERRUPTED = "interrupted", _("Its worker stopped")
    UNEXPECTED = "unexpected", _("Unexpected error")


RUN_ERROR_TEXTS = {
    RunError.NO_FRAMEWORK: _("There is no index framework for %(year)d."),
    RunError.SCORING: _(
        "%(framework)s, leaf %(leaf)s: its scoring parameters cannot be used "
        "(%(detail)s). Home Affairs must correct the framework."
    ),
    RunError.INTERRUPTED: _("No sign of life from its worker since %(time)s."),
    RunError.UNEXPECTED: _(
        "The computation stopped on an unexpected error and the previous "
        "results are kept. The technical details are in the server log "
        "(run #%(run)d)."
    ),
}


def run_error_text(code: str, params: dict[str, Any]) -> str | None:
    """A run's cause in the active language; None for a code or parameters
    this version does not know (never a crash of the page showing it)."""
    try:
        return str(RUN_ERROR_TEXTS[RunError(code)]) % params
    except (ValueError, KeyError, TypeError):
        return None


class ComputationRun(models.Model):
    """One computation of a year's results. The results it writes replace
    the year's provisional results in one transaction, so a run that dies
    halfway leaves the previous ones as they were."""

    year = models.PositiveSmallIntegerField(_("year"))
    state = models.CharField(
        _("state"), max_length=12, choices=RunState.choices, default=RunState.QUEUED
    )
    # "manual" (the results page), "schedule" (celery beat), "command",
    # "publication".
    trigger = models.CharField(_("started by"), max_length=12)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    stage = models.CharField(_("stage"), max_length=30, blank=True)
    frameworks = models.PositiveSmallIntegerField(_("frameworks"), default=0)
    units = models.PositiveIntegerField(_("units"), default=0)
    proposals = models.PositiveIntegerField(_("proposals"), default=0)
    # The cause of a failed or interrupted run (RunError) and what it names;
    # ``error`` is the same in the portal's language, for the admin and the
    # command line. Pages and the API put the code into the reader's words.
    error_code = models.CharField(
        _("cause"), max_length=20, choices=RunError.choices, blank=True
    )
    error_params = models.JSONField(_("cause's details"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    # Per framework: the tree, tiers and catalogue the results were computed
    # with (what an explanation reads beside each unit's detail).
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)

    class Meta:
        verbose_name = _("computation run")
        verbose_name_plural = _("computation runs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["year", "state"], name="run_year_state")]

    def __str__(self) -> str:
        return f"{self.year} #{self.pk} ({self.state})"

    @property
    def cause(self) -> str:
        """Why the run failed, in the active language; empty if it did not."""
        if not self.error_code:
            return self.error
        text = run_error_text(self.error_code, self.error_params)
        if text is None:
            text = run_error_text(RunError.UNEXPECTED, {"run": self.pk or 0})
        return text or ""


class JSONText(models.TextField):
    """JSON kept as plain text. A year's results carry a few kilobytes of
    detail per unit that is written at once and read whole, never queried
    into: PostgreSQL parses jsonb several times slower than it stores text."""

    # What django-stubs reads as the attribute's types.
    _pyi_private_set_type: Any
    _pyi_private_get_type: dict[str, Any]  # type: ignore[assignment]

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def value_to_string(self, obj: models.Model) -> str:
        return self.get_prep_value(self.value_from_object(obj))


class ResultColumns(models.Model):
    """What a results table shows of one unit: the same columns for
    provisional and published results."""

    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(
        "commitments.RankingGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Only approved assessments are ranked; the others are listed unranked.
    approved = models.BooleanField(_("approved"), default=False)
    obtained = models.DecimalField(_("points obtained"), max_digits=7, decimal_places=2)
    adjustments = models.DecimalField(
        _("deductions and bonuses"), max_digits=7, decimal_places=2
    )
    final = models.DecimalField(_("final points"), max_digits=7, decimal_places=2)
    maximum = models.DecimalField(_("maximum"), max_digits=7, decimal_places=2)
    index = models.DecimalField(
        _("index"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    # {"1": "87.50", …}: each field's points ÷ its maximum × 100.
    field_indices = models.JSONField(_("field indices"), default=dict)
    tier = models.CharField(_("tier"), max_length=10, blank=True)
    tier_label = models.CharField(_("tier label"), max_length=100, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    previous_rank = models.PositiveIntegerField(
        _("last year's rank"), null=True, blank=True
    )
    previous_index = models.DecimalField(
        _("last year's index"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    rank_change = models.IntegerField(_("change of rank"), null=True, blank=True)
    index_change = models.DecimalField(
        _("change of index"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    # Leaf by leaf and the adjustments: what the explanation shows
    # (built by scoring.results.computation.unit_row).
    detail = JSONText(_("detail"), default=dict)

    class Meta:
        abstract = True


class Result(ResultColumns):
    """A unit's provisional result: replaced by every run of its year."""

    run = models.ForeignKey(
        ComputationRun, on_delete=models.PROTECT, related_name="results"
    )

    class Meta:
        verbose_name = _("provisional result")
        verbose_name_plural = _("provisional results")
        ordering = ["framework", "rank", "unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "unit"], name="result_one_per_unit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.framework.year}: {self.index}"


class FrozenError(Exception):
    """A published snapshot is never changed nor deleted."""


class Immutable(models.Model):
    """Written once; the database refuses updates too (migration 0003)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise FrozenError(f"{self._meta.verbose_name} is published: frozen")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise FrozenError(f"{self._meta.verbose_name} is published: frozen")


class Publication(Immutable):
    """A year's results as published: version 1, 2, … Each holds the rule
    parameters it was computed with and a checksum over those and every
    unit's published result (scoring.results.publication.checksum)."""

    year = models.PositiveSmallIntegerField(_("year"))
    version = models.PositiveSmallIntegerField(_("version"))
    run = models.ForeignKey(
        ComputationRun, on_delete=models.PROTECT, related_name="publications"
    )
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    parameters = models.JSONField(_("parameters"))
    checksum = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("publication of results")
        verbose_name_plural = _("publications of results")
        ordering = ["-year", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "version"], name="publication_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="publication_version_from_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} v{self.version}"


class PublishedResult(Immutable, ResultColumns):
    publication = models.ForeignKey(
        Publication, on_delete=models.PROTECT, related_name="results"
    )

    class Meta:
        verbose_name = _("published result")
        verbose_name_plural = _("published results")
        ordering = ["publication", "framework", "rank", "unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "unit"], name="published_result_one_per_unit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.publication}: {self.index}"


# --- accountability and head ratings (DOMAIN.md section 8) ---------------------------


class CaseKind(models.TextChoices):
    # Seed 000: commitment missed in Y−1 and in Y.
    TWO_YEARS = "two_years", _("Commitment missed two years running")
    # Seed 000: the city's published index lost points on a criterion the unit owns.
    CRITERION = "criterion", _("Points lost on an owned criterion")
    # Seed 000: a deduction on the city's published index arose in the unit.
    DEDUCTION = "deduction", _("A deduction that arose in the unit")


class AccountabilityState(models.TextChoices):
    REQUESTED = "requested", _("Explanation requested")
    EXPLAINED = "explained", _("Explained")
    DECIDED = "decided", _("Decision taken")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Decision(models.TextChoices):
    HANDLED = "handled", _("Handled (accountability action)")
    MITIGATED = "mitigated", _("Mitigated")
    DISMISSED = "dismissed", _("Dismissed")


class MitigationGround(models.TextChoices):
    # Seed 001.
    ALL_DONE = "all_done", _("Did everything required and took every measure")
    OBJECTIVE = "objective", _("Objective cause")


class AccountabilityCase(models.Model):
    """A head asked to explain (giải trình), and the leader's decision.

    Opened by the evaluation (two years running) or by a publication (an owned
    criterion losing points); never created by hand. ``facts`` holds what
    opened it: the years with who signed and the targets missed, or the
    criterion with its points."""

    kind = models.CharField(_("kind"), max_length=20, choices=CaseKind.choices)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="accountability_cases",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    # The criterion's code for a criterion case; empty for two years running.
    subject = models.CharField(_("criterion"), max_length=50, blank=True)
    head = models.ForeignKey(
        Head,
        verbose_name=_("head"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accountability_cases",
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=AccountabilityState.choices,
        default=AccountabilityState.REQUESTED,
    )
    facts = JSONText(_("facts"), default=dict)
    explanation = models.TextField(_("explanation"), blank=True)
    decision = models.CharField(
        _("decision"), max_length=20, choices=Decision.choices, blank=True
    )
    ground = models.CharField(
        _("ground for mitigation"),
        max_length=20,
        choices=MitigationGround.choices,
        blank=True,
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("accountability case")
        verbose_name_plural = _("accountability cases")
        ordering = ["-year", "unit__path", "kind", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "unit", "year", "subject"],
                name="accountability_case_once",
            ),
            models.CheckConstraint(
                condition=~Q(decision="mitigated") | ~Q(ground=""),
                name="accountability_mitigation_has_ground",
                violation_error_message=_("A mitigation names its ground."),
            ),
        ]
        indexes = [models.Index(fields=["state", "year"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.unit.name} – {self.year}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("accountability_detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.state in (
            AccountabilityState.REQUESTED,
            AccountabilityState.EXPLAINED,
        )


class StepAction(models.TextChoices):
    OPENED = "opened", _("Explanation requested")
    EXPLAINED = "explained", _("Explanation written")
    DECIDED = "decided", _("Decision")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class CaseStep(models.Model):
    """One step of a case, kept for good: who, when, what was written."""

    case = models.ForeignKey(
        AccountabilityCase, on_delete=models.CASCADE, related_name="steps"
    )
    action = models.CharField(_("step"), max_length=20, choices=StepAction.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    text = models.TextField(_("text"), blank=True)
    decision = models.CharField(max_length=20, choices=Decision.choices, blank=True)
    ground = models.CharField(
        max_length=20, choices=MitigationGround.choices, blank=True
    )

    class Meta:
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")
        ordering = ["case", "at", "pk"]

    def __str__(self) -> str:
        return (
            f"{self.get_action_display()} {timezone.localtime(self.at):%d/%m/%Y %H:%M}"
        )


class RatingLevel(models.IntegerChoices):
    """scoring.accountability.rules.Rating: a higher value is a better rating."""

    # The official names (Vietnamese catalogue): "… nhiệm vụ".
    NOT_COMPLETED = 0, pgettext_lazy("head rating", "Not completed")
    COMPLETED = 1, pgettext_lazy("head rating", "Completed")
    GOOD = 2, pgettext_lazy("head rating", "Completed well")
    EXCELLENT = 3, pgettext_lazy("head rating", "Completed excellently")


class HeadRating(models.Model):
    """A head's completion rating for a year: proposed by the evaluation
    from the targets, the tier and repeated lateness; confirmed or changed,
    with a reason, by the level above. One per head who held the post for
    a meaningful part of the year (scoring.accountability.rules.heads_to_rate);
    no proposal (``proposed`` NULL) for a unit whose kind has an index but
    that has no result for the year: the leader rates, with a reason."""

    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="head_ratings",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    head = models.ForeignKey(
        Head, verbose_name=_("head"), on_delete=models.PROTECT, related_name="ratings"
    )
    proposed = models.PositiveSmallIntegerField(
        _("proposed rating"), choices=RatingLevel.choices, null=True, blank=True
    )
    # What the proposal was made from: targets, met, exceeded, tier, lateness,
    # and "no_result" when no proposal could be made without the index.
    basis = JSONText(_("basis"), default=dict)
    final = models.PositiveSmallIntegerField(
        _("rating"), choices=RatingLevel.choices, null=True, blank=True
    )
    # The proposal as it stood when the level above decided: what "as
    # proposed" and "changed, with a reason" are measured against. Later
    # runs move ``proposed`` freely (an approved deduction, a withdrawn
    # reminder); the decision stays as taken and the leader is told.
    decided_proposal = models.PositiveSmallIntegerField(
        _("proposal when decided"),
        choices=RatingLevel.choices,
        null=True,
        blank=True,
    )
    reason = models.TextField(_("reason for the change"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    # "Không hoàn thành" this year and the year before (final, or proposed
    # while undecided): flagged to the leader.
    flagged = models.BooleanField(_("not completed two years running"), default=False)
    # When the leader who rates the head was told of the flag (once).
    flag_notified_at = models.DateTimeField(
        _("leader told of the flag at"), null=True, blank=True
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    history = HistoricalRecords(excluded_fields=["proposed_at", "flag_notified_at"])

    class Meta:
        verbose_name = _("head rating")
        verbose_name_plural = _("head ratings")
        ordering = ["-year", "unit__path"]
        constraints = [
            # Each head once a year: two heads of one unit in a year of change.
            models.UniqueConstraint(
                fields=["unit", "year", "head"], name="head_rating_once"
            ),
            # Measured against the proposal the leader decided on, never
            # today's: a later run must not turn a decision into a violation.
            # No proposal to decide on: the rating needs its reason.
            models.CheckConstraint(
                condition=Q(final__isnull=True)
                | Q(final=F("decided_proposal"), decided_proposal__isnull=False)
                | ~Q(reason=""),
                name="head_rating_change_has_reason",
                violation_error_message=_(
                    "A rating other than the proposal needs a reason."
                ),
            ),
            # A decision keeps the proposal it was taken on; NULL there only
            # when there was none, and then the check above wants a reason.
            models.CheckConstraint(
                condition=Q(final__isnull=True, decided_proposal__isnull=True)
                | Q(final__isnull=False),
                name="head_rating_decision_keeps_its_proposal",
                violation_error_message=_(
                    "A decided rating records the proposal it was decided on."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.head.full_name} – {self.year}"

    @property
    def effective(self) -> int | None:
        """The final rating, or the proposal until then (None: neither)."""
        return self.proposed if self.final is None else self.final

    @property
    def proposal_changed(self) -> bool:
        """Decided, and the proposal moved since (a later computation)."""
        return self.final is not None and self.decided_proposal != self.proposed

    @property
    def no_proposal_reason(self) -> str:
        """Why nothing is proposed: the year's index result is missing."""
        if self.proposed is not None or not self.basis.get("no_result"):
            return ""
        return gettext("No PAR index result for %(year)d yet") % {"year": self.year}
