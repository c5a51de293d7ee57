"""The user's in-portal notices, and the reviewers' list of units that have
not started their self-assessment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from scoring import access
from scoring.assessments import reminders
from scoring.models import Assessment, EmailMode, FrameworkState
from scoring.notices import services as notice_services

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NOTICES_PER_PAGE = 50


@login_required
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    page = Paginator(reminders.notices_of(user), NOTICES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "scoring/notice_list.html", {"page": page})


@login_required
@require_POST
def notice_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a notice read, then go where ``next`` says (the notice's link)
    or back to the list."""
    user: User = request.user  # type: ignore[assignment]
    reminders.notice_mark_read(user=user, notice_id=pk, now=timezone.now())
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notice_list")


@login_required
@require_POST
def notices_read_all(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    count = reminders.notices_mark_all_read(user=user, now=timezone.now())
    if count:
        messages.success(request, _("All notices are marked as read."))
    return redirect("notice_list")


class NoticeSettingsForm(forms.Form):
    email_mode = forms.ChoiceField(
        label=_l("Notices by e-mail"),
        choices=EmailMode.choices,
        widget=forms.RadioSelect,
    )


@login_required
@require_http_methods(["GET", "POST"])
def notice_settings(request: HttpRequest) -> HttpResponse:
    """How the user receives their notices by e-mail: the daily digest
    (default), each at once, or none."""
    user: User = request.user  # type: ignore[assignment]
    form = NoticeSettingsForm(
        request.POST or None,
        initial={"email_mode": notice_services.email_mode_of(user)},
    )
    if request.method == "POST" and form.is_valid():
        notice_services.email_mode_set(user=user, mode=form.cleaned_data["email_mode"])
        messages.success(request, _("Your choice is saved."))
        return redirect("notice_settings")
    return render(
        request,
        "scoring/notice_settings.html",
        {"form": form, "email": user.email},
    )


@login_required
@require_GET
def assessments_not_started(request: HttpRequest) -> HttpResponse:
    """For a reviewer's jurisdiction (or a superuser's whole province): the
    units whose assessment of a framework has no self score yet, and the
    deadline reminders they were sent. Anyone else: 404."""
    user = request.user
    if not access.may_see_not_started(user):
        raise Http404
    frameworks = list(reminders.frameworks_reviewed(user))
    wanted = request.GET.get("framework", "")
    if wanted:
        if not wanted.isdigit():
            raise Http404
        framework = next((f for f in frameworks if f.pk == int(wanted)), None)
        if framework is None:
            raise Http404
    else:
        # The framework being filled in now, else the latest.
        framework = next(
            (f for f in frameworks if f.state == FrameworkState.OPEN),
            frameworks[0] if frameworks else None,
        )
    rows: list[Assessment] = []
    total = 0
    if framework is not None:
        rows = list(reminders.assessments_not_started(user=user, framework=framework))
        total = reminders.assessments_reviewed(user=user, framework=framework).count()
    return render(
        request,
        "scoring/not_started.html",
        {
            "frameworks": frameworks,
            "framework": framework,
            "rows": rows,
            "total": total,
            "today": timezone.localdate(),
        },
    )
