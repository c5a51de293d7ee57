"""The upload door of the case-record import: a form, the run's page with its
live progress, and its row errors as a spreadsheet."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Field
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from commitments.access import access_unit
from procedures import selectors
from procedures.forms import ImportUploadForm, max_upload_bytes
from procedures.models import (
    CaseRecord,
    CaseStatus,
    Channel,
    ImportStatus,
    Satisfaction,
)
from procedures.parsing import COLUMNS, REQUIRED
from procedures.tasks import import_cases_task

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ERRORS_SHOWN = 100
RUNS_PER_PAGE = 50
FINISHED = frozenset({ImportStatus.SUCCEEDED, ImportStatus.FAILED})
# Columns named after a code whose meaning is that of a case-record field.
COLUMN_FIELDS = {"procedure_code": "procedure", "unit_code": "unit"}
# A spreadsheet reads a cell starting with one of these as a formula (OWASP
# "CSV injection"); a leading quote makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
                # Robust: should the broker refuse (or, running in process, the
                # import crash), the run is saved and its page says where it is.
                transaction.on_commit(
                    lambda: import_cases_task.delay(run.pk), robust=True
                )
            return redirect("import_detail", pk=run.pk)
    else:
        form = ImportUploadForm()
    return render(
        request,
        "procedures/import_form.html",
        {
            "form": form,
            "columns": _columns(),
            "statuses": CaseStatus.choices,
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
    return JsonResponse(
        {
            "status": run.status,
            "status_label": run.get_status_display(),
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
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@login_required
def unit_metrics(request: HttpRequest, code: str) -> HttpResponse:
    """A unit's 766 figures for a year, by month, quarter and the year."""
    unit = access_unit(request.user, code)
    years = selectors.metric_years(unit=unit)
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year") or (years[0] if years else this_year))
    except ValueError as exc:
        raise Http404 from exc
    return render(
        request,
        "procedures/unit_metrics.html",
        {
            "unit": unit,
            "year": year,
            "years": sorted({*years, this_year}, reverse=True),
            "rows": selectors.unit_metric_rows(unit=unit, year=year),
        },
    )
