"""Building a framework: items kept in the order of their codes, problems
found before opening, opening for every unit of the kind, an open framework's
assessments following its changes, copying last year's, a published
framework refusing every change, and the demo frameworks."""

import dataclasses
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import translation

from commitments.organisation.models import Unit, UnitKind
from scoring.assessments import services
from scoring.frameworks import services as frameworks
from scoring.frameworks.services import NodeData, TierData
from scoring.models import (
    Assessment,
    Framework,
    FrameworkState,
    Method,
    Node,
    Score,
    Tier,
)
from tests.factories import UnitFactory

TODAY = date(2025, 3, 1)


def data(code, points="1", **extra):
    return NodeData(code=code, title=f"Mục {code}", max_points=Decimal(points), **extra)


def edit(item, **changes):
    """The item's data with some values changed."""
    return dataclasses.replace(NodeData.of(item), **changes)


def node(framework, code):
    return Node.objects.get(framework=framework, code=code)


def score(assessment, code):
    return Score.objects.get(assessment=assessment, node__code=code)


@pytest.fixture
def ready(framework, reviewer):
    """The conftest framework with the national tiers: nothing to fix."""
    frameworks.tiers_set(
        user=reviewer,
        framework=framework,
        tiers=[TierData(*tier) for tier in frameworks.DEFAULT_TIERS],
    )
    return framework


@pytest.fixture
def opened(ready, reviewer, org):
    frameworks.framework_open(user=reviewer, framework=ready, today=TODAY)
    ready.refresh_from_db()
    return ready


def codes(framework):
    return list(
        Node.objects.filter(framework=framework)
        .order_by("position")
        .values_list("code", flat=True)
    )


# --- codes and values --------------------------------------------------------------


@pytest.fixture(autouse=True)
def english():
    """The rules' messages in English here: the pages' tests
    (frameworks/test_views) read them in Vietnamese, as users do."""
    with translation.override("en"):
        yield


def test_codes_sort_as_people_read_them():
    ordered = sorted(["2", "1.10", "1.2.1", "1", "1.9", "1.2"], key=frameworks.code_key)
    assert ordered == ["1", "1.2", "1.2.1", "1.9", "1.10", "2"]


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("", "code"),
        ("1..2", "not a code"),
        ("1.2.3.4", "deeper than a sub-criterion"),
        ("1-2", "not a code"),
    ],
)
def test_bad_codes_are_refused_with_the_reason(code, fragment):
    assert fragment in frameworks.code_error(code)


@pytest.mark.parametrize(
    ("scoring", "text", "params"),
    [
        ("linear", "80", {"full_at": 80}),
        ("linear", "", {"full_at": 100}),
        ("linear", '{"full_at": 62.5}', {"full_at": 62.5}),
        ("banded", "80:0,5; 95:1", {"bands": [[95, 1], [80, 0.5]]}),
        ("banded", '{"bands": [[90, 1]]}', {"bands": [[90, 1]]}),
    ],
)
def test_scoring_parameters_are_read_as_officials_write_them(scoring, text, params):
    parsed = frameworks.parse_scoring_params(scoring, text)
    assert parsed == params
    assert frameworks.parse_scoring_params(
        scoring, frameworks.scoring_params_text(scoring, parsed)
    ) == (parsed)


@pytest.mark.parametrize(
    ("scoring", "text"),
    [("linear", "0"), ("linear", "120"), ("banded", "95"), ("banded", "95:2")],
)
def test_unusable_scoring_parameters_are_refused(scoring, text):
    with pytest.raises(ValueError, match=r"."):
        frameworks.parse_scoring_params(scoring, text)


# --- who may build ------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["commune_staff", "commune_head", "leader"])
def test_only_reviewers_and_superusers_build_frameworks(request, persona):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        frameworks.framework_create(
            user=user,
            year=2026,
            unit_kind=UnitKind.COMMUNE,
            name="Bộ chỉ số",
            deadline=None,
        )


@pytest.mark.parametrize("persona", ["reviewer", "city_reviewer", "superuser"])
def test_a_reviewer_of_any_unit_or_a_superuser_builds(request, persona):
    user = request.getfixturevalue(persona)
    framework = frameworks.framework_create(
        user=user,
        year=2026,
        unit_kind=UnitKind.COMMUNE,
        name="Bộ chỉ số CCHC cấp xã năm 2026",
        deadline=date(2027, 1, 7),
    )
    assert framework.state == FrameworkState.DRAFT


