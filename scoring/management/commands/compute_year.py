from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring.models import RunState
from scoring.results import computation


class Command(BaseCommand):
    help = (
        "Compute a year's provisional results (index, tiers, ranks, proposed "
        "bonuses) in this process, recorded as a computation run. Safe to run "
        "again: the year's provisional results are replaced in one transaction; "
        "published results are never touched. With --queue the run is handed "
        "to a Celery worker instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Queue the run for a Celery worker and return at once.",
        )

    def handle(self, *args, year: int, queue: bool, **options) -> None:
        if queue:
            from cchc_portal.queue import enqueue
            from scoring.tasks import compute_year_task

            requested = computation.run_request(year=year, trigger="command")
            # With the broker down the run waits in the database for it.
            enqueue(compute_year_task, requested.pk)
            self.stdout.write(f"Run #{requested.pk} of {year} queued.")
            return
        try:
            run = computation.compute_now(year, trigger="command")
        except computation.ComputationError as exc:
            raise CommandError(str(exc)) from exc
        if run.state != RunState.SUCCEEDED:
            raise CommandError(f"Run #{run.pk} of {year}: {run.state} {run.error}")
        assert run.finished_at is not None
        assert run.started_at is not None
        took = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                f"Run #{run.pk} of {year}: {run.units} units in {run.frameworks} "
                f"frameworks, {run.proposals} proposed bonuses, {took:.1f} s."
            )
        )
