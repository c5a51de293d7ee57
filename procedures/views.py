"""The upload door of the case-record import (a form, the run's page with its
live progress, and its row errors as a spreadsheet); a unit's figures; the late
and overdue dossiers; reminders (nhắc nhở) and repeated lateness."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Field, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cchc_portal.queue import enqueue_on_commit
from cchc_portal.spreadsheets import formula_safe
from cchc_portal.throttling import export_throttled
from cchc_portal.widgets import QuickSelect
from commitments.organisation.access import (
    access_unit,
    get_scoped_or_404,
    units_visible_to,
)
from procedures import figures, importer, rules, selectors, services
from procedures.forms import (
    FIRST_YEAR,
    LAST_YEAR,
    RANGE_NEEDS_BOTH,
    FigureRangeForm,
    ImportUploadForm,
    LateCaseFilterForm,
    ReminderFilterForm,
    ReminderForm,
    max_upload_bytes,
)
from procedures.metrics import MonthRange
from procedures.models import (
    CaseRecord,
    Channel,
    DossierStatus,
    ImportStatus,
    Reminder,
    Satisfaction,
)
from procedures.parsing import COLUMNS, LOCAL_TZ, REQUIRED
from procedures.tasks import import_cases_task

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.utils.safestring import SafeString

    from commitments.organisation.access import AnyUser
    from commitments.organisation.models import Unit

ERRORS_SHOWN = 100
RUNS_PER_PAGE = 50
LATE_CASES_PER_PAGE = 50
# A province's late list runs to hundreds of thousands of dossiers at five
# million: counting them all on every page took 125-160 ms. It is counted as
# far as the pages a reader turns (200 pages of 50), "more than" beyond; the
# filters narrow it and the CSV holds every one.
LATE_CASES_COUNTED = 10_000


class CountedUpTo(Paginator):
    """A paginator that counts at most ``limit`` rows (a LIMIT inside the
    count's query) and says whether there are more (``capped``): its pages
    stop at the limit."""

    def __init__(self, object_list: Any, per_page: int, *, limit: int) -> None:
        super().__init__(object_list, per_page)
        self.limit = limit
        self.capped = False

    @cached_property
    def count(self) -> int:
        rows: QuerySet[Any] = self.object_list  # type: ignore[assignment]
        found = rows[: self.limit + 1].count()
        self.capped = found > self.limit
        return min(found, self.limit)


REMINDERS_PER_PAGE = 50
FINISHED = frozenset(
    {ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.INTERRUPTED}
)
# Columns named after a code whose meaning is that of a case-record field.
COLUMN_FIELDS = {"procedure_code": "procedure", "unit_code": "unit"}


def _uploader(request: HttpRequest) -> User:
    """The user, when they may use the import pages; 404 for anyone else (a
    leader, an account without a unit), as for another unit's page."""
    user = request.user
    if not (user.is_authenticated and selectors.import_upload_allowed(user=user)):
        raise Http404
    return user


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    user = _uploader(request)
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            with transaction.atomic():
                run = form.save(user=user)
                # The worker reads the run and its file: only once both exist.
                # Should the broker refuse, the task waits in the database
                # (cchc_portal.queue); robust: should the import crash running
                # in process, the run is saved and its page says where it is.
                enqueue_on_commit(import_cases_task, run.pk, robust=True)
            return redirect("import_detail", pk=run.pk)
    else:
        form = ImportUploadForm()
    return render(
        request,
        "procedures/import_form.html",
        {
            "form": form,
            "columns": _columns(),
            "statuses": DossierStatus.choices,
            "channels": Channel.choices,
            "satisfactions": Satisfaction.choices,
            "max_upload_bytes": max_upload_bytes(),
        },
    )


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    user = _uploader(request)
    runs = selectors.import_run_list(user=user)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "procedures/import_list.html", {"page": page})


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _uploader(request)
    run = get_object_or_404(selectors.import_run_detail(user=user), pk=pk)
    # A run whose process died says so here, without waiting for the beat.
    run = importer.run_interrupt_if_stale(run, now=timezone.now())
    return render(
        request,
        "procedures/import_detail.html",
        {
            "run": run,
            "finished": run.status in FINISHED,
            "errors_shown": run.errors[:ERRORS_SHOWN],
        },
    )


@never_cache
@login_required
@require_GET
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    user = _uploader(request)
    run = get_object_or_404(selectors.import_run_progress(user=user), pk=pk)
    run = importer.run_interrupt_if_stale(run, now=timezone.now())
    return JsonResponse(
        {
            "status": run.status,
            "status_label": run.status_label,
            "rows_done": run.rows_done,
            "rows_expected": run.rows_expected,
            "counts": {
                "total": run.rows_total,
                "new": run.rows_new,
                "updated": run.rows_updated,
                "unchanged": run.rows_unchanged,
                "rejected": run.rows_rejected,
            },
            "finished": run.status in FINISHED,
        }
    )


