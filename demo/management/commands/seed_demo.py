import io
import time

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
        # Written to a pipe or a log (docker compose, a CI job), Python's stdout
        # is block-buffered and the first load would show nothing for minutes:
        # out goes every line as it is written.
        stream = getattr(self.stdout, "_out", None)
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
        began = time.monotonic()
        for dotted in settings.DEMO_STEPS:
            step = import_string(dotted)
            self.stdout.write(self.style.MIGRATE_HEADING(f"{dotted}"))
            started = time.monotonic()
            # One transaction per step: a failing step leaves the earlier ones.
            with transaction.atomic():
                step(self.stdout)
            self.stdout.write(f"  ({time.monotonic() - started:.0f} s)")
        self.stdout.write(f"({time.monotonic() - began:.0f} s in all)")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
