from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("PAR index scoring")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_save

        from commitments.organisation.handovers import handed_over
        from commitments.organisation.models import Membership, RankingGroup, Unit
        from scoring import signals
        from scoring.notices.services import handover_received
        from scoring.results.page_cache import membership_changed

        # Memberships are granted and withdrawn in the admin as well as here.
        post_save.connect(membership_changed, sender=Membership)
        post_delete.connect(membership_changed, sender=Membership)
        # A unit or group renamed anywhere: kept rankings and pages follow.
        for model in (Unit, RankingGroup):
            pre_save.connect(signals.remember_shown_change, sender=model)
            post_save.connect(signals.shown_saved, sender=model)
            post_delete.connect(signals.shown_deleted, sender=model)
        # The apps below scoring hand work over without importing the notices.
        handed_over.connect(handover_received, dispatch_uid="scoring-notices")