def test_a_new_framework_starts_with_the_national_tiers(reviewer):
    framework = frameworks.framework_create(
        user=reviewer,
        year=2026,
        unit_kind=UnitKind.DEPARTMENT,
        name="Bộ chỉ số sở 2026",
        deadline=date(2027, 1, 7),
    )
    assert list(
        framework.tiers.order_by("-min_index").values_list("code", "label", "min_index")
    ) == [
        ("A", "Tốt", Decimal(90)),
        ("B", "Khá", Decimal(80)),
        ("C", "Trung bình", Decimal(70)),
        ("D", "Yếu", Decimal(0)),
    ]


def test_one_framework_per_year_and_kind_of_unit(framework, reviewer):
    with pytest.raises(ValidationError) as refused:
        frameworks.framework_create(
            user=reviewer,
            year=2025,
            unit_kind=UnitKind.COMMUNE,
            name="Thêm",
            deadline=None,
        )
    assert "year" in refused.value.message_dict
    assert "Chỉ số CCHC cấp xã" in str(refused.value)


def test_settings_are_checked_field_by_field(reviewer):
    with pytest.raises(ValidationError) as refused:
        frameworks.framework_create(
            user=reviewer,
            year=1990,
            unit_kind="planet",
            name=" ",
            deadline=None,
            contest_days=400,
        )
    assert set(refused.value.message_dict) == {
        "year",
        "unit_kind",
        "name",
        "contest_days",
    }


# --- the tree ------------------------------------------------------------------------


def test_positions_follow_the_codes_read_top_to_bottom(ready, reviewer):
    f1 = node(ready, "1")
    for n in range(2, 11):
        frameworks.node_add(
            user=reviewer, framework=ready, parent=f1, data=data(f"1.{n}")
        )
    assert codes(ready) == [
        "1", "1.1", "1.1.1", "1.1.2", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7",
        "1.8", "1.9", "1.10", "2", "2.1", "2.2",
    ]  # fmt: skip


def test_an_item_takes_its_level_from_its_code(ready, reviewer):
    field = frameworks.node_add(
        user=reviewer, framework=ready, parent=None, data=data("3", "5")
    )
    criterion = frameworks.node_add(
        user=reviewer, framework=ready, parent=field, data=data("3.1", "5")
    )
    sub = frameworks.node_add(
        user=reviewer, framework=ready, parent=criterion, data=data("3.1.1", "5")
    )
    assert (field.level, criterion.level, sub.level) == (
        "field",
        "criterion",
        "subcriterion",
    )
    assert sub.parent == criterion


@pytest.mark.parametrize(
    ("parent_code", "code", "field", "fragment"),
    [
        ("1.1", "1.2.3", "code", "starts with “1.1.”"),
        ("1.1", "1.1.1", "code", "already used"),
        (None, "3.1", "code", "has no dot"),
        ("1.1.1", "1.1.1.1", "code", "deeper than a sub-criterion"),
    ],
)
def test_a_new_items_code_must_fit_its_place(
    ready, reviewer, parent_code, code, field, fragment
):
    parent = node(ready, parent_code) if parent_code else None
    with pytest.raises(ValidationError) as refused:
        frameworks.node_add(
            user=reviewer, framework=ready, parent=parent, data=data(code)
        )
    assert fragment in " ".join(refused.value.message_dict[field])


def test_a_metric_leaf_names_its_metric_and_scoring_function(ready, reviewer):
    with pytest.raises(ValidationError) as refused:
        frameworks.node_add(
            user=reviewer,
            framework=ready,
            parent=node(ready, "2"),
            data=data("2.3", method=Method.METRIC),
        )
    errors = refused.value.message_dict
    assert "2.3: a metric leaf names the metric it reads." in errors["metric"]
    assert "2.3: a metric leaf names its scoring function." in errors["scoring"]


def test_changing_a_code_renames_the_items_below(ready, reviewer):
    criterion = node(ready, "1.1")
    frameworks.node_update(
        user=reviewer, node=criterion, data=edit(criterion, code="1.3")
    )
    assert codes(ready) == ["1", "1.3", "1.3.1", "1.3.2", "2", "2.1", "2.2"]
    assert node(ready, "1.3.1").parent.code == "1.3"


