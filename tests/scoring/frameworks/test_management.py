"""Issue 15, defect 3: a framework is the province's. Changing one (settings
and deadline, items, tiers, the catalogue of deductions and bonuses, opening,
copying, importing) takes a superuser or a reviewer who appraises every unit
of its kind (scoring.access.may_manage_framework), checked by the services
and answered 403 with the reason by the pages and the admin. A city's
reviewer reads the departments' framework and changes none of it."""

import io
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commitments.organisation.models import Role, UnitKind
from scoring import access
from scoring.adjustments import services as adjustments
from scoring.frameworks import services as frameworks
from scoring.frameworks import workbook
from scoring.frameworks.services import FrameworkData, NodeData, TierData
from scoring.models import AdjustmentRule, Framework, FrameworkState, Node, Tier
from tests.factories import MembershipFactory, UnitFactory, UserFactory
from tests.wording import vi, vi_label


def refusal() -> str:
    """Why a reviewer who does not manage the departments' frameworks is
    refused, as the catalogue words it."""
    return vi(
        "Only a Home Affairs reviewer whose jurisdiction covers every unit of the "
        "kind “%(kind)s” in the province, or an administrator, manages the "
        "frameworks of that kind."
    ) % {"kind": vi_label(UnitKind.DEPARTMENT.label)}


def departments_data(**changes: Any) -> FrameworkData:
    values: dict[str, Any] = {
        "year": 2026,
        "unit_kind": UnitKind.DEPARTMENT,
        "name": "Chỉ số CCHC các sở năm 2026",
        "deadline": date(2027, 1, 7),
        "contest_days": 10,
        "reminder_days": [7, 2],
        "tiers": [TierData(*tier) for tier in frameworks.DEFAULT_TIERS],
        "nodes": [
            NodeData("1", "Công tác chỉ đạo, điều hành", D(10)),
            NodeData("1.1", "Kế hoạch CCHC năm", D(6)),
            NodeData("1.2", "Báo cáo CCHC", D(4)),
        ],
    }
    values.update(changes)
    return FrameworkData(**values)


@pytest.fixture
def departments(org, reviewer):
    """The departments' 2026 framework, a draft built by Sở Nội vụ."""
    return frameworks.framework_load(user=reviewer, data=departments_data())


def snapshot(framework):
    """Everything about a framework that a manager may change."""
    framework = Framework.objects.get(pk=framework.pk)
    return (
        (
            framework.name,
            framework.deadline,
            framework.state,
            framework.contest_days,
            framework.reminder_days,
        ),
        sorted(
            Node.objects.filter(framework=framework).values_list(
                "code", "title", "max_points"
            )
        ),
        sorted(
            Tier.objects.filter(framework=framework).values_list("code", "min_index")
        ),
        sorted(
            AdjustmentRule.objects.filter(framework=framework).values_list(
                "code", "title", "points_per_case", "cap"
            )
        ),
        Framework.objects.count(),
    )


def rule(framework, code="harassment_complaint"):
    return AdjustmentRule.objects.get(framework=framework, code=code)


def workbook_file(data: FrameworkData, reviewer) -> io.BytesIO:
    """The workbook of ``data``: written from a framework built by the
    province's reviewer in another year, then relabelled."""
    source = frameworks.framework_load(user=reviewer, data=data)
    content = workbook.workbook_export(source)
    source.delete()
    return io.BytesIO(content)


# --- the services --------------------------------------------------------------


