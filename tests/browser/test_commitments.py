"""Commitments and accountability in the browser, on a small province of the
test's own (the demo's thousands of rows add nothing here):

- a commune's head signs the year's commitment drafted from the template;
- an upload of late dossiers turns the on-time target from on track to at
  risk;
- a commitment missed two years running, under two heads, opens a case that
  the current head explains and the chairman of the city above decides."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.utils import timezone, translation
from django.utils.functional import Promise
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from commitments import printing
from commitments.models import CheckState, CommitmentState, CommitmentTemplate, Target
from commitments.organisation.models import Head, Membership, Role, Unit, UnitKind
from commitments.services import commitments_create
from procedures.metrics import metrics_recompute_affected
from procedures.models import (
    CaseRecord,
    Channel,
    DossierStatus,
    ImportRun,
    ImportStatus,
    Procedure,
)
from scoring.accountability.services import evaluate_year
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    Decision,
    MitigationGround,
    StepAction,
)
from tests.browser.steps import click_and_wait
from tests.commitments.helpers import PDF, month, signed
from tests.commitments.signing import Authority
from tests.conftest import PASSWORD
from tests.procedures.test_importer import case, csv_bytes

pytestmark = pytest.mark.browser

LogIn = Callable[..., None]
Screenshot = Callable[[str], Path]

COMMUNE = "CL-VANAN"
CURRENT_HEAD = "Trần Văn Bình"
FORMER_HEAD = "Nguyễn Thị Lan"
CHAIRMAN = "Phạm Quốc Hưng"
EXPLANATION = (
    "Năm trước phường thiếu hai công chức một cửa; năm nay hệ thống văn bản "
    "điện tử của tỉnh ngừng hoạt động ba tháng. Đã bổ sung nhân sự từ tháng 9."
)
DECISION_REASON = "Hệ thống văn bản điện tử ngừng hoạt động ngoài khả năng của phường"


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Province:
    commune: Unit
    head: Head  # in office since last January
    former_head: Head  # until the end of the year before last
    year: int  # the current year


def _name(full_name: str) -> dict[str, str]:
    """A Vietnamese name as Django's get_full_name() puts it back together."""
    family, _, given = full_name.rpartition(" ")
    return {"first_name": family, "last_name": given}


def _catalogue() -> None:
    """The indicators and templates that migration 0006 seeds: an earlier
    transactional test's flush may have emptied them. Its own function
    reruns here, idempotently (get_or_create throughout)."""
    migration = importlib.import_module(
        "commitments.migrations.0006_indicator_catalogue"
    )
    migration.forward(apps, None)


@pytest.fixture
def province(transactional_db: None) -> Province:
    """UBND tỉnh › UBND thành phố Chí Linh › Phường Văn An, with the
    accounts of the story: the ward's head (a Head row in office and a
    unit-head membership), its one-stop-shop officer, the city's Home
    Affairs reviewer and the city's chairman (leader)."""
    _catalogue()
    year = timezone.localdate().year

    def new_unit(code: str, name: str, kind: str, parent: Unit | None) -> Unit:
        return Unit.objects.create(
            code=code, name=name, kind=kind, parent=parent, valid_from=date(2019, 1, 1)
        )

    root = new_unit("HD", "UBND tỉnh Hải Dương", UnitKind.PROVINCE, None)
    city = new_unit("HD-CL", "UBND thành phố Chí Linh", UnitKind.DISTRICT, root)
    commune = new_unit(COMMUNE, "Phường Văn An", UnitKind.COMMUNE, city)
    other = new_unit("CL-CONGHOA", "Phường Cộng Hòa", UnitKind.COMMUNE, city)

    def member(username: str, unit: Unit, role: str, full_name: str) -> User:
        user = User.objects.create_user(username, password=PASSWORD, **_name(full_name))
        Membership.objects.create(user=user, unit=unit, role=role)
        return user

    head_user = member("chutich.vanan", commune, Role.UNIT_HEAD, CURRENT_HEAD)
    member("canbo.vanan", commune, Role.UNIT_STAFF, "Lê Thị Hoa")
    member("noivu.chilinh", city, Role.REVIEWER, "Đỗ Minh Tuấn")
    member("chutich.chilinh", city, Role.LEADER, CHAIRMAN)
    member("chutich.conghoa", other, Role.UNIT_HEAD, "Vũ Văn Nam")
    former = Head.objects.create(
        unit=commune,
        full_name=FORMER_HEAD,
        title="Chủ tịch UBND phường",
        tenure_from=date(year - 6, 7, 1),
        tenure_to=date(year - 2, 12, 31),
    )
    head = Head.objects.create(
        unit=commune,
        full_name=CURRENT_HEAD,
        title="Chủ tịch UBND phường",
        tenure_from=date(year - 1, 1, 1),
        user=head_user,
    )
    return Province(commune, head, former, year)


