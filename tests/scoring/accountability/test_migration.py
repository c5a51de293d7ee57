"""The migration that brought decided_proposal and run causes: each decided
rating keeps the proposal it was decided on (read from its history), and a
failed run's recorded text (possibly a database's message) is no longer
what readers see."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from scoring.models import ComputationRun, HeadRating
from tests.factories import HeadFactory, UnitFactory

BEFORE = [("scoring", "0004_accountability")]
AFTER = [("scoring", "0005_head_rating_decided_proposal_and_run_causes")]
DECIDED_AT = datetime(2026, 4, 20, 3, 0, tzinfo=UTC)
RAW = "CHECK constraint failed: head_rating_change_has_reason"


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_decided_ratings_keep_the_proposal_they_were_decided_on():
    old = migrate(BEFORE)
    try:
        Rating = old.get_model("scoring", "HeadRating")
        History = old.get_model("scoring", "HistoricalHeadRating")
        Run = old.get_model("scoring", "ComputationRun")
        parent = UnitFactory(code="CITY")
        units = [UnitFactory(code=f"CITY-{n}", parent=parent) for n in range(3)]
        heads = [HeadFactory(unit=unit) for unit in units]

        def rating(n, proposed, final, reason=""):
            return Rating.objects.create(
                unit_id=units[n].pk,
                year=2025,
                head_id=heads[n].pk,
                proposed=proposed,
                final=final,
                reason=reason,
                rated_at=None if final is None else DECIDED_AT,
                proposed_at=DECIDED_AT,
            )

        confirmed = rating(0, 2, 2)
        # Decided "excellent" with a reason on proposal "good"; a later run
        # proposed "completed" (allowed then: the reason covered it).
        moved = rating(1, 1, 3, "Dẫn đầu chuyển đổi số.")
        History.objects.create(
            id=moved.pk,
            year=2025,
            proposed=2,
            basis="{}",
            final=3,
            reason="Dẫn đầu chuyển đổi số.",
            rated_at=DECIDED_AT,
            flagged=False,
            history_date=DECIDED_AT,
            history_type="~",
            head_id=heads[1].pk,
            unit_id=units[1].pk,
        )
        undecided = rating(2, 1, None)
        jammed = Run.objects.create(
            year=2025,
            trigger="schedule",
            state="failed",
            created_at=DECIDED_AT,
            error=RAW,
        )
    finally:
        migrate(AFTER)
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    decided = {
        r.pk: (r.final, r.decided_proposal, r.proposed)
        for r in HeadRating.objects.all()
    }
    assert decided == {
        confirmed.pk: (2, 2, 2),
        moved.pk: (3, 2, 1),
        undecided.pk: (None, None, 1),
    }
    run = ComputationRun.objects.get(pk=jammed.pk)
    assert run.error_code == "unexpected"
    with translation.override("vi"):
        assert RAW not in run.cause
        assert f"#{run.pk}" in run.cause
