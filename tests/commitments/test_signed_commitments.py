"""Digitally signed commitments (issue 19, item 3): the head's signed PDF
verified on upload by the signing service, kept as a SignatureCheck, shown
on the commitment page and the printed document, and in the API. The CA,
the signers and the signed PDFs are made at test time."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from commitments import services
from commitments.models import (
    Commitment,
    CommitmentState,
    CommitmentTemplate,
    SignatureCheck,
    SignatureReason,
    SignatureStatus,
)
from commitments.organisation.models import UnitKind
from tests.commitments.helpers import scan
from tests.commitments.signing import Authority, blank_pdf, tampered
from tests.factories import HeadFactory

HEAD = "Trần Thị Hoa"


@pytest.fixture(scope="module")
def authority():
    return Authority.create()


@pytest.fixture
def trusted(settings, tmp_path, authority):
    """The deployment trusts the test CA."""
    settings.SIGNATURE_TRUST_ROOTS = str(tmp_path / "roots")
    authority.write_root(tmp_path / "roots")


@pytest.fixture
def no_roots(settings):
    settings.SIGNATURE_TRUST_ROOTS = None


@pytest.fixture
def head(org):
    return HeadFactory(unit=org.commune_a, full_name=HEAD, title="Chủ tịch")


@pytest.fixture
def commitment(org, reviewer, head):
    services.commitments_create(
        year=timezone.localdate().year,
        template=CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE),
        units=[org.commune_a],
        user=reviewer,
    )
    return Commitment.objects.get(unit=org.commune_a)


def pdf_upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("cam-ket-da-ky.pdf", content, "application/pdf")


def sign(commitment, user, upload):
    return services.commitment_sign(
        commitment=commitment,
        user=user,
        signed_on=timezone.localdate(),
        scan=upload,
    )


def page(client, user, commitment):
    client.force_login(user)
    with translation.override("vi"):
        return client.get(commitment.get_absolute_url()).content.decode()


def printed(client, user, commitment):
    client.force_login(user)
    return client.get(
        reverse("commitment_print", args=[commitment.pk])
    ).content.decode()


def test_a_valid_signature_of_the_head_is_kept_and_shown(
    client, authority, trusted, commitment, commune_head, head
):
    signed_pdf = authority.issue(HEAD, "UBND phường A").sign(blank_pdf())
    done = sign(commitment, commune_head, pdf_upload(signed_pdf))
    assert done.state == CommitmentState.SIGNED
    check = SignatureCheck.objects.get(commitment=done)
    assert (check.status, check.reason) == (SignatureStatus.VALID, "")
    assert (check.signer_name, check.signer_organisation) == (HEAD, "UBND phường A")
    assert check.issuer_name == authority.name
    assert (check.head, check.signer_is_head) == (head, True)
    assert check.signed_at is not None
    assert check.checked_at is not None
    when = timezone.localtime(check.signed_at).strftime("%d/%m/%Y %H:%M")
    line = f"Đã ký số bởi {HEAD} (UBND phường A) lúc {when}: hợp lệ"
    shown = page(client, commune_head, done)
    assert line in shown
    assert 'data-status="valid"' in shown
    assert 'data-testid="signature-note"' not in shown
    assert line in printed(client, commune_head, done)


def test_the_api_gives_the_verification(
    authority, trusted, commitment, commune_head, head
):
    sign(commitment, commune_head, pdf_upload(authority.issue(HEAD).sign(blank_pdf())))
    api = APIClient()
    api.force_authenticate(commune_head)
    body = api.get(
        reverse("commitments_api:commitment-detail", args=[commitment.pk])
    ).json()
    signature = body["signature"]
    assert signature["status"] == "valid"
    assert signature["reason"] == ""
    assert signature["signer_name"] == HEAD
    assert signature["signer_is_head"] is True
    assert signature["head"] == {"name": HEAD, "title": "Chủ tịch"}
    assert signature["signed_at"].endswith("+07:00")


def test_a_document_changed_after_signing_is_refused_on_the_scan_field(
    client, authority, trusted, commitment, commune_head, head
):
    signed_pdf = authority.issue(HEAD).sign(blank_pdf())
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        sign(commitment, commune_head, pdf_upload(tampered(signed_pdf)))
    assert refused.value.message_dict == {
        "scan": [
            "The digital signature of the signed scan does not cover the whole "
            "document: the file was changed after it was signed."
        ]
    }
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.DRAFT
    assert not commitment.scan
    assert not SignatureCheck.objects.exists()

    # Through the page: the sign form says it under the file, in Vietnamese.
    client.force_login(commune_head)
    response = client.post(
        reverse("commitment_sign", args=[commitment.pk]),
        {
            "signed_on": timezone.localdate().strftime("%d/%m/%Y"),
            "scan": pdf_upload(tampered(signed_pdf)),
            "acknowledge": "on",
        },
    )
    assert response.status_code == 400
    assert (
        'data-testid="error-scan">Chữ ký số của bản ký không bao trùm toàn bộ tài '
        "liệu: tệp đã bị thay đổi sau khi ký.</p>"
    ) in response.content.decode()


def test_without_trust_roots_the_chain_is_not_verified(
    client, authority, no_roots, commitment, commune_head, head
):
    done = sign(
        commitment, commune_head, pdf_upload(authority.issue(HEAD).sign(blank_pdf()))
    )
    check = done.signature_check
    assert check.status == SignatureStatus.CHAIN_UNVERIFIED
    assert check.reason == SignatureReason.NO_TRUST_ROOTS
    assert check.signer_is_head
    shown = page(client, commune_head, done)
    assert ": không xác minh được chuỗi chứng thư" in shown
    assert "Cổng chưa cấu hình chứng thư gốc tin cậy nào." in shown


def test_a_signer_who_is_not_the_head_is_accepted_and_flagged(
    client, authority, trusted, commitment, commune_head, head
):
    done = sign(
        commitment,
        commune_head,
        pdf_upload(authority.issue("Lê Văn Bình", "UBND phường A").sign(blank_pdf())),
    )
    assert done.state == CommitmentState.SIGNED
    check = done.signature_check
    assert check.status == SignatureStatus.VALID
    assert (check.signer_is_head, check.head) == (False, head)
    note = f"Người ký không phải người đứng đầu đương nhiệm ngày ký ({HEAD})."
    assert note in page(client, commune_head, done)
    assert note in printed(client, commune_head, done)


def test_the_heads_signature_is_found_among_others(
    authority, trusted, commitment, commune_head, head
):
    """A PDF the level above counter-signed too: the head's signature is the
    one kept, whichever comes first."""
    by_head = authority.issue(HEAD).sign(blank_pdf())
    both = authority.issue("Lê Văn Bình").sign(by_head, field_name="CapTren")
    done = sign(commitment, commune_head, pdf_upload(both))
    assert (done.signature_check.signer_name, done.signature_check.signer_is_head) == (
        HEAD,
        True,
    )


@pytest.mark.parametrize(
    "upload",
    [
        scan(),
        pdf_upload(blank_pdf()),
        SimpleUploadedFile("anh.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png"),
    ],
    ids=["scanned-pdf", "unsigned-pdf", "image"],
)
def test_a_plain_scan_stays_accepted_and_is_labelled_a_scan(
    client, trusted, commitment, commune_head, head, upload
):
    done = sign(commitment, commune_head, upload)
    assert done.state == CommitmentState.SIGNED
    assert not SignatureCheck.objects.exists()
    shown = page(client, commune_head, done)
    assert "Bản quét (không có chữ ký số)" in shown
    assert 'data-status="scan"' in shown
    assert "Bản quét (không có chữ ký số)" in printed(client, commune_head, done)


def test_a_draft_says_nothing_of_a_signature(client, commitment, commune_head, head):
    shown = page(client, commune_head, commitment)
    assert 'data-testid="commitment-signature"' not in shown
    assert 'data-testid="signature-line"' not in printed(
        client, commune_head, commitment
    )


def test_the_signature_check_says_why_unless_valid(commitment, head):
    from django.db import IntegrityError, transaction

    with transaction.atomic(), pytest.raises(IntegrityError):
        SignatureCheck.objects.create(
            commitment=commitment,
            status=SignatureStatus.INVALID,
            signer_name=HEAD,
            issuer_name="CA",
            signer_is_head=True,
            checked_at=timezone.now(),
        )
    with transaction.atomic(), pytest.raises(IntegrityError):
        SignatureCheck.objects.create(
            commitment=commitment,
            status=SignatureStatus.VALID,
            reason=SignatureReason.REVOKED,
            signer_name=HEAD,
            issuer_name="CA",
            signer_is_head=True,
            checked_at=timezone.now(),
        )


def test_the_head_compared_is_the_one_in_office_on_the_signing_day(
    authority, trusted, commitment, commune_head, head
):
    """A head whose tenure ended before the signature is not the signer's
    head, even with the same name on the certificate."""
    today = timezone.localdate()
    head.tenure_to = date(today.year - 1, 12, 31)
    head.save()
    successor = HeadFactory(
        unit=commitment.unit,
        full_name="Lê Văn Bình",
        tenure_from=date(today.year, 1, 1),
    )
    done = sign(
        commitment, commune_head, pdf_upload(authority.issue(HEAD).sign(blank_pdf()))
    )
    assert (done.signature_check.head, done.signature_check.signer_is_head) == (
        successor,
        False,
    )
