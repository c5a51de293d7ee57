"""Commitments: drafted from templates, adjusted, signed, counter-signed,
manual values reported and checked; each step's allowed and refused users;
progress from the stored figures."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from commitments import access, progress, rules, services
from commitments.models import (
    CheckState,
    Commitment,
    CommitmentState,
    CommitmentTemplate,
    Target,
)
from commitments.organisation.models import UnitKind
from procedures import rules as procedure_rules
from procedures.figures import Rate
from tests.commitments.helpers import D, indicator, month, scan, signed
from tests.factories import HeadFactory

TODAY = date(2026, 5, 20)


@pytest.fixture(autouse=True)
def english():
    """The messages are compared in English (the portal's source language)."""
    with translation.override("en"):
        yield


@pytest.fixture
def heads(org):
    return {
        "a": HeadFactory(unit=org.commune_a, full_name="Trần Thị Hoa"),
        "b": HeadFactory(unit=org.commune_b, full_name="Lê Văn Bình"),
        "dep": HeadFactory(unit=org.department, full_name="Phạm Minh Đức"),
    }


def draft(org, reviewer, year=2026, units=None):
    template = CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE)
    report = services.commitments_create(
        year=year,
        template=template,
        units=units or [org.commune_a, org.commune_b],
        user=reviewer,
    )
    return report


def test_indicator_metrics_are_rates_the_figures_give():
    names = set(procedure_rules.Metrics.__dataclass_fields__)
    assert set(Rate.values) <= names


def test_templates_differ_for_departments_and_communes(db):
    def so_hoa(kind):
        template = CommitmentTemplate.objects.get(unit_kind=kind)
        return template.targets.get(indicator__code="so-hoa")

    assert (
        so_hoa(UnitKind.DEPARTMENT).value,
        so_hoa(UnitKind.DEPARTMENT).due_month,
    ) == (
        D("100"),
        None,
    )
    assert (so_hoa(UnitKind.COMMUNE).value, so_hoa(UnitKind.COMMUNE).due_month) == (
        D("50"),
        10,
    )


def test_drafting_from_the_template_for_many_units(org, reviewer):
    report = draft(org, reviewer, units=[org.commune_a, org.commune_b, org.department])
    assert {c.unit for c in report.created} == {org.commune_a, org.commune_b}
    assert [(u, why) for u, why in report.skipped] == [
        (org.department, "the template is for another kind of unit")
    ]
    commitment = Commitment.objects.get(unit=org.commune_a, year=2026)
    assert commitment.state == CommitmentState.DRAFT
    so_hoa = commitment.targets.get(indicator__code="so-hoa")
    assert (so_hoa.value, so_hoa.deadline) == (D("50"), date(2026, 10, 31))
    assert commitment.targets.count() == 8
    # A second run leaves the existing ones alone and says so.
    again = draft(org, reviewer)
    assert again.created == []
    assert {why for _u, why in again.skipped} == {"already has a commitment for 2026"}


def test_only_reviewers_draft_and_only_within_their_jurisdiction(
    org, city_reviewer, commune_staff
):
    with pytest.raises(PermissionDenied):
        draft(org, commune_staff)
    template = CommitmentTemplate.objects.get(unit_kind=UnitKind.DEPARTMENT)
    report = services.commitments_create(
        year=2026, template=template, units=[org.department], user=city_reviewer
    )
    assert report.created == []
    assert report.skipped == [(org.department, "outside your jurisdiction")]


def test_a_draft_is_adjusted_by_the_unit_and_refuses_bad_targets(
    org, reviewer, commune_staff, other_commune_staff
):
    draft(org, reviewer)
    commitment = Commitment.objects.get(unit=org.commune_a, year=2026)
    target = commitment.targets.get(indicator__code="thanh-toan")
    changed = services.target_save(
        commitment=commitment,
        user=commune_staff,
        target=target,
        indicator=target.indicator,
        comparison="gte",
        value=D("95"),
        deadline=date(2026, 9, 30),
    )
    # The unit adjusts the value and deadline; whether the target is
    # mandatory is not its call (test_optional_targets).
    assert (changed.value, changed.deadline, changed.mandatory) == (
        D("95"),
        date(2026, 9, 30),
        True,
    )
    cases = {
        "deadline": {"value": D("90"), "deadline": date(2027, 1, 31)},
        "value": {"value": D("120"), "deadline": None},
    }
    for field, values in cases.items():
        with pytest.raises(ValidationError) as refused:
            services.target_save(
                commitment=commitment,
                user=commune_staff,
                target=target,
                indicator=target.indicator,
                comparison="gte",
                mandatory=True,
                **values,
            )
        assert field in refused.value.message_dict
    with pytest.raises(ValidationError) as duplicate:
        services.target_save(
            commitment=commitment,
            user=commune_staff,
            indicator=indicator("so-hoa"),
            comparison="gte",
            value=D("60"),
            deadline=None,
            mandatory=True,
        )
    assert "indicator" in duplicate.value.message_dict
    with pytest.raises(PermissionDenied):
        services.target_delete(target=target, user=other_commune_staff)