def user(username: str) -> User:
    return User.objects.get(username=username)


def vi(label: str | Promise) -> str:
    """A label as the Vietnamese page shows it (English while untranslated)."""
    with translation.override("vi"):
        return str(label)


def state_class(state: str) -> re.Pattern[str]:
    return re.compile(rf"\bstate-{state}\b")


# --- 1. signing ----------------------------------------------------------------------


def test_the_head_signs_the_commitment_drafted_from_the_template(
    province: Province,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
    tmp_path: Path,
) -> None:
    """Chí Linh's Home Affairs office drafts the ward's commitment from the
    commune template; the ward's head finds it in the list, attaches the
    signed scan and signs. Another ward's head cannot open it."""
    template = CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE)
    drafted = commitments_create(
        year=province.year,
        template=template,
        units=[province.commune],
        user=user("noivu.chilinh"),
    )
    (commitment,) = drafted.created
    scan = tmp_path / "cam-ket-van-an-ky.pdf"
    scan.write_bytes(PDF)
    today = timezone.localdate()

    log_in("chutich.vanan", PASSWORD)
    page.goto(f"{live_server.url}/commitments/")
    row = page.locator(f"[data-testid=commitment-row][data-unit='{COMMUNE}']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(vi(CommitmentState.DRAFT.label))
    click_and_wait(page, row.get_by_test_id("commitment-open"))

    expect(page).to_have_url(f"{live_server.url}/commitments/{commitment.pk}/")
    expect(page.get_by_test_id("commitment-state")).to_have_class(
        state_class(CommitmentState.DRAFT)
    )
    # Every target of the commune template, none judged yet.
    expect(page.get_by_test_id("target-row")).to_have_count(template.targets.count())
    expect(page.get_by_test_id("commitment-signer")).to_contain_text(CURRENT_HEAD)
    form = page.get_by_test_id("sign-form")
    form.locator("#id_signed_on").fill(today.strftime("%d/%m/%Y"))
    form.locator("#id_scan").set_input_files(scan)
    screenshot("1-sign-form")
    click_and_wait(page, page.get_by_test_id("sign-submit"))

    expect(page).to_have_url(f"{live_server.url}/commitments/{commitment.pk}/")
    state = page.get_by_test_id("commitment-state")
    expect(state).to_have_class(state_class(CommitmentState.SIGNED))
    expect(state).to_have_text(vi(CommitmentState.SIGNED.label))
    signer = page.get_by_test_id("commitment-signer")
    expect(signer).to_contain_text(CURRENT_HEAD)
    expect(signer).to_contain_text(today.strftime("%d/%m/%Y"))
    expect(page.get_by_test_id("commitment-scan")).to_be_visible()
    # A PDF without a digital signature: accepted, labelled a scan.
    expect(page.get_by_test_id("commitment-signature")).to_have_text(
        "Bản quét (không có chữ ký số)"
    )
    expect(page.get_by_test_id("sign-form")).to_have_count(0)
    screenshot("2-signed")

    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.SIGNED
    assert (commitment.head, commitment.signed_on) == (province.head, today)
    assert commitment.scan_extension == ".pdf"
    assert commitment.signing_recorded_by == user("chutich.vanan")

    # Another ward's head: the commitment is not theirs to see.
    log_in("chutich.conghoa", PASSWORD)
    response = page.goto(f"{live_server.url}/commitments/{commitment.pk}/")
    assert response is not None
    assert response.status == 404


def sign(page: Page, day: date, document: Path) -> None:
    """Fill in the sign form and send it."""
    form = page.get_by_test_id("sign-form")
    form.locator("#id_signed_on").fill(day.strftime("%d/%m/%Y"))
    form.locator("#id_scan").set_input_files(document)
    click_and_wait(page, page.get_by_test_id("sign-submit"))


def test_the_head_uploads_the_printed_document_digitally_signed(
    province: Province,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
    tmp_path: Path,
    settings: Any,
) -> None:
    """The ward's head signs the portal's own PDF of the commitment with a
    certificate of a CA the deployment trusts (made here): a copy changed
    after signing is refused under the file field; the signed one is shown
    as digitally signed by the head, valid, on the page and the printed
    document (issue 19, item 3)."""
    authority = Authority.create()
    authority.write_root(tmp_path / "roots")
    settings.SIGNATURE_TRUST_ROOTS = str(tmp_path / "roots")
    (commitment,) = commitments_create(
        year=province.year,
        template=CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE),
        units=[province.commune],
        user=user("noivu.chilinh"),
    ).created
    printed = printing.commitment_pdf(commitment, base_url=live_server.url)
    signed_pdf = authority.issue(CURRENT_HEAD, "UBND phường Văn An").sign(printed)
    good = tmp_path / "cam-ket-ky-so.pdf"
    good.write_bytes(signed_pdf)
    changed = tmp_path / "cam-ket-da-sua.pdf"
    # One bit of the printed document's content flipped after signing.
    at = len(printed) // 2
    changed.write_bytes(
        signed_pdf[:at] + bytes([signed_pdf[at] ^ 1]) + signed_pdf[at + 1 :]
    )
    today = timezone.localdate()

    log_in("chutich.vanan", PASSWORD)
    page.goto(f"{live_server.url}/commitments/{commitment.pk}/")
    sign(page, today, changed)
    expect(page.get_by_test_id("error-scan")).to_have_text(
        "Chữ ký số của bản ký không bao trùm toàn bộ tài liệu: tệp đã bị thay đổi "
        "sau khi ký."
    )
    expect(page.get_by_test_id("commitment-state")).to_have_class(
        state_class(CommitmentState.DRAFT)
    )

    sign(page, today, good)
    signature = page.get_by_test_id("commitment-signature")
    expect(signature).to_have_attribute("data-status", "valid")
    expect(signature).to_contain_text(
        f"Đã ký số bởi {CURRENT_HEAD} (UBND phường Văn An) lúc "
        f"{today.strftime('%d/%m/%Y')}"
    )
    expect(signature).to_contain_text(": hợp lệ")
    expect(page.get_by_test_id("signature-note")).to_have_count(0)
    screenshot("3-digitally-signed")

    page.goto(f"{live_server.url}/commitments/{commitment.pk}/print/")
    expect(page.get_by_test_id("signature-line")).to_contain_text(
        f"Đã ký số bởi {CURRENT_HEAD}"
    )
    commitment.refresh_from_db()
    assert commitment.signature_check.signer_is_head


