from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = (
        "Build the demo province (units, heads, logins and, as the portal grows, "
        "its data). Deterministic and repeatable: running it again changes nothing."
    )

    def handle(self, *args, **options) -> None:
        for dotted in settings.DEMO_STEPS:
            step = import_string(dotted)
            self.stdout.write(self.style.MIGRATE_HEADING(f"{dotted}"))
            # One transaction per step: a failing step leaves the earlier ones.
            with transaction.atomic():
                step(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
