from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo province and `seed_demo`: the highest app, writing through the
    other apps' services; no product app imports it."""

    name = "demo"
    verbose_name = _("Demo data")
