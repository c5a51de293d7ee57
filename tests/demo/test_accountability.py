"""seed_demo's commitments and accountability (demo.accountability):
commitments for 2024–2026 signed and counter-signed through the services,
judged on the figures; a case for a unit missing two years running across a
change of head, none for a unit missing once; a mitigated case with its
steps; a rating capped for repeated lateness, one changed with a reason, a
head flagged "not completed" twice; 2026 running with a draft left to sign;
and a second run that changes nothing."""

import io
from collections import defaultdict
from datetime import date
from decimal import Decimal

import filetype
import pypdfium2
import pytest
from django.core.management import call_command
from django.db.models import F

from commitments import progress
from commitments.models import (
    CheckState,
    Commitment,
    CommitmentState,
    IndicatorKind,
    Target,
)
from commitments.organisation.models import HeadPosition, Unit
from demo import accountability as demo
from demo import cases as cases_demo
from procedures.selectors import repeated_lateness
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    CaseKind,
    CaseStep,
    Decision,
    HeadRating,
    MitigationGround,
    RatingLevel,
    StepAction,
)

# A day after the last import of 2026's case records (31/10/2026).
RUNNING_DAY = date(2026, 11, 23)
# Their 2026 got worse: they commit to keep their 2025 results.
HOLDING = (cases_demo.DIGITISATION_FALLS, *cases_demo.LATE_IN_CURRENT_YEAR)

STEPS = [
    "demo.organisation.build_organisation",
    "demo.organisation.build_accounts",
    "demo.cases.build_catalogue",
    "demo.cases.build_cases",
    "demo.frameworks.build_frameworks",
    "demo.results.build_results",
    "demo.accountability.build_accountability",
]


def counts() -> dict[str, object]:
    """What the step writes, to compare before and after a second run."""
    return {
        "commitments": sorted(
            Commitment.objects.values_list(
                "unit__code", "year", "state", "head_id", "signed_on", "met", "scan"
            )
        ),
        "targets": sorted(
            Target.objects.values_list(
                "pk", "value", "reported_value", "check_state", "judged_value", "met"
            )
        ),
        "target_history": Target.history.count(),
        "cases": sorted(
            AccountabilityCase.objects.values_list("unit__code", "year", "state")
        ),
        "steps": CaseStep.objects.count(),
        "ratings": sorted(
            HeadRating.objects.values_list("unit__code", "year", "proposed", "final")
        ),
        "rating_history": HeadRating.history.count(),
    }


def test_a_scan_is_a_pdf_any_reader_opens():
    pdf = demo.scan_pdf(["BẢN CAM KẾT NĂM 2024", "Xã Hưng Đạo (đã ký)"])
    assert filetype.guess(pdf).mime == "application/pdf"
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 1
    text = document[0].get_textpage().get_text_range()
    assert "Xa Hung Dao (da ky)" in text


@pytest.mark.parametrize(
    ("official", "value", "before", "committed"),
    [
        ("100", "100", "99.5", "100"),  # reached: the official value
        ("90", "93.1", None, "90"),
        ("100", "47.37", None, "45"),  # a round figure below the result
        ("100", "47.37", "46.2", "47"),  # not below last year's
        ("100", "99.28", "99.25", "99.25"),
        ("100", "99.28", "99.21", "99.21"),  # no round figure between: last year's
        ("95", "98.9", "98.1", "98.5"),  # reached, but last year did better
        ("100", "96.5", "98.2", "96"),  # fell below last year's: said at signing
        ("100", "3.2", None, None),  # too little to commit to
        ("100", None, "50", None),  # no figures
    ],
)
def test_a_unit_commits_to_a_round_figure_it_reaches(
    official, value, before, committed
):
    def d(x):
        return None if x is None else Decimal(x)

    assert demo.commit_to(d(official), d(value), d(before)) == d(committed)


