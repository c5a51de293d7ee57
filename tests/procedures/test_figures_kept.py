"""A province's months combined, kept once per generation of the stored
figures (procedures.selectors._months_combined_kept, metrics.FIGURES): the
same rates as read directly, no query for them once kept, and never the
kept ones after a recompute's rows commit."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from procedures import metrics, selectors
from procedures.models import CaseRecord, DossierStatus
from tests.procedures.test_lineage import LATER, RUNNING, recompute

pytestmark = pytest.mark.django_db


def keys(dossiers, up_to=12):
    return {(unit.pk, 2025, up_to) for unit in dossiers.values()}


def read(dossiers, up_to=12):
    return selectors.rates_up_to_month(keys(dossiers, up_to))


@pytest.fixture
def kept(monkeypatch):
    """Every read of many units, here six, through the kept months."""
    monkeypatch.setattr(selectors, "KEPT_FROM_UNITS", 1)


@pytest.mark.parametrize(("as_of", "up_to"), [(LATER, 12), (LATER, 9), (RUNNING, 10)])
def test_kept_months_give_the_rates_read_directly(
    dossiers, monkeypatch, as_of, up_to, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        recompute(dossiers, as_of)
    monkeypatch.setattr(selectors, "KEPT_FROM_UNITS", 10**9)
    expected = read(dossiers, up_to)
    monkeypatch.setattr(selectors, "KEPT_FROM_UNITS", 1)
    assert read(dossiers, up_to) == expected  # combined and kept
    assert read(dossiers, up_to) == expected  # from what was kept
    # A few of the units: the same, picked from the province's.
    some = {(dossiers["N"].pk, 2025, up_to)}
    assert selectors.rates_up_to_month(some) == {key: expected[key] for key in some}


def test_once_kept_the_months_cost_no_query(
    dossiers, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        recompute(dossiers, LATER)
    monkeypatch.setattr(selectors, "KEPT_FROM_UNITS", 10**9)
    with CaptureQueriesContext(connection) as direct:
        read(dossiers)
    monkeypatch.setattr(selectors, "KEPT_FROM_UNITS", 1)
    read(dossiers)
    with CaptureQueriesContext(connection) as kept:
        read(dossiers)
    # Only the lineage's queries are left.
    assert len(kept) == len(direct) - 1
    assert not any("procedures_unitmetric" in q["sql"] for q in kept)


def test_a_recompute_leaves_the_kept_months_behind(
    dossiers, kept, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        recompute(dossiers, LATER)
    before = read(dossiers)
    generation = metrics.FIGURES.current()
    # Every dossier of M finished a month after it was due: late.
    CaseRecord.objects.filter(unit=dossiers["M"]).update(
        finished_at=F("due_at") + timedelta(days=30), status=DossierStatus.RETURNED
    )
    with django_capture_on_commit_callbacks(execute=True):
        recompute(dossiers, LATER)
    assert metrics.FIGURES.current() != generation
    after = read(dossiers)
    m = (dossiers["M"].pk, 2025, 12)
    assert after[m]["on_time_rate"] != before[m]["on_time_rate"]
    # What a direct read gives.
    monkeypatch.setattr(selectors, "KEPT_FROM_UNITS", 10**9)
    assert read(dossiers) == after
