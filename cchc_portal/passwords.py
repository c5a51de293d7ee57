"""Self-service password reset by e-mail (Django's own views and tokens).

The page answers the same whether or not the address belongs to someone, so it
tells nobody who has an account. One address receives at most one link per
``PASSWORD_RESET_EVERY`` (the cache remembers the last one), so the form cannot
be used to flood a colleague's mailbox; the link itself expires after
``PASSWORD_RESET_TIMEOUT`` (a day, in settings) and works once, since the
token is bound to the current password and the last login. Saving the new
password lifts a lockout after wrong passwords."""

from __future__ import annotations

from typing import Any

from axes.utils import reset as reset_attempts
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import path, reverse_lazy


def _sent_key(email: str) -> str:
    return f"password-reset-sent:{email.strip().lower()}"


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's form, sending to an address at most once a period."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # cache.add stores only when the key is absent: the first request of a
        # period sends, the others are answered alike and send nothing.
        if not cache.add(_sent_key(to_email), True, settings.PASSWORD_RESET_EVERY):
            return
        super().send_mail(
            subject_template_name,
            email_template_name,
            context,
            from_email,
            to_email,
            html_email_template_name,
        )


class ResetSentView(auth_views.PasswordResetDoneView):
    """ "Check your e-mail", saying how long the link works."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["reset_hours"] = settings.PASSWORD_RESET_TIMEOUT // 3600
        return context


class NewPasswordView(auth_views.PasswordResetConfirmView):
    """The e-mailed link's page. Saving proves the mailbox is the account's,
    so it also lifts a lockout after wrong passwords (django-axes), which would
    otherwise keep the new password from working until it expires."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        reset_attempts(username=form.user.get_username())
        return response


urlpatterns = [
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            form_class=ThrottledPasswordResetForm,
            success_url=reverse_lazy("password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        ResetSentView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        NewPasswordView.as_view(
            success_url=reverse_lazy("password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
