"""The framework pages, through the client as a user would: who may open
which page, building a framework in the browser (in Vietnamese, errors naming
the field), the workbook's upload and download, copying last year's, opening,
and a published framework shown read only."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from commitments.organisation.models import UnitKind
from scoring.frameworks import services as frameworks
from scoring.frameworks import workbook
from scoring.frameworks.services import TierData
from scoring.models import Assessment, Framework, FrameworkState, Node, Score
from tests.wording import vi, vi_label, vi_n

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def ready(framework, reviewer):
    frameworks.tiers_set(
        user=reviewer,
        framework=framework,
        tiers=[TierData(*tier) for tier in frameworks.DEFAULT_TIERS],
    )
    return framework


@pytest.fixture
def opened(ready, reviewer, org):
    frameworks.framework_open(user=reviewer, framework=ready, today=date(2025, 3, 1))
    ready.refresh_from_db()
    return ready


def login(client, user):
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def node(framework, code):
    return Node.objects.get(framework=framework, code=code)


def already_there(framework) -> str:
    """The refusal of a second framework for the same kind and year."""
    return vi("There is already a framework for %(kind)s in %(year)s: %(name)s.") % {
        "kind": vi_label(UnitKind(framework.unit_kind).label),
        "year": framework.year,
        "name": framework.name,
    }


# --- who may open which page ------------------------------------------------------

MANAGERS = ["reviewer", "city_reviewer", "superuser"]
READERS = ["commune_staff", "commune_head", "leader"]


def pages(framework):
    """(method, url) of every page of one framework, and those of the list."""
    leaf = node(framework, "1.1.1")
    pk = framework.pk
    return {
        "list": ("get", reverse("framework_list")),
        "detail": ("get", reverse("framework_detail", args=[pk])),
        "export": ("get", reverse("framework_export", args=[pk])),
        "new": ("get", reverse("framework_new")),
        "import": ("get", reverse("framework_import")),
        "template": ("get", reverse("framework_template")),
        "settings": ("get", reverse("framework_settings", args=[pk])),
        "tiers": ("get", reverse("framework_tiers", args=[pk])),
        "node_new": ("get", reverse("framework_node_new", args=[pk])),
        "node_edit": ("get", reverse("framework_node_edit", args=[pk, leaf.pk])),
        "node_delete": (
            "post",
            reverse("framework_node_delete", args=[pk, leaf.pk]),
        ),
        "copy": ("post", reverse("framework_copy", args=[pk])),
        "open": ("post", reverse("framework_open", args=[pk])),
    }


READ_PAGES = {"list", "detail", "export"}


def status(client, method, url):
    response = getattr(client, method)(url, {"year": 2026} if method == "post" else {})
    return response.status_code


def test_anonymous_visitors_are_sent_to_log_in(client, opened):
    for method, url in pages(opened).values():
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", MANAGERS)
def test_reviewers_and_superusers_reach_every_page(client, request, ready, persona):
    login(client, request.getfixturevalue(persona))
    for name, (method, url) in pages(ready).items():
        expected = 302 if method == "post" else 200
        assert status(client, method, url) == expected, name


@pytest.mark.parametrize("persona", READERS)
def test_staff_heads_and_leaders_read_an_open_framework_only(
    client, request, opened, persona
):
    login(client, request.getfixturevalue(persona))
    for name, (method, url) in pages(opened).items():
        expected = 200 if name in READ_PAGES else 404
        assert status(client, method, url) == expected, name
    assert Node.objects.filter(framework=opened, code="1.1.1").exists()
    assert Framework.objects.count() == 1


@pytest.mark.parametrize("persona", READERS)
def test_a_draft_is_not_found_by_staff_heads_and_leaders(
    client, request, ready, persona
):
    login(client, request.getfixturevalue(persona))
    for name in ("detail", "export"):
        method, url = pages(ready)[name]
        assert status(client, method, url) == 404, name
    assert "Chỉ số CCHC cấp xã" not in html(client.get(reverse("framework_list")))


def test_a_department_does_not_see_the_communes_framework(
    client, opened, department_staff
):
    login(client, department_staff)
    assert status(client, *pages(opened)["detail"]) == 404


def test_an_account_without_a_unit_finds_nothing(client, opened, no_unit_user):
    login(client, no_unit_user)
    for name in ("list", "detail", "export", "new", "import"):
        assert status(client, *pages(opened)[name]) == 404, name


# --- the list and the tree --------------------------------------------------------


def test_the_list_shows_frameworks_by_year_with_counts(client, ready, reviewer):
    frameworks.framework_copy(user=reviewer, source=ready, year=2026)
    page = html(login(client, reviewer).get(reverse("framework_list")))
    assert vi("Index frameworks") in page
    year = vi("Year %(year)s")
    assert page.index(year % {"year": 2026}) < page.index(year % {"year": 2025})
    assert 'data-kind="commune"' in page
    assert vi("Being prepared") in page
    # The latest of a kind offers the next year's copy.
    assert vi("Copy to %(year)s") % {"year": 2027} in page
    assert vi("Copy to %(year)s") % {"year": 2026} not in page


def test_the_tree_shows_maxima_running_sums_and_problems(client, ready, reviewer):
    frameworks.node_add(
        user=reviewer,
        framework=ready,
        parent=node(ready, "2"),
        data=frameworks.NodeData(code="2.3", title="Mục thêm", max_points=Decimal(1)),
    )
    page = html(
        login(client, reviewer).get(reverse("framework_detail", args=[ready.pk]))
    )
    assert 'data-code="1.1.2"' in page
    assert 'data-testid="node-mismatch"' in page
    mismatch = vi(
        "%(code)s has a maximum of %(max)s points but its items add up to %(sum)s."
    )
    assert mismatch % {"code": "2", "max": "4,00", "sum": "5,00"} in page
    assert vi("To fix before opening") in page
    assert vi("Add below") in page
    assert vi("Dossiers settled on time (%)") in page


def test_staff_read_the_tree_without_tools_or_problems(client, opened, commune_staff):
    page = html(
        login(client, commune_staff).get(reverse("framework_detail", args=[opened.pk]))
    )
    assert 'data-code="2.2"' in page
    assert vi("Export to Excel") in page
    for tool in ("node-edit", "node-delete", "node-add-child", "framework-copy"):
        assert f'data-testid="{tool}"' not in page


# --- building in the browser ------------------------------------------------------


def test_a_reviewer_creates_a_framework(client, reviewer):
    response = login(client, reviewer).post(
        reverse("framework_new"),
        {
            "year": 2026,
            "unit_kind": UnitKind.DEPARTMENT,
            "name": "Bộ chỉ số CCHC các sở năm 2026",
            "deadline": "07/01/2027",
            "contest_days": 10,
            "reminder_days": "7; 2",
        },
    )
    created = Framework.objects.get(year=2026)
    assert response.status_code == 302
    assert response["Location"] == reverse("framework_detail", args=[created.pk])
    assert created.deadline == date(2027, 1, 7)
    assert created.reminder_days == [7, 2]
    assert created.tiers.count() == 4


def test_form_errors_name_the_field_in_vietnamese(client, ready, reviewer):
    response = login(client, reviewer).post(
        reverse("framework_new"),
        {
            "year": 2025,
            "unit_kind": UnitKind.COMMUNE,
            "name": "Trùng",
            "deadline": "32/01/2026",
            "contest_days": 10,
            "reminder_days": "7; hai",
        },
    )
    page = html(response)
    assert response.status_code == 200
    assert f"{vi('Self-assessment deadline')}: " in page
    days = vi("“%(value)s” is not a number of days from 1 to 366.") % {"value": "hai"}
    assert f"{vi('Reminders, days before the deadline')}: {days}" in page
    response = client.post(
        reverse("framework_new"),
        {
            "year": 2025,
            "unit_kind": UnitKind.COMMUNE,
            "name": "Trùng",
            "deadline": "07/01/2026",
            "contest_days": 10,
            "reminder_days": "",
        },
    )
    assert f"{vi('Year')}: {already_there(ready)}" in html(response)
    assert Framework.objects.count() == 1


def test_a_reviewer_adds_edits_and_deletes_items(client, ready, reviewer):
    login(client, reviewer)
    field = node(ready, "2")
    form = client.get(
        reverse("framework_node_new", args=[ready.pk]), {"parent": field.pk}
    )
    assert 'value="2.3"' in html(form)
    response = client.post(
        reverse("framework_node_new", args=[ready.pk]),
        {
            "parent": field.pk,
            "code": "2.3",
            "title": "Số hóa hồ sơ, kết quả giải quyết TTHC",
            "max_points": "1,5",
            "method": "metric",
            "metric": "digitization_rate",
            "scoring": "linear",
            "scoring_params": "80",
            "guidance": "Từ 80% đạt điểm tối đa.",
        },
    )
    assert response.status_code == 302
    added = node(ready, "2.3")
    assert (added.max_points, added.scoring_params) == (Decimal("1.5"), {"full_at": 80})
    assert added.parent == field

    leaf = node(ready, "1.1.1")
    response = client.post(
        reverse("framework_node_edit", args=[ready.pk, leaf.pk]),
        {
            "code": "1.1.1",
            "title": "Ban hành kế hoạch CCHC năm",
            "max_points": "2",
            "method": "manual",
            "evidence_required": "on",
        },
    )
    assert response.status_code == 302
    leaf.refresh_from_db()
    assert leaf.title == "Ban hành kế hoạch CCHC năm"
    assert leaf.evidence_required

    client.post(reverse("framework_node_delete", args=[ready.pk, added.pk]))
    assert not Node.objects.filter(framework=ready, code="2.3").exists()


def test_item_errors_name_the_field(client, ready, reviewer):
    login(client, reviewer)
    response = client.post(
        reverse("framework_node_new", args=[ready.pk]),
        {
            "parent": node(ready, "2").pk,
            "code": "1.9",
            "title": "Sai chỗ",
            "max_points": "abc",
            "method": "metric",
            "scoring": "banded",
            "scoring_params": "95",
        },
    )
    page = html(response)
    assert response.status_code == 200
    not_a_number = vi("“%(value)s” is not a number.") % {"value": "abc"}
    assert f"{vi('Maximum points')}: {not_a_number}" in page
    band = vi("“%(band)s” is not a band: write rate:share, such as 80:0.5.")
    assert f"{vi('Scoring parameters')}: {band % {'band': '95'}}" in page
    response = client.post(
        reverse("framework_node_new", args=[ready.pk]),
        {
            "parent": node(ready, "2").pk,
            "code": "1.9",
            "title": "Sai chỗ",
            "max_points": "1",
            "method": "metric",
            "scoring": "linear",
        },
    )
    page = html(response)
    below = vi("The code of an item below %(parent)s starts with “%(parent)s.”.")
    assert f"{vi('Code')}: {below % {'parent': '2'}}" in page
    no_metric = vi("%(code)s: a metric leaf names the metric it reads.")
    assert f"{vi('Metric read')}: {no_metric % {'code': '1.9'}}" in page
    assert not Node.objects.filter(framework=ready, code="1.9").exists()


def test_an_inner_items_form_has_no_scoring_fields(client, ready, reviewer):
    login(client, reviewer)
    inner = node(ready, "1.1")
    page = html(client.get(reverse("framework_node_edit", args=[ready.pk, inner.pk])))
    assert 'name="method"' not in page
    assert 'name="max_points"' in page


def test_settings_and_tiers_are_saved(client, ready, reviewer):
    login(client, reviewer)
    client.post(
        reverse("framework_settings", args=[ready.pk]),
        {
            "name": "Bộ chỉ số mới",
            "deadline": "10/01/2026",
            "contest_days": 7,
            "reminder_days": "5",
        },
    )
    ready.refresh_from_db()
    assert (ready.name, ready.deadline, ready.contest_days, ready.reminder_days) == (
        "Bộ chỉ số mới",
        date(2026, 1, 10),
        7,
        [5],
    )
    management = {
        "form-TOTAL_FORMS": 3,
        "form-INITIAL_FORMS": 0,
        "form-MIN_NUM_FORMS": 0,
        "form-MAX_NUM_FORMS": 20,
    }
    response = client.post(
        reverse("framework_tiers", args=[ready.pk]),
        {
            **management,
            "form-0-code": "Đạt",
            "form-0-label": "Hoàn thành",
            "form-0-min_index": "50",
            "form-1-code": "KĐ",
            "form-1-label": "Chưa hoàn thành",
            "form-1-min_index": "10",
        },
    )
    lowest = vi(
        "The lowest tier (%(code)s) must start at 0, so that every index has a tier."
    )
    assert lowest % {"code": "KĐ"} in html(response)
    client.post(
        reverse("framework_tiers", args=[ready.pk]),
        {
            **management,
            "form-0-code": "Đạt",
            "form-0-label": "Hoàn thành",
            "form-0-min_index": "50",
            "form-1-code": "KĐ",
            "form-1-label": "Chưa hoàn thành",
            "form-1-min_index": "0",
        },
    )
    assert sorted(ready.tiers.values_list("code", flat=True)) == ["KĐ", "Đạt"]


# --- workbook ---------------------------------------------------------------------


def test_the_export_downloads_the_importable_workbook(client, opened, commune_staff):
    response = login(client, commune_staff).get(
        reverse("framework_export", args=[opened.pk])
    )
    assert response["Content-Type"] == XLSX
    assert "bo-chi-so-2025-commune.xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Chỉ số", "Xếp loại", vi("Settings")]


def test_an_uploaded_workbook_becomes_a_framework(client, ready, reviewer):
    content = workbook.workbook_export(ready)
    ready.delete()
    upload = io.BytesIO(content)
    upload.name = "bo-chi-so.xlsx"
    response = login(client, reviewer).post(
        reverse("framework_import"), {"file": upload}
    )
    imported = Framework.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("framework_detail", args=[imported.pk])
    assert imported.nodes.count() == 7


def test_an_uploaded_workbook_with_problems_lists_them(client, ready, reviewer):
    book = load_workbook(io.BytesIO(workbook.workbook_export(ready)))
    book["Chỉ số"]["D3"] = "hai"  # 1.1's maximum
    book["Chỉ số"].delete_cols(2)  # "Cấp"
    upload = io.BytesIO()
    book.save(upload)
    upload.seek(0)
    upload.name = "loi.xlsx"
    response = login(client, reviewer).post(
        reverse("framework_import"), {"file": upload, "replace": "on"}
    )
    page = html(response)
    assert response.status_code == 422
    assert (
        vi("The workbook was not imported: %(counter)s problem.") % {"counter": 1}
        in page
    )
    assert "<td>Chỉ số</td><td>1</td><td>Cấp</td>" in page
    missing = vi("The column “%(column)s” is missing: the first row names the columns.")
    assert missing % {"column": "Cấp"} in page
    assert Node.objects.get(framework=ready, code="1.1").max_points == 6


def test_only_an_xlsx_file_is_read(client, reviewer):
    upload = io.BytesIO(b"ma;ten")
    upload.name = "bo-chi-so.csv"
    response = login(client, reviewer).post(
        reverse("framework_import"), {"file": upload}
    )
    assert response.status_code == 200
    assert f"{vi('Workbook (XLSX)')}: " in html(response)
    assert not Framework.objects.exists()


# --- copy and open ----------------------------------------------------------------


def test_copy_last_years_from_the_list(client, ready, reviewer):
    response = login(client, reviewer).post(
        reverse("framework_copy", args=[ready.pk]), {"year": 2026}
    )
    copy = Framework.objects.get(year=2026)
    assert response["Location"] == reverse("framework_detail", args=[copy.pk])
    assert copy.copied_from == ready
    assert copy.nodes.count() == 7
    again = client.post(
        reverse("framework_copy", args=[ready.pk]), {"year": 2026}, follow=True
    )
    assert f"{vi('New year')}: {already_there(copy)}" in html(again)


def test_opening_refuses_with_problems_then_opens(client, framework, reviewer):
    login(client, reviewer)
    response = client.post(reverse("framework_open", args=[framework.pk]), follow=True)
    assert vi("The framework cannot be opened yet:") in html(response)
    assert vi("Give at least one tier.") in html(response)
    assert not Assessment.objects.exists()
    frameworks.tiers_set(
        user=reviewer,
        framework=framework,
        tiers=[TierData(*tier) for tier in frameworks.DEFAULT_TIERS],
    )
    response = client.post(reverse("framework_open", args=[framework.pk]), follow=True)
    framework.refresh_from_db()
    assert framework.state == FrameworkState.OPEN
    created = vi(
        "The framework is open for self-assessment. Assessments created: %(count)s."
    )
    assert created % {"count": 2} in html(response)
    assert Score.objects.filter(assessment__framework=framework).count() == 8


# --- published --------------------------------------------------------------------


def test_a_published_framework_is_shown_read_only(client, opened, reviewer):
    Framework.objects.filter(pk=opened.pk).update(state=FrameworkState.PUBLISHED)
    login(client, reviewer)
    page = html(client.get(reverse("framework_detail", args=[opened.pk])))
    read_only = vi(
        "The %(year)s results are published: this framework is read only and never "
        "changes again."
    )
    assert read_only % {"year": 2025} in page
    for tool in ("node-edit", "node-delete", "framework-open", "framework-add-field"):
        assert f'data-testid="{tool}"' not in page
    # Copying it to a new year is how it lives on.
    assert 'data-testid="framework-copy"' in page

    leaf = node(opened, "1.1.1")
    response = client.post(
        reverse("framework_node_delete", args=[opened.pk, leaf.pk]), follow=True
    )
    frozen = vi("The %(year)s results are published: their framework cannot change.")
    assert frozen % {"year": 2025} in html(response)
    assert Node.objects.filter(pk=leaf.pk).exists()
    response = client.get(reverse("framework_settings", args=[opened.pk]))
    assert response.status_code == 302
    response = client.post(
        reverse("framework_node_edit", args=[opened.pk, leaf.pk]),
        {"code": "1.1.1", "title": "Đổi", "max_points": "1", "method": "manual"},
    )
    leaf.refresh_from_db()
    assert leaf.title == "Mục 1.1.1"


def test_an_open_framework_warns_that_changes_reach_the_assessments(
    client, opened, reviewer
):
    login(client, reviewer)
    page = html(client.get(reverse("framework_node_new", args=[opened.pk])))
    reaches = vi_n(
        "This framework is open: the change reaches the assessment of %(counter)s "
        "unit at once.",
        "This framework is open: the change reaches the assessments of %(counter)s "
        "units at once.",
        2,
    )
    assert reaches % {"counter": 2} in page
