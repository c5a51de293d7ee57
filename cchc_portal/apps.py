from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "cchc_portal"
    verbose_name = "CCHC portal"

    def ready(self) -> None:
        # Every process (web, worker, beat, a command) forgets a cached account
        # or token the moment it changes (cchc_portal.accounts).
        from cchc_portal import accounts  # noqa: F401
