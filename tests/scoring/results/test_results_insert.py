"""Results written as the computation writes them (computation.results_insert:
COPY on PostgreSQL, bulk_create elsewhere) read back as computed, and a write
that fails leaves the previous results."""

from __future__ import annotations

import gc

import pytest

from scoring.models import Result
from scoring.results import computation
from tests.scoring.results.test_computation import columns as stored
from tests.scoring.results_helpers import GOOD, scored

AWKWARD = 'Thiếu\ttài liệu\n"bản gốc" C:\\hồ sơ\\ \r—'


def test_results_read_back_as_computed_awkward_text_too(year, org):
    scored(year, org.commune_a, GOOD)
    scored(year, org.commune_b, GOOD)
    year.tiers.update(label=AWKWARD)
    leaf = year.nodes.filter(children__isnull=True).order_by("position").first()
    leaf.scores.update(appraisal_reason=AWKWARD, appraised_score=1)
    computation.compute_now(2025)
    calculation = computation.calculate(2025)
    expected = sorted(
        (row.columns() for row in calculation.rows), key=lambda c: c["unit_id"]
    )
    got = sorted(stored(), key=lambda c: c["unit_id"])
    assert got == expected
    assert {c["tier_label"] for c in got} == {AWKWARD}
    assert all(c["detail"]["leaves"][leaf.code].get("r") == AWKWARD for c in got), got[
        0
    ]["detail"]["leaves"][leaf.code]


def test_the_detail_text_made_with_a_row_is_the_fields_own(year, org):
    """PostgreSQL stores the text made with the row (COPY); it must be what
    JSONText would write from the detail."""
    scored(year, org.commune_a, GOOD)
    scored(year, org.commune_b, GOOD)
    leaf = year.nodes.filter(children__isnull=True).order_by("position").first()
    leaf.scores.update(appraisal_reason=AWKWARD + "\x01\u2028")
    rows = computation.calculate(2025).rows
    assert rows
    field = Result._meta.get_field("detail")
    for row in rows:
        assert row.detail_text == field.get_prep_value(row.detail)


def test_a_write_that_fails_after_inserting_leaves_the_previous_results(
    year, org, monkeypatch
):
    scored(year, org.commune_a, GOOD)
    computation.compute_now(2025)
    before = stored()
    year.nodes.get(code="1.1.1").scores.update(appraised_score=1)
    insert = computation.results_insert

    def then_fail(*args, **kwargs):
        insert(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(computation, "results_insert", then_fail)
    with pytest.raises(RuntimeError):
        computation.compute_now(2025)
    assert stored() == before


def test_the_cycle_collector_runs_again_after_a_run_even_a_failed_one(
    year, org, monkeypatch
):
    scored(year, org.commune_a, GOOD)
    seen = []
    calculate = computation.calculate

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return calculate(*args, **kwargs)

    monkeypatch.setattr(computation, "calculate", watched)
    assert gc.isenabled()
    computation.compute_now(2025)
    assert seen == [False]
    assert gc.isenabled()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(computation, "results_insert", broken)
    with pytest.raises(RuntimeError):
        computation.compute_now(2025)
    assert gc.isenabled()