# --- 2. at risk after an import -----------------------------------------------------


def _moments(count: int) -> list[datetime]:
    """``count`` local times in order, all in the current year's past: in
    the ten days before now, or since New Year when it is nearer. Dossiers
    placed at them fall in months the year's progress already counts."""
    now = timezone.localtime()
    new_year = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    start = max(now - timedelta(days=10), new_year)
    step = (now - start) / (count + 1)
    return [
        (start + step * (i + 1)).replace(second=0, microsecond=0) for i in range(count)
    ]


def _csv_time(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y %H:%M")


def test_an_import_of_late_dossiers_puts_the_on_time_target_at_risk(
    province: Province,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
    tmp_path: Path,
) -> None:
    """The ward committed to settle every dossier on time; its one dossier so
    far was, so the target is on track. Its officer uploads the one-stop
    export with two dossiers returned late: once the import and the figures'
    recomputation are done, the target is at risk."""
    commitment = signed(
        province.commune,
        province.year,
        province.head,
        [("dung-han", "100", None), ("truc-tuyen", "100", None)],
        signed_on=date(province.year - 1, 12, 20),
    )
    procedure = Procedure.objects.create(code="1.001", name="Cấp giấy khai sinh")
    received, answered, due, _, late_return = _moments(5)
    CaseRecord.objects.create(
        case_code="VA-001",
        procedure=procedure,
        unit=province.commune,
        received_at=received,
        due_at=due,
        finished_at=answered,
        status=DossierStatus.RETURNED,
        channel=Channel.ONLINE_FULL,
        officer="Lê Thị Hoa",
    )
    metrics_recompute_affected(
        affected=[(province.commune.pk, received.year, received.month)],
        as_of=timezone.now(),
    )
    detail = f"{live_server.url}/commitments/{commitment.pk}/"
    on_time = page.locator("[data-testid=target-row][data-indicator=dung-han]")

    log_in("chutich.vanan", PASSWORD)
    page.goto(detail)
    expect(on_time).to_have_attribute("data-progress", "on_track")
    expect(on_time.get_by_test_id("target-live")).to_contain_text("100")
    screenshot("1-on-track")

    export = tmp_path / "mot_cua_van_an.csv"
    late = {
        "procedure_code": procedure.code,
        "received_at": _csv_time(received),
        "due_at": _csv_time(due),
        "finished_at": _csv_time(late_return),
    }
    export.write_bytes(
        csv_bytes(
            case("VA-002", unit=COMMUNE, **late),
            case("VA-003", unit=COMMUNE, **late),
        )
    )
    log_in("canbo.vanan", PASSWORD)
    page.goto(f"{live_server.url}/imports/new/")
    page.locator("#id_file").set_input_files(export)
    click_and_wait(
        page, page.get_by_test_id("import-form").locator("button[type=submit]")
    )
    run = ImportRun.objects.get(file_name=export.name)
    expect(page).to_have_url(f"{live_server.url}/imports/{run.pk}/")
    summary = page.get_by_test_id("import-summary")
    expect(summary.locator("[data-count=new]")).to_have_text("2")
    expect(summary.locator("[data-count=rejected]")).to_have_text("0")
    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED

    # The officer, like the head, follows the commitment: 1 of 3 on time.
    page.goto(detail)
    expect(on_time).to_have_attribute("data-progress", "at_risk")
    expect(on_time.get_by_test_id("target-live")).to_contain_text("33,33")
    # The online target (all three dossiers fully online) stays on track.
    expect(
        page.locator("[data-testid=target-row][data-indicator=truc-tuyen]")
    ).to_have_attribute("data-progress", "on_track")
    screenshot("2-at-risk")

    # The unit's page says the same.
    page.goto(f"{live_server.url}/units/{COMMUNE}/")
    expect(
        page.locator("[data-testid=unit-target-row][data-indicator=dung-han]")
    ).to_have_attribute("data-progress", "at_risk")


# --- 3. accountability ----------------------------------------------------------------


def test_a_case_goes_from_opening_to_the_leaders_decision(
    province: Province,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
) -> None:
    """The ward missed its commitment two years running: under its former
    head (on-time rate 90% against 100%), then under the current one (the
    electronic-document report rejected). The current head explains; the
    city's chairman mitigates, but only once he names the ground."""
    year = province.year
    before_last = signed(
        province.commune, year - 2, province.former_head, [("dung-han", "100", None)]
    )
    month(
        province.commune,
        year - 2,
        6,
        received=10,
        on_time=9,
        finished_on_time=9,
        late=1,
    )
    last = signed(
        province.commune, year - 1, province.head, [("van-ban-dien-tu", "95", None)]
    )
    Target.objects.filter(commitment=last).update(
        reported_value=Decimal("80"),
        report_note="Trao đổi văn bản qua hệ thống quản lý văn bản của tỉnh",
        reported_by=user("canbo.vanan"),
        reported_at=timezone.now(),
        check_state=CheckState.REJECTED,
        check_note="Không có số liệu trích xuất từ hệ thống",
        checked_by=user("noivu.chilinh"),
        checked_at=timezone.now(),
    )
    today = timezone.localdate()
    assert evaluate_year(year - 2, today=today).cases_opened == 0  # one year only
    assert evaluate_year(year - 1, today=today).cases_opened == 1
    before_last.refresh_from_db()
    last.refresh_from_db()
    assert (before_last.met, last.met) == (False, False)
    case_ = AccountabilityCase.objects.get(unit=province.commune, year=year - 1)
    assert case_.head == province.head

    # 1. The current head finds the case and explains.
    log_in("chutich.vanan", PASSWORD)
    page.goto(f"{live_server.url}/accountability/")
    row = page.locator(f"[data-testid=case-row][data-unit='{COMMUNE}']")
    expect(row).to_have_attribute("data-state", AccountabilityState.REQUESTED)
    click_and_wait(page, row.get_by_test_id("case-open"))
    expect(page).to_have_url(f"{live_server.url}/accountability/{case_.pk}/")
    expect(page.get_by_test_id("case-head")).to_contain_text(CURRENT_HEAD)
    signers = page.get_by_test_id("case-signer")
    expect(signers).to_have_count(2)
    expect(signers.nth(0)).to_contain_text(FORMER_HEAD)
    expect(signers.nth(1)).to_contain_text(CURRENT_HEAD)
    missed = page.get_by_test_id("case-missed")
    expect(missed).to_have_count(2)
    expect(missed.nth(0)).to_contain_text("đúng hẹn")
    expect(missed.nth(0)).to_contain_text("90")
    expect(missed.nth(1)).to_contain_text("điện tử")
    expect(page.get_by_test_id("decide-section")).to_have_count(0)
    page.locator("#id_explanation").fill(EXPLANATION)
    screenshot("1-explaining")
    click_and_wait(page, page.get_by_test_id("explain-submit"))

    expect(page.get_by_test_id("case-state")).to_have_class(
        state_class(AccountabilityState.EXPLAINED)
    )
    # Until the leader decides, the head may still revise the explanation,
    # never decide.
    expect(page.get_by_test_id("explain-section")).to_be_visible()
    expect(page.get_by_test_id("decide-section")).to_have_count(0)
    case_.refresh_from_db()
    assert (case_.state, case_.explanation) == (
        AccountabilityState.EXPLAINED,
        EXPLANATION,
    )

    # 2. The city's chairman decides: a mitigation without its ground is
    # refused, with the rest of the form kept.
    log_in("chutich.chilinh", PASSWORD)
    page.goto(f"{live_server.url}/accountability/")
    row = page.locator(f"[data-testid=case-row][data-unit='{COMMUNE}']")
    expect(row).to_have_attribute("data-state", AccountabilityState.EXPLAINED)
    click_and_wait(page, row.get_by_test_id("case-open"))
    expect(page.get_by_test_id("case-steps")).to_contain_text(EXPLANATION[:40])
    form = page.get_by_test_id("decide-form")
    form.locator(f"input[name=decision][value={Decision.MITIGATED}]").check()
    form.locator("#id_reason").fill(DECISION_REASON)
    click_and_wait(page, page.get_by_test_id("decide-submit"))
    expect(page.get_by_test_id("error-ground")).to_be_visible()
    expect(page.get_by_test_id("case-state")).to_have_class(
        state_class(AccountabilityState.EXPLAINED)
    )
    form = page.get_by_test_id("decide-form")
    expect(
        form.locator(f"input[name=decision][value={Decision.MITIGATED}]")
    ).to_be_checked()
    expect(form.locator("#id_reason")).to_have_value(DECISION_REASON)
    case_.refresh_from_db()
    assert case_.state == AccountabilityState.EXPLAINED
    screenshot("2-ground-missing")

    form.locator("#id_ground").select_option(MitigationGround.OBJECTIVE)
    click_and_wait(page, page.get_by_test_id("decide-submit"))

    expect(page.get_by_test_id("case-state")).to_have_class(
        state_class(AccountabilityState.DECIDED)
    )
    steps = page.get_by_test_id("case-step")
    expect(steps).to_have_count(3)
    assert steps.evaluate_all("items => items.map(i => i.dataset.action)") == [
        StepAction.OPENED,
        StepAction.EXPLAINED,
        StepAction.DECIDED,
    ]
    expect(steps.nth(1)).to_contain_text(CURRENT_HEAD)
    expect(steps.nth(2)).to_contain_text(CHAIRMAN)
    expect(steps.nth(2)).to_contain_text(vi(Decision.MITIGATED.label))
    expect(steps.nth(2)).to_contain_text(vi(MitigationGround.OBJECTIVE.label))
    expect(steps.nth(2)).to_contain_text(DECISION_REASON)
    expect(page.get_by_test_id("decide-section")).to_have_count(0)
    screenshot("3-decided")

    case_.refresh_from_db()
    assert (case_.state, case_.decision, case_.ground) == (
        AccountabilityState.DECIDED,
        Decision.MITIGATED,
        MitigationGround.OBJECTIVE,
    )
    assert case_.steps.get(action=StepAction.DECIDED).by == user("chutich.chilinh")