@login_required
@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    user = _uploader(request)
    run = get_object_or_404(selectors.import_run_detail(user=user), pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="import-{run.pk}-errors.csv"'
    )
    # The byte-order mark tells Excel the file is UTF-8 (Vietnamese letters).
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["row", "column", "value", "message"])
    for error in run.errors:
        writer.writerow(
            [
                error.get("row", ""),
                _cell(error.get("column", "")),
                _cell(error.get("value", "")),
                _cell(error.get("message", "")),
            ]
        )
    return response


Column = tuple[str, str, str | Promise, bool]


def _columns() -> list[Column]:
    """The interchange format, for the form to explain: English header,
    Vietnamese header, meaning (the case-record field's name), required."""
    rows: list[Column] = []
    for column, (english, vietnamese, *_) in COLUMNS.items():
        field = CaseRecord._meta.get_field(COLUMN_FIELDS.get(column, column))
        meaning = field.verbose_name if isinstance(field, Field) else column
        rows.append((english, vietnamese, meaning, column in REQUIRED))
    return rows


def _cell(value: object) -> str:
    return formula_safe(str(value))


@login_required
def unit_metrics(request: HttpRequest, code: str) -> HttpResponse:
    """A unit's 766 figures for a year, by month, quarter and the year, and
    over any range of whole months (``from`` and ``to``)."""
    unit = access_unit(request.user, code)
    years = selectors.metric_years(unit=unit)
    today = timezone.localdate()
    year = _year_param(request, years[0] if years else today.year)
    rows = selectors.unit_metric_rows(unit=unit, year=year)
    asked = "from" in request.GET or "to" in request.GET
    range_form = FigureRangeForm(
        request.GET if asked else None,
        initial={
            "from": f"{year:04d}-01",
            "to": f"{year:04d}-{today.month if year == today.year else 12:02d}",
        },
    )
    span_row = None
    if asked and range_form.is_valid() and range_form.cleaned_data["range"]:
        span_row = selectors.unit_range_row(
            unit=unit, span=range_form.cleaned_data["range"]
        )
    # A unit formed during the year: its year with its predecessors' dossiers,
    # the figure its index and its commitment read.
    predecessors = selectors.year_sources(unit, year)
    whole_year = (
        selectors.year_counts(year, [unit.pk]).get(unit.pk, rules.Counts())
        if predecessors
        else None
    )
    return render(
        request,
        "procedures/unit_metrics.html",
        {
            "unit": unit,
            "year": year,
            "years": sorted({*years, today.year}, reverse=True),
            "rows": rows,
            # The year's row: what "counted late in the year" links to.
            "year_row": rows[-1],
            "as_of": max((row.as_of for row in rows if row.as_of), default=None),
            "range_form": range_form,
            "span_row": span_row,
            "predecessors": predecessors,
            "predecessor_names": ", ".join(u.name for u in predecessors),
            "whole_year": whole_year,
            "whole_year_figures": rules.metrics(whole_year) if whole_year else None,
            "span_first": _month_label(span_row.slot.span.first) if span_row else "",
            "span_last": _month_label(span_row.slot.span.last) if span_row else "",
        },
    )


# The figures download: the interchange names where they exist (rules.Counts'
# and rules.Metrics' fields).
FIGURES_CSV_HEADER = [
    "unit_code",
    "unit_name",
    "from",
    "to",
    *figures.COUNT_FIELDS,
    *figures.FIGURE_NAMES,
    "as_of",
]


def _month(month: tuple[int, int]) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


def _month_label(month: tuple[int, int]) -> str:
    """A month as officials write it: 09/2026."""
    return f"{month[1]:02d}/{month[0]:04d}"


