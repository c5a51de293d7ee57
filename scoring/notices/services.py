"""Notices to the people who act next, and their e-mails.

Every step that hands work to someone writes a ``Notice`` per recipient
through ``notices_send`` (scoring's own services), or through
``commitments.organisation.handovers.hand_over`` (the apps below scoring),
which ``handover_received`` turns into the same rows. E-mail follows each
user's choice (``NoticeSettings``): by default one digest a day
(``notices_digest_send``, by beat), at once (``notices_email``, a task after
the commit), or none."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from cchc_portal.queue import enqueue_on_commit
from commitments.organisation.todo import todo_forget
from scoring.models import EmailMode, Notice, NoticeSettings
from scoring.results import page_cache

if TYPE_CHECKING:
    from commitments.organisation.handovers import Handover
    from scoring.models import Assessment

logger = logging.getLogger(__name__)


def _ids(users: Iterable[Any]) -> list[int]:
    return sorted({getattr(user, "pk", user) for user in users} - {None})


def _acted_on(
    user_id: int, *, assessment: Assessment | None, url: str, now: datetime
) -> None:
    """The user's unread notices about what they just acted on (the same
    assessment, or else the same page) marked read."""
    if assessment is None and not url:
        return
    about = Q(assessment=assessment) if assessment is not None else Q(url=url)
    if Notice.objects.filter(about, user_id=user_id, read_at__isnull=True).update(
        read_at=now
    ):
        page_cache.forget_readers({user_id})


def notices_send(
    *,
    users: Iterable[Any],
    subject: str,
    url: str,
    now: datetime,
    body: str = "",
    assessment: Assessment | None = None,
    actor: Any = None,
    key: str = "",
) -> list[Notice]:
    """A notice for each of ``users`` (accounts or ids; the actor left out,
    who knows what they did). With ``key``, a user who already has a notice
    of that key gets none. Those who chose immediate e-mail get theirs once
    the transaction commits."""
    ids = set(_ids(users))
    if actor is not None and getattr(actor, "is_authenticated", False):
        ids.discard(actor.pk)
        # What the actor just did is off their own list, and the notices
        # that handed it to them are read: they acted on them.
        todo_forget([actor.pk])
        _acted_on(actor.pk, assessment=assessment, url=url, now=now)
    if key:
        ids -= set(
            Notice.objects.filter(user_id__in=ids, key=key).values_list(
                "user_id", flat=True
            )
        )
    if not ids:
        return []
    notices = Notice.objects.bulk_create(
        Notice(
            user_id=user_id,
            assessment=assessment,
            subject=subject[:255],
            body=body,
            url=url,
            created_at=now,
            key=key,
        )
        for user_id in sorted(ids)
    )
    page_cache.forget_readers(ids)
    todo_forget(ids)
    immediate = set(
        NoticeSettings.objects.filter(
            user_id__in=ids, email_mode=EmailMode.IMMEDIATE
        ).values_list("user_id", flat=True)
    )
    wanted = [notice.pk for notice in notices if notice.user_id in immediate]
    if wanted:
        from scoring.tasks import notices_email_task

        enqueue_on_commit(notices_email_task, wanted, robust=True)
    return notices


def handover_received(*, handover: Handover, now: datetime, **kwargs: Any) -> None:
    """``handed_over`` from a lower app: the same notices as scoring's own
    (the actor's own notices about the page read)."""
    if handover.actor_id is not None:
        _acted_on(handover.actor_id, assessment=None, url=handover.url, now=now)
    notices_send(
        users=handover.user_ids,
        subject=handover.subject,
        body=handover.body,
        url=handover.url,
        now=now,
    )


def email_mode_of(user: Any) -> str:
    found = NoticeSettings.objects.filter(user_id=user.pk).first()
    return found.email_mode if found else EmailMode.DIGEST


def email_mode_set(*, user: Any, mode: str) -> NoticeSettings:
    if mode not in EmailMode.values:
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError({"email_mode": _("Choose how to receive e-mails.")})
    found, _created = NoticeSettings.objects.update_or_create(
        user_id=user.pk, defaults={"email_mode": mode}
    )
    return found


# --- e-mail ---------------------------------------------------------------------


def _site_url(path: str) -> str:
    if not path or path.startswith("http"):
        return path
    return settings.PORTAL_URL.rstrip("/") + path


def _render(template: str, context: dict[str, Any]) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(template, context).strip()


def _send(emails: list[EmailMessage]) -> int:
    """One connection; a failure is logged, the notices stay marked as
    e-mailed (never twice, at the price of one lost while the server is
    down), and they stay in the portal."""
    if not emails:
        return 0
    try:
        return get_connection().send_messages(emails) or 0
    except Exception:
        logger.exception(
            "Notice e-mail to %s not sent",
            ", ".join(address for email in emails for address in email.to),
        )
        return 0


def notices_email(*, notice_ids: list[int], now: datetime) -> int:
    """Immediate mode: one e-mail per notice still not e-mailed. Each is
    marked first (compare-and-set), so a task run twice sends once."""
    emails: list[EmailMessage] = []
    for notice in (
        Notice.objects.filter(pk__in=notice_ids, emailed_at__isnull=True)
        .select_related("user")
        .order_by("pk")
    ):
        claimed = Notice.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(
            emailed_at=now
        )
        if not claimed or not notice.user.email or not notice.user.is_active:
            continue
        emails.append(
            EmailMessage(
                subject=notice.subject,
                body=_render(
                    "scoring/email/notice.txt",
                    {
                        "name": notice.user.get_full_name()
                        or notice.user.get_username(),
                        "notice": notice,
                        "link": _site_url(notice.url),
                    },
                ),
                to=[notice.user.email],
            )
        )
    return _send(emails)


def notices_digest_send(*, today: date, now: datetime) -> int:
    """The daily digest: one e-mail per person (digest mode, the default)
    with every notice not yet e-mailed and still unread. A person's day is
    claimed on their settings row before anything is sent, so a second run
    the same day sends nothing. Returns the e-mails sent."""
    users = (
        get_user_model()
        .objects.filter(
            is_active=True,
            notices__emailed_at__isnull=True,
            notices__read_at__isnull=True,
        )
        .exclude(email="")
    )
    users = users.exclude(
        notice_settings__email_mode__in=[EmailMode.IMMEDIATE, EmailMode.NONE]
    ).distinct()
    emails: list[EmailMessage] = []
    for user in users.order_by("pk"):
        with transaction.atomic():
            NoticeSettings.objects.get_or_create(user=user)
            claimed = (
                NoticeSettings.objects.filter(user=user)
                .filter(Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=today))
                .update(digest_sent_on=today)
            )
            if not claimed:
                continue
            notices = list(
                Notice.objects.filter(
                    user=user, emailed_at__isnull=True, read_at__isnull=True
                ).order_by("created_at", "pk")
            )
            Notice.objects.filter(pk__in=[n.pk for n in notices]).update(emailed_at=now)
        if not notices:
            continue
        context = {
            "name": user.get_full_name() or user.get_username(),
            "notices": [(notice, _site_url(notice.url)) for notice in notices],
            "count": len(notices),
            "day": today,
            "all_link": _site_url("/notices/"),
        }
        emails.append(
            EmailMessage(
                subject=_render("scoring/email/notice_digest_subject.txt", context),
                body=_render("scoring/email/notice_digest.txt", context),
                to=[user.email],
            )
        )
    return _send(emails)
