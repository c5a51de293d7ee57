"""The deductions and bonuses pages through the client, as a user would: only
reviewers reach them, a reviewer sees and acts only on the units below them,
four eyes on the decision, errors beside the field in Vietnamese, the
catalogue read only once the year is published, the province's criterion
ranks, and a list page whose queries do not grow with its rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.organisation.models import UnitKind
from scoring.adjustments import criterion_ranks
from scoring.adjustments import services as adjustments
from scoring.frameworks import catalogue
from scoring.models import (
    Adjustment,
    AdjustmentRule,
    AdjustmentState,
    CriterionRank,
    Framework,
    FrameworkState,
)
from tests.wording import vi, vi_n

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
REASON = "Đơn phản ánh cán bộ bộ phận một cửa gây phiền hà, đã xác minh đúng"


@pytest.fixture
def departments(db):
    framework = Framework.objects.create(
        year=2025, unit_kind=UnitKind.DEPARTMENT, name="Chỉ số CCHC các sở"
    )
    catalogue.defaults_create(framework)
    return framework


def rule(framework, code="harassment_complaint"):
    return AdjustmentRule.objects.get(framework=framework, code=code)


def enter(user, framework, unit, code="harassment_complaint", cases=1):
    return adjustments.adjustment_enter(
        user=user,
        framework=framework,
        unit=unit,
        rule=rule(framework, code),
        cases=cases,
        reason=REASON,
        evidence="Kết luận số 15/KL-UBND",
        now=NOW,
    )


@pytest.fixture
def commune_record(year, org, city_reviewer):
    """A deduction for commune A entered by Chí Linh's Home Affairs."""
    return enter(city_reviewer, year, org.commune_a, cases=2)


@pytest.fixture
def department_record(departments, org, reviewer):
    return enter(reviewer, departments, org.department, code="press_poor_management")


@pytest.fixture
def rank(org, reviewer):
    return criterion_ranks.criterion_rank_upsert(
        user=reviewer,
        instance=None,
        year=2025,
        index="par",
        code="2.3",
        title="Kiểm soát thủ tục hành chính",
        rank=9,
        owner_unit=org.department,
    )


def login(client, user):
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


# --- who reaches which page -----------------------------------------------------------


def pages(year, record, rank):
    first_rule = rule(year)
    return {
        "list": ("get", reverse("adjustment_list")),
        "new": ("get", reverse("adjustment_new")),
        "new_framework": ("get", f"{reverse('adjustment_new')}?framework={year.pk}"),
        "detail": ("get", reverse("adjustment_detail", args=[record.pk])),
        "decide": ("post", reverse("adjustment_decide", args=[record.pk])),
        "rules": ("get", reverse("adjustment_rules", args=[year.pk])),
        "rule_edit": (
            "get",
            reverse("adjustment_rule_edit", args=[year.pk, first_rule.pk]),
        ),
        "rule_delete": (
            "post",
            reverse("adjustment_rule_delete", args=[year.pk, first_rule.pk]),
        ),
        "ranks": ("get", reverse("criterion_rank_list")),
        "rank_new": ("get", reverse("criterion_rank_new")),
        "rank_edit": ("get", reverse("criterion_rank_edit", args=[rank.pk])),
        "rank_delete": ("post", reverse("criterion_rank_delete", args=[rank.pk])),
    }


@pytest.mark.parametrize(
    "who", ["commune_staff", "commune_head", "leader", "department_staff"]
)
def test_staff_heads_and_leaders_are_refused_every_page(
    request, client, year, commune_record, rank, who
):
    login(client, request.getfixturevalue(who))
    for name, (method, url) in pages(year, commune_record, rank).items():
        response = getattr(client, method)(url)
        assert response.status_code == 403, name
    commune_record.refresh_from_db()
    assert commune_record.state == AdjustmentState.PROPOSED
    assert AdjustmentRule.objects.filter(pk=rule(year).pk).exists()
    assert CriterionRank.objects.filter(pk=rank.pk).exists()


