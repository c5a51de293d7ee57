"""seed_demo's results (demo.results): 2022–2024 published once each
and verified, 2025 provisional; every explanation adds up to its result; ties,
rank changes, deductions and bonuses to show; the ward merged in 2025
compared through its predecessors; and a second run that changes nothing."""

import io
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from commitments.organisation.models import Unit
from demo import organisation as org
from demo.results import CLOSED_LATE, NOT_YET_APPROVED, TIES
from scoring import rules
from scoring.models import (
    Adjustment,
    AdjustmentState,
    Assessment,
    AssessmentState,
    ComputationRun,
    Framework,
    FrameworkState,
    Publication,
    PublishedResult,
    Result,
    Score,
)
from scoring.results import publication
from scoring.results import selectors as results
from tests.wording import vi

PUBLISHED_YEARS = (2022, 2023, 2024)
PROVISIONAL_YEAR = 2025


def everything() -> tuple:
    """What the results steps write, to compare before and after a run."""
    columns = ("unit__code", "rank", "index", "final", "adjustments", "rank_change")
    return (
        sorted(Publication.objects.values_list("year", "version", "checksum")),
        sorted(PublishedResult.objects.values_list("publication__year", *columns)),
        sorted(Result.objects.values_list("framework__year", "run_id", *columns)),
        ComputationRun.objects.count(),
        sorted(
            Adjustment.objects.values_list(
                "framework__year", "unit__code", "rule__code", "points", "state"
            )
        ),
        sorted(
            Score.objects.values_list(
                "pk", "self_score", "appraised_score", "appraisal_reason", "version"
            )
        ),
        sorted(Assessment.objects.values_list("pk", "state", "approved_at")),
        Score.history.count(),
    )


def check_adds_up(explanation: results.Explanation, result) -> None:
    """The fields' points plus the counted deductions and bonuses (each rule
    within its cap, the total within 0 and the maximum) are the stored final
    points and index."""
    code = result.unit.code
    assert explanation.problems() == [], code
    fields = sum(line.points for line in explanation.lines if line.depth == 0)
    assert fields == result.obtained, code
    counted = Decimal(0)
    for rule in explanation.adjustments_by_rule:
        entered, kept = Decimal(rule["entered"]), Decimal(rule["counted"])
        if rule["cap"] is not None:
            cap = Decimal(rule["cap"])
            assert kept == max(-cap, min(cap, entered)), code
        else:
            assert kept == entered, code
        counted += kept
    final = min(result.maximum, max(Decimal(0), fields + counted))
    assert final == result.final, code
    assert result.adjustments == final - fields, code
    assert rules.index_of(final, result.maximum) == result.index, code


def _seat(unit) -> bool:
    """A district's seat from 01/07/2025 (no predecessor in the demo)."""
    return unit.code in {org.seat_code(d) for d in org.DISTRICT_SEATS}


def ranks_by_group(rows) -> dict:
    found: dict = defaultdict(list)
    for row in rows:
        if row.rank is not None:
            found[row.group_id].append((row.rank, row.unit.code))
    return found


def shared_ranks(rows) -> list[tuple[int, list[str]]]:
    """(rank, units) where units share a rank and the next ranks are
    skipped (1, 2, 2, 4), with a unit ranked after them."""
    found = []
    for ranked in ranks_by_group(rows).values():
        places = defaultdict(list)
        for rank, code in ranked:
            places[rank].append(code)
        for rank, codes in places.items():
            after = rank + len(codes)
            skipped = all(rank + i not in places for i in range(1, len(codes)))
            if len(codes) > 1 and skipped and after in places:
                found.append((rank, sorted(codes)))
    return found


