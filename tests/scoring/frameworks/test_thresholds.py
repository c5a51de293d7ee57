"""Each year's rule settings (issue 17, item 10): the repeated-lateness
threshold, the districts' commune-satisfaction threshold and the rating
rule's thresholds belong to the year's framework, with today's defaults;
edited by whoever manages it until the year is published; copied with it;
read by the computation and the rating proposal."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from commitments.organisation.models import UnitKind
from commitments.rules import Outcome
from scoring.accountability.rules import Rating, rating_proposal
from scoring.frameworks import services as frameworks
from scoring.frameworks import thresholds
from scoring.models import Adjustment, Framework, FrameworkState, Node
from scoring.results import computation
from tests.scoring.results_helpers import add_tiers_and_catalogue, on_time, scored

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
D = Decimal


def values(**changes):
    return {**thresholds.defaults(), **changes}


def test_a_new_framework_starts_from_todays_defaults(reviewer, org):
    created = frameworks.framework_create(
        user=reviewer,
        year=2026,
        unit_kind=UnitKind.COMMUNE,
        name="Chỉ số 2026",
        deadline=None,
    )
    assert thresholds.of(created) == {
        "lateness_threshold": 3,
        "satisfaction_threshold": D(85),
        "excellent_exceeded_share": D(50),
        "completed_met_share": D(50),
        "excellent_min_tier": "A",
        "good_min_tier": "B",
        "completed_min_tier": "C",
    }


def test_the_manager_changes_the_years_settings(framework, reviewer):
    frameworks.framework_thresholds_set(
        user=reviewer,
        framework=framework,
        values=values(lateness_threshold=5, satisfaction_threshold=D("90.5")),
    )
    framework.refresh_from_db()
    assert (framework.lateness_threshold, framework.satisfaction_threshold) == (
        5,
        D("90.5"),
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lateness_threshold": 0}, "lateness_threshold"),
        ({"satisfaction_threshold": D(101)}, "satisfaction_threshold"),
        ({"completed_met_share": D("50.005")}, "completed_met_share"),
        ({"excellent_min_tier": "E"}, "excellent_min_tier"),
        ({"excellent_min_tier": "B", "good_min_tier": "A"}, "good_min_tier"),
    ],
)
def test_settings_out_of_bounds_are_refused(framework, reviewer, changes, field):
    with pytest.raises(ValidationError) as refused:
        frameworks.framework_thresholds_set(
            user=reviewer, framework=framework, values=values(**changes)
        )
    assert field in refused.value.message_dict


def test_a_published_years_settings_are_read_only(framework, reviewer):
    Framework.objects.filter(pk=framework.pk).update(state=FrameworkState.PUBLISHED)
    with pytest.raises(ValidationError):
        frameworks.framework_thresholds_set(
            user=reviewer, framework=framework, values=values(lateness_threshold=5)
        )
    framework.refresh_from_db()
    assert framework.lateness_threshold == 3


def test_only_who_manages_the_framework_changes_its_settings(
    framework, leader, commune_head
):
    for user in (leader, commune_head):
        with pytest.raises(PermissionDenied):
            frameworks.framework_thresholds_set(
                user=user, framework=framework, values=values(lateness_threshold=5)
            )


def test_the_settings_are_copied_with_the_framework(framework, reviewer):
    frameworks.framework_thresholds_set(
        user=reviewer,
        framework=framework,
        values=values(lateness_threshold=4, good_min_tier="C"),
    )
    copy = frameworks.framework_copy(user=reviewer, source=framework, year=2026)
    assert (copy.lateness_threshold, copy.good_min_tier) == (4, "C")


def test_the_page_shows_and_edits_the_settings(client, framework, reviewer):
    client.force_login(reviewer)
    detail = client.get(reverse("framework_detail", args=[framework.pk])).content
    assert b'data-testid="framework-lateness-threshold"' in detail
    client.post(
        reverse("framework_thresholds", args=[framework.pk]),
        {
            "lateness_threshold": "4",
            "satisfaction_threshold": "80",
            "excellent_exceeded_share": "60",
            "completed_met_share": "50",
            "excellent_min_tier": "A",
            "good_min_tier": "B",
            "completed_min_tier": "C",
        },
    )
    framework.refresh_from_db()
    assert (framework.lateness_threshold, framework.satisfaction_threshold) == (
        4,
        D(80),
    )


@pytest.mark.parametrize(("threshold", "proposed"), [("85", True), ("92", False)])
def test_the_district_bonus_reads_its_frameworks_satisfaction_threshold(
    org, threshold, proposed
):
    """The communes are 90% satisfied (5% late, 5% complaints): above 85,
    not above 92."""
    framework = Framework.objects.create(
        year=2025,
        unit_kind=UnitKind.DISTRICT,
        name="Chỉ số CCHC cấp huyện",
        satisfaction_threshold=D(threshold),
    )
    add_tiers_and_catalogue(framework)
    Node.objects.create(
        framework=framework, level="field", code="1", title="Lĩnh vực 1", max_points=10
    )
    scored(framework, org.city, {"1": ("7", "7")})
    for unit in (org.commune_a, org.commune_b):
        on_time(unit, 2025, 95, 100, received=100, complaint_or_dissatisfied=5)
    computation.compute_now(2025)
    found = Adjustment.objects.filter(unit=org.city)
    assert found.exists() is proposed
    if proposed:
        assert "85%" in found.get().reason


# --- the rating rule's thresholds, passed as parameters ---------------------------


def outcome(met: bool, exceeded: bool) -> Outcome:
    return Outcome(target=None, value=None, met=met, exceeded=exceeded)  # type: ignore[arg-type]


MET = outcome(True, False)
EXCEEDED = outcome(True, True)
MISSED = outcome(False, False)


@pytest.mark.parametrize(
    ("outcomes", "tier", "parameters", "expected"),
    [
        # The defaults: half exceeded and A is excellent.
        ([EXCEEDED, MET], "A", {}, Rating.EXCELLENT),
        # A year asking 60% exceeded: one of two is not enough.
        (
            [EXCEEDED, MET],
            "A",
            {"excellent_exceeded_share": D(60)},
            Rating.GOOD,
        ),
        # A year letting tier B be excellent.
        ([EXCEEDED, MET], "B", {"excellent_min_tier": "B"}, Rating.EXCELLENT),
        # "Completed" asking three quarters met: two of four fall short.
        (
            [MET, MET, MISSED, MISSED],
            "C",
            {"completed_met_share": D(75)},
            Rating.NOT_COMPLETED,
        ),
        ([MET, MET, MISSED, MISSED], "C", {}, Rating.COMPLETED),
        # Good from tier C.
        ([MET, MET], "C", {"good_min_tier": "C"}, Rating.GOOD),
        # Completed only from tier B.
        ([MET, MISSED], "C", {"completed_min_tier": "B"}, Rating.NOT_COMPLETED),
    ],
)
def test_the_rating_rule_takes_the_years_thresholds(
    outcomes, tier, parameters, expected
):
    assert rating_proposal(outcomes, tier, repeatedly_late=False, **parameters) == (
        expected
    )


def test_the_rating_parameters_come_from_the_framework(framework):
    Framework.objects.filter(pk=framework.pk).update(excellent_min_tier="B")
    settings = thresholds.by_kind(2025)[UnitKind.COMMUNE]
    assert thresholds.rating_parameters(settings)["excellent_min_tier"] == "B"
    assert thresholds.rating_parameters(None) == {}


def test_repeated_lateness_uses_each_kinds_threshold(org, framework, monkeypatch):
    """Commune A was late 4 times after a reminder, the city 4 times too: the
    communes' framework asks 5, the city's kind has no framework (default 3)."""
    Framework.objects.filter(pk=framework.pk).update(lateness_threshold=5)

    class Flag:
        def __init__(self, unit, count):
            self.unit, self.officer, self.late_count = unit, "", count

    asked = {}

    def reader(year, *, user, threshold, as_of):
        asked["threshold"] = threshold
        return [Flag(org.commune_a, 4), Flag(org.city, 4)]

    monkeypatch.setattr(thresholds, "repeated_lateness", reader)
    late = thresholds.late_unit_ids(2025, thresholds.by_kind(2025))
    assert late == {org.city.pk}
    assert asked["threshold"] == 3