def attempts(framework, user):
    """Every service that changes a framework, each as a city reviewer would
    call it on the departments' framework."""
    leaf = Node.objects.get(framework=framework, code="1.2")
    return {
        "settings (the deadline)": lambda: frameworks.framework_settings_update(
            user=user,
            framework=framework,
            name=framework.name,
            deadline=date(2026, 12, 1),
            contest_days=10,
            reminder_days=[7, 2],
        ),
        "tiers": lambda: frameworks.tiers_set(
            user=user, framework=framework, tiers=[TierData("A", "Đạt", D(0))]
        ),
        "item added": lambda: frameworks.node_add(
            user=user,
            framework=framework,
            parent=None,
            data=NodeData("2", "Lĩnh vực mới", D(5)),
        ),
        "item changed": lambda: frameworks.node_update(
            user=user, node=leaf, data=NodeData("1.2", "Báo cáo", D(3))
        ),
        "item deleted": lambda: frameworks.node_delete(user=user, node=leaf),
        "opened": lambda: frameworks.framework_open(
            user=user, framework=framework, today=date(2026, 3, 1)
        ),
        "copied": lambda: frameworks.framework_copy(
            user=user, source=framework, year=2027
        ),
        "created": lambda: frameworks.framework_create(
            user=user,
            year=2027,
            unit_kind=UnitKind.DEPARTMENT,
            name="Chỉ số CCHC các sở năm 2027",
            deadline=None,
        ),
        "replaced by a load": lambda: frameworks.framework_load(
            user=user, data=departments_data(name="Bộ khác"), replace=True
        ),
        "rule changed": lambda: adjustments.rule_update(
            user=user,
            rule=rule(framework),
            title="Nhũng nhiễu",
            points_per_case="-0,25",
            cap="",
        ),
        "rule added": lambda: adjustments.rule_add(
            user=user,
            framework=framework,
            code="new_rule",
            title="Quy tắc mới",
            points_per_case="-1",
            cap="",
        ),
        "rule deleted": lambda: adjustments.rule_delete(
            user=user, rule=rule(framework)
        ),
    }


ATTEMPTS = [
    "settings (the deadline)",
    "tiers",
    "item added",
    "item changed",
    "item deleted",
    "opened",
    "copied",
    "created",
    "replaced by a load",
    "rule changed",
    "rule added",
    "rule deleted",
]


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_a_city_reviewer_changes_nothing_of_the_departments_framework(
    departments, city_reviewer, attempt
):
    before = snapshot(departments)
    with pytest.raises(PermissionDenied) as refused:
        attempts(departments, city_reviewer)[attempt]()
    assert str(refused.value) == refusal()
    assert vi("Department, board or agency") in str(refused.value)
    assert snapshot(departments) == before


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_the_province_reviewer_manages_the_departments_framework(
    departments, reviewer, attempt
):
    before = snapshot(departments)
    attempts(departments, reviewer)[attempt]()
    assert snapshot(departments) != before


def test_a_workbook_of_a_kind_the_reviewer_does_not_manage_is_refused(
    org, reviewer, city_reviewer
):
    stream = workbook_file(departments_data(year=2030), reviewer)
    before = Framework.objects.count()
    with pytest.raises(PermissionDenied) as refused:
        workbook.framework_import(user=city_reviewer, stream=stream)
    assert str(refused.value) == refusal()
    assert Framework.objects.count() == before


def test_the_check_is_made_on_the_framework_as_stored(departments, city_reviewer):
    """A copy of the row claiming another kind of unit changes nothing."""
    claimed = Framework.objects.get(pk=departments.pk)
    claimed.unit_kind = UnitKind.COMMUNE
    before = snapshot(departments)
    with pytest.raises(PermissionDenied):
        frameworks.framework_settings_update(
            user=city_reviewer,
            framework=claimed,
            name="Đổi tên",
            deadline=date(2026, 12, 1),
            contest_days=10,
            reminder_days=[7],
        )
    assert snapshot(departments) == before


# --- whose jurisdiction covers a kind ------------------------------------------------


def test_a_reviewer_of_every_unit_of_the_kind_manages_it(org, city_reviewer):
    """Every commune of the test province lies in the city."""
    assert access.may_manage_frameworks_of(
        city_reviewer, year=2026, unit_kind=UnitKind.COMMUNE
    )
    assert not access.may_manage_frameworks_of(
        city_reviewer, year=2026, unit_kind=UnitKind.DEPARTMENT
    )


def test_one_unit_of_the_kind_outside_the_jurisdiction_is_enough_to_refuse(
    org, city_reviewer, reviewer
):
    other = UnitFactory(
        code="DIST2",
        name="UBND huyện khác",
        kind=UnitKind.DISTRICT,
        parent=org.province,
    )
    UnitFactory(code="DIST2-X", name="Xã ngoài thành phố", parent=other)
    assert not access.may_manage_frameworks_of(
        city_reviewer, year=2026, unit_kind=UnitKind.COMMUNE
    )
    assert access.may_manage_frameworks_of(
        reviewer, year=2026, unit_kind=UnitKind.COMMUNE
    )


def test_a_unit_counts_in_the_years_it_was_valid(org, city_reviewer):
    other = UnitFactory(
        code="DIST2",
        name="UBND huyện khác",
        kind=UnitKind.DISTRICT,
        parent=org.province,
    )
    UnitFactory(
        code="DIST2-X",
        name="Xã đã sáp nhập",
        parent=other,
        valid_to=date(2025, 6, 30),
    )
    assert not access.may_manage_frameworks_of(
        city_reviewer, year=2025, unit_kind=UnitKind.COMMUNE
    )
    assert access.may_manage_frameworks_of(
        city_reviewer, year=2026, unit_kind=UnitKind.COMMUNE
    )