def test_the_demo_publishes_2022_to_2024_and_computes_2025(seed_demo, settings):
    # The steps up to the results (the commitments' step has its own test).
    settings.DEMO_STEPS = settings.DEMO_STEPS[
        : settings.DEMO_STEPS.index("demo.results.build_results") + 1
    ]
    out = seed_demo()
    assert "results: 2022 v1" in out
    assert "2025 provisional" in out

    # 2022–2024: one verified publication each, their frameworks frozen.
    for year in PUBLISHED_YEARS:
        published = Publication.objects.get(year=year)
        assert published.version == 1
        assert publication.verify(published)
        assert published.published_by.username == "noivu.tinh"
        assert published.published_at.year == year + 1
        assert set(
            Framework.objects.filter(year=year).values_list("state", flat=True)
        ) == {FrameworkState.PUBLISHED}
        assert not Assessment.objects.filter(framework__year=year).exclude(
            state=AssessmentState.APPROVED
        )
    # 2025: computed, not published; one assessment still being approved.
    assert not Publication.objects.filter(year=PROVISIONAL_YEAR).exists()
    assert set(
        Framework.objects.filter(year=PROVISIONAL_YEAR).values_list("state", flat=True)
    ) == {FrameworkState.OPEN}
    provisional = list(
        Result.objects.filter(framework__year=PROVISIONAL_YEAR).select_related(
            "unit", "group", "framework", "run"
        )
    )
    assert (
        len(provisional)
        == Assessment.objects.filter(framework__year=PROVISIONAL_YEAR).count()
    )
    waiting = {r.unit.code for r in provisional if not r.approved}
    assert waiting == {code for code, _year in NOT_YET_APPROVED}
    assert publication.blockers(PROVISIONAL_YEAR)
    # This year's cycle is untouched: drafts for the demo logins.
    assert set(
        Assessment.objects.filter(framework__year=2026).values_list("state", flat=True)
    ) == {AssessmentState.DRAFT}

    # Every result's explanation adds up to what is stored.
    published_rows = {}
    for published in Publication.objects.all():
        rows = list(results.published_results(published))
        published_rows[published.year] = rows
        assert rows
        for row in rows:
            check_adds_up(
                results.explain(row, published.parameters, publication=published), row
            )
    for row in provisional:
        check_adds_up(results.explain(row, row.run.parameters), row)
    by_unit = results.explanation_published(2023, Unit.objects.get(code="HD-SXD"))
    assert by_unit is not None
    assert by_unit.problems() == []
    assert by_unit.adjustments_entered < 0  # the press reports

    # Each year a tie that skips the next rank, the year's named pair among
    # them; after 2022 ranks change against last year's publication.
    every_year = {**published_rows, PROVISIONAL_YEAR: provisional}
    for year, rows in every_year.items():
        ties = shared_ranks(rows)
        assert ties, year
        assert sorted(TIES[year]) in [codes for _rank, codes in ties], year
    for year in (2023, 2024, PROVISIONAL_YEAR):
        changes = [
            r.rank_change
            for r in every_year[year]
            if r.rank is not None and not _seat(r.unit)
        ]
        assert any(change not in (None, 0) for change in changes), year
        assert all(change is not None for change in changes), year
    assert all(r.rank_change is None for r in published_rows[2022])
    # A district's seat has no predecessor in the demo: nothing to compare.
    assert all(r.rank_change is None for r in provisional if _seat(r.unit))

    # 2025: the province's commune-level units are ranked in one group, each
    # new Chí Linh ward against its predecessors' 2024 results.
    communes = [r for r in provisional if r.unit.kind == "commune"]
    assert len({r.group_id for r in communes}) == 1
    assert {r.unit_id for r in communes} == set(
        Unit.objects.filter(kind="commune", valid_to=None).values_list("pk", flat=True)
    )
    for row in communes:
        before = [
            r
            for r in published_rows[2024]
            if r.unit_id in set(row.unit.predecessors.values_list("pk", flat=True))
        ]
        if before and row.rank is not None:
            assert row.previous_rank == min(r.rank for r in before), row.unit.code

    # Sở Xây dựng slides down the departments' ranking.
    sxd = [
        next(r.rank for r in published_rows[year] if r.unit.code == "HD-SXD")
        for year in PUBLISHED_YEARS
    ]
    assert sxd == sorted(sxd)
    assert sxd[0] < sxd[-1]

    # Phường Chí Linh (merged on 01/07/2025) against its three predecessors.
    merged = Unit.objects.get(code="HD-CL-CHILINH")
    before = {
        r.unit_id: r
        for r in published_rows[2024]
        if r.unit_id in set(merged.predecessors.values_list("pk", flat=True))
    }
    assert len(before) == 3
    chilinh = next(r for r in provisional if r.unit_id == merged.pk)
    assert chilinh.rank is not None
    assert chilinh.previous_rank == min(r.rank for r in before.values())
    assert chilinh.previous_index == rules.points(
        sum(r.index for r in before.values()) / 3
    )
    assert chilinh.rank_change == chilinh.previous_rank - chilinh.rank
    assert chilinh.index_change == chilinh.index - chilinh.previous_index

    # Deductions and bonuses, with four eyes.
    records = Adjustment.objects.select_related("unit", "rule", "framework")
    entered = records.filter(proposed_by_computation=False)
    assert entered.filter(state=AdjustmentState.APPROVED, points__lt=0).count() >= 5
    assert all(a.entered_by_id != a.decided_by_id for a in entered if a.decided_by_id)
    rejected = entered.get(state=AdjustmentState.REJECTED)
    assert rejected.decision_reason
    awaiting = entered.get(state=AdjustmentState.PROPOSED)
    assert awaiting.framework.year == PROVISIONAL_YEAR
    assert {a.rule.code for a in entered} >= {
        "press_poor_management",
        "harassment_complaint",
        "deputy_disciplined",
    }
    bonuses = records.filter(proposed_by_computation=True)
    for year in PUBLISHED_YEARS:
        assert bonuses.filter(
            framework__year=year, state=AdjustmentState.APPROVED
        ).exists()
    assert bonuses.filter(state=AdjustmentState.REJECTED).exists()
    assert bonuses.filter(framework__year=PROVISIONAL_YEAR).exists()
    assert not bonuses.filter(framework__year=PROVISIONAL_YEAR).exclude(
        state=AdjustmentState.PROPOSED
    )
    capped = [
        rule
        for rows in published_rows.values()
        for row in rows
        for rule in row.detail["adjustments_by_rule"].values()
        if rule["entered"] != rule["counted"]
    ]
    assert capped, "a bonus above its cap shows the cap at work"
    # Appraised scores lower than the self score, always with a reason.
    appraised = Score.objects.filter(
        assessment__framework__year__in=[*PUBLISHED_YEARS, PROVISIONAL_YEAR],
        self_score__isnull=False,
    )
    lowered = appraised.filter(appraised_score__lt=F("self_score"))
    assert lowered.exists()
    assert not lowered.filter(appraisal_reason="").exists()
    assert not appraised.filter(appraised_score__gt=F("self_score")).exists()
    assert not appraised.filter(appraised_score__isnull=True).exists()

    # Again: nothing changes, no second publication, no new computation.
    snapshot = everything()
    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert everything() == snapshot
    assert Publication.objects.count() == len(PUBLISHED_YEARS)