def _figure(value: object) -> str:
    """A rate or score as written (2 decimals, a point), empty for no data."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


@login_required
@require_GET
@export_throttled
def metrics_csv(request: HttpRequest) -> HttpResponse:
    """The 766 figures over a range of whole months (``from``, ``to``) of every
    unit the user sees, or of one (``unit``), as CSV: one row per unit valid in
    the range, with empty rates where there is no data."""
    form = FigureRangeForm(request.GET)
    span = form.cleaned_data["range"] if form.is_valid() else None
    if span is None:
        errors = form.errors or {"from": [str(RANGE_NEEDS_BOTH)]}
        return HttpResponseBadRequest(
            "; ".join(
                f"{name}: {' '.join(str(e) for e in found)}"
                for name, found in errors.items()
            ),
            content_type="text/plain; charset=utf-8",
        )
    code = request.GET.get("unit") or None
    if code is not None:
        access_unit(request.user, code)
    slots = selectors.figure_slots(user=request.user, unit_code=code, span=span)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"figures-{code or 'units'}-{_month(span.first)}-{_month(span.last)}"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    # The byte-order mark tells Excel the file is UTF-8 (Vietnamese letters).
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(FIGURES_CSV_HEADER)
    for row in selectors.figure_rows(slots):
        rates = figures.rates(row.counts)
        writer.writerow(
            [
                _cell(row.slot.unit_code),
                _cell(row.slot.unit_name),
                _month(span.first),
                _month(span.last),
                *(getattr(row.counts, name) for name in figures.COUNT_FIELDS),
                *(_figure(rates[name]) for name in figures.FIGURE_NAMES),
                _local(row.as_of),
            ]
        )
    return response


# --- Late and overdue dossiers -------------------------------------------------------


def _late_filters(
    request: HttpRequest,
) -> tuple[LateCaseFilterForm, selectors.LateCaseFilters | None]:
    """The filter form, and its filters when valid. A unit outside the user's
    scope answers 404, as its page would."""
    form = LateCaseFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    code = form.cleaned_data["unit"]
    unit = access_unit(request.user, code) if code else None
    return form, form.filters(unit=unit)


def _query_without_page(request: HttpRequest, *others: str) -> str:
    query: QueryDict = request.GET.copy()
    for name in ("page", *others):
        query.pop(name, None)
    return query.urlencode()


@login_required
@require_GET
def late_case_list(request: HttpRequest) -> HttpResponse:
    """Dossiers finished late or still open past due (as of now), of the units
    the user sees, filtered and paginated."""
    now = timezone.now()
    form, filters = _late_filters(request)
    cases = (
        selectors.late_cases(user=request.user, now=now, filters=filters)
        if filters is not None
        else CaseRecord.objects.none()
    )
    page = CountedUpTo(cases, LATE_CASES_PER_PAGE, limit=LATE_CASES_COUNTED).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "procedures/late_case_list.html",
        {
            "form": form,
            "page": page,
            "rows": [(case, selectors.days_late(case, now)) for case in page],
            "unit_select": _unit_select(
                request.user, filters.unit if filters else None, "id_unit"
            ),
            "query": _query_without_page(request),
            "now": now,
            # "Late in the year" as the figures it was opened from count it,
            # while that year had not ended then.
            "late_as_of": _late_as_of(filters, now),
            "late_range": _range_label(filters.late_in_range) if filters else "",
            "query_now": _query_without_page(request, "as_of"),
        },
    )


def _unit_select(user: AnyUser, chosen: Unit | None, element_id: str) -> SafeString:
    """The filter's choice of unit: every unit the user sees, thousands for a
    province's reviewer, so written by QuickSelect rather than a template
    loop (a few milliseconds rather than a hundred)."""
    units = units_visible_to(user).only("code", "name")
    choices = [
        ("", gettext("All units")),
        *((unit.code, f"{unit.name} ({unit.code})") for unit in units),
    ]
    return QuickSelect(choices=choices).render(
        "unit", chosen.code if chosen else None, {"id": element_id}
    )


def _range_label(span: MonthRange | None) -> str:
    """A range of months as officials write it: 01/2026 – 09/2026."""
    if span is None:
        return ""
    return f"{_month_label(span.first)} – {_month_label(span.last)}"


def _late_as_of(
    filters: selectors.LateCaseFilters | None, now: datetime
) -> datetime | None:
    """The moment "counted late" is judged at, while the year or the range
    of months it is counted in had not ended then (None otherwise)."""
    if filters is None or filters.late_as_of is None:
        return None
    periods = []
    if filters.late_in_year is not None:
        periods.append(rules.Period.year(filters.late_in_year, LOCAL_TZ))
    if filters.late_in_range is not None:
        periods.append(filters.late_in_range.period)
    judged = selectors.late_judged_at(filters, now)
    running = any(period.start < judged < period.end for period in periods)
    return judged if running else None


# Headers of the CSV download: the interchange format's names where a column is
# one of its columns (procedures.parsing.COLUMNS).
LATE_CSV_HEADER = [
    "case_code",
    "procedure_code",
    "procedure_name",
    "unit_code",
    "unit_name",
    "officer",
    "received_at",
    "due_at",
    "finished_at",
    "days_late",
    "supplement_requests",
    "status",
    "status_label",
    "channel",
]


class _Echo:
    """A file-like object for csv.writer that hands each line back."""

    def write(self, value: str) -> str:
        return value


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M") if moment else ""


@login_required
@require_GET
def late_case_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered late list as CSV, streamed in chunks: a province's list
    can run to tens of thousands of rows."""
    now = timezone.now()
    form, filters = _late_filters(request)
    if filters is None:
        return HttpResponseBadRequest(
            "; ".join(
                f"{name}: {' '.join(str(e) for e in errors)}"
                for name, errors in form.errors.items()
            ),
            content_type="text/plain; charset=utf-8",
        )
    cases = selectors.late_cases(user=request.user, now=now, filters=filters)

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        # The byte-order mark tells Excel the file is UTF-8 (Vietnamese letters).
        yield "\ufeff" + writer.writerow(LATE_CSV_HEADER)
        for case in cases.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    _cell(case.case_code),
                    _cell(case.procedure.code),
                    _cell(case.procedure.name),
                    _cell(case.unit.code),
                    _cell(case.unit.name),
                    _cell(case.officer),
                    _local(case.received_at),
                    _local(case.due_at),
                    _local(case.finished_at),
                    selectors.days_late(case, now),
                    case.supplement_requests,
                    case.status,
                    _cell(case.get_status_display()),
                    case.channel,
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="late-cases-{stamp}.csv"'
    return response


