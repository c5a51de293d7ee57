"""The framework pages: the list by year and kind of unit, the tree with its
items, tiers and settings, the workbook import and export, copying last
year's and opening a framework for self-assessment.

Home Affairs reviewers and superusers reach the pages that build
(scoring.access.is_reviewer); a framework changes only for those who
manage its kind of unit (scoring.access.may_manage_framework: a superuser,
or a reviewer of every unit of the kind), anyone else answers 403 with the
reason. Staff, heads and leaders read the open frameworks their units are
assessed against; anyone else, or any other framework, answers 404."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from io import BytesIO
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cchc_portal.forms import attach
from commitments.organisation.models import UnitKind
from procedures.figures import Rate
from scoring import access
from scoring.assessments import closing
from scoring.frameworks import services as frameworks
from scoring.frameworks import survey, thresholds, workbook
from scoring.frameworks.forms import (
    CopyForm,
    FrameworkCreateForm,
    FrameworkSettingsForm,
    FrameworkThresholdsForm,
    NodeForm,
    SurveyFiguresImportForm,
    WorkbookImportForm,
    tier_formset,
)
from scoring.models import (
    Framework,
    FrameworkState,
    Method,
    Node,
    NodeLevel,
    ScoringFunction,
    SurveyFigure,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _user(request: HttpRequest) -> User:
    user = request.user
    assert user.is_authenticated  # behind login_required
    return user


def _manager(request: HttpRequest) -> User:
    """The user, when they build frameworks; 404 for anyone else."""
    user = _user(request)
    if not access.is_reviewer(user):
        raise Http404
    return user


def _visible(request: HttpRequest, pk: int) -> Framework:
    return get_object_or_404(frameworks.frameworks_visible(_user(request)), pk=pk)


def _managed(request: HttpRequest, pk: int) -> tuple[User, Framework]:
    """The user and the framework they change: 404 for those who do not see
    the pages that build frameworks, 403 (saying why) for a reviewer who does
    not manage this framework's kind of unit."""
    user = _manager(request)
    framework = get_object_or_404(Framework, pk=pk)
    if not access.may_manage_framework(user, framework):
        raise PermissionDenied(access.framework_refusal(framework.unit_kind))
    return user, framework


def _editable(request: HttpRequest, pk: int) -> tuple[User, Framework] | None:
    """The manager and the framework, or None (with a message) when the
    framework's year is published and nothing in it may change."""
    user, framework = _managed(request, pk)
    if framework.is_frozen:
        messages.error(
            request,
            gettext(
                "The %(year)s results are published: their framework cannot change."
            )
            % {"year": framework.year},
        )
        return None
    return user, framework


@login_required
@require_GET
def framework_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.may_list_frameworks(user):
        raise Http404
    manage = access.is_reviewer(user)
    listed = list(frameworks.frameworks_visible(user).order_by("-year", "unit_kind"))
    counts = frameworks.framework_counts(listed)
    taken = set(Framework.objects.values_list("year", "unit_kind"))
    rows = [
        {
            "framework": framework,
            "counts": counts[framework.pk],
            # "Copy last year's": offered on the latest framework of a kind.
            "copy_year": framework.year + 1
            if manage
            and (framework.year + 1, framework.unit_kind) not in taken
            and access.may_manage_frameworks_of(
                user, year=framework.year + 1, unit_kind=framework.unit_kind
            )
            else None,
        }
        for framework in listed
    ]
    return render(
        request,
        "scoring/framework_list.html",
        {"rows": rows, "manage": manage},
    )


