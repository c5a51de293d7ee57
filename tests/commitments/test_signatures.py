"""Digital signatures on a signed PDF (commitments.signatures): no database;
the CA, the signers and the PDFs are made here (tests/commitments/signing.py)."""

import asyncio
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from django.utils import translation
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from commitments import signatures
from commitments.models import SignatureReason, SignatureStatus
from tests.commitments.signing import Authority, blank_pdf, tampered

HEAD = "Trần Thị Hoa"
UNIT = "UBND phường A"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def authority():
    return Authority.create()


@pytest.fixture(scope="module")
def signed_pdf(authority):
    return authority.issue(HEAD, UNIT).sign(blank_pdf())


def roots(authority):
    return [
        asn1_x509.Certificate.load(
            authority.certificate.public_bytes(serialization.Encoding.DER)
        )
    ]


def now():
    return datetime.now(UTC)


def test_a_signature_leading_to_a_trusted_root_is_valid(authority, signed_pdf):
    [found] = signatures.verify(signed_pdf, trust_roots=roots(authority), now=now())
    assert found.status == SignatureStatus.VALID
    assert found.reason == ""
    assert (found.signer_name, found.signer_organisation) == (HEAD, UNIT)
    assert found.issuer_name == authority.name
    assert found.signed_at is not None
    assert abs(found.signed_at - now()) < timedelta(minutes=5)


def test_asking_the_ca_about_revocation_needs_no_address_to_ask(authority, signed_pdf):
    """SIGNATURE_FETCH_REVOCATION on: a certificate that names no CRL or
    OCSP server is validated as of now without asking anyone."""
    [found] = signatures.verify(
        signed_pdf, trust_roots=roots(authority), now=now(), fetch_revocation=True
    )
    assert found.status == SignatureStatus.VALID


def test_it_verifies_from_inside_a_running_event_loop(authority, signed_pdf):
    """pyHanko's own loop runs in a thread then, not refused by asyncio."""

    async def inside():
        return signatures.verify(signed_pdf, trust_roots=roots(authority), now=now())

    [found] = asyncio.run(inside())
    assert found.status == SignatureStatus.VALID


def test_without_trust_roots_the_chain_cannot_be_verified(signed_pdf):
    [found] = signatures.verify(signed_pdf, trust_roots=[], now=now())
    assert found.status == SignatureStatus.CHAIN_UNVERIFIED
    assert found.reason == SignatureReason.NO_TRUST_ROOTS
    assert found.signer_name == HEAD


def test_a_chain_to_another_root_cannot_be_verified(signed_pdf):
    other = Authority.create("Một CA khác")
    [found] = signatures.verify(signed_pdf, trust_roots=roots(other), now=now())
    assert found.status == SignatureStatus.CHAIN_UNVERIFIED
    assert found.reason == SignatureReason.UNKNOWN_ISSUER


def test_an_expired_certificate_is_not_valid(authority):
    lapsed = authority.issue(
        HEAD,
        UNIT,
        valid_from=now() - timedelta(days=300),
        valid_to=now() - timedelta(days=1),
    )
    signed = lapsed.sign(blank_pdf())
    [found] = signatures.verify(signed, trust_roots=roots(authority), now=now())
    assert found.status == SignatureStatus.INVALID
    assert found.reason == SignatureReason.OUT_OF_VALIDITY


def test_a_certificate_not_meant_for_signing_is_not_valid(authority):
    encrypting = authority.issue(HEAD, UNIT, for_signing=False)
    [found] = signatures.verify(
        encrypting.sign(blank_pdf()), trust_roots=roots(authority), now=now()
    )
    assert found.status == SignatureStatus.INVALID
    assert found.reason == SignatureReason.NOT_FOR_SIGNING


def test_a_document_changed_after_signing_is_refused(authority, signed_pdf):
    with pytest.raises(signatures.SignatureRefused) as refused:
        signatures.verify(tampered(signed_pdf), trust_roots=roots(authority), now=now())
    assert "changed after it was signed" in str(refused.value)


