"""The procedure catalogue (TTHC), case records (hồ sơ) from the one-stop-shop
systems, and the record of every import."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from commitments.organisation.models import Unit
from procedures.rules import MAX_SUPPLEMENT_REQUESTS


class ProcedureLevel(models.TextChoices):
    CENTRAL = "central", _("Central")
    PROVINCE = "province", _("Province")
    DISTRICT = "district", _("District")
    COMMUNE = "commune", _("Commune")


class OnlineLevel(models.TextChoices):
    NONE = "none", _("Not online")
    PARTIAL = "partial", _("Partly online (level 3)")
    FULL = "full", _("Fully online (level 4)")


class Procedure(models.Model):
    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=500)
    field = models.CharField(_("field"), max_length=200, blank=True)
    level = models.CharField(
        _("level"), max_length=10, choices=ProcedureLevel.choices, blank=True
    )
    online_level = models.CharField(
        _("online service level"),
        max_length=10,
        choices=OnlineLevel.choices,
        default=OnlineLevel.NONE,
    )
    publicly_listed = models.BooleanField(_("publicly listed"), default=True)
    fee_required = models.BooleanField(_("fee-bearing"), default=False)

    class Meta:
        verbose_name = _("administrative procedure")
        verbose_name_plural = _("administrative procedures")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class DossierStatus(models.TextChoices):
    RECEIVED = "da_tiep_nhan", _("Received")
    PROCESSING = "dang_xu_ly", _("Processing")
    WAITING = "cho_bo_sung", _("Waiting for the applicant")
    FINISHED = "da_xu_ly_xong", _("Finished")
    RETURNED = "da_tra_ket_qua", _("Result returned")
    REJECTED = "tu_choi", _("Rejected or stopped")
    WITHDRAWN = "rut_ho_so", _("Withdrawn")


# A case in one of these states has ended and carries its finish time.
CLOSED_STATUSES = frozenset(
    {DossierStatus.FINISHED, DossierStatus.RETURNED, DossierStatus.REJECTED}
)


class Channel(models.TextChoices):
    IN_PERSON = "truc_tiep", _("In person")
    POST = "buu_chinh", _("By post")
    ONLINE_PARTIAL = "truc_tuyen_mot_phan", _("Partly online")
    ONLINE_FULL = "truc_tuyen_toan_trinh", _("Fully online")


class Satisfaction(models.TextChoices):
    SATISFIED = "hai_long", _("Satisfied")
    NEUTRAL = "binh_thuong", _("Neutral")
    DISSATISFIED = "khong_hai_long", _("Dissatisfied")


# What can be late at some moment: finished after its due time, too many
# requests for more documents, or still open (late once its due time is
# past), never withdrawn. The late list filters on exactly this condition as
# well as on its own (procedures.selectors.late_cases), so that PostgreSQL
# reads the partial indexes below instead of every dossier.
LATE_CANDIDATE = ~Q(status=DossierStatus.WITHDRAWN) & (
    Q(finished_at__isnull=True)
    | Q(finished_at__gt=F("due_at"))
    | Q(supplement_requests__gt=MAX_SUPPLEMENT_REQUESTS)
)


class CaseRecord(models.Model):
    """One dossier. Written only by the import engine (procedures.importer),
    which upserts on case_code."""

    case_code = models.CharField(_("case code"), max_length=100, unique=True)
    procedure = models.ForeignKey(
        Procedure,
        verbose_name=_("procedure"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="cases"
    )
    received_at = models.DateTimeField(_("received at"))
    due_at = models.DateTimeField(_("due at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=DossierStatus.choices)
    channel = models.CharField(_("channel"), max_length=30, choices=Channel.choices)
    digitized = models.BooleanField(_("digitised"), default=False)
    fee_required = models.BooleanField(_("fee-bearing"), default=False)
    paid_online = models.BooleanField(_("paid online"), default=False)
    supplement_requests = models.PositiveSmallIntegerField(
        _("requests for more documents"), default=0
    )
    satisfaction = models.CharField(
        _("satisfaction"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    complaint = models.BooleanField(_("complaint or petition"), default=False)
    officer = models.CharField(_("handling officer"), max_length=200, blank=True)
    last_import = models.ForeignKey(
        "ImportRun",
        verbose_name=_("last changed by import"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("case record")
        verbose_name_plural = _("case records")
        constraints = [
            models.CheckConstraint(
                condition=Q(due_at__gte=F("received_at")),
                name="case_due_not_before_received",
                violation_error_message=_("The due date is before the receipt date."),
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | Q(finished_at__gte=F("received_at")),
                name="case_finished_not_before_received",
                violation_error_message=_(
                    "The finish date is before the receipt date."
                ),
            ),
        ]
        indexes = [
            # Metrics: a unit's cases received in a period, and those still open
            # at its start (received earlier, finished later or never).
            models.Index(fields=["unit", "received_at"], name="case_unit_received"),
            models.Index(fields=["unit", "finished_at"], name="case_unit_finished"),
            models.Index(fields=["unit", "due_at"], name="case_unit_due"),
            models.Index(fields=["officer"], name="case_officer"),
            # The late list: the most recent due dates first, a page at a
            # time, over the dossiers that can be late alone (about one in
            # seven), and its count read from the index alone (the columns
            # of the late rule included, and the receipt date that "counted
            # late in a year" reads: 88 ms for a province's count without it,
            # 24 ms with it); the still open ones apart, the oldest overdue
            # first.
            models.Index(
                fields=["-due_at", "-id"],
                include=["unit", "finished_at", "supplement_requests", "received_at"],
                condition=LATE_CANDIDATE,
                name="case_late_due",
            ),
            models.Index(
                fields=["unit", "-due_at", "-id"],
                include=["finished_at", "supplement_requests"],
                condition=LATE_CANDIDATE,
                name="case_late_unit_due",
            ),
            models.Index(
                fields=["due_at", "id"],
                include=["unit", "supplement_requests"],
                condition=~Q(status=DossierStatus.WITHDRAWN)
                & Q(finished_at__isnull=True),
                name="case_open_due",
            ),
        ]

    def __str__(self) -> str:
        return self.case_code


class ImportSource(models.TextChoices):
    COMMAND = "command", _("Command line")
    UPLOAD = "upload", _("Upload page")
    API = "api", _("REST API")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Completed")
    FAILED = "failed", _("Failed")
    # Its process stopped without a word (killed, out of memory, the machine
    # restarted): no sign of life for settings.IMPORT_RUN_STALE_SECONDS.
    INTERRUPTED = "interrupted", _("Interrupted")


class ImportRun(models.Model):
    """Every import of case records, whichever door it came through."""

    source = models.CharField(_("source"), max_length=10, choices=ImportSource.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="case_imports",
    )
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file = models.FileField(_("uploaded file"), upload_to="imports/", blank=True)
    atomic = models.BooleanField(_("all or nothing"), default=False)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ImportStatus.choices,
        default=ImportStatus.PENDING,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # Written every few seconds by the process running the import, whatever
    # transaction the import is in: a run silent for IMPORT_RUN_STALE_SECONDS
    # has lost its process and is marked interrupted.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    # Progress while running: rows expected (counted before the import starts,
    # for the progress bar) and rows processed so far.
    rows_expected = models.PositiveIntegerField(_("rows expected"), default=0)
    rows_done = models.PositiveIntegerField(_("rows processed"), default=0)
    rows_total = models.PositiveIntegerField(_("rows read"), default=0)
    rows_new = models.PositiveIntegerField(_("new"), default=0)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejected"), default=0)
    # Of the updated rows, those that moved a dossier to another unit (each one
    # recorded as a CaseMove).
    rows_moved = models.PositiveIntegerField(_("moved"), default=0)
    # Row errors, capped (the first ERROR_LIMIT); the counts above are complete.
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("case import")
        verbose_name_plural = _("case imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | Q(started_at__isnull=False, finished_at__gte=F("started_at")),
                name="import_finished_after_started",
            )
        ]

    def __str__(self) -> str:
        label = self.file_name or self.get_source_display()
        return f"{label} ({timezone.localtime(self.created_at):%d/%m/%Y %H:%M})"

    @property
    def status_label(self) -> str:
        """The status as the pages say it: a finished import that rejected
        rows says how many ("Hoàn thành, 714 dòng bị từ chối")."""
        if self.status == ImportStatus.SUCCEEDED and self.rows_rejected:
            return ngettext(
                "Completed, %(count)s row rejected",
                "Completed, %(count)s rows rejected",
                self.rows_rejected,
            ) % {"count": number_format(self.rows_rejected, force_grouping=True)}
        return str(self.get_status_display())

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class CaseMove(models.Model):
    """A dossier moved from one unit to another by an import: a reviewer's act
    (procedures.ownership), kept for an auditor, since the dossier itself
    keeps only its current unit and its last import."""

    case_code = models.CharField(_("case code"), max_length=100, db_index=True)
    from_unit = models.ForeignKey(
        Unit,
        verbose_name=_("from unit"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_unit = models.ForeignKey(
        Unit,
        verbose_name=_("to unit"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The engine's run that moved it; none for the admin's spreadsheet import,
    # whose own log (LogEntry) names the file.
    run = models.ForeignKey(
        ImportRun,
        verbose_name=_("import"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moves",
    )
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    moved_at = models.DateTimeField(_("moved at"))

    class Meta:
        verbose_name = _("dossier moved between units")
        verbose_name_plural = _("dossiers moved between units")
        ordering = ["-moved_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.case_code}: {self.from_unit_id} → {self.to_unit_id}"


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class UnitMetric(models.Model):
    """The 766 counts of one unit for one local calendar period, computed by SQL
    aggregation (procedures.metrics). Rates are derived from the counts by
    procedures.rules.metrics when read, never stored."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="metrics"
    )
    period_kind = models.CharField(
        _("period"), max_length=10, choices=PeriodKind.choices
    )
    year = models.PositiveSmallIntegerField(_("year"))
    # Month 1–12, quarter 1–4, or 1 for the year.
    number = models.PositiveSmallIntegerField(_("number"))
    received = models.PositiveIntegerField(default=0)
    in_scope = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    overdue_open = models.PositiveIntegerField(default=0)
    online = models.PositiveIntegerField(default=0)
    online_full = models.PositiveIntegerField(default=0)
    digitized = models.PositiveIntegerField(default=0)
    fee_required = models.PositiveIntegerField(default=0)
    paid_online = models.PositiveIntegerField(default=0)
    complaint_or_dissatisfied = models.PositiveIntegerField(default=0)
    # What a quarter or year is combined from (procedures.rules.combine).
    carried_in = models.PositiveIntegerField(default=0)
    finished_on_time = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("unit metric")
        verbose_name_plural = _("unit metrics")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "period_kind", "year", "number"],
                name="unit_metric_one_per_period",
            ),
            models.CheckConstraint(
                condition=Q(on_time__lte=F("in_scope"), late__lte=F("in_scope")),
                name="unit_metric_counts_within_scope",
            ),
        ]
        indexes = [models.Index(fields=["period_kind", "year", "number"])]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.period_kind} {self.year}/{self.number}"


