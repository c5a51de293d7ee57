"""Publishing freezes a version of the year's results; nothing changes it
afterwards, in Python or in the database."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from scoring.models import (
    Assessment,
    AssessmentState,
    Contest,
    Framework,
    FrameworkState,
    FrozenError,
    Publication,
    PublishedResult,
    Score,
)
from scoring.results import computation, publication
from scoring.results import selectors as results
from tests.scoring.results_helpers import GOOD, record, scored
from tests.wording import vi

NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def computed(year, org):
    scored(year, org.commune_a, GOOD)
    scored(year, org.commune_b, {"1.1.1": ("2", "1"), "2.2": (None, "2")})
    return computation.compute_now(2025)


def published_figures(p: Publication) -> dict[str, tuple]:
    return {
        r.unit.code: (r.final, r.index, r.rank)
        for r in PublishedResult.objects.filter(publication=p).select_related("unit")
    }


def test_publishing_freezes_version_1_with_a_checksum(computed, reviewer, year):
    p = publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)
    assert (p.year, p.version, p.run_id) == (2025, 1, computed.pk)
    assert len(p.checksum) == 64
    assert publication.verify(p)
    assert p.parameters == computed.parameters
    assert published_figures(p) == {
        "CITY-A": (Decimal("6.50"), Decimal("65.00"), 1),
        "CITY-B": (Decimal("3.00"), Decimal("30.00"), 2),
    }
    year.refresh_from_db()
    assert year.state == FrameworkState.PUBLISHED


def test_a_recomputation_makes_a_new_version_and_never_changes_the_published(
    computed, reviewer, year, org
):
    first = publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)
    before = published_figures(first)
    # A complaint verified after publication: recomputed, then republished.
    record(year, org.commune_a, "harassment_complaint")
    rerun = computation.compute_now(2025)
    first.refresh_from_db()
    assert published_figures(first) == before
    assert publication.verify(first)
    assert results.publication_of(2025).version == 1

    second = publication.publish(user=reviewer, year=2025, run_id=rerun.pk, now=NOW)
    assert second.version == 2
    assert published_figures(second)["CITY-A"][0] == Decimal("5.50")
    assert published_figures(first) == before
    assert second.checksum != first.checksum
    assert results.publication_of(2025).version == 2
    assert results.publication_of(2025, version=1) == first


def test_a_published_row_refuses_changes_in_python(computed, reviewer):
    p = publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)
    row = PublishedResult.objects.filter(publication=p).first()
    row.index = 100
    with pytest.raises(FrozenError):
        row.save()
    with pytest.raises(FrozenError):
        row.delete()
    p.note = "sửa"
    with pytest.raises(FrozenError):
        p.save()


def test_the_database_refuses_to_update_a_published_row(computed, reviewer):
    p = publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)
    with pytest.raises(DatabaseError), transaction.atomic():
        PublishedResult.objects.filter(publication=p).update(index=100)
    with pytest.raises(DatabaseError), transaction.atomic():
        Publication.objects.filter(pk=p.pk).update(checksum="0" * 64)
    if connection.vendor == "postgresql":
        # SQLite empties tables with DELETE when a test database is flushed,
        # so only PostgreSQL refuses deletes too (TRUNCATE is not refused).
        with pytest.raises(DatabaseError), transaction.atomic():
            PublishedResult.objects.filter(publication=p)._raw_delete(connection.alias)
    assert publication.verify(p)


def test_a_tampered_snapshot_fails_verification(computed, reviewer):
    p = publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)
    tampered = Publication(
        year=p.year, version=p.version, parameters=p.parameters, checksum=p.checksum
    )
    tampered.pk = p.pk
    tampered.parameters = {**p.parameters, "x": 1}
    assert not publication.verify(tampered)


def test_only_framework_managers_publish(computed, city_reviewer, leader):
    with pytest.raises(PermissionDenied):
        publication.publish(user=leader, year=2025, run_id=computed.pk, now=NOW)
    assert not Publication.objects.exists()


def test_unapproved_assessments_block_publication(computed, reviewer, org):
    Assessment.objects.filter(unit=org.commune_b).update(
        state=AssessmentState.SUBMITTED
    )
    not_approved = vi("%(count)d assessments are not approved yet: %(units)s")
    assert publication.blockers(2025) == [not_approved % {"count": 1, "units": "Xã B"}]
    with pytest.raises(ValidationError, match="Xã B"):
        publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)


def test_an_open_contest_blocks_publication(computed, reviewer, org):
    score = Score.objects.filter(
        assessment__unit=org.commune_a, node__code="1.1.2"
    ).get()
    Contest.objects.create(
        score=score, reason="Đã có tài liệu", requested_score=4, raised_at=NOW
    )
    contests = vi("%(count)d contests of an appraised score await a decision.")
    with pytest.raises(ValidationError, match=re.escape(contests % {"count": 1})):
        publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)


def test_a_run_older_than_the_latest_cannot_be_published(computed, reviewer):
    computation.compute_now(2025)
    again = vi(
        "The results were computed again since you opened this page: check the new "
        "results before publishing."
    )
    with pytest.raises(ValidationError, match=re.escape(again)):
        publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)


def test_inputs_changed_since_the_run_must_be_recomputed_first(computed, reviewer, org):
    Score.objects.filter(assessment__unit=org.commune_b, node__code="1.1.1").update(
        appraised_score=2
    )
    changed = vi(
        "Scores, figures or deductions and bonuses changed after the results were "
        "computed: compute them again and check them before publishing."
    )
    with pytest.raises(ValidationError, match=re.escape(changed)):
        publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)
    assert not Publication.objects.exists()
    assert Framework.objects.get(year=2025).state != FrameworkState.PUBLISHED


def test_the_checksum_is_the_same_on_every_database(computed, reviewer):
    """Canonical JSON: sorted keys, no spaces, Decimals as their text."""
    p = publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)
    records = publication.published_records(p)
    again = publication.checksum(
        year=2025, version=1, parameters=p.parameters, results=list(reversed(records))
    )
    assert again == p.checksum


def test_the_same_run_is_not_published_twice(computed, reviewer):
    publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)
    published = vi(
        "These results are already published as version %(version)d: compute them "
        "again to publish a new version."
    )
    with pytest.raises(ValidationError, match=re.escape(published % {"version": 1})):
        publication.publish(user=reviewer, year=2025, run_id=computed.pk, now=NOW)
    assert Publication.objects.count() == 1


def test_a_city_reviewer_does_not_publish_units_outside_the_city(
    computed, city_reviewer, reviewer, org
):
    """Only who reviews every unit assessed in the year runs and publishes it."""
    assert publication.may_run(city_reviewer, 2025)
    from scoring.models import Framework as F
    from tests.scoring.results_helpers import add_tiers_and_catalogue

    departments = F.objects.create(
        year=2025, unit_kind="department", name="Chỉ số CCHC các sở"
    )
    add_tiers_and_catalogue(departments)
    scored(departments, org.department, {})
    assert not publication.may_run(city_reviewer, 2025)
    assert publication.may_run(reviewer, 2025)
    run = computation.compute_now(2025)
    with pytest.raises(PermissionDenied):
        publication.publish(user=city_reviewer, year=2025, run_id=run.pk, now=NOW)