def test_signing_records_the_head_in_office_the_scan_and_last_years_results(
    org, reviewer, commune_head, heads
):
    draft(org, reviewer)
    commitment = Commitment.objects.get(unit=org.commune_a, year=2026)
    # Last year the commune digitised 80% by October and 96% of fees online.
    for number in range(1, 11):
        month(org.commune_a, 2025, number, received=10, on_time=10, digitized=8)
    month(
        org.commune_a,
        2025,
        11,
        received=10,
        on_time=10,
        fee_required=25,
        paid_online=24,
    )
    below = {t.indicator.code: v for t, v in progress.below_last_year(commitment)}
    # No late dossier and no complaint: satisfaction was 100% against 95%.
    assert below == {
        "so-hoa": D("80.00"),
        "thanh-toan": D("96.00"),
        "hai-long": D("100.00"),
    }

    done = services.commitment_sign(
        commitment=commitment,
        user=commune_head,
        signed_on=date(2026, 4, 14),
        scan=scan(),
        today=TODAY,
    )
    assert done.state == CommitmentState.SIGNED
    assert done.head == heads["a"]
    assert done.signing_warnings == 3
    assert done.scan.read().startswith(b"%PDF")
    assert done.scan_extension == ".pdf"
    so_hoa = done.targets.get(indicator__code="so-hoa")
    assert so_hoa.last_year_value == D("80.00")
    # Signed: the targets are frozen.
    with pytest.raises(ValidationError):
        services.target_save(
            commitment=done,
            user=reviewer,
            target=so_hoa,
            indicator=so_hoa.indicator,
            comparison="gte",
            value=D("90"),
            deadline=None,
            mandatory=True,
        )


@pytest.mark.parametrize(
    ("signed_on", "upload", "field"),
    [
        (date(2026, 6, 1), scan(), "signed_on"),  # after today
        (date(2024, 12, 1), scan(), "signed_on"),  # two years early
        (date(2018, 4, 1), scan(), "signed_on"),
        (
            date(2026, 4, 14),
            SimpleUploadedFile("x.pdf", b"not a pdf at all", "application/pdf"),
            "scan",
        ),
    ],
)
def test_signing_refuses_with_the_field(
    org, reviewer, commune_head, heads, signed_on, upload, field
):
    draft(org, reviewer)
    commitment = Commitment.objects.get(unit=org.commune_a, year=2026)
    with pytest.raises(ValidationError) as refused:
        services.commitment_sign(
            commitment=commitment,
            user=commune_head,
            signed_on=signed_on,
            scan=upload,
            today=TODAY,
        )
    assert field in refused.value.message_dict
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.DRAFT


def test_signing_without_a_head_in_office_is_refused(org, reviewer, commune_head):
    draft(org, reviewer)
    commitment = Commitment.objects.get(unit=org.commune_a, year=2026)
    with pytest.raises(ValidationError) as refused:
        services.commitment_sign(
            commitment=commitment,
            user=commune_head,
            signed_on=date(2026, 4, 14),
            scan=scan(),
            today=TODAY,
        )
    assert refused.value.message_dict["signed_on"] == [
        "The unit had no head in office on that day."
    ]


def test_another_units_people_cannot_sign(org, reviewer, other_commune_staff, heads):
    draft(org, reviewer)
    commitment = Commitment.objects.get(unit=org.commune_a, year=2026)
    with pytest.raises(PermissionDenied):
        services.commitment_sign(
            commitment=commitment,
            user=other_commune_staff,
            signed_on=date(2026, 4, 14),
            scan=scan(),
            today=TODAY,
        )


def test_the_level_above_countersigns_after_the_head(
    org, heads, city_reviewer, commune_head, commune_staff, leader
):
    commitment = signed(org.commune_a, 2026, heads["a"], [("dung-han", "100", None)])
    assert not access.may_countersign(commune_staff, commitment)
    assert not access.may_countersign(commune_head, commitment)
    assert access.may_countersign(leader, commitment)
    with pytest.raises(ValidationError) as early:
        services.commitment_countersign(
            commitment=commitment,
            user=city_reviewer,
            countersigned_on=date(2026, 4, 1),
            signer_name="Nguyễn Văn Chủ",
            signer_title="Chủ tịch UBND thành phố",
            today=TODAY,
        )
    assert "countersigned_on" in early.value.message_dict
    done = services.commitment_countersign(
        commitment=commitment,
        user=city_reviewer,
        countersigned_on=date(2026, 4, 15),
        signer_name="Nguyễn Văn Chủ",
        signer_title="Chủ tịch UBND thành phố",
        today=TODAY,
    )
    assert done.state == CommitmentState.COUNTERSIGNED
    assert done.countersigner_name == "Nguyễn Văn Chủ"
    with pytest.raises(PermissionDenied):
        services.commitment_countersign(
            commitment=done,
            user=city_reviewer,
            countersigned_on=date(2026, 4, 15),
            signer_name="x",
            signer_title="",
            today=TODAY,
        )