def test_an_update_appended_after_the_signature_is_refused(authority, signed_pdf):
    writer = IncrementalPdfFileWriter(BytesIO(signed_pdf))
    writer.root["/Lang"] = generic.TextStringObject("vi")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    with pytest.raises(signatures.SignatureRefused):
        signatures.verify(out.getvalue(), trust_roots=roots(authority), now=now())


def test_bytes_added_after_the_signature_are_refused(authority, signed_pdf):
    with pytest.raises(signatures.SignatureRefused):
        signatures.verify(
            signed_pdf + b"\n% added\n", trust_roots=roots(authority), now=now()
        )


def test_a_counter_signed_document_has_both_signatures(authority, signed_pdf):
    above = authority.issue("Lê Văn Bình", "UBND thành phố")
    both = above.sign(signed_pdf, field_name="ChuKyCapTren")
    found = signatures.verify(both, trust_roots=roots(authority), now=now())
    assert [(f.signer_name, f.status) for f in found] == [
        (HEAD, SignatureStatus.VALID),
        ("Lê Văn Bình", SignatureStatus.VALID),
    ]


@pytest.mark.parametrize(
    "content",
    [blank_pdf(), b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"%PDF-1.4 broken"],
    ids=["unsigned-pdf", "image", "unreadable-pdf"],
)
def test_a_document_without_a_signature_is_a_plain_scan(authority, content):
    assert signatures.verify(content, trust_roots=roots(authority), now=now()) == []


def test_an_unreadable_file_that_was_signed_is_refused(authority, signed_pdf):
    broken = signed_pdf[:-120]  # the signed revision's cross-reference cut off
    with pytest.raises(signatures.SignatureRefused):
        signatures.verify(broken, trust_roots=roots(authority), now=now())


@pytest.mark.parametrize(
    ("certificate", "head", "same"),
    [
        ("Trần Thị Hoa", "Trần Thị Hoa", True),
        ("TRẦN THỊ  HOA", "Trần Thị Hoa", True),
        ("TRAN THI HOA", "Trần Thị Hoa", True),
        ("Phạm Minh Đức", "Pham Minh Duc", True),
        ("Trần Thị Hoà", "Trần Thị Hòa", True),  # two spellings of the same tone
        ("Trần Thị Hoa", "Trần Thị Hoà", True),  # accents aside
        ("Lê Văn Bình", "Trần Thị Hoa", False),
        ("Trần Thị", "Trần Thị Hoa", False),
        ("", "Trần Thị Hoa", False),
    ],
)
def test_same_person(certificate, head, same):
    assert signatures.same_person(certificate, head) is same


def test_trust_roots_are_read_from_a_folder(tmp_path):
    first, second, third = (Authority.create(f"CA {n}") for n in range(3))
    (tmp_path / "two.pem").write_bytes(first.pem() + second.pem())
    (tmp_path / "one.cer").write_bytes(
        third.certificate.public_bytes(serialization.Encoding.DER)
    )
    (tmp_path / "README.txt").write_text("not read")
    (tmp_path / "broken.crt").write_bytes(b"garbage")
    found, problems = signatures.read_trust_roots(tmp_path)
    assert sorted(c.subject.native["common_name"] for c in found) == [
        "CA 0",
        "CA 1",
        "CA 2",
    ]
    assert len(problems) == 1
    assert "broken.crt is not a certificate" in problems[0]


def test_no_folder_no_roots_and_a_missing_folder_is_said(tmp_path):
    assert signatures.read_trust_roots(None) == ([], [])
    assert signatures.read_trust_roots(tmp_path / "missing")[1] == [
        f"{tmp_path / 'missing'} is not a folder."
    ]
    assert signatures.read_trust_roots(tmp_path)[1] == [
        f"{tmp_path} holds no certificate."
    ]