def test_a_kind_without_units_is_for_the_whole_provinces_reviewer(
    org, city_reviewer, reviewer, superuser
):
    assert not access.may_manage_frameworks_of(
        city_reviewer, year=2026, unit_kind=UnitKind.BRANCH
    )
    assert access.may_manage_frameworks_of(
        reviewer, year=2026, unit_kind=UnitKind.BRANCH
    )
    assert access.may_manage_frameworks_of(
        superuser, year=2026, unit_kind=UnitKind.BRANCH
    )


@pytest.mark.parametrize("persona", ["commune_staff", "commune_head", "leader"])
def test_no_one_but_reviewers_and_superusers_manages(departments, request, persona):
    user = request.getfixturevalue(persona)
    assert not access.may_manage_framework(user, departments)


def test_an_inactive_reviewer_manages_nothing(departments, reviewer):
    reviewer.is_active = False
    reviewer.save()
    assert not access.may_manage_framework(reviewer, departments)


# --- the pages -------------------------------------------------------------------


def text(response) -> str:
    return response.content.decode()


def test_a_city_reviewer_reads_the_departments_framework_without_its_actions(
    client, departments, city_reviewer
):
    client.force_login(city_reviewer)
    response = client.get(reverse("framework_detail", args=[departments.pk]))
    assert response.status_code == 200
    body = text(response)
    for action in (
        "framework-settings-link",
        "framework-add-field",
        "node-edit",
        "framework-copy",
        "framework-open",
    ):
        assert f'data-testid="{action}"' not in body, action
    listed = text(client.get(reverse("framework_list")))
    assert departments.name in listed
    assert 'data-testid="framework-copy"' not in listed


def page_attempts(framework):
    leaf = Node.objects.get(framework=framework, code="1.2")
    pk = framework.pk
    return {
        "settings page": ("get", reverse("framework_settings", args=[pk]), {}),
        "settings (the deadline)": (
            "post",
            reverse("framework_settings", args=[pk]),
            {
                "name": framework.name,
                "deadline": "01/12/2026",
                "contest_days": 10,
                "reminder_days": "7; 2",
            },
        ),
        "tiers": (
            "post",
            reverse("framework_tiers", args=[pk]),
            {
                "form-TOTAL_FORMS": 1,
                "form-INITIAL_FORMS": 0,
                "form-0-code": "A",
                "form-0-label": "Đạt",
                "form-0-min_index": "0",
            },
        ),
        "item added": (
            "post",
            reverse("framework_node_new", args=[pk]),
            {
                "code": "2",
                "title": "Lĩnh vực mới",
                "max_points": "5",
                "method": "manual",
            },
        ),
        "item changed": (
            "post",
            reverse("framework_node_edit", args=[pk, leaf.pk]),
            {"code": "1.2", "title": "Báo cáo", "max_points": "3", "method": "manual"},
        ),
        "item deleted": (
            "post",
            reverse("framework_node_delete", args=[pk, leaf.pk]),
            {},
        ),
        "opened": ("post", reverse("framework_open", args=[pk]), {}),
        "copied": ("post", reverse("framework_copy", args=[pk]), {"year": 2027}),
        "rule changed": (
            "post",
            reverse("adjustment_rule_edit", args=[pk, rule(framework).pk]),
            {"title": "Nhũng nhiễu", "points_per_case": "-0,25", "cap": ""},
        ),
        "rule added": (
            "post",
            reverse("adjustment_rules", args=[pk]),
            {
                "code": "new_rule",
                "title": "Quy tắc mới",
                "points_per_case": "-1",
                "cap": "",
            },
        ),
        "rule deleted": (
            "post",
            reverse("adjustment_rule_delete", args=[pk, rule(framework).pk]),
            {},
        ),
    }


PAGE_ATTEMPTS = [
    "settings page",
    "settings (the deadline)",
    "tiers",
    "item added",
    "item changed",
    "item deleted",
    "opened",
    "copied",
    "rule changed",
    "rule added",
    "rule deleted",
]