def test_the_demo_closed_the_2025_cycle_with_a_late_assessment(
    seed_demo, settings, client
):
    """Item 9 for a person to see: Xã Thanh Miện never submitted its 2025
    self-assessment; Sở Nội vụ closed the communes' cycle on 08/01/2026 and
    it was taken as it stood ("Quá hạn"), its empty leaves appraised 0, and
    the computation proposes the late-submission deduction."""
    settings.DEMO_STEPS = settings.DEMO_STEPS[
        : settings.DEMO_STEPS.index("demo.results.build_results") + 1
    ]
    seed_demo()
    (code, year), *_others = sorted(CLOSED_LATE)
    late = Assessment.objects.select_related("closed_by").get(
        unit__code=code, framework__year=year
    )
    assert list(
        Assessment.objects.filter(late=True).values_list("unit__code", flat=True)
    ) == [code]
    assert late.closed_by.username == "noivu.tinh"
    assert timezone.localtime(late.closed_at).date() == date(2026, 1, 8)
    assert late.submitted_at is None
    assert late.state == AssessmentState.APPROVED
    empty = Score.objects.filter(
        assessment=late, node__method="manual", self_score__isnull=True
    )
    assert empty.exists()
    assert set(empty.values_list("appraised_score", flat=True)) == {Decimal(0)}
    assert "" not in set(empty.values_list("appraisal_reason", flat=True))
    assert Adjustment.objects.get(
        unit__code=code, framework__year=year, rule__code="late_submission"
    ).state == (AdjustmentState.PROPOSED)
    client.force_login(get_user_model().objects.get(username="noivu.tinh"))
    page = client.get(reverse("assessment_detail", args=[late.pk]))
    assert 'data-testid="assessment-late"' in page.content.decode()
    assert vi("Late (quá hạn)") in page.content.decode()


def test_the_running_years_figures_say_as_of_when(seed_demo, settings, client):
    """Item 1 for a person to see: the 2026 figures are as of the last
    import (31/10/2026, end of day), and the page says "tính đến"."""
    settings.DEMO_STEPS = settings.DEMO_STEPS[
        : settings.DEMO_STEPS.index("demo.results.build_results") + 1
    ]
    seed_demo()
    client.force_login(get_user_model().objects.get(username="noivu.tinh"))
    page = client.get("/units/HD-CL-LEDAIHANH/metrics/", {"year": 2026})
    body = page.content.decode()
    assert 'data-testid="metrics-as-of"' in body
    assert "31/10/2026 23:59" in body