def test_anonymous_visitors_are_sent_to_log_in(client, year, commune_record, rank):
    for name, (method, url) in pages(year, commune_record, rank).items():
        response = getattr(client, method)(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("who", ["reviewer", "superuser"])
def test_reviewers_above_the_unit_and_superusers_open_every_page(
    request, client, year, commune_record, rank, who
):
    login(client, request.getfixturevalue(who))
    for name, (method, url) in pages(year, commune_record, rank).items():
        if method == "get":
            assert client.get(url).status_code == 200, name


def test_a_reviewer_of_another_subtree_cannot_see_or_decide_a_record(
    client, department_record, city_reviewer
):
    login(client, city_reviewer)
    assert (
        client.get(
            reverse("adjustment_detail", args=[department_record.pk])
        ).status_code
        == 404
    )
    response = client.post(
        reverse("adjustment_decide", args=[department_record.pk]),
        {"decision": "approve"},
    )
    assert response.status_code == 404
    department_record.refresh_from_db()
    assert department_record.state == AdjustmentState.PROPOSED
    listed = html(client.get(reverse("adjustment_list")))
    assert "PROV-DEP" not in listed


# --- the list -------------------------------------------------------------------------


def test_the_list_shows_each_records_facts_awaiting_approval_first(
    client, year, org, city_reviewer, reviewer
):
    approved = enter(city_reviewer, year, org.commune_b, code="press_poor_management")
    adjustments.adjustment_decide(
        user=reviewer, adjustment=approved, approve=True, reason="", now=NOW
    )
    waiting = enter(city_reviewer, year, org.commune_a, cases=2)
    proposal = Adjustment.objects.create(
        framework=year,
        unit=org.commune_b,
        rule=rule(year, "head_disciplined"),
        points=-2,
        reason="Quyết định kỷ luật khiển trách số 3/QĐ-UBND",
        proposed_by_computation=True,
        entered_at=NOW,
    )
    login(client, reviewer)
    response = client.get(reverse("adjustment_list"))
    page = html(response)
    states = [a.state for a in response.context["page"]]
    assert states == ["proposed", "proposed", "approved"]
    assert {a.pk for a in response.context["page"]} == {
        approved.pk,
        waiting.pk,
        proposal.pk,
    }
    records = vi_n("%(counter)s record", "%(counter)s records", 3)
    assert records % {"counter": 3} in page
    assert vi("Awaiting approval") in page
    assert vi("Approved") in page
    assert page.count('data-testid="adjustment-auto"') == 1
    assert vi("proposed automatically") in page
    assert 'class="adj-points deduction" data-testid="adjustment-points">-2<' in page
    assert REASON in page
    assert "Kết luận số 15/KL-UBND" in page
    assert "reviewer.city" in page  # entered by, with no full name
    assert "02/03/2026" in page


def test_the_list_filters_by_year_state_unit_and_rule(
    client, year, org, city_reviewer, reviewer
):
    a = enter(city_reviewer, year, org.commune_a)
    b = enter(city_reviewer, year, org.commune_b, code="press_poor_management")
    adjustments.adjustment_decide(
        user=reviewer, adjustment=b, approve=True, reason="", now=NOW
    )
    login(client, reviewer)

    def listed(**query):
        response = client.get(reverse("adjustment_list"), query)
        assert response.status_code == 200
        return {record.pk for record in response.context["page"]}

    assert listed() == {a.pk, b.pk}
    assert listed(year=2025) == {a.pk, b.pk}
    assert listed(state="approved") == {b.pk}
    assert listed(state="proposed") == {a.pk}
    assert listed(unit="CITY-B") == {b.pk}
    assert listed(unit="phường a") == {a.pk}
    assert listed(rule="harassment_complaint") == {a.pk}
    assert listed(state="rejected") == set()
    assert listed(state="bogus") == set()  # an invalid filter shows nothing


def test_the_year_filter_offers_the_frameworks_years(client, year, reviewer):
    Framework.objects.create(year=2026, unit_kind=UnitKind.COMMUNE, name="2026")
    login(client, reviewer)
    form = client.get(reverse("adjustment_list")).context["form"]
    assert [value for value, _ in form.fields["year"].choices] == ["", 2026, 2025]
    response = client.get(reverse("adjustment_list"), {"year": 2024})
    assert response.context["page"].paginator.count == 0
    assert response.context["form"].errors  # 2024 has no framework


def test_the_lists_queries_do_not_grow_with_its_rows(
    client, year, org, city_reviewer, reviewer
):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("adjustment_list")).status_code == 200
        return len(captured)

    enter(city_reviewer, year, org.commune_a)
    login(client, reviewer)
    few = count_queries()
    for index in range(30):
        record = enter(
            city_reviewer,
            year,
            org.commune_b if index % 2 else org.commune_a,
            code="press_poor_management",
        )
        if index % 3 == 0:
            adjustments.adjustment_decide(
                user=reviewer, adjustment=record, approve=True, reason="", now=NOW
            )
    assert count_queries() == few
    # Session, user, menus and notices (4), memberships, years, rules, count, page.
    assert few <= 10