@pytest.mark.parametrize("attempt", PAGE_ATTEMPTS)
def test_a_city_reviewer_is_answered_403_with_the_reason(
    client, departments, city_reviewer, attempt
):
    client.force_login(city_reviewer)
    before = snapshot(departments)
    method, url, data = page_attempts(departments)[attempt]
    response = getattr(client, method)(url, data)
    assert response.status_code == 403
    assert refusal() in text(response)
    assert snapshot(departments) == before


@pytest.mark.parametrize("attempt", PAGE_ATTEMPTS[1:])
def test_the_province_reviewer_changes_it_through_the_same_pages(
    client, departments, reviewer, attempt
):
    client.force_login(reviewer)
    before = snapshot(departments)
    method, url, data = page_attempts(departments)[attempt]
    response = getattr(client, method)(url, data)
    assert response.status_code == 302
    assert snapshot(departments) != before


def test_the_catalogue_reads_without_its_actions_for_a_city_reviewer(
    client, departments, city_reviewer
):
    client.force_login(city_reviewer)
    response = client.get(reverse("adjustment_rules", args=[departments.pk]))
    assert response.status_code == 200
    body = text(response)
    assert 'data-testid="rules-not-managed"' in body
    assert refusal() in body
    assert 'data-testid="rule-edit"' not in body
    assert 'data-testid="rule-add-form"' not in body
    assert 'data-testid="rules-frozen"' not in body


def test_a_new_framework_of_a_kind_not_managed_is_refused_on_its_form(
    client, org, city_reviewer
):
    client.force_login(city_reviewer)
    response = client.post(
        reverse("framework_new"),
        {
            "year": 2026,
            "unit_kind": UnitKind.DEPARTMENT,
            "name": "Chỉ số CCHC các sở năm 2026",
            "deadline": "07/01/2027",
            "contest_days": 10,
            "reminder_days": "7; 2",
        },
    )
    assert response.status_code == 403
    assert refusal() in text(response)
    assert not Framework.objects.exists()


def test_an_imported_workbook_of_a_kind_not_managed_is_refused_on_its_page(
    client, org, reviewer, city_reviewer
):
    stream = workbook_file(departments_data(year=2030), reviewer)
    client.force_login(city_reviewer)
    response = client.post(
        reverse("framework_import"),
        {"file": SimpleUploadedFile("so-2030.xlsx", stream.getvalue())},
    )
    assert response.status_code == 403
    assert refusal() in text(response)
    assert not Framework.objects.filter(year=2030).exists()


# --- the admin -------------------------------------------------------------------


@pytest.fixture
def staff_city_reviewer(org):
    """A city reviewer given a staff account and every scoring permission."""
    user = UserFactory(username="reviewer.city.staff", is_staff=True)
    MembershipFactory(user=user, unit=org.city, role=Role.REVIEWER)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="scoring")
    )
    return user


def admin_url(name, *args):
    return reverse(f"admin:scoring_{name}", args=args)


def test_a_staff_city_reviewer_only_reads_frameworks_in_the_admin(
    client, departments, staff_city_reviewer
):
    client.force_login(staff_city_reviewer)
    leaf = Node.objects.get(framework=departments, code="1.2")
    before = snapshot(departments)
    assert client.get(admin_url("framework_change", departments.pk)).status_code == 200
    for url, data in [
        (admin_url("framework_change", departments.pk), {"name": "X"}),
        (admin_url("framework_add"), {"name": "X"}),
        (admin_url("framework_delete", departments.pk), {"post": "yes"}),
        (admin_url("node_change", leaf.pk), {"max_points": "3"}),
        (admin_url("node_add"), {"code": "9"}),
        (admin_url("node_delete", leaf.pk), {"post": "yes"}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert snapshot(departments) == before


def test_a_superuser_corrects_a_draft_in_the_admin_but_never_a_published_framework(
    client, departments, superuser
):
    client.force_login(superuser)
    leaf = Node.objects.get(framework=departments, code="1.2")
    assert client.get(admin_url("node_change", leaf.pk)).status_code == 200
    response = client.post(admin_url("node_delete", leaf.pk), {"post": "yes"})
    assert response.status_code == 302
    Framework.objects.filter(pk=departments.pk).update(state=FrameworkState.PUBLISHED)
    other = Node.objects.get(framework=departments, code="1.1")
    assert (
        client.post(admin_url("node_delete", other.pk), {"post": "yes"}).status_code
        == 403
    )
    assert (
        client.post(admin_url("framework_change", departments.pk), {}).status_code
        == 403
    )
    assert Node.objects.filter(pk=other.pk).exists()
