"""What the portal itself keeps, apart from the apps: tasks on their way to
the broker (cchc_portal.queue)."""

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
