"""Downloads of the results as documents (XLSX and PDF, scoring.results.exports).

The same results as the pages, with the same rules (scoring.results.selectors):
the published ranking for every signed-in user, the provisional one only
for reviewers and only their units; a unit's result only for those who may
read its explanation. Anything out of sight answers 404. These views read
what the pages read, turn it into the builders' plain rows, and return the
file."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cchc_portal.throttling import export_throttled
from scoring.models import Method
from scoring.results import documents, exports
from scoring.results import selectors as results

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9_.-]+")


def _selection(request: HttpRequest, year: int) -> results.Selection:
    user = request.user
    assert user.is_authenticated  # behind login_required
    return results.select(
        user,
        year,
        view=request.GET.get("view") or "",
        version=request.GET.get("version") or "",
    )


def ranking_of(
    request: HttpRequest, year: int, selection: results.Selection | None = None
) -> exports.Ranking:
    """The ranking the page shows for the same address (view, version,
    group), as the builders' rows."""
    user = request.user
    assert user.is_authenticated  # behind login_required
    selection = selection or _selection(request, year)
    groups, run = results.ranking_groups(user, selection)
    return documents.ranking(selection, groups, run, request.GET.get("group") or "")


def unit_result_of(request: HttpRequest, year: int, code: str) -> exports.UnitResult:
    """A unit's result as its page explains it; 404 where the page would."""
    user = request.user
    assert user.is_authenticated  # behind login_required
    unit, selection, explanation = results.unit_explanation(
        user,
        year,
        code,
        view=request.GET.get("view") or "",
        version=request.GET.get("version") or "",
    )
    with translation.override("vi"):
        methods = {value: str(label) for value, label in Method.choices}
    return exports.UnitResult(
        year=year,
        unit_code=unit.code,
        unit_name=unit.name,
        framework_name=explanation.framework_name,
        status=documents.status(selection, explanation.computed_at),
        checksum=explanation.checksum,
        lines=[
            exports.UnitLine(
                code=line.code,
                title=line.title,
                depth=line.depth,
                is_leaf=line.is_leaf,
                maximum=line.maximum,
                method=methods.get(line.method, line.method),
                self_score=line.self_score,
                appraised=line.appraised,
                points=line.points,
            )
            for line in explanation.lines
        ],
        adjustments=[
            (str(rule["title"]), Decimal(rule["counted"] or "0"))
            for rule in explanation.adjustments_by_rule
        ],
        obtained=explanation.obtained,
        adjustments_total=explanation.adjustments_entered,
        final=explanation.final,
        maximum=explanation.maximum,
        index=explanation.index,
        tier=explanation.tier,
        tier_label=explanation.tier_label,
        rank=explanation.rank,
        group=explanation.group or explanation.framework_name,
        group_size=explanation.group_size,
        approved=explanation.approved,
        provisional=selection.provisional,
        published_on=documents.published_on(selection),
    )


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _suffix(request: HttpRequest, provisional: bool) -> str:
    if provisional:
        return "-tam-thoi"
    version = request.GET.get("version")
    return f"-v{version}" if version else ""


def _ranking_download(
    request: HttpRequest,
    year: int,
    build: Callable[[exports.Ranking, exports.Heading], bytes],
    content_type: str,
    extension: str,
) -> HttpResponse:
    selection = _selection(request, year)
    group = _UNSAFE_FILENAME.sub("", request.GET.get("group") or "")
    name = f"bang-xep-hang-cchc-{year}{_suffix(request, selection.provisional)}"
    name += f"-{group}" if group else ""
    filename = f"{name}.{extension}"
    key = None
    if selection.publication is not None:
        # The same for every reader, laid out at publication (documents):
        # found before the province's rows are read and laid out.
        dated = documents.heading(
            documents.published_on(selection) or timezone.localdate()
        )
        key = documents.ranking_key(
            selection.publication, extension, request.GET.get("group") or "", dated
        )
        kept = exports.published_document(key)
        if kept is not None:
            return _download(kept, content_type, filename)
    ranking = ranking_of(request, year, selection)
    content = build(
        ranking, documents.heading(ranking.published_on or timezone.localdate())
    )
    if key is not None:
        exports.published_document_keep(key, content)
    return _download(content, content_type, filename)


def _unit_download(
    request: HttpRequest,
    year: int,
    code: str,
    build: Callable[[exports.UnitResult, exports.Heading], bytes],
    content_type: str,
    extension: str,
) -> HttpResponse:
    result = unit_result_of(request, year, code)
    name = (
        f"ket-qua-cchc-{_UNSAFE_FILENAME.sub('', code)}-{year}"
        f"{_suffix(request, result.provisional)}"
    )
    return _download(
        build(result, documents.heading(result.published_on or timezone.localdate())),
        content_type,
        f"{name}.{extension}",
    )


@never_cache
@login_required
@export_throttled
@require_GET
def ranking_xlsx(request: HttpRequest, year: int) -> HttpResponse:
    return _ranking_download(request, year, exports.ranking_xlsx, XLSX, "xlsx")


@never_cache
@login_required
@export_throttled
@require_GET
def ranking_pdf(request: HttpRequest, year: int) -> HttpResponse:
    return _ranking_download(request, year, exports.ranking_pdf, PDF, "pdf")


@never_cache
@login_required
@export_throttled
@require_GET
def unit_result_xlsx(request: HttpRequest, year: int, code: str) -> HttpResponse:
    return _unit_download(request, year, code, exports.unit_result_xlsx, XLSX, "xlsx")


@never_cache
@login_required
@export_throttled
@require_GET
def unit_result_pdf(request: HttpRequest, year: int, code: str) -> HttpResponse:
    return _unit_download(request, year, code, exports.unit_result_pdf, PDF, "pdf")