def test_a_code_cannot_move_an_item_to_another_parent(ready, reviewer):
    leaf = node(ready, "1.1.1")
    with pytest.raises(ValidationError) as refused:
        frameworks.node_update(
            user=reviewer,
            node=leaf,
            data=edit(leaf, code="2.5"),
        )
    assert "stays below 1.1" in " ".join(refused.value.message_dict["code"])


def test_problems_name_the_item_and_what_is_wrong(ready, reviewer):
    assert frameworks.problems(ready) == []
    leaf = node(ready, "1.1.1")
    frameworks.node_update(
        user=reviewer,
        node=leaf,
        data=edit(leaf, max_points=Decimal(3)),
    )
    messages = [(p.code, p.message) for p in frameworks.problems(ready)]
    assert messages == [
        ("1.1", "1.1 has a maximum of 6.00 points but its items add up to 7.00."),
    ]


def test_a_framework_without_items_deadline_or_tiers_has_problems(reviewer):
    framework = Framework.objects.create(
        year=2026, unit_kind=UnitKind.COMMUNE, name="Trống"
    )
    messages = [p.message for p in frameworks.problems(framework)]
    assert "The framework has no items yet." in messages
    assert "The self-assessment deadline is not set." in messages
    assert "Give at least one tier." in messages


def test_the_tree_shows_running_sums_and_marks_mismatches(ready, reviewer):
    frameworks.node_add(
        user=reviewer, framework=ready, parent=node(ready, "2"), data=data("2.3")
    )
    tree = frameworks.framework_tree(ready)
    rows = {row.node.code: row for row in tree.rows}
    assert rows["2"].children_sum == Decimal(5)
    assert rows["2"].mismatch
    assert not rows["1"].mismatch
    assert rows["2.3"].is_leaf
    assert rows["2.3"].children_sum is None
    assert (tree.fields, tree.criteria, tree.subcriteria, tree.leaves) == (2, 4, 2, 5)
    assert tree.total == Decimal(10)
    assert tree.survey_total == Decimal(2)


# --- tiers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tiers", "fragment"),
    [
        ([("A", "Tốt", 90), ("A", "Khá", 0)], "The tier A appears twice."),
        ([("A", "Tốt", 90), ("B", "Khá", 80)], "must start at 0"),
        ([("A", "Tốt", 90), ("B", "Khá", 90), ("C", "Yếu", 0)], "same index"),
        ([("A", "", 0)], "give its label"),
        ([("A", "Tốt", 120)], "from 0 to 100"),
    ],
)
def test_tiers_are_checked(framework, reviewer, tiers, fragment):
    with pytest.raises(ValidationError) as refused:
        frameworks.tiers_set(
            user=reviewer,
            framework=framework,
            tiers=[TierData(c, label, Decimal(m)) for c, label, m in tiers],
        )
    assert fragment in " ".join(refused.value.messages)


def test_tiers_are_replaced(ready, reviewer):
    frameworks.tiers_set(
        user=reviewer,
        framework=ready,
        tiers=[
            TierData("Đạt", "Đạt", Decimal(50)),
            TierData("KĐ", "Chưa đạt", Decimal(0)),
        ],
    )
    assert set(Tier.objects.filter(framework=ready).values_list("code", flat=True)) == {
        "Đạt",
        "KĐ",
    }


# --- opening -------------------------------------------------------------------------


def test_opening_is_refused_while_problems_remain(framework, reviewer):
    with pytest.raises(ValidationError) as refused:
        frameworks.framework_open(user=reviewer, framework=framework, today=TODAY)
    assert "Give at least one tier." in refused.value.messages
    framework.refresh_from_db()
    assert framework.state == FrameworkState.DRAFT
    assert not Assessment.objects.exists()


def test_opening_gives_every_valid_unit_of_the_kind_its_assessment(
    ready, reviewer, org
):
    gone = UnitFactory(
        code="CITY-C",
        parent=org.city,
        valid_from=date(2019, 1, 1),
        valid_to=date(2024, 6, 30),
    )
    created = frameworks.framework_open(user=reviewer, framework=ready, today=TODAY)
    ready.refresh_from_db()
    assert ready.state == FrameworkState.OPEN
    assert created == 2
    units = set(ready.assessments.values_list("unit__code", flat=True))
    assert units == {"CITY-A", "CITY-B"}
    assert gone.code not in units
    assert Score.objects.filter(assessment__framework=ready).count() == 2 * 4