@login_required
@require_http_methods(["GET", "POST"])
def framework_new(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    status = 200
    if request.method == "POST":
        form = FrameworkCreateForm(request.POST)
        if form.is_valid():
            try:
                framework = frameworks.framework_create(user=user, **form.cleaned_data)
            except PermissionDenied as exc:
                form.add_error("unit_kind", str(exc))
                status = 403
            except ValidationError as exc:
                attach(form, exc)
            else:
                messages.success(
                    request,
                    gettext("Framework %(name)s created: add its fields.")
                    % {"name": framework.name},
                )
                return redirect("framework_detail", pk=framework.pk)
    else:
        year = timezone.localdate().year
        form = FrameworkCreateForm(
            initial={
                "year": year,
                "deadline": frameworks.default_deadline(year),
                "contest_days": 10,
                "reminder_days": [7, 2],
                "name": gettext("Administrative reform index %(year)s")
                % {"year": year},
            }
        )
    return render(
        request,
        "scoring/framework_form.html",
        {"form": form, "title": gettext("New framework")},
        status=status,
    )


@login_required
@require_GET
def framework_detail(request: HttpRequest, pk: int) -> HttpResponse:
    framework = _visible(request, pk)
    # Its actions (settings, items, copy, catalogue) only for those who may
    # use them: a city's reviewer reads the departments' framework.
    manage = access.may_manage_framework(_user(request), framework)
    summary = frameworks.framework_tree(framework)
    return render(
        request,
        "scoring/framework_detail.html",
        {
            "framework": framework,
            "summary": summary,
            "tiers": framework.tiers.all(),
            "manage": manage,
            "editable": manage and not framework.is_frozen,
            "assessment_count": framework.assessments.count(),
            "copy_form": CopyForm(initial={"year": framework.year + 1}),
            "states": FrameworkState,
            "closable": manage and closing.closable(framework, timezone.localdate()),
            "late_count": framework.assessments.filter(late=True).count(),
        },
    )


@login_required
@require_GET
def framework_export(request: HttpRequest, pk: int) -> HttpResponse:
    framework = _visible(request, pk)
    response = HttpResponse(
        workbook.workbook_export(framework),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{workbook.export_file_name(framework)}"'
    )
    return response


@login_required
@require_GET
def framework_template(request: HttpRequest) -> HttpResponse:
    """An empty workbook in the import layout: its settings and the national
    tiers filled in, the tree to write."""
    _manager(request)
    response = HttpResponse(
        workbook.template_export(year=timezone.localdate().year),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="bo-chi-so-mau.xlsx"'
    return response


def _import_help() -> dict[str, Any]:
    return {
        "tree_columns": workbook.TREE_COLUMNS,
        "tier_columns": workbook.TIER_COLUMNS,
        "settings": workbook.SETTINGS,
        "sheets": (workbook.TREE_SHEET, workbook.TIERS_SHEET, workbook.SETTINGS_SHEET),
        "levels": NodeLevel.choices,
        "methods": Method.choices,
        "metrics": Rate.choices,
        "scorings": ScoringFunction.choices,
        "kinds": UnitKind.choices,
    }


@login_required
@require_http_methods(["GET", "POST"])
def framework_import(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    errors: list[workbook.CellError] = []
    status = 200
    if request.method == "POST":
        form = WorkbookImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                framework = workbook.framework_import(
                    user=user,
                    stream=form.cleaned_data["file"],
                    replace=form.cleaned_data["replace"],
                )
            except workbook.WorkbookInvalid as exc:
                errors = exc.errors
                status = 422
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            else:
                messages.success(
                    request,
                    gettext("Framework %(name)s imported.") % {"name": framework.name},
                )
                return redirect("framework_detail", pk=framework.pk)
    else:
        form = WorkbookImportForm()
    return render(
        request,
        "scoring/framework_import.html",
        {"form": form, "errors": errors, **_import_help()},
        status=status,
    )


def _framework_form_page(
    request: HttpRequest,
    pk: int,
    *,
    form_class: type[forms.Form],
    initial: Callable[[Framework], dict[str, Any]],
    save: Callable[[User, Framework, dict[str, Any]], object],
    saved: str,
    title: str,
) -> HttpResponse:
    """A form of a framework's own values (its settings, its year's rule
    settings): for its manager, until its year is published."""
    allowed = _editable(request, pk)
    if allowed is None:
        return redirect("framework_detail", pk=pk)
    user, framework = allowed
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                save(user, framework, form.cleaned_data)
            except ValidationError as exc:
                attach(form, exc)
            else:
                messages.success(request, saved)
                return redirect("framework_detail", pk=framework.pk)
    else:
        form = form_class(initial=initial(framework))
    return render(
        request,
        "scoring/framework_form.html",
        {"form": form, "framework": framework, "title": title},
    )


@login_required
@require_http_methods(["GET", "POST"])
def framework_settings(request: HttpRequest, pk: int) -> HttpResponse:
    return _framework_form_page(
        request,
        pk,
        form_class=FrameworkSettingsForm,
        initial=lambda framework: {
            "name": framework.name,
            "deadline": framework.deadline,
            "contest_days": framework.contest_days,
            "reminder_days": framework.reminder_days,
        },
        save=lambda user, framework, data: frameworks.framework_settings_update(
            user=user, framework=framework, **data
        ),
        saved=gettext("Settings saved."),
        title=gettext("Settings"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def framework_thresholds(request: HttpRequest, pk: int) -> HttpResponse:
    """The year's rule settings: editable until the year is published."""
    return _framework_form_page(
        request,
        pk,
        form_class=FrameworkThresholdsForm,
        initial=thresholds.of,
        save=lambda user, framework, data: frameworks.framework_thresholds_set(
            user=user, framework=framework, values=data
        ),
        saved=gettext("The year's rule settings saved."),
        title=gettext("Rule settings"),
    )


@login_required
@require_POST
def framework_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close the cycle after the deadline: every assessment not submitted is
    taken for appraisal as it stands (scoring.assessments.closing)."""
    user, framework = _managed(request, pk)
    now = timezone.now()
    try:
        outcome = closing.cycle_close(
            user=user, framework=framework, now=now, today=timezone.localdate(now)
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            gettext(
                "Cycle closed: %(late)s assessments not submitted were taken for "
                "appraisal as late (quá hạn), %(returned)s returned ones taken "
                "back, %(created)s created empty for units that never started."
            )
            % {
                "late": outcome.late,
                "returned": outcome.returned,
                "created": outcome.created,
            },
        )
        if outcome.waiting:
            messages.warning(
                request,
                gettext(
                    "Left open while their extension runs: %(units)s. They are "
                    "taken the day after it ends."
                )
                % {"units": ", ".join(outcome.waiting)},
            )
    return redirect("framework_detail", pk=framework.pk)


@login_required
@require_http_methods(["GET", "POST"])
def framework_tiers(request: HttpRequest, pk: int) -> HttpResponse:
    allowed = _editable(request, pk)
    if allowed is None:
        return redirect("framework_detail", pk=pk)
    user, framework = allowed
    problems: list[str] = []
    if request.method == "POST":
        formset = tier_formset(request.POST)
        if formset.is_valid():
            try:
                frameworks.tiers_set(
                    user=user, framework=framework, tiers=formset.tiers()
                )
            except ValidationError as exc:
                problems = exc.messages
            else:
                messages.success(request, gettext("Tiers saved."))
                return redirect("framework_detail", pk=framework.pk)
    else:
        formset = tier_formset(
            initial=[
                {"code": t.code, "label": t.label, "min_index": t.min_index}
                for t in framework.tiers.all()
            ]
        )
    return render(
        request,
        "scoring/framework_tiers.html",
        {"formset": formset, "framework": framework, "problems": problems},
    )


def _next_code(framework: Framework, parent: Node | None) -> str:
    """The code after the parent's last child's: 1.3 after 1.2."""
    siblings = Node.objects.filter(framework=framework, parent=parent).values_list(
        "code", flat=True
    )
    numbers = [int(last) for c in siblings if (last := c.rsplit(".", 1)[-1]).isdigit()]
    following = str(max(numbers, default=0) + 1)
    return f"{parent.code}.{following}" if parent else following


def _node_url(framework: Framework, node: Node) -> str:
    return f"{reverse('framework_detail', args=[framework.pk])}#node-{node.code}"


def _node_page(
    request: HttpRequest,
    framework: Framework,
    form: NodeForm,
    *,
    parent: Node | None,
    node: Node | None,
) -> HttpResponse:
    """The form of a new item under ``parent``, or of ``node``."""
    return render(
        request,
        "scoring/framework_node_form.html",
        {
            "form": form,
            "framework": framework,
            "parent": parent,
            "node": node,
            "assessment_count": framework.assessments.count(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def node_new(request: HttpRequest, pk: int) -> HttpResponse:
    allowed = _editable(request, pk)
    if allowed is None:
        return redirect("framework_detail", pk=pk)
    user, framework = allowed
    parent_pk = request.POST.get("parent") or request.GET.get("parent")
    parent = None
    if parent_pk:
        if not str(parent_pk).isdigit():
            raise Http404
        parent = get_object_or_404(Node, pk=int(parent_pk), framework=framework)
    if request.method == "POST":
        form = NodeForm(request.POST)
        if form.is_valid():
            try:
                node = frameworks.node_add(
                    user=user,
                    framework=framework,
                    parent=parent,
                    data=form.node_data(),
                )
            except ValidationError as exc:
                attach(form, exc)
            else:
                messages.success(
                    request, gettext("%(code)s added.") % {"code": node.code}
                )
                return redirect(_node_url(framework, node))
    else:
        form = NodeForm(initial={"code": _next_code(framework, parent)})
    return _node_page(request, framework, form, parent=parent, node=None)


@login_required
@require_http_methods(["GET", "POST"])
def node_edit(request: HttpRequest, pk: int, node_pk: int) -> HttpResponse:
    allowed = _editable(request, pk)
    if allowed is None:
        return redirect("framework_detail", pk=pk)
    user, framework = allowed
    node = get_object_or_404(
        Node.objects.select_related("owner_unit", "parent"),
        pk=node_pk,
        framework=framework,
    )
    is_leaf = not node.children.exists()
    if request.method == "POST":
        form = NodeForm(request.POST, is_leaf=is_leaf)
        if form.is_valid():
            try:
                node = frameworks.node_update(
                    user=user, node=node, data=form.node_data()
                )
            except ValidationError as exc:
                attach(form, exc)
            else:
                messages.success(
                    request, gettext("%(code)s saved.") % {"code": node.code}
                )
                return redirect(_node_url(framework, node))
    else:
        form = NodeForm(initial=NodeForm.initial_for(node), is_leaf=is_leaf)
    return _node_page(request, framework, form, parent=node.parent, node=node)


@login_required
@require_POST
def node_delete(request: HttpRequest, pk: int, node_pk: int) -> HttpResponse:
    allowed = _editable(request, pk)
    if allowed is None:
        return redirect("framework_detail", pk=pk)
    user, framework = allowed
    node = get_object_or_404(Node, pk=node_pk, framework=framework)
    try:
        frameworks.node_delete(user=user, node=node)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, gettext("%(code)s deleted.") % {"code": node.code})
    return redirect("framework_detail", pk=framework.pk)


@login_required
@require_POST
def framework_copy(request: HttpRequest, pk: int) -> HttpResponse:
    """Copy a framework to a new year (by default the next): "copy last
    year's" on the list."""
    user, source = _managed(request, pk)
    form = CopyForm(request.POST)
    if form.is_valid():
        try:
            copy = frameworks.framework_copy(
                user=user, source=source, year=form.cleaned_data["year"]
            )
        except ValidationError as exc:
            attach(form, exc)
        else:
            messages.success(
                request,
                gettext("%(name)s created from the %(year)s framework.")
                % {"name": copy.name, "year": source.year},
            )
            return redirect("framework_detail", pk=copy.pk)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))
    return redirect("framework_detail", pk=source.pk)


@login_required
@require_POST
def framework_open(request: HttpRequest, pk: int) -> HttpResponse:
    allowed = _editable(request, pk)
    if allowed is None:
        return redirect("framework_detail", pk=pk)
    user, framework = allowed
    try:
        created = frameworks.framework_open(
            user=user, framework=framework, today=timezone.localdate()
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            gettext(
                "The framework is open for self-assessment. Assessments created: "
                "%(count)s."
            )
            % {"count": created},
        )
    return redirect("framework_detail", pk=framework.pk)


def _survey_page(
    request: HttpRequest,
    *,
    year: int,
    form: SurveyFiguresImportForm,
    preview: survey.Preview | None = None,
    token: str = "",
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    figures = (
        SurveyFigure.objects.filter(year=year)
        .select_related("unit", "imported_by")
        .order_by("unit__path", "source")
    )
    return render(
        request,
        "scoring/survey_figures.html",
        {
            "form": form,
            "year": year,
            "figures": figures,
            "preview": preview,
            "token": token,
            "errors": [*form.non_field_errors(), *(errors or [])],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_figures(request: HttpRequest) -> HttpResponse:
    """A year's survey figures and their import's first step: the upload
    shows what each row would do, or its errors; nothing is written until
    it is confirmed (``survey_figures_confirm``). For reviewers; the
    service checks who manages each unit's kind."""
    user = _manager(request)
    year = timezone.localdate().year - 1
    if request.method != "POST":
        with contextlib.suppress(ValueError):
            year = int(request.GET.get("year", year))
        form = SurveyFiguresImportForm(initial={"year": year})
        return _survey_page(request, year=year, form=form)
    form = SurveyFiguresImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _survey_page(request, year=year, form=form, status=422)
    year = form.cleaned_data["year"]
    upload = form.cleaned_data["file"]
    # Read once (bounded by the form): previewed, then kept as it was.
    content = ContentFile(upload.read(), name=upload.name or "")
    try:
        preview = survey.survey_figures_preview(
            user=user,
            year=year,
            stream=BytesIO(content.read()),
            file_name=content.name or "",
        )
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return _survey_page(request, year=year, form=form, status=403)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _survey_page(request, year=year, form=form, status=422)
    token = (
        ""
        if preview.errors
        else survey.upload_keep(content, user=user, year=year, now=timezone.now())
    )
    return _survey_page(
        request,
        year=year,
        form=form,
        preview=preview,
        token=token,
        status=422 if preview.errors else 200,
    )


@login_required
@require_POST
def survey_figures_confirm(request: HttpRequest) -> HttpResponse:
    """The import's second step: the kept upload imported, all or nothing
    (judged again against what is stored now), or dropped."""
    user = _manager(request)
    kept = survey.upload_kept(request.POST.get("upload", ""), user=user)
    if kept is None:
        messages.error(
            request,
            gettext(
                "This upload is no longer waiting for confirmation: upload the "
                "file again."
            ),
        )
        return redirect("survey_figures")
    back = f"{reverse('survey_figures')}?year={kept.year}"
    if request.POST.get("action") == "cancel":
        survey.upload_forget(kept)
        messages.info(request, gettext("The upload is dropped; nothing was imported."))
        return redirect(back)
    form = SurveyFiguresImportForm(initial={"year": kept.year})
    # Imported or refused, the kept file has served: a refused one is
    # corrected and uploaded again.
    try:
        with kept.open() as stream:
            imported = survey.survey_figures_import(
                user=user,
                year=kept.year,
                stream=stream,
                file_name=kept.file_name,
                now=timezone.now(),
            )
    except PermissionDenied as exc:
        return _survey_page(
            request, year=kept.year, form=form, errors=[str(exc)], status=403
        )
    except ValidationError as exc:
        # Something changed since the preview (a framework published, a
        # unit removed): said, nothing written.
        return _survey_page(
            request, year=kept.year, form=form, errors=exc.messages, status=422
        )
    finally:
        survey.upload_forget(kept)
    messages.success(
        request,
        gettext(
            "Survey figures of %(year)s imported: %(created)s new, %(replaced)s "
            "replaced, %(unchanged)s unchanged."
        )
        % {
            "year": kept.year,
            "created": imported.created,
            "replaced": imported.replaced,
            "unchanged": imported.unchanged,
        },
    )
    return redirect(back)