def test_the_demo_judges_2024_and_2025_and_runs_2026(seed_demo, settings, tmp_path):
    settings.DEMO_STEPS = STEPS
    settings.MEDIA_ROOT = tmp_path
    out = seed_demo()
    assert "commitments 2024:" in out

    # Every department and Chí Linh unit (from 2025: every commune-level unit
    # of the province, no office) commits each year, signed by the head in
    # office with a PDF scan, counter-signed by the level above.
    for year in (2025, 2026):
        kinds = {unit.kind for unit in demo.units_of(year)}
        assert kinds == {"department", "branch", "commune"}, year
        assert all(unit.valid_to is None for unit in demo.units_of(year))
    for year in (2024, 2025):
        committed = Commitment.objects.filter(year=year)
        assert committed.count() == len(demo.units_of(year))
        assert set(committed.values_list("state", flat=True)) == {
            CommitmentState.COUNTERSIGNED
        }
        assert not committed.filter(met__isnull=True)
    for commitment in Commitment.objects.exclude(state=CommitmentState.DRAFT):
        with commitment.scan.open("rb") as scan:
            assert filetype.guess(scan.read(8192)).mime == "application/pdf"
        assert commitment.signed_on.year == commitment.year
        if commitment.countersigned_on:
            assert commitment.countersigned_on >= commitment.signed_on

    # Judged on the figures and accepted reports as they read now.
    judged = list(
        Target.objects.filter(met__isnull=False).select_related(
            "indicator", "commitment"
        )
    )
    assert judged
    now = progress.target_values(judged, today=None, judging=True)
    for target in judged:
        assert target.judged_value == now[target.pk][0], target.pk
    checked = Target.objects.exclude(check_state="")
    assert checked.filter(check_state=CheckState.ACCEPTED).exists()
    rejected = checked.filter(check_state=CheckState.REJECTED)
    assert rejected.exists()
    assert not rejected.filter(check_note="")

    # Xã Hưng Đạo missed 2024 and ended on 30/06/2025; Phường Trần Hưng Đạo,
    # which it went into, missed 2025: one case, for the successor's head of
    # today, naming the predecessor's signer and the successor's, awaiting
    # the explanation; none for the ward that no longer exists.
    cases = AccountabilityCase.objects.filter(kind=CaseKind.TWO_YEARS)
    assert set(cases.values_list("unit__code", flat=True)) == {
        demo.OPEN_CASE,
        demo.MITIGATED_CASE,
        demo.EXPLAINED_CASE,
    }
    case = cases.select_related("head__user").get(unit__code=demo.OPEN_CASE)
    successor = Unit.objects.get(code=demo.OPEN_CASE)
    assert successor.predecessors.filter(code=demo.OPEN_CASE_BEFORE).exists()
    signers = [
        Commitment.objects.select_related("head").get(unit__code=code, year=year).head
        for code, year in ((demo.OPEN_CASE_BEFORE, 2024), (demo.OPEN_CASE, 2025))
    ]
    assert signers[0] != signers[1]
    assert [(y["unit"], y["signed_by"]) for y in case.facts["years"]] == [
        (demo.OPEN_CASE_BEFORE, signers[0].full_name),
        (demo.OPEN_CASE, signers[1].full_name),
    ]
    assert all(y["missed"] for y in case.facts["years"])
    today_head = successor.heads.get(position=HeadPosition.HEAD, tenure_to=None)
    assert case.head == today_head == signers[1]
    assert case.head.user.username == "truong.hungdao"
    assert case.state == AccountabilityState.REQUESTED
    assert list(case.steps.values_list("action", flat=True)) == [StepAction.OPENED]
    assert not Commitment.objects.filter(unit__code=demo.OPEN_CASE_BEFORE, year=2025)

    # Missed once: no case.
    for code, year in demo.MISSED_ONCE:
        missed = Commitment.objects.get(unit__code=code, year=year)
        assert missed.met is False
        other = 2025 if year == 2024 else 2024
        assert Commitment.objects.get(unit__code=code, year=other).met
        assert not AccountabilityCase.objects.filter(unit__code=code).exists()

    # Mitigated: opened, explained by the head, decided by the chairman.
    mitigated = cases.get(unit__code=demo.MITIGATED_CASE)
    assert mitigated.state == AccountabilityState.DECIDED
    assert mitigated.decision == Decision.MITIGATED
    assert mitigated.ground == MitigationGround.OBJECTIVE
    assert mitigated.decision_reason
    steps = list(mitigated.steps.select_related("by").order_by("at", "pk"))
    assert [(s.action, s.by.username if s.by else None) for s in steps] == [
        (StepAction.OPENED, None),
        (StepAction.EXPLAINED, "truong.sotnmt"),
        (StepAction.DECIDED, "chutich.tinh"),
    ]
    assert mitigated.head.user.username == "truong.sotnmt"
    explained = cases.get(unit__code=demo.EXPLAINED_CASE)
    assert explained.state == AccountabilityState.EXPLAINED

    # Reminded in 2024, late again in 2025: the branch meets every target
    # yet is proposed "Hoàn thành" at most.
    flagged = {row.unit.code for row in repeated_lateness(2025, user=None)}
    assert demo.CAPPED in flagged
    capped = HeadRating.objects.get(unit__code=demo.CAPPED, year=2025)
    assert capped.basis["capped"] is True
    assert capped.basis["repeatedly_late"] is True
    assert capped.basis["met"] == capped.basis["targets"]
    assert capped.proposed == RatingLevel.COMPLETED

    # Ratings: 2024 all confirmed; one 2025 rating changed with a reason;
    # Sở Xây dựng's head "not completed" twice, flagged.
    assert not HeadRating.objects.filter(year=2024, final__isnull=True)
    changed = HeadRating.objects.exclude(final=None).exclude(final=F("proposed"))
    assert [(r.unit.code, r.year) for r in changed] == [
        (demo.RATING_CHANGED, demo.RATING_CHANGED_YEAR)
    ]
    assert changed[0].reason
    assert changed[0].rated_by.username == "chutich.chilinh"
    # From 01/07/2025 the communes' level above is the province.
    assert not HeadRating.objects.filter(
        year=2025, unit__kind="commune", final__isnull=False
    ).exclude(rated_by__username="chutich.tinh")
    assert HeadRating.objects.filter(year=2025, final__isnull=True).exists()
    sxd = HeadRating.objects.filter(unit__code=demo.EXPLAINED_CASE)
    assert set(sxd.values_list("proposed", flat=True)) == {RatingLevel.NOT_COMPLETED}
    assert sxd.get(year=2025).flagged
    assert set(
        HeadRating.objects.filter(flagged=True).values_list("unit__code", flat=True)
    ) == {demo.EXPLAINED_CASE}

    # 2026 runs: signed and counter-signed, one draft, one awaiting the
    # counter-signature, manual reports on track and at risk.
    running = Commitment.objects.filter(year=2026)
    assert running.count() == len(demo.units_of(2026))
    assert running.get(unit__code=demo.DRAFT_2026).state == CommitmentState.DRAFT
    assert running.get(unit__code=demo.SIGNED_ONLY_2026).state == CommitmentState.SIGNED
    assert running.filter(state=CommitmentState.COUNTERSIGNED).count() == (
        running.count() - 2
    )
    stp = running.get(unit__code="HD-STP")
    states = {
        p.target.indicator.code: p.progress
        for p in progress.targets_progress(
            list(stp.targets.select_related("indicator", "commitment")),
            today=RUNNING_DAY,
        )
    }
    assert states["van-ban-dien-tu"] == "on_track"
    assert states["nhiem-vu"] == "at_risk"
    assert_2026_metric_targets_show_progress()

    # Again: nothing changes.
    before = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == before


