"""What the portal itself keeps, apart from the apps: tasks on their way to
the broker (cchc_portal.queue), and the API's idempotency keys
(cchc_portal.idempotency)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingTask(models.Model):
    """A task to be handed to the broker: written in the transaction that
    makes the work (a run queued, an import's touched months), deleted once
    the broker took it. One still here after a while was never handed over
    (the broker was down, the process died right after the commit) and is
    sent again by the beat (queue.pending_send)."""

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("task waiting for the broker")
        verbose_name_plural = _("tasks waiting for the broker")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class IdempotencyKey(models.Model):
    """A caller's Idempotency-Key on a POST that creates something, with the
    answer it got (cchc_portal.idempotency): a retry with the same key
    answers the same, without writing again. Written in the transaction of
    the write it answers, so that a key is kept exactly when its write is.
    Forgotten after a day (IDEMPOTENCY_KEY_HOURS)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("caller")
    )
    key = models.CharField(_("key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=2000)
    digest = models.CharField(
        _("request digest"),
        max_length=64,
        help_text=_("SHA-256 of the method, the path and the body."),
    )
    status = models.PositiveSmallIntegerField(_("answer status"))
    body = models.JSONField(_("answer body"), encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="idempotency_key_once_per_caller"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"