def test_opening_again_adds_only_units_that_appeared(opened, reviewer, org):
    assert frameworks.framework_open(user=reviewer, framework=opened, today=TODAY) == (
        0
    )
    UnitFactory(code="CITY-NEW", parent=org.city, valid_from=date(2025, 2, 1))
    assert frameworks.framework_open(user=reviewer, framework=opened, today=TODAY) == 1


def test_a_past_year_is_opened_for_the_units_valid_at_its_end(ready, org):
    ended = UnitFactory(code="CITY-OLD", parent=org.city, valid_to=date(2025, 6, 30))
    merged = UnitFactory(code="CITY-NEW", parent=org.city, valid_from=date(2025, 7, 1))
    later = UnitFactory(code="CITY-2026", parent=org.city, valid_from=date(2026, 3, 1))
    units = set(frameworks.units_to_assess(ready, date(2026, 11, 23)))
    assert merged in units
    assert ended not in units
    assert later not in units


# --- an open framework's assessments follow it ------------------------------------


def test_a_new_leaf_reaches_every_assessment(opened, reviewer):
    leaf = frameworks.node_add(
        user=reviewer,
        framework=opened,
        parent=node(opened, "2"),
        data=data("2.3", "1.5"),
    )
    assert (
        sorted(Score.objects.filter(node=leaf).values_list("max_points", flat=True))
        == [Decimal("1.5")] * 2
    )


def test_a_new_maximum_reaches_every_score_row(opened, reviewer):
    leaf = node(opened, "1.1.2")
    frameworks.node_update(
        user=reviewer,
        node=leaf,
        data=edit(leaf, max_points=Decimal(5)),
    )
    assert set(
        Score.objects.filter(node=leaf).values_list("max_points", flat=True)
    ) == {Decimal(5)}


def _self_score(opened, org, commune_staff, code, value):
    assessment = Assessment.objects.get(framework=opened, unit=org.commune_a)
    row = score(assessment, code)
    services.score_self_save(
        user=commune_staff,
        score_id=row.pk,
        self_score=value,
        explanation="Đã thực hiện",
        version=row.version,
        today=TODAY,
    )


def test_a_maximum_cannot_fall_below_a_score_given(
    opened, reviewer, org, commune_staff
):
    _self_score(opened, org, commune_staff, "1.1.2", "3.5")
    leaf = node(opened, "1.1.2")
    with pytest.raises(ValidationError) as refused:
        frameworks.node_update(
            user=reviewer,
            node=leaf,
            data=edit(leaf, max_points=Decimal(3)),
        )
    message = " ".join(refused.value.message_dict["max_points"])
    assert "1.1.2" in message
    assert "Phường A" in message
    assert set(
        Score.objects.filter(node=leaf).values_list("max_points", flat=True)
    ) == {Decimal(4)}
    # To exactly the score given is allowed.
    frameworks.node_update(
        user=reviewer,
        node=leaf,
        data=edit(leaf, max_points=Decimal("3.5")),
    )


def test_a_leaf_with_scores_entered_cannot_be_deleted(
    opened, reviewer, org, commune_staff
):
    _self_score(opened, org, commune_staff, "1.1.1", "2")
    for code in ("1.1.1", "1.1", "1"):
        with pytest.raises(ValidationError) as refused:
            frameworks.node_delete(user=reviewer, node=node(opened, code))
        assert "1.1.1 already has scores entered by Phường A" in str(refused.value)
    assert Node.objects.filter(framework=opened, code="1.1.1").exists()


def test_deleting_a_leaf_without_entries_removes_its_score_rows(opened, reviewer):
    frameworks.node_delete(user=reviewer, node=node(opened, "2.2"))
    assert not Score.objects.filter(node__code="2.2").exists()
    assert codes(opened) == ["1", "1.1", "1.1.1", "1.1.2", "2", "2.1"]


def test_a_parent_left_without_items_becomes_a_scored_leaf(opened, reviewer):
    frameworks.node_delete(user=reviewer, node=node(opened, "2.1"))
    frameworks.node_delete(user=reviewer, node=node(opened, "2.2"))
    assert Score.objects.filter(node__code="2").count() == 2


def test_an_item_below_a_leaf_replaces_its_empty_score_rows(opened, reviewer):
    survey = node(opened, "2.2")
    child = frameworks.node_add(
        user=reviewer, framework=opened, parent=survey, data=data("2.2.1", "2")
    )
    survey.refresh_from_db()
    assert survey.method == Method.MANUAL
    assert not Score.objects.filter(node=survey).exists()
    assert Score.objects.filter(node=child).count() == 2


