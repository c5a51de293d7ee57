"""The results pages through the client, as each role uses them: the ranking
tables (published, earlier versions, provisional), a unit's explanation, the
computation runs and the publication; who may see what (404 out of sight).

The data: the communes' framework of tests/scoring/conftest.py (10 points,
its metric leaf without dossier figures counts 0), copied back to 2024.
2024 is computed and published; 2025 is computed, provisional.

    group "xa"       2024          2025
    Phường A         75,00  2      80,00  1  ▲1
    Xã B             80,00  1      70,00  2  ▼1
    Xã C             60,00  3      70,00  2  ▲1   (shared rank)
    Xã F             50,00  4      50,00  4  –    (7 points, −3 capped at −2)
    Xã G (province)  –             30,00  5
    Xã E             –             80,00  not approved, unranked
    group "phuong"
    Phường D         50,00  1      60,00  1  –
"""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.organisation.models import RankingGroup
from scoring.adjustments import services as adjustments
from scoring.assessments import services
from scoring.frameworks import services as frameworks
from scoring.models import (
    AdjustmentRule,
    Assessment,
    AssessmentState,
    ComputationRun,
    Publication,
    RunState,
    Score,
    Tier,
)
from scoring.results import computation, publication
from tests.factories import UnitFactory
from tests.wording import vi

PERSONAS_WITHOUT_PROVISIONAL = (
    "commune_staff",
    "commune_head",
    "department_staff",
    "leader",
    "no_unit_user",
)


# --- reading the pages ----------------------------------------------------------------


