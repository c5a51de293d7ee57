from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from commitments.organisation.models import Unit
from procedures.metrics import metrics_recompute, periods_between
from procedures.models import CaseRecord
from procedures.parsing import LOCAL_TZ


class Command(BaseCommand):
    help = (
        "Recompute the stored dossier figures (months, quarters, years) of every "
        "unit from the case records, from the first year with a dossier (or "
        "--from YEAR) up to now. Safe to run at any time: it replaces, never adds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first_year", type=int, default=None)

    def handle(self, *args, **options) -> None:
        first = CaseRecord.objects.order_by("received_at").first()
        if first is None:
            self.stdout.write("No case records: nothing to compute.")
            return
        year = options["first_year"] or first.received_at.astimezone(LOCAL_TZ).year
        now = timezone.now()
        written = metrics_recompute(
            unit_ids=Unit.objects.values_list("pk", flat=True),
            periods=periods_between((year, 1), now),
            as_of=now,
        )
        self.stdout.write(self.style.SUCCESS(f"{written} figure rows written."))