def test_an_item_cannot_go_below_a_leaf_with_scores_entered(opened, reviewer, org):
    # The survey points of commune A, entered by the reviewer.
    Score.objects.filter(
        assessment__unit=org.commune_a, node=node(opened, "2.2")
    ).update(appraised_score=Decimal("1.5"))
    with pytest.raises(ValidationError, match=r"2\.2 already has scores entered"):
        frameworks.node_add(
            user=reviewer,
            framework=opened,
            parent=node(opened, "2.2"),
            data=data("2.2.1", "2"),
        )


# --- published: nothing changes -----------------------------------------------------


def test_a_published_framework_refuses_every_change(opened, reviewer):
    Framework.objects.filter(pk=opened.pk).update(state=FrameworkState.PUBLISHED)
    leaf = node(opened, "1.1.1")
    attempts = [
        lambda: frameworks.framework_settings_update(
            user=reviewer,
            framework=opened,
            name="Đổi tên",
            deadline=None,
            contest_days=5,
            reminder_days=[3],
        ),
        lambda: frameworks.tiers_set(
            user=reviewer, framework=opened, tiers=[TierData("A", "Đạt", Decimal(0))]
        ),
        lambda: frameworks.node_add(
            user=reviewer, framework=opened, parent=None, data=data("3")
        ),
        lambda: frameworks.node_update(
            user=reviewer, node=leaf, data=data("1.1.1", "2")
        ),
        lambda: frameworks.node_delete(user=reviewer, node=leaf),
        lambda: frameworks.framework_open(user=reviewer, framework=opened, today=TODAY),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="2025 results are published"):
            attempt()
    opened.refresh_from_db()
    assert opened.name == "Chỉ số CCHC cấp xã"
    assert codes(opened) == ["1", "1.1", "1.1.1", "1.1.2", "2", "2.1", "2.2"]


# --- copy last year's ----------------------------------------------------------------


def test_copying_last_years_framework_starts_the_new_year(ready, reviewer):
    Framework.objects.filter(pk=ready.pk).update(
        name="Bộ chỉ số CCHC cấp xã năm 2025", state=FrameworkState.PUBLISHED
    )
    ready.refresh_from_db()
    copy = frameworks.framework_copy(user=reviewer, source=ready, year=2026)
    assert copy.state == FrameworkState.DRAFT
    assert copy.copied_from == ready
    assert copy.name == "Bộ chỉ số CCHC cấp xã năm 2026"
    assert copy.deadline == date(2027, 1, 7)
    assert (copy.contest_days, copy.reminder_days) == (10, [7, 2])

    def tree(framework):
        return list(
            framework.nodes.order_by("position").values_list(
                "code",
                "parent__code",
                "level",
                "title",
                "max_points",
                "method",
                "metric",
                "scoring",
                "scoring_params",
                "evidence_required",
            )
        )

    assert tree(copy) == tree(ready)
    assert list(copy.tiers.values_list("code", "label", "min_index")) == list(
        ready.tiers.values_list("code", "label", "min_index")
    )
    assert frameworks.problems(copy) == []


def test_copying_to_a_year_already_built_is_refused(ready, reviewer):
    frameworks.framework_copy(user=reviewer, source=ready, year=2026)
    with pytest.raises(ValidationError, match="already a framework"):
        frameworks.framework_copy(user=reviewer, source=ready, year=2026)


# --- who sees which framework -------------------------------------------------------


def test_drafts_are_for_reviewers_and_open_frameworks_for_their_units(
    ready, reviewer, commune_staff, department_staff, leader, no_unit_user
):
    def sees(user):
        return ready in frameworks.frameworks_visible(user)

    assert sees(reviewer)
    assert not sees(commune_staff)
    assert not sees(leader)
    frameworks.framework_open(user=reviewer, framework=ready, today=TODAY)
    assert sees(commune_staff)
    assert sees(leader)
    assert not sees(department_staff)
    assert not sees(no_unit_user)


def test_the_list_counts_take_a_fixed_number_of_queries(
    ready, reviewer, django_assert_max_num_queries
):
    frameworks.framework_copy(user=reviewer, source=ready, year=2026)
    listed = list(Framework.objects.all())
    with django_assert_max_num_queries(3):
        counts = frameworks.framework_counts(listed)
    assert counts[ready.pk] == {
        "fields": 2,
        "criteria": 3,
        "subcriteria": 2,
        "leaves": 4,
        "total": Decimal(10),
        "problems": 0,
        "assessments": 0,
    }