# --- Reminders and repeated lateness -------------------------------------------------


def _year_param(request: HttpRequest, default: int) -> int:
    try:
        year = int(request.GET.get("year") or default)
    except ValueError as exc:
        raise Http404 from exc
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    return year


def _logged_in(request: HttpRequest) -> User:
    user = request.user
    assert user.is_authenticated  # behind login_required
    return user


@login_required
@require_http_methods(["GET", "POST"])
def reminder_list(request: HttpRequest) -> HttpResponse:
    """The reminders of the units the user sees, and (for reviewers, leaders
    and superusers) the form to record one."""
    user = _logged_in(request)
    allowed = selectors.reminder_allowed(user=user)
    form: ReminderForm | None = None
    if allowed:
        units = selectors.reminder_units(user=user).only("code", "name")
        form = ReminderForm(
            request.POST if request.method == "POST" else None, units=units
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                reminder = services.reminder_issue(user=user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    gettext("Reminder recorded for %(who)s.")
                    % {"who": reminder.officer or reminder.unit.name},
                )
                return redirect(f"{reverse('reminder_list')}?year={reminder.year}")
    filters = ReminderFilterForm(request.GET)
    year = unit = None
    if filters.is_valid():
        year = filters.cleaned_data["year"]
        code = filters.cleaned_data["unit"]
        unit = access_unit(user, code) if code else None
    reminders = selectors.reminder_list(user=user, year=year, unit=unit).select_related(
        "withdrawn_by"
    )
    page = Paginator(reminders, REMINDERS_PER_PAGE).get_page(request.GET.get("page"))
    this_year = timezone.localdate().year
    return render(
        request,
        "procedures/reminder_list.html",
        {
            "page": page,
            "form": form,
            "filters": filters,
            "year": year,
            "unit": unit,
            "years": sorted(
                {*selectors.reminder_years(user=user), this_year}, reverse=True
            ),
            "unit_select": _unit_select(user, unit, "id_filter_unit"),
            # Withdrawing is for Home Affairs of the unit (not leaders).
            "withdrawable": set(
                services.reminder_withdraw_units(user=user).values_list("pk", flat=True)
            ),
        },
    )


@login_required
@require_POST
def reminder_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw a reminder with the reason given in the row's form."""
    user = _logged_in(request)
    reminder = get_scoped_or_404(user, Reminder.objects.select_related("unit"), pk=pk)
    try:
        services.reminder_withdraw(
            user=user, reminder=reminder, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(
            request,
            gettext("The reminder to %(who)s was not withdrawn: %(errors)s")
            % {
                "who": reminder.officer or reminder.unit.name,
                "errors": " ".join(exc.messages),
            },
        )
    else:
        messages.success(request, gettext("The reminder was withdrawn."))
    return redirect(f"{reverse('reminder_list')}?year={reminder.year}")


@login_required
@require_GET
def repeated_lateness(request: HttpRequest) -> HttpResponse:
    """Units and officers reminded last year and late again this year (seed
    003), with the reminders behind each flag and the late count."""
    now = timezone.now()
    this_year = timezone.localtime(now).year
    year = _year_param(request, this_year)
    try:
        threshold = int(
            request.GET.get("threshold") or rules.REPEATED_LATENESS_THRESHOLD
        )
    except ValueError as exc:
        raise Http404 from exc
    if threshold < 1:
        raise Http404
    return render(
        request,
        "procedures/repeated_lateness.html",
        {
            "year": year,
            "previous_year": year - 1,
            "threshold": threshold,
            "default_threshold": rules.REPEATED_LATENESS_THRESHOLD,
            "years": sorted(
                {
                    this_year,
                    year,
                    *(y + 1 for y in selectors.reminder_years(user=request.user)),
                },
                reverse=True,
            ),
            "rows": selectors.repeated_lateness(
                year, user=request.user, threshold=threshold, as_of=now
            ),
        },
    )
