from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("PAR index scoring")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from commitments.models import Membership
        from scoring.page_cache import membership_changed

        # Memberships are granted and withdrawn in the admin as well as here.
        post_save.connect(membership_changed, sender=Membership)
        post_delete.connect(membership_changed, sender=Membership)