# --- the demo -----------------------------------------------------------------------


@pytest.fixture
def demo(seed_demo, settings):
    """The demo up to its frameworks: its results and commitments are
    tests/scoring/test_results_demo.py's and test_accountability_demo.py's."""
    settings.DEMO_STEPS = settings.DEMO_STEPS[
        : settings.DEMO_STEPS.index("demo.frameworks.build_frameworks") + 1
    ]
    seed_demo()


def snapshot():
    return (
        sorted(
            Framework.objects.values_list(
                "pk", "year", "unit_kind", "name", "state", "deadline"
            )
        ),
        sorted(Node.objects.values_list("pk", "framework", "code", "max_points")),
        sorted(Assessment.objects.values_list("pk", "framework", "unit")),
        Score.objects.count(),
    )


def test_the_demo_frameworks_are_shaped_like_the_provincial_indices(demo):
    department = Framework.objects.get(year=2025, unit_kind=UnitKind.DEPARTMENT)
    commune = Framework.objects.get(year=2025, unit_kind=UnitKind.COMMUNE)
    for framework, fields, survey in ((department, 8, 20), (commune, 9, 30)):
        tree = frameworks.framework_tree(framework)
        assert tree.problems == []
        assert tree.fields == fields
        assert tree.total == Decimal(100)
        assert tree.survey_total == Decimal(survey)
        assert 35 <= tree.criteria + tree.subcriteria <= 42
        leaves = [row.node for row in tree.rows if row.is_leaf]
        assert {leaf.method for leaf in leaves} == {"manual", "metric", "survey"}
        assert any(leaf.evidence_required for leaf in leaves)
        assert all(leaf.guidance for leaf in leaves)
        assert len({leaf.guidance for leaf in leaves}) > len(leaves) / 2
        assert framework.deadline == date(2026, 1, 7)
        assert list(framework.tiers.values_list("code", "label", "min_index")) == [
            ("A", "Tốt", 90),
            ("B", "Khá", 80),
            ("C", "Trung bình", 70),
            ("D", "Yếu", 0),
        ]
    titles = set(Node.objects.values_list("title", flat=True))
    assert "Tỷ lệ hồ sơ TTHC giải quyết đúng hạn" in titles
    assert "Số hóa hồ sơ, kết quả giải quyết TTHC" in titles


def test_the_demo_opens_2025_for_every_department_and_commune(demo):
    end = date(2025, 12, 31)
    for kind in (UnitKind.DEPARTMENT, UnitKind.COMMUNE):
        framework = Framework.objects.get(year=2025, unit_kind=kind)
        assert framework.state == FrameworkState.OPEN
        assert framework.copied_from.year == 2024
        valid = Unit.objects.filter(kind=kind, valid_from__lte=end).exclude(
            valid_to__lt=end
        )
        assert valid.exists()
        assert set(framework.assessments.values_list("unit", flat=True)) == set(
            valid.values_list("pk", flat=True)
        )
        leaves = framework.nodes.filter(children__isnull=True).count()
        assert Score.objects.filter(assessment__framework=framework).count() == (
            leaves * valid.count()
        )
    # The years before are opened too; publishing them is the results step's.
    earlier = Framework.objects.filter(year__in=[2022, 2023, 2024])
    assert set(earlier.values_list("state", flat=True)) == {FrameworkState.OPEN}


def test_the_demo_also_runs_this_years_cycle_for_the_logins_to_fill_in(demo):
    """2026, copied from 2025, due on 07/01/2027: open for self-assessment."""
    for kind in (UnitKind.DEPARTMENT, UnitKind.COMMUNE):
        framework = Framework.objects.get(year=2026, unit_kind=kind)
        assert framework.state == FrameworkState.OPEN
        assert framework.copied_from.year == 2025
        assert framework.deadline == date(2027, 1, 7)
        assert framework.assessments.exists()
    # Phường Phả Lại's successor from 01/07/2025 (canbo.phalai's ward).
    ward = Assessment.objects.get(framework__year=2026, unit__code="HD-CL-LEDAIHANH")
    assert ward.state == "draft"


def test_running_the_demo_again_changes_nothing(demo):
    before = snapshot()
    call_command("seed_demo", stdout=io.StringIO())
    assert snapshot() == before