class YearOf(models.Func):
    """The calendar year of a date column, with the database's own functions:
    Django's ExtractYear calls a function of its own on SQLite, which a check
    constraint would then need in every client that writes the table."""

    output_field = models.IntegerField()
    arity = 1
    template = "EXTRACT(YEAR FROM %(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra_context):
        # "%%%%" survives the template and the parameter substitution as "%".
        return self.as_sql(
            compiler,
            connection,
            template="CAST(strftime('%%%%Y', %(expressions)s) AS integer)",
            **extra_context,
        )


class Reminder(models.Model):
    """A reminder (nhắc nhở) about late dossiers, issued to a unit as a whole or
    to one of its handling officers. Reminders of year Y−1 decide who is
    "repeatedly late" in year Y (seed 003, procedures.rules.repeatedly_late).
    Written through procedures.services."""

    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="reminders",
    )
    # Blank: the unit as a whole. Otherwise the handling officer exactly as the
    # case records name them (CaseRecord.officer), so that their dossiers can be
    # counted; hence the same width.
    officer = models.CharField(
        _("handling officer"),
        max_length=200,
        blank=True,
        help_text=_(
            "Leave empty for the unit as a whole; otherwise the officer's name or "
            "code exactly as in the case records."
        ),
    )
    issued_on = models.DateField(_("date issued"))
    # The year whose late dossiers the reminder is about: the year of the date,
    # or the year before for a reminder issued in January about December.
    year = models.PositiveSmallIntegerField(
        _("year"),
        blank=True,
        help_text=_(
            "The year whose late dossiers it concerns; empty for the year of the date."
        ),
    )
    reason = models.TextField(_("reason"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminders_issued",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Withdrawn by Home Affairs (who record reminders), with the reason: the
    # reminder stays in the history but no longer counts towards repeated
    # lateness (the cap on a head's rating).
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawal_reason = models.TextField(_("reason for withdrawing"), blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-issued_on", "-pk"]
        constraints = [
            # The same reminder entered twice (a double click, a form sent
            # again); one withdrawn may be recorded again, corrected.
            models.UniqueConstraint(
                fields=["unit", "officer", "issued_on"],
                condition=Q(withdrawn_at__isnull=True),
                name="reminder_one_per_unit_officer_day",
                violation_error_message=_(
                    "This unit or officer already has a reminder on this date."
                ),
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True, withdrawal_reason="")
                | (Q(withdrawn_at__isnull=False) & ~Q(withdrawal_reason="")),
                name="reminder_withdrawal_has_reason",
                violation_error_message=_(
                    "A withdrawn reminder keeps when and why it was withdrawn."
                ),
            ),
            models.CheckConstraint(
                condition=Q(year__lte=YearOf("issued_on"))
                & Q(year__gte=YearOf("issued_on") - 1),
                name="reminder_year_of_date_or_before",
                violation_error_message=_(
                    "The year must be that of the date or the year before."
                ),
            ),
        ]
        indexes = [
            # Repeated lateness: the reminders of one year, by unit.
            models.Index(fields=["year", "unit"], name="reminder_year_unit"),
        ]

    def __str__(self) -> str:
        who = self.officer or str(self.unit)
        return f"{who} ({self.issued_on:%d/%m/%Y})"

    def save(self, *args, **kwargs) -> None:
        self._default_year()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Before the constraints are validated, which compare the year with
        # the date.
        self._default_year()
        # A name that no case record carries would never count a dossier: say
        # so now rather than never flag the officer.
        if (
            self.officer
            and self.unit_id
            and not CaseRecord.objects.filter(
                unit_id=self.unit_id, officer=self.officer
            ).exists()
        ):
            raise ValidationError(
                {
                    "officer": _(
                        "No dossier of this unit names the handling officer "
                        "“%(officer)s”; write the name or code exactly as in the "
                        "case records."
                    )
                    % {"officer": self.officer}
                }
            )

    def _default_year(self) -> None:
        if self.year is None and self.issued_on is not None:
            self.year = self.issued_on.year