def test_manual_values_are_reported_by_the_unit_and_checked_by_a_reviewer(
    org, heads, commune_staff, other_commune_staff, city_reviewer
):
    commitment = signed(
        org.commune_a,
        2026,
        heads["a"],
        [("nhiem-vu", "100", None), ("dung-han", "100", None)],
    )
    manual = commitment.targets.get(indicator__code="nhiem-vu")
    metric = commitment.targets.get(indicator__code="dung-han")
    assert not access.may_report(commune_staff, metric)
    with pytest.raises(PermissionDenied):
        services.target_report(
            target=manual, user=other_commune_staff, value=D("90"), note=""
        )
    with pytest.raises(PermissionDenied):
        services.target_report(
            target=manual, user=city_reviewer, value=D("90"), note=""
        )
    reported = services.target_report(
        target=manual, user=commune_staff, value=D("95"), note="19/20 nhiệm vụ"
    )
    assert reported.check_state == CheckState.PENDING
    assert not access.may_check(commune_staff, reported)
    with pytest.raises(ValidationError) as no_reason:
        services.target_check(
            target=reported, user=city_reviewer, accepted=False, note=""
        )
    assert "note" in no_reason.value.message_dict
    checked = services.target_check(
        target=reported, user=city_reviewer, accepted=True, note=""
    )
    assert (checked.check_state, checked.checked_by) == (
        CheckState.ACCEPTED,
        city_reviewer,
    )
    # A new report waits for a new check.
    again = services.target_report(
        target=checked, user=commune_staff, value=D("100"), note=""
    )
    assert again.check_state == CheckState.PENDING
    assert again.checked_by is None


def test_progress_reads_the_months_up_to_the_deadline_and_today(org, heads):
    commitment = signed(
        org.commune_a,
        2026,
        heads["a"],
        [
            ("so-hoa", "50", "2026-10-31"),
            ("dung-han", "100", None),
            ("nhiem-vu", "100", None),
        ],
    )
    targets = list(commitment.targets.select_related("indicator", "commitment"))
    # January–March: 60% digitised; April: 0 of 20.
    for number in (1, 2, 3):
        month(org.commune_a, 2026, number, received=10, digitized=6, on_time=10)
    month(org.commune_a, 2026, 4, received=20, digitized=0, on_time=19)

    def states(today):
        return {
            item.target.indicator.code: (item.value, item.progress)
            for item in progress.targets_progress(targets, today=today)
        }

    march = states(date(2026, 3, 20))
    assert march["so-hoa"] == (D("60.00"), rules.Progress.ON_TRACK)
    assert march["dung-han"] == (D("100.00"), rules.Progress.ON_TRACK)
    assert march["nhiem-vu"] == (None, rules.Progress.NO_DATA)
    may = states(date(2026, 5, 2))
    assert may["so-hoa"] == (D("36.00"), rules.Progress.AT_RISK)
    assert may["dung-han"] == (D("98.00"), rules.Progress.AT_RISK)
    # After its deadline a target is missed however the year ends.
    november = states(date(2026, 11, 3))
    assert november["so-hoa"] == (D("36.00"), rules.Progress.MISSED)


def test_judging_counts_a_manual_value_only_once_accepted(
    org, heads, commune_staff, city_reviewer
):
    commitment = signed(org.commune_a, 2025, heads["a"], [("nhiem-vu", "100", None)])
    target = commitment.targets.select_related("indicator", "commitment").get()
    services.target_report(target=target, user=commune_staff, value=D("100"), note="")
    target = Target.objects.select_related("indicator", "commitment").get(pk=target.pk)
    assert progress.target_values([target], today=None, judging=True)[target.pk] == (
        None,
        "reported",
    )
    services.target_check(target=target, user=city_reviewer, accepted=True, note="")
    target = Target.objects.select_related("indicator", "commitment").get(pk=target.pk)
    assert progress.target_values([target], today=None, judging=True)[target.pk] == (
        D("100"),
        "accepted",
    )


def test_progress_reads_to_the_last_month_computed(org, heads):
    """November not computed yet (no import since it began): the dossiers
    open and not yet due at the end of October stay on time."""
    commitment = signed(org.commune_a, 2026, heads["a"], [("dung-han", "100", None)])
    target = commitment.targets.select_related("indicator", "commitment").get()
    # October: 10 in scope, 8 settled on time, 2 open and not yet due.
    month(org.commune_a, 2026, 10, received=10, on_time=10, finished_on_time=8)
    [item] = progress.targets_progress([target], today=date(2026, 11, 23))
    assert item.value == D("100.00")
    assert item.progress == rules.Progress.ON_TRACK