class _Table(HTMLParser):
    """The rows of the results tables: (unit code, rank attribute, cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self._row: dict | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("data-testid") == "results-row":
            self._row = {
                "unit": attrs["data-unit"],
                "rank": attrs["data-rank"],
                "cells": [],
            }
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def rows_of(response) -> list[dict]:
    parser = _Table()
    parser.feed(response.content.decode())
    return parser.rows


def row(response, code) -> dict:
    return next(r for r in rows_of(response) if r["unit"] == code)


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def year_url(year, **query) -> str:
    url = reverse("results_year", kwargs={"year": year})
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def unit_url(year, code, **query) -> str:
    url = reverse("results_unit", kwargs={"year": year, "code": code})
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


# --- the data -------------------------------------------------------------------------


def settle(framework, unit, points, *, approved=True) -> Assessment:
    """The unit's assessment with every manual and survey leaf appraised as
    given (self score = appraised score), approved or left submitted."""
    assessment = services.assessment_open(framework=framework, unit=unit)
    for code, value in zip(["1.1.1", "1.1.2", "2.2"], points, strict=True):
        Score.objects.filter(assessment=assessment, node__code=code).update(
            self_score=Decimal(value), appraised_score=Decimal(value)
        )
    Assessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.APPROVED if approved else AssessmentState.SUBMITTED
    )
    return assessment


@pytest.fixture
def units(org):
    xa = RankingGroup.objects.create(code="xa", name="Nhóm xã")
    phuong = RankingGroup.objects.create(code="phuong", name="Nhóm phường")
    made = {
        "A": org.commune_a,
        "B": org.commune_b,
        "C": UnitFactory(code="CITY-C", name="Xã C", parent=org.city),
        "D": UnitFactory(code="CITY-D", name="Phường D", parent=org.city),
        "E": UnitFactory(code="CITY-E", name="Xã E", parent=org.city),
        "F": UnitFactory(code="CITY-F", name="Xã F", parent=org.city),
        # Outside the city: the city's reviewers do not see it.
        "G": UnitFactory(code="PROV-G", name="Xã G", parent=org.province),
    }
    for key, unit in made.items():
        unit.ranking_group = phuong if key == "D" else xa
        unit.save()
    return made


@pytest.fixture
def framework_2025(framework):
    """The conftest framework with the national tiers and one deduction rule
    (−1 a case, at most −2 a year)."""
    for code, label, at in (
        ("A", "Xuất sắc", 90),
        ("B", "Tốt", 80),
        ("C", "Khá", 70),
        ("D", "Trung bình", 0),
    ):
        Tier.objects.create(framework=framework, code=code, label=label, min_index=at)
    AdjustmentRule.objects.create(
        framework=framework,
        code="complaint",
        title="Phản ánh nhũng nhiễu được xác minh",
        points_per_case=Decimal("-1"),
        cap=Decimal("2"),
    )
    return framework


def compute_2024(framework_2025, units, reviewer) -> ComputationRun:
    """2024's framework (a copy of 2025's) settled and computed: the run to
    publish."""
    previous = frameworks.framework_copy(
        user=reviewer, source=framework_2025, year=2024
    )
    for key, points in {
        "A": ("2", "3.5", "2"),
        "B": ("2", "4", "2"),
        "C": ("2", "3", "1"),
        "F": ("1", "2", "2"),
        "D": ("2", "2", "1"),
    }.items():
        settle(previous, units[key], points)
    return computation.compute_now(2024)


@pytest.fixture
def published_2024(framework_2025, units, reviewer):
    run = compute_2024(framework_2025, units, reviewer)
    return publication.publish(
        user=reviewer, year=2024, run_id=run.pk, now=timezone.now()
    )


@pytest.fixture
def computed_2025(published_2024, framework_2025, units, reviewer, city_reviewer):
    """2025 computed, provisional: Xã E not approved yet."""
    for key, points in {
        "A": ("2", "4", "2"),
        "B": ("2", "3", "2"),
        "C": ("2", "3", "2"),
        "F": ("2", "3", "2"),
        "G": ("1", "1", "1"),
        "D": ("2", "2", "2"),
    }.items():
        settle(framework_2025, units[key], points)
    settle(framework_2025, units["E"], ("2", "4", "2"), approved=False)
    now = timezone.now()
    entered = adjustments.adjustment_enter(
        user=reviewer,
        framework=framework_2025,
        unit=units["F"],
        rule=AdjustmentRule.objects.get(framework=framework_2025, code="complaint"),
        cases=3,
        reason="Ba phản ánh được xác minh",
        evidence="Kết luận thanh tra số 12/KL",
        now=now,
    )
    adjustments.adjustment_decide(
        user=city_reviewer, adjustment=entered, approve=True, reason="", now=now
    )
    return computation.compute_now(2025)


def approve_all(year) -> None:
    Assessment.objects.filter(framework__year=year).update(
        state=AssessmentState.APPROVED
    )


@pytest.fixture
def published_2025(computed_2025, reviewer):
    """2025 with Xã E approved too, computed again and published."""
    approve_all(2025)
    run = computation.compute_now(2025)
    return publication.publish(
        user=reviewer, year=2025, run_id=run.pk, now=timezone.now()
    )


# --- the table ------------------------------------------------------------------------


def test_provisional_table_ranks_by_index_with_shared_ranks(
    client, reviewer, computed_2025
):
    """Within a group by index descending; equal indices share a rank and
    the next one skips; units not approved come last, unranked, marked."""
    client.force_login(reviewer)
    response = client.get(year_url(2025, view="provisional", group="xa"))
    assert response.status_code == 200
    got = [(r["unit"], r["rank"], r["cells"][0]) for r in rows_of(response)]
    assert got == [
        ("CITY-A", "1", "1"),
        ("CITY-B", "2", "2"),
        ("CITY-C", "2", "2"),
        ("CITY-F", "4", "4"),
        ("PROV-G", "5", "5"),
        ("CITY-E", "", "—"),
    ]
    unapproved = row(response, "CITY-E")
    assert vi("not approved") in unapproved["cells"][1]
    assert unapproved["cells"][2] == "80,00"  # computed, but not ranked
    page = text(response)
    run = computed_2025
    at = timezone.localtime(run.finished_at).strftime("%d/%m/%Y %H:%M")
    assert vi("Provisional results – computed at %(time)s") % {"time": at} in page


def test_table_columns_index_fields_tier_and_changes(client, reviewer, computed_2025):
    client.force_login(reviewer)
    response = client.get(year_url(2025, view="provisional"))
    body = response.content.decode()
    # Field codes as column headers, their titles as the tooltip.
    assert re.search(
        r'<th class="num" title="Mục 1" data-testid="field-header">1</th>', body
    )
    assert re.search(
        r'<th class="num" title="Mục 2" data-testid="field-header">2</th>', body
    )
    a = row(response, "CITY-A")["cells"]
    # rank, unit, index, field 1 (6/6), field 2 (2/4: metric without data),
    # tier, change of rank, change of index
    assert a[0] == "1"
    assert a[1].startswith("Phường A")
    assert a[2:5] == ["80,00", "100,00", "50,00"]
    assert a[5] == "B Tốt"
    last_year = vi("last year %(rank)s")
    assert a[6] == f"▲1 ({last_year % {'rank': 2}})"
    assert a[7] == "+5,00"
    b = row(response, "CITY-B")["cells"][6:8]
    assert b == [f"▼1 ({last_year % {'rank': 1}})", "-10,00"]
    f = row(response, "CITY-F")["cells"][6:8]
    assert f == [f"– ({last_year % {'rank': 4}})", "0,00"]
    assert row(response, "PROV-G")["cells"][6] == vi("no rank last year")
    # Two ranking groups, each its own table and ranks.
    assert row(response, "CITY-D")["cells"][0] == "1"
    assert response.content.decode().count('data-testid="results-group"') == 2


def test_group_switcher_shows_one_group(client, reviewer, computed_2025):
    client.force_login(reviewer)
    response = client.get(year_url(2025, view="provisional", group="phuong"))
    assert [r["unit"] for r in rows_of(response)] == ["CITY-D"]
    assert 'data-testid="group-switcher"' in response.content.decode()


def test_published_table_is_for_everyone_signed_in(
    client, commune_staff, leader, no_unit_user, published_2024
):
    for user in (commune_staff, leader, no_unit_user):
        client.force_login(user)
        response = client.get(year_url(2024))
        assert response.status_code == 200
        assert [r["unit"] for r in rows_of(response) if r["rank"]] == [
            "CITY-D",  # Nhóm phường comes before Nhóm xã
            "CITY-B",
            "CITY-A",
            "CITY-C",
            "CITY-F",
        ]
        page = text(response)
        day = timezone.localtime(published_2024.published_at).strftime("%d/%m/%Y")
        official = vi("Official results – publication %(version)s of %(day)s")
        assert official % {"version": 1, "day": day} in page
        assert published_2024.checksum in page
    client.logout()
    assert client.get(year_url(2024)).status_code == 302  # to the login page


def test_a_unit_links_to_its_own_explanation_only(
    client, commune_staff, leader, published_2024
):
    client.force_login(commune_staff)
    response = client.get(year_url(2024))
    body = response.content.decode()
    assert unit_url(2024, "CITY-A") in body
    assert unit_url(2024, "CITY-B") not in body
    client.force_login(leader)
    body = client.get(year_url(2024)).content.decode()
    assert unit_url(2024, "CITY-A") in body
    assert unit_url(2024, "CITY-B") in body


@pytest.mark.parametrize("persona", PERSONAS_WITHOUT_PROVISIONAL)
def test_provisional_results_are_hidden_from_everyone_but_reviewers(
    client, request, persona, computed_2025
):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(year_url(2025, view="provisional")).status_code == 404
    # Nothing published for 2025: nothing to show them at all.
    assert client.get(year_url(2025)).status_code == 404
    assert (
        client.get(
            reverse("results_csv", kwargs={"year": 2025}) + "?view=provisional"
        ).status_code
        == 404
    )
    assert client.get(unit_url(2025, "CITY-A", view="provisional")).status_code == 404


def test_reviewers_see_the_provisional_results_of_their_units_only(
    client, reviewer, city_reviewer, computed_2025
):
    client.force_login(reviewer)
    everything = {r["unit"] for r in rows_of(client.get(year_url(2025)))}
    assert everything == {f"CITY-{c}" for c in "ABCDEF"} | {"PROV-G"}
    client.force_login(city_reviewer)
    response = client.get(year_url(2025, view="provisional"))
    assert {r["unit"] for r in rows_of(response)} == {f"CITY-{c}" for c in "ABCDEF"}
    # Ranks are the group's, whoever looks.
    assert row(response, "CITY-F")["cells"][0] == "4"
    assert client.get(unit_url(2025, "PROV-G", view="provisional")).status_code == 404
    assert client.get(unit_url(2025, "CITY-F", view="provisional")).status_code == 200


def test_unknown_year_version_or_view_answers_404(client, reviewer, published_2024):
    client.force_login(reviewer)
    assert client.get(year_url(2031)).status_code == 404
    assert client.get(year_url(2024, version=7)).status_code == 404
    assert client.get(year_url(2024, version="x")).status_code == 404
    assert client.get(year_url(2024, view="draft")).status_code == 404
    assert client.get(unit_url(2024, "NO-SUCH-UNIT")).status_code == 404
    assert client.get(unit_url(2031, "CITY-A")).status_code == 404


def test_results_home_goes_to_the_latest_year_the_user_sees(
    client, commune_staff, reviewer, computed_2025
):
    client.force_login(commune_staff)
    response = client.get(reverse("results_home"))
    assert response.status_code == 302
    assert response["Location"] == year_url(2024)
    client.force_login(reviewer)
    response = client.get(reverse("results_home"))
    assert response["Location"] == year_url(2025, view="provisional")


def test_results_home_says_when_nothing_is_published(
    client, commune_staff, reviewer, framework
):
    client.force_login(commune_staff)
    response = client.get(reverse("results_home"))
    assert response.status_code == 200
    assert vi("No results have been published yet.") in text(response)
    client.force_login(reviewer)
    response = client.get(reverse("results_home"))
    assert response.status_code == 200
    assert year_url(2025, view="provisional") in response.content.decode()


def test_csv_holds_the_table_shown(client, commune_staff, published_2024):
    client.force_login(commune_staff)
    response = client.get(reverse("results_csv", kwargs={"year": 2024}) + "?group=xa")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    assert header[:8] == [
        "year",
        "status",
        "ranking_group",
        "rank",
        "unit_code",
        "unit_name",
        "approved",
        "index",
    ]
    assert header[8:10] == ["field_1", "field_2"]
    body = [line.split(",") for line in lines[1:]]
    assert [(r[3], r[4], r[7]) for r in body] == [
        ("1", "CITY-B", "80.00"),
        ("2", "CITY-A", "75.00"),
        ("3", "CITY-C", "60.00"),
        ("4", "CITY-F", "50.00"),
    ]


def test_table_queries_do_not_grow_with_the_units(
    client, reviewer, computed_2025, framework_2025, org, django_assert_max_num_queries
):
    """Provisional 2025 with 7 units, published 2024 with 5, then both with
    20 more units: no more queries."""
    client.force_login(reviewer)
    counts = {}
    for name, url in (
        ("provisional", year_url(2025, view="provisional")),
        ("published", year_url(2024)),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts[name] = len(queries)
    xa = RankingGroup.objects.get(code="xa")
    for n in range(20):
        unit = UnitFactory(
            code=f"CITY-X{n:02d}",
            name=f"Xã X{n:02d}",
            parent=org.city,
            ranking_group=xa,
        )
        settle(framework_2025, unit, ("1", "2", str(n % 3)))
    approve_all(2025)
    run = computation.compute_now(2025)
    with django_assert_max_num_queries(counts["provisional"]):
        response = client.get(year_url(2025, view="provisional"))
    assert len(rows_of(response)) == 27
    publication.publish(user=reviewer, year=2025, run_id=run.pk, now=timezone.now())
    with django_assert_max_num_queries(counts["published"]):
        response = client.get(year_url(2025))
    assert len(rows_of(response)) == 27


# --- versions -------------------------------------------------------------------------


def compute(client, year, **kwargs):
    """Press "compute again": the run is queued once the request commits
    and, without a broker, carried out in process right then (the tests
    that press it run outside a test transaction, as the quick start does)."""
    return client.post(reverse("results_compute", kwargs={"year": year}), **kwargs)


@pytest.mark.django_db(transaction=True)
def test_publish_then_publish_again_keeps_version_1_as_it_was(
    client, reviewer, computed_2025
):
    approve_all(2025)
    client.force_login(reviewer)
    compute(client, 2025)
    run = publication.latest_run(2025)
    response = client.post(
        reverse("results_publish", kwargs={"year": 2025}),
        {"run": run.pk, "note": "Công bố theo Quyết định 1", "confirm": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == year_url(2025)
    first = Publication.objects.get(year=2025)
    assert (first.version, first.run_id, first.note) == (
        1,
        run.pk,
        "Công bố theo Quyết định 1",
    )
    published = vi("The %(year)d results are published as version %(version)d.")
    assert published % {"year": 2025, "version": 1} in text(client.get(year_url(2025)))

    # A late correction of Phường A's appraisal: 1.1.2 from 4 to 2.
    Score.objects.filter(
        assessment__unit__code="CITY-A",
        assessment__framework__year=2025,
        node__code="1.1.2",
    ).update(appraised_score=Decimal("2"))
    compute(client, 2025)
    second_run = publication.latest_run(2025)
    assert second_run.pk != run.pk
    client.post(
        reverse("results_publish", kwargs={"year": 2025}),
        {"run": second_run.pk, "confirm": "on"},
    )
    assert list(
        Publication.objects.filter(year=2025).values_list("version", flat=True)
    ) == [2, 1]

    official = vi("Official results – publication %(version)s of %(day)s")

    def status(version):
        published_at = Publication.objects.get(year=2025, version=version).published_at
        day = timezone.localtime(published_at).strftime("%d/%m/%Y")
        return official % {"version": version, "day": day}

    latest = client.get(year_url(2025))
    assert status(2) in text(latest)
    assert row(latest, "CITY-A")["cells"][2] == "60,00"
    earlier = client.get(year_url(2025, version=1))
    assert status(1) in text(earlier)
    assert row(earlier, "CITY-A")["cells"][2] == "80,00"
    in_force = vi(
        "An earlier version: the results now in force are those of publication "
        "%(latest)s."
    )
    assert in_force % {"latest": 2} in text(earlier)
    versions = re.findall(
        r'data-testid="results-version" data-version="(\d+)"', earlier.content.decode()
    )
    assert versions == ["2", "1"]
    # The explanation of version 1 is version 1's too.
    explained = client.get(unit_url(2025, "CITY-A", version=1))
    assert explained.status_code == 200
    assert 'data-testid="unit-index">80,00<' in explained.content.decode()


def test_publishing_needs_the_confirmation(client, reviewer, computed_2025):
    approve_all(2025)
    run = computation.compute_now(2025)
    client.force_login(reviewer)
    response = client.post(
        reverse("results_publish", kwargs={"year": 2025}), {"run": run.pk}, follow=True
    )
    assert not Publication.objects.filter(year=2025).exists()
    assert vi("Tick the box to confirm the publication.") in text(response)


def test_publishing_a_run_that_is_no_longer_the_latest_is_refused(
    client, reviewer, computed_2025
):
    approve_all(2025)
    old = computation.compute_now(2025)
    computation.compute_now(2025)
    client.force_login(reviewer)
    response = client.post(
        reverse("results_publish", kwargs={"year": 2025}),
        {"run": old.pk, "confirm": "on"},
        follow=True,
    )
    assert not Publication.objects.filter(year=2025).exists()
    assert '<li class="error">' in response.content.decode()
    assert vi(
        "The results were computed again since you opened this page: check the new "
        "results before publishing."
    ) in text(response)


def test_the_same_run_is_not_published_twice(client, reviewer, published_2025):
    client.force_login(reviewer)
    page = client.get(year_url(2025, view="provisional"))
    assert 'data-testid="already-published"' in page.content.decode()
    assert re.search(r'data-testid="results-publish" disabled', page.content.decode())
    response = client.post(
        reverse("results_publish", kwargs={"year": 2025}),
        {"run": published_2025.run_id, "confirm": "on"},
        follow=True,
    )
    assert Publication.objects.filter(year=2025).count() == 1
    again = vi(
        "These results are already published as version %(version)d: compute them "
        "again to publish a new version."
    )
    assert again % {"version": 1} in text(response)


def test_blockers_are_shown_and_publishing_is_refused(client, reviewer, computed_2025):
    client.force_login(reviewer)
    page = client.get(year_url(2025, view="provisional"))
    body = page.content.decode()
    assert 'data-testid="publish-blockers"' in body
    assert "Xã E" in re.search(r'data-testid="publish-blocker">([^<]*)<', body)[1]
    assert re.search(r'data-testid="results-publish" disabled', body)
    response = client.post(
        reverse("results_publish", kwargs={"year": 2025}),
        {"run": computed_2025.pk, "confirm": "on"},
        follow=True,
    )
    assert not Publication.objects.filter(year=2025).exists()
    messages = re.findall(r'<li class="error">([^<]*)</li>', response.content.decode())
    assert any("Xã E" in m for m in messages)


@pytest.mark.parametrize("persona", ["leader", "commune_staff"])
def test_only_home_affairs_compute_and_publish(client, request, persona, computed_2025):
    client.force_login(request.getfixturevalue(persona))
    runs = ComputationRun.objects.count()
    assert (
        client.post(reverse("results_compute", kwargs={"year": 2025})).status_code
        == 404
    )
    assert (
        client.post(
            reverse("results_publish", kwargs={"year": 2025}),
            {"run": computed_2025.pk, "confirm": "on"},
        ).status_code
        == 404
    )
    assert client.get(reverse("results_runs", kwargs={"year": 2025})).status_code == 404
    assert ComputationRun.objects.count() == runs
    assert not Publication.objects.filter(year=2025).exists()


# --- computing ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_compute_button_queues_a_run_that_shows_on_the_page(
    client, reviewer, computed_2025
):
    client.force_login(reviewer)
    page = client.get(year_url(2025, view="provisional"))
    assert 'data-testid="results-compute"' in page.content.decode()
    response = compute(client, 2025, follow=True)
    run = ComputationRun.objects.filter(year=2025).order_by("-pk").first()
    assert run.pk != computed_2025.pk
    assert (run.trigger, run.requested_by, run.state) == (
        "manual",
        reviewer,
        RunState.SUCCEEDED,
    )
    body = response.content.decode()
    assert f'data-run="{run.pk}" data-state="succeeded"' in body
    computed = vi("Results of %(year)d computed: %(units)d units.")
    assert computed % {"year": 2025, "units": 7} in text(response)
    assert 'http-equiv="refresh"' not in body
    runs = client.get(reverse("results_runs", kwargs={"year": 2025}))
    assert re.findall(
        r'data-testid="run-row" data-run="(\d+)"', runs.content.decode()
    ) == [
        str(run.pk),
        str(computed_2025.pk),
    ]


def test_a_run_under_way_refreshes_the_page(client, reviewer, computed_2025):
    ComputationRun.objects.create(
        year=2025, trigger="schedule", created_at=timezone.now()
    )
    client.force_login(reviewer)
    body = client.get(year_url(2025, view="provisional")).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in body
    assert 'data-state="queued"' in body
    assert re.search(r'data-testid="results-compute" disabled', body)


@pytest.mark.django_db(transaction=True)
def test_a_failed_computation_shows_its_error(client, reviewer, framework_2025, units):
    settle(framework_2025, units["A"], ("2", "4", "2"))
    framework_2025.nodes.filter(code="2.1").update(scoring="quadratic")
    client.force_login(reviewer)
    response = compute(client, 2025, follow=True)
    run = ComputationRun.objects.get(year=2025)
    assert run.state == RunState.FAILED
    assert 'data-testid="run-error"' in response.content.decode()
    assert '<li class="error">' in response.content.decode()


# --- the explanation ------------------------------------------------------------------


def test_a_unit_reads_its_own_explanation_and_no_other(
    client, commune_staff, other_commune_staff, published_2025
):
    client.force_login(commune_staff)
    response = client.get(unit_url(2025, "CITY-A"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="unit-index">80,00<' in body
    place = vi("%(rank)s/%(size)s in %(group)s")
    assert place % {"rank": 1, "size": 6, "group": "Nhóm xã"} in text(response)
    assert 'data-testid="explanation-problems"' not in body
    assert client.get(unit_url(2025, "CITY-B")).status_code == 404
    assert client.get(unit_url(2025, "CITY-A", view="provisional")).status_code == 404
    client.force_login(other_commune_staff)
    assert client.get(unit_url(2025, "CITY-A")).status_code == 404
    assert client.get(unit_url(2025, "CITY-B")).status_code == 200


def test_the_explanation_adds_up(client, leader, published_2025):
    """Leaves, capped sums, deductions within the rule's cap, final points
    and index, as the page shows them."""
    client.force_login(leader)
    response = client.get(unit_url(2025, "CITY-F"))
    body = response.content.decode()
    page = text(response)

    def shown(testid):
        return re.search(rf'data-testid="{testid}">([^<]*)<', body)[1]

    assert shown("unit-obtained") == "7,00"
    assert shown("unit-adjustments") == "-2,00"
    assert shown("unit-final") == "5,00"
    assert shown("unit-maximum") == "10,00"
    assert shown("unit-index-formula") == "50,00"
    place = vi("%(rank)s/%(size)s in %(group)s")
    assert place % {"rank": 5, "size": 6, "group": "Nhóm xã"} in page
    # The tree: field 1 holds 1.1 (6), field 2 the metric leaf (no data, 0)
    # and the survey (2).
    points = dict(
        re.findall(
            r'data-code="([\d.]+)".*?data-testid="line-points">([^<]*)<', body, re.S
        )
    )
    assert points == {
        "1": "5,00",
        "1.1": "5,00",
        "1.1.1": "2,00",
        "1.1.2": "3,00",
        "2": "2,00",
        "2.1": "0,00",
        "2.2": "2,00",
    }
    assert vi("Dossiers settled on time (%)") in page
    assert vi("No data") in page
    # The record: three cases, −3 entered, −2 counted (the rule's cap).
    assert "Ba phản ánh được xác minh" in page
    assert "Kết luận thanh tra số 12/KL" in page
    assert "reviewer.city" in page  # approved by
    assert shown("adjustment-points") == "-3,00"
    assert shown("rule-counted") == "-2,00"
    assert 'data-testid="rule-capped"' in body
    assert 'data-testid="explanation-problems"' not in body


def test_a_capped_criterion_says_so(client, reviewer, framework_2025, units):
    """An inner node whose children add up above its maximum shows the sum
    and the cap."""
    framework_2025.nodes.filter(code="1.1").update(max_points=Decimal("5"))
    settle(framework_2025, units["A"], ("2", "4", "2"))
    computation.compute_now(2025)
    client.force_login(reviewer)
    response = client.get(unit_url(2025, "CITY-A", view="provisional"))
    body = response.content.decode()
    line = re.search(r'data-code="1.1".*?</tr>', body, re.S)[0]
    assert 'data-testid="line-capped"' in line
    assert vi("sum of the items below %(total)s") % {"total": "6,00"} in line
    assert 'data-testid="line-points">5,00<' in line


def test_provisional_explanation_for_reviewers(client, reviewer, computed_2025):
    client.force_login(reviewer)
    response = client.get(unit_url(2025, "CITY-E", view="provisional"))
    assert response.status_code == 200
    page = text(response)
    at = timezone.localtime(computed_2025.finished_at).strftime("%d/%m/%Y %H:%M")
    assert vi("Provisional results – computed at %(time)s") % {"time": at} in page
    assert vi("not approved") in page
    # With nothing published for 2025 the provisional view is the default.
    assert client.get(unit_url(2025, "CITY-E")).status_code == 200


# --- the page kept for its reader (scoring.results.page_cache) ---------------


def test_a_published_page_read_again_costs_only_the_session_and_the_user(
    client, commune_staff, reviewer, computed_2025
):
    """A province's ranking is rendered once per reader and publication;
    the provisional one at every visit."""
    client.force_login(commune_staff)
    first = client.get(year_url(2024))  # sets the CSRF cookie
    client.get(year_url(2024))
    with CaptureQueriesContext(connection) as queries:
        again = client.get(year_url(2024))
    tables = [re.search(r'FROM "(\w+)"', q["sql"])[1] for q in queries]
    assert sorted(tables) in (["auth_user"], ["auth_user", "django_session"])
    assert rows_of(again) == rows_of(first)
    client.force_login(reviewer)
    client.get(year_url(2025, view="provisional"))
    with CaptureQueriesContext(connection) as queries:
        client.get(year_url(2025, view="provisional"))
    assert len(queries) > 2


def test_a_new_publication_shows_at_once_on_a_kept_page(
    client, leader, reviewer, published_2024, django_capture_on_commit_callbacks
):
    client.force_login(leader)
    client.get(year_url(2024))
    client.get(year_url(2024))
    run = computation.compute_now(2024)
    with django_capture_on_commit_callbacks(execute=True):
        second = publication.publish(
            user=reviewer, year=2024, run_id=run.pk, now=timezone.now()
        )
    official = vi("Official results – publication %(version)s of %(day)s")
    day = timezone.localtime(second.published_at).strftime("%d/%m/%Y")
    assert official % {"version": 2, "day": day} in text(client.get(year_url(2024)))