# --- entering -------------------------------------------------------------------------


def test_the_first_step_offers_the_frameworks_of_the_units_reviewed(
    client, year, departments, city_reviewer, reviewer
):
    login(client, city_reviewer)
    page = html(client.get(reverse("adjustment_new")))
    assert f'value="{year.pk}"' in page
    assert f'value="{departments.pk}"' not in page  # the city has no department
    # Asking for it anyway goes back to the first step, with the error.
    response = client.get(reverse("adjustment_new"), {"framework": departments.pk})
    assert response.context["framework"] is None
    assert response.context["chooser"].errors
    login(client, reviewer)
    assert f'value="{departments.pk}"' in html(client.get(reverse("adjustment_new")))


def test_the_form_offers_the_units_reviewed_and_the_frameworks_rules(
    client, year, org, city_reviewer
):
    login(client, city_reviewer)
    response = client.get(reverse("adjustment_new"), {"framework": year.pk})
    form = response.context["form"]
    assert [u.code for u in form.fields["unit"].queryset] == ["CITY-A", "CITY-B"]
    page = html(response)
    per_case = vi("%(points)s per case")
    assert f"({per_case % {'points': '-1'}})" in page
    assert rule(year, "head_disciplined").title in page
    assert f"({per_case % {'points': '-2'}})" in page


def test_a_published_years_form_says_a_record_needs_a_new_version(
    client, year, city_reviewer
):
    login(client, city_reviewer)
    url = reverse("adjustment_new")
    assert 'data-testid="framework-published-note"' not in html(
        client.get(url, {"framework": year.pk})
    )
    year.state = FrameworkState.PUBLISHED
    year.save()
    page = html(client.get(url, {"framework": year.pk}))
    published = vi(
        "The %(year)s results are published: an approved record changes them only "
        "in a new version of the publication."
    )
    assert published % {"year": 2025} in page
    assert 'data-testid="adjustment-form"' in page


def test_a_reviewer_enters_a_deduction(client, year, org, city_reviewer):
    login(client, city_reviewer)
    response = client.post(
        f"{reverse('adjustment_new')}?framework={year.pk}",
        {
            "unit": "CITY-A",
            "rule": rule(year).pk,
            "cases": "2",
            "reason": REASON,
            "evidence": "Kết luận số 15/KL-UBND ngày 10/02/2026",
        },
    )
    record = Adjustment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("adjustment_detail", args=[record.pk])
    assert (record.unit, record.cases, record.points) == (org.commune_a, 2, -2)
    assert record.entered_by == city_reviewer
    assert record.state == AdjustmentState.PROPOSED
    page = html(client.get(response["Location"]))
    recorded = vi("Recorded for %(unit)s: it counts once another reviewer approves it.")
    assert recorded % {"unit": org.commune_a.name} in page
    assert "Kết luận số 15/KL-UBND ngày 10/02/2026" in page