def assert_2026_metric_targets_show_progress() -> None:
    """The signed 2026 commitments' metric targets read the 2026 figures:
    none without data; the units that commit to what they reach are on
    track (or met, for the communes' digitisation due in October); Sở Xây
    dựng, which kept the official targets, and the units whose 2026 got
    worse, which kept their 2025 results, are at risk where they fall
    short: Sở Giao thông vận tải on digitisation."""
    signed = Target.objects.filter(
        commitment__year=2026, indicator__kind=IndicatorKind.METRIC
    ).exclude(commitment__state=CommitmentState.DRAFT)
    found = progress.targets_progress(
        list(signed.select_related("indicator", "commitment__unit")),
        today=RUNNING_DAY,
    )
    by_state: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for item in found:
        assert item.source == "metric", item.target.pk
        by_state[item.progress].add(
            (item.target.commitment.unit.code, item.target.indicator.code)
        )
    assert set(by_state) == {"on_track", "at_risk", "met"}
    at_risk = {code for code, _ in by_state["at_risk"]}
    assert demo.EXPLAINED_CASE in at_risk
    assert at_risk <= {demo.EXPLAINED_CASE, *HOLDING}
    assert (cases_demo.DIGITISATION_FALLS, "so-hoa") in by_state["at_risk"]
    on_track = {code for code, _ in by_state["on_track"]} - at_risk
    assert len(on_track) >= 30