def test_errors_are_shown_beside_their_field(client, year, city_reviewer):
    login(client, city_reviewer)
    url = f"{reverse('adjustment_new')}?framework={year.pk}"
    response = client.post(
        url, {"unit": "CITY-A", "rule": rule(year).pk, "cases": "0", "reason": " "}
    )
    assert response.status_code == 200
    page = html(response)
    cases = vi("The number of cases is a whole number from 1 to 100.")
    assert (
        f'<p class="error" role="alert" data-testid="error-cases">{cases}</p>' in page
    )
    reason = vi(
        "Give the reason: what happened, and the decision or conclusion that "
        "established it."
    )
    assert f'data-testid="error-reason">{reason}' in page
    response = client.post(url, {"rule": rule(year).pk, "cases": "1", "reason": "x"})
    required = vi("This field is required.")
    assert f'data-testid="error-unit">{required}' in html(response)
    assert not Adjustment.objects.exists()


def test_a_unit_outside_the_reviewers_subtree_is_not_a_choice(
    client, year, departments, org, city_reviewer
):
    login(client, city_reviewer)
    response = client.post(
        f"{reverse('adjustment_new')}?framework={year.pk}",
        {"unit": "PROV-DEP", "rule": rule(year).pk, "cases": "1", "reason": REASON},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["unit"]
    assert not Adjustment.objects.exists()


def test_a_rule_of_another_framework_is_not_a_choice(
    client, year, departments, reviewer
):
    login(client, reviewer)
    response = client.post(
        f"{reverse('adjustment_new')}?framework={year.pk}",
        {"unit": "CITY-A", "rule": rule(departments).pk, "cases": "1", "reason": "x"},
    )
    assert response.context["form"].errors["rule"]
    assert not Adjustment.objects.exists()


# --- deciding -------------------------------------------------------------------------


def test_the_entrant_sees_why_they_cannot_decide(client, commune_record, city_reviewer):
    login(client, city_reviewer)
    page = html(client.get(reverse("adjustment_detail", args=[commune_record.pk])))
    assert 'data-testid="adjustment-approve"' not in page
    yours = vi("You entered this record: another reviewer approves or rejects it.")
    assert yours in page
    # Posting anyway is refused with the same words.
    response = client.post(
        reverse("adjustment_decide", args=[commune_record.pk]), {"decision": "approve"}
    )
    assert response.status_code == 200
    assert f'data-testid="decision-error">{yours}' in html(response)
    commune_record.refresh_from_db()
    assert commune_record.state == AdjustmentState.PROPOSED


def test_another_reviewer_approves_and_the_history_says_who(
    client, commune_record, reviewer
):
    reviewer.first_name, reviewer.last_name = "Hằng", "Đỗ Thu"
    reviewer.save()
    login(client, reviewer)
    url = reverse("adjustment_detail", args=[commune_record.pk])
    assert 'data-testid="adjustment-approve"' in html(client.get(url))
    response = client.post(
        reverse("adjustment_decide", args=[commune_record.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302
    commune_record.refresh_from_db()
    assert commune_record.state == AdjustmentState.APPROVED
    assert commune_record.decided_by == reviewer
    page = html(client.get(url))
    assert vi("Approved: it counts in the next computation.") in page
    assert 'data-testid="decision-form"' not in page
    assert page.count('data-testid="history-row"') == 2
    assert "Hằng Đỗ Thu" in page
    assert "reviewer.city" in page
    assert f"{vi('Awaiting approval')}</del> → <ins>{vi('Approved')}" in page


def test_a_rejection_without_a_reason_is_shown_at_the_reason(
    client, commune_record, reviewer
):
    login(client, reviewer)
    url = reverse("adjustment_decide", args=[commune_record.pk])
    response = client.post(url, {"decision": "reject", "decision_reason": ""})
    assert response.status_code == 200
    why = vi("Say why it is rejected.")
    assert f'data-testid="error-decision_reason">{why}' in html(response)
    commune_record.refresh_from_db()
    assert commune_record.state == AdjustmentState.PROPOSED
    client.post(
        url, {"decision": "reject", "decision_reason": "Chưa có kết luận xác minh"}
    )
    commune_record.refresh_from_db()
    assert commune_record.state == AdjustmentState.REJECTED
    assert commune_record.decision_reason == "Chưa có kết luận xác minh"


def test_a_computed_proposal_is_marked_and_any_reviewer_decides(
    client, year, org, city_reviewer
):
    proposal = Adjustment.objects.create(
        framework=year,
        unit=org.commune_a,
        rule=rule(year, "press_poor_management"),
        points=-1,
        reason="Báo Hải Dương phản ánh",
        proposed_by_computation=True,
        entered_at=NOW,
    )
    login(client, city_reviewer)
    page = html(client.get(reverse("adjustment_detail", args=[proposal.pk])))
    assert vi("proposed automatically") in page
    assert vi("the computation, from the data") in page
    assert 'data-testid="adjustment-approve"' in page


def _proposal(year, unit, code="press_poor_management"):
    return Adjustment.objects.create(
        framework=year,
        unit=unit,
        rule=rule(year, code),
        points=rule(year, code).points_per_case,
        reason="Đề xuất từ xếp hạng chỉ số thành phần",
        proposed_by_computation=True,
        entered_at=NOW,
    )


def test_the_list_offers_to_tick_only_what_the_reviewer_may_approve(
    client, year, org, city_reviewer, commune_record
):
    proposal = _proposal(year, org.commune_b)
    login(client, city_reviewer)
    page = html(client.get(reverse("adjustment_list")))
    assert 'data-testid="bulk-approve"' in page
    assert f'name="ids" value="{proposal.pk}"' in page
    # Four eyes: what the reviewer entered has no box.
    assert f'name="ids" value="{commune_record.pk}"' not in page


def test_a_reviewer_approves_the_ticked_proposals_at_once(
    client, year, org, city_reviewer
):
    first, second = _proposal(year, org.commune_a), _proposal(year, org.commune_b)
    untouched = _proposal(year, org.commune_a, "harassment_complaint")
    login(client, city_reviewer)
    response = client.post(
        reverse("adjustments_approve"),
        {"ids": [first.pk, second.pk], "back": "state=proposed"},
    )
    assert response["Location"] == reverse("adjustment_list") + "?state=proposed"
    for record in (first, second, untouched):
        record.refresh_from_db()
    assert first.state == second.state == AdjustmentState.APPROVED
    assert first.decided_by == second.decided_by == city_reviewer
    assert untouched.state == AdjustmentState.PROPOSED
    # The history says who approved each, as one at a time would.
    assert first.history.first().history_user == city_reviewer
    page = html(client.get(response["Location"]))
    assert (
        vi_n(
            "%(count)s record approved: it counts in the next computation.",
            "%(count)s records approved: they count in the next computation.",
            2,
        )
        % {"count": 2}
        in page
    )


def test_one_record_that_cannot_be_approved_stops_them_all(
    client, year, org, city_reviewer, commune_record
):
    """All or nothing, and the error names the one at fault."""
    proposal = _proposal(year, org.commune_b)
    login(client, city_reviewer)
    response = client.post(
        reverse("adjustments_approve"), {"ids": [proposal.pk, commune_record.pk]}
    )
    page = html(client.get(response["Location"]))
    assert vi("Nothing was approved. Untick these records and try again:") in page
    named = vi("%(unit)s, “%(rule)s”: %(why)s") % {
        "unit": org.commune_a.name,
        "rule": rule(year).title,
        "why": vi("You entered this record: another reviewer approves or rejects it."),
    }
    assert named in page
    for record in (proposal, commune_record):
        record.refresh_from_db()
        assert record.state == AdjustmentState.PROPOSED


def test_nothing_ticked_or_out_of_reach_approves_nothing(
    client, year, org, city_reviewer, departments, reviewer
):
    outside = enter(reviewer, departments, org.department, code="press_poor_management")
    login(client, city_reviewer)
    for ids in ([], [outside.pk], ["x"]):
        response = client.post(reverse("adjustments_approve"), {"ids": ids})
        assert response.status_code == 302
        assert vi("Tick the records to approve.") in html(
            client.get(response["Location"])
        )
    outside.refresh_from_db()
    assert outside.state == AdjustmentState.PROPOSED


# --- the catalogue --------------------------------------------------------------------


def test_a_manager_reads_the_catalogue_from_the_framework_page(client, year, reviewer):
    login(client, reviewer)
    framework_page = html(client.get(reverse("framework_detail", args=[year.pk])))
    url = reverse("adjustment_rules", args=[year.pk])
    assert f'href="{url}"' in framework_page
    page = html(client.get(url))
    # The communes' defaults (with the late submission, issue 17 item 9).
    assert page.count('data-testid="rule-row"') == 5
    assert 'data-code="harassment_complaint"' in page
    assert 'data-testid="rule-add-form"' in page


def test_a_manager_adds_edits_and_deletes_rules(client, year, org, reviewer):
    login(client, reviewer)
    url = reverse("adjustment_rules", args=[year.pk])
    response = client.post(
        url,
        {
            "code": "late_reports",
            "title": "Chậm gửi báo cáo CCHC",
            "points_per_case": "-0,25",
            "cap": "1",
        },
    )
    assert response.status_code == 302
    added = rule(year, "late_reports")
    assert (added.points_per_case, added.cap) == (D("-0.25"), D(1))
    response = client.post(
        url, {"code": "late_reports", "title": "Lặp", "points_per_case": "0"}
    )
    page = html(response)
    taken = vi("The catalogue already has a rule %(code)s.") % {"code": "late_reports"}
    assert f'data-testid="error-code">{taken}' in page
    zero = vi(
        "Points per case cannot be 0: negative for a deduction, positive for a bonus."
    )
    assert f'data-testid="error-points_per_case">{zero}' in page

    edit = reverse("adjustment_rule_edit", args=[year.pk, added.pk])
    assert 'value="-0,25"' in html(client.get(edit))
    client.post(edit, {"title": "Chậm báo cáo", "points_per_case": "-0.5", "cap": ""})
    added.refresh_from_db()
    assert (added.title, added.points_per_case, added.cap) == (
        "Chậm báo cáo",
        D("-0.5"),
        None,
    )
    client.post(reverse("adjustment_rule_delete", args=[year.pk, added.pk]))
    assert not year.adjustment_rules.filter(code="late_reports").exists()


def test_a_rule_in_use_is_not_deleted(client, commune_record, year, reviewer):
    login(client, reviewer)
    used = rule(year)
    page = html(client.get(reverse("adjustment_rules", args=[year.pk])))
    assert vi("in use") in page
    response = client.post(
        reverse("adjustment_rule_delete", args=[year.pk, used.pk]), follow=True
    )
    in_use = vi(
        "Records were entered under “%(rule)s”: change its points instead of "
        "deleting it."
    )
    assert in_use % {"rule": used.title} in html(response)
    assert AdjustmentRule.objects.filter(pk=used.pk).exists()


def test_the_catalogue_is_read_only_once_published(client, year, reviewer):
    year.state = FrameworkState.PUBLISHED
    year.save()
    first = rule(year)
    title = first.title
    login(client, reviewer)
    url = reverse("adjustment_rules", args=[year.pk])
    page = html(client.get(url))
    assert 'data-testid="rules-frozen"' in page
    read_only = vi(
        "The %(year)s results are published: this catalogue is read only and never "
        "changes again."
    )
    assert read_only % {"year": 2025} in page
    assert 'data-testid="rule-add-form"' not in page
    assert 'data-testid="rule-edit"' not in page
    assert 'data-testid="rule-delete"' not in page
    response = client.post(
        url, {"code": "new_rule", "title": "Mới", "points_per_case": "-1"}, follow=True
    )
    frozen = vi("The results of %(year)d are published: its catalogue is frozen.")
    assert frozen % {"year": 2025} in html(response)
    edit = reverse("adjustment_rule_edit", args=[year.pk, first.pk])
    assert client.get(edit)["Location"] == url
    client.post(edit, {"title": "X", "points_per_case": "-9"})
    client.post(reverse("adjustment_rule_delete", args=[year.pk, first.pk]))
    first.refresh_from_db()
    assert (first.title, first.points_per_case) == (title, D(-1))
    assert not year.adjustment_rules.filter(code="new_rule").exists()


# --- the province's criterion ranks ---------------------------------------------------


def test_the_ranks_show_last_years_rank_and_the_change(client, rank, org, reviewer):
    criterion_ranks.criterion_rank_upsert(
        user=reviewer,
        instance=None,
        year=2024,
        index="par",
        code="2.3",
        title="Kiểm soát TTHC",
        rank=12,
        owner_unit=org.department,
    )
    login(client, reviewer)
    page = html(client.get(reverse("criterion_rank_list"), {"year": 2025}))
    title = vi("Criterion ranks of the province, %(year)s") % {"year": 2025}
    assert title in page
    assert org.department.name in page
    assert "▲ 3" in page
    page = html(client.get(reverse("criterion_rank_list")))  # the latest year
    assert title in page


def test_a_manager_enters_corrects_and_deletes_a_rank(client, org, reviewer):
    login(client, reviewer)
    data = {
        "year": "2025",
        "index": "pci",
        "code": "cstp5",
        "title": "Thiết chế pháp lý",
        "rank": "0",
        "owner_unit": "PROV-DEP",
    }
    response = client.post(reverse("criterion_rank_new"), data)
    rank = vi("The rank is a whole number, 1 or more.")
    assert f'data-testid="error-rank">{rank}' in html(response)
    response = client.post(reverse("criterion_rank_new"), {**data, "rank": "14"})
    assert response["Location"] == f"{reverse('criterion_rank_list')}?year=2025"
    saved = CriterionRank.objects.get()
    assert (saved.code, saved.rank, saved.owner_unit) == ("CSTP5", 14, org.department)
    response = client.post(reverse("criterion_rank_new"), {**data, "rank": "3"})
    held = vi("The %(index)s ranks of %(year)d already hold criterion %(code)s.")
    assert held % {"index": "PCI", "year": 2025, "code": "CSTP5"} in html(response)
    edit = reverse("criterion_rank_edit", args=[saved.pk])
    assert 'value="CSTP5"' in html(client.get(edit))
    client.post(edit, {**data, "rank": "11"})
    saved.refresh_from_db()
    assert saved.rank == 11
    client.post(reverse("criterion_rank_delete", args=[saved.pk]))
    assert not CriterionRank.objects.exists()


def test_the_responsible_unit_must_be_a_department_the_user_reviews(
    client, org, reviewer
):
    login(client, reviewer)
    response = client.post(
        reverse("criterion_rank_new"),
        {
            "year": "2025",
            "index": "par",
            "code": "1.1",
            "title": "Công tác chỉ đạo",
            "rank": "5",
            "owner_unit": "CITY-A",  # a commune: not among the choices
        },
    )
    assert response.context["form"].errors["owner_unit"]
    assert not CriterionRank.objects.exists()


def test_a_city_reviewer_neither_sees_nor_changes_the_departments_ranks(
    client, rank, city_reviewer
):
    login(client, city_reviewer)
    page = html(client.get(reverse("criterion_rank_list"), {"year": 2025}))
    assert 'data-testid="criterion-rank-row"' not in page
    assert 'data-testid="criterion-rank-no-owner"' in page
    edit = reverse("criterion_rank_edit", args=[rank.pk])
    assert client.get(edit).status_code == 404
    delete = reverse("criterion_rank_delete", args=[rank.pk])
    assert client.post(delete).status_code == 404
    assert CriterionRank.objects.filter(pk=rank.pk).exists()
