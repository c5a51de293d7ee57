"""Digital signatures (chữ ký số, PAdES) on a commitment's signed PDF.

Vietnamese agencies sign documents with PAdES signatures from the
government CA. When the signed document a head uploads is a PDF carrying
such signatures, ``verify`` reads every one of them with pyHanko:

- each must be intact (the bytes it signed hash to what was signed) and
  cryptographically valid, and the last must cover the whole file: a
  document changed after it was signed is refused (``SignatureRefused``),
  and so is one an earlier signature does not allow (only signatures and
  form filling may follow a signature);
- the signer's name and organisation are read from the certificate, the
  signing time from a trusted timestamp when there is one, else as the
  signer reported it;
- the certificate chain is validated against the deployment's trust roots
  (``settings.SIGNATURE_TRUST_ROOTS``, a folder of certificates; none by
  default): valid, not valid (revoked, expired, not meant for signing, a
  chain that fails) or not verifiable (no root, or none it leads to).

No database and no clock here: the trust roots and the moment are passed
in. Whether the signer was the head in office is the service's question
(``same_person`` compares the names)."""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import pem, x509
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments.models import SignatureCheck, SignatureReason, SignatureStatus

if TYPE_CHECKING:
    from pyhanko.sign.validation import PdfSignatureStatus

logger = logging.getLogger(__name__)

CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer")
# A signed PDF names the bytes it signs in a /ByteRange; a file that has one
# but cannot be read is not taken for a plain scan.
BYTE_RANGE = b"/ByteRange"
# A document-signing certificate carries one of these key usages
# (government CA certificates carry both; some only the first).
SIGNING_USAGES = {"digital_signature", "non_repudiation"}
# What may follow an earlier signature: more signatures, form filling,
# validation data (the names of pyHanko's ModificationLevel).
ALLOWED_AFTER = {"NONE", "LTA_UPDATES", "FORM_FILLING"}
# pyHanko's AdES sub-indications, by name: the chain not verified...
UNVERIFIABLE = {
    "NO_CERTIFICATE_CHAIN_FOUND": SignatureReason.UNKNOWN_ISSUER,
    "TRY_LATER": SignatureReason.REVOCATION_UNKNOWN,
    "NO_POE": SignatureReason.REVOCATION_UNKNOWN,
}
# ... or found not valid (any other: the chain failed).
INVALID = {
    "REVOKED": SignatureReason.REVOKED,
    "REVOKED_NO_POE": SignatureReason.REVOKED,
    "REVOKED_CA_NO_POE": SignatureReason.REVOKED,
    "NOT_YET_VALID": SignatureReason.OUT_OF_VALIDITY,
    "EXPIRED": SignatureReason.OUT_OF_VALIDITY,
    "OUT_OF_BOUNDS_NO_POE": SignatureReason.OUT_OF_VALIDITY,
    "OUT_OF_BOUNDS_NOT_REVOKED": SignatureReason.OUT_OF_VALIDITY,
    "CHAIN_CONSTRAINTS_FAILURE": SignatureReason.NOT_FOR_SIGNING,
}


class SignatureRefused(Exception):
    """The document carries a digital signature that does not hold: it was
    changed after signing, or the signature cannot be read."""


@dataclass(frozen=True)
class Verification:
    """One signature of the document, as found."""

    status: SignatureStatus
    # A SignatureReason, empty when valid.
    reason: str
    signer_name: str
    signer_organisation: str
    issuer_name: str
    signed_at: datetime | None


def verify(
    data: bytes,
    *,
    trust_roots: list[x509.Certificate],
    now: datetime,
    fetch_revocation: bool = False,
) -> list[Verification]:
    """Every digital signature of the PDF ``data``, in signing order; empty
    for a document without one (a plain scan, an image, a PDF never
    signed). Refuses (``SignatureRefused``) a document whose signatures do
    not hold or do not cover it."""
    arguments = (data, trust_roots, now, fetch_revocation)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _verify(*arguments)
    # pyHanko runs its own event loop, which cannot start inside a running
    # one (a caller in async code, a browser test's thread): a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_verify, *arguments).result()


def _verify(
    data: bytes,
    trust_roots: list[x509.Certificate],
    now: datetime,
    fetch_revocation: bool,
) -> list[Verification]:
    # Imported when a PDF is checked: pyHanko is large, and cryptography
    # warns on its import that DSA (which it can verify) is deprecated.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="DSA is deprecated")
        from pyhanko.sign.validation import (
            KeyUsageConstraints,
            validate_pdf_signature,
        )
        from pyhanko_certvalidator import ValidationContext

    usage = KeyUsageConstraints(key_usage=SIGNING_USAGES, match_all_key_usages=False)
    signatures = _signatures(data)
    found = []
    for number, signature in enumerate(signatures, start=1):
        context = ValidationContext(
            # A list, never None: None is the operating system's TLS roots.
            trust_roots=list(trust_roots),
            moment=None if fetch_revocation else now,
            allow_fetching=fetch_revocation,
        )
        try:
            status = validate_pdf_signature(
                signature, context, key_usage_settings=usage
            )
        except Exception as exc:  # pyHanko raises many kinds on a bad signature
            logger.warning("Signature %d cannot be validated", number, exc_info=exc)
            raise SignatureRefused(_unreadable()) from exc
        if not (status.intact and status.valid):
            raise SignatureRefused(_altered())
        last = number == len(signatures)
        if not _covers(status, last=last):
            raise SignatureRefused(_altered())
        found.append(_verification(status, no_roots=not trust_roots))
    return found


def _signatures(data: bytes) -> list:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        found = list(reader.embedded_regular_signatures)
    except Exception as exc:  # a file pyHanko cannot read: a scan, unless signed
        if BYTE_RANGE in data:
            logger.warning("A signed PDF cannot be read", exc_info=exc)
            raise SignatureRefused(_unreadable()) from exc
        return []
    if not found and BYTE_RANGE in data:
        # Signed bytes that no longer read as a signature (a cut file, a
        # signature dictionary detached from the document): not a scan.
        raise SignatureRefused(_unreadable())
    return found


def _covers(status: PdfSignatureStatus, *, last: bool) -> bool:
    """The last signature covers the whole file; an earlier one its whole
    revision, followed only by what it allows."""
    from pyhanko.sign.validation import SignatureCoverageLevel

    if last:
        return status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    level = status.modification_level
    return (
        status.coverage is not None
        and status.coverage >= SignatureCoverageLevel.ENTIRE_REVISION
        and level is not None
        and level.name in ALLOWED_AFTER
    )


def _verification(status: PdfSignatureStatus, *, no_roots: bool) -> Verification:
    certificate = status.signing_cert
    subject = certificate.subject.native
    if status.trusted and not status.revoked:
        verdict, reason = SignatureStatus.VALID, ""
    elif status.revoked:
        verdict, reason = SignatureStatus.INVALID, SignatureReason.REVOKED
    elif (problem := _name(status.trust_problem_indic)) in UNVERIFIABLE:
        verdict = SignatureStatus.CHAIN_UNVERIFIED
        reason = SignatureReason.NO_TRUST_ROOTS if no_roots else UNVERIFIABLE[problem]
    else:
        verdict = SignatureStatus.INVALID
        reason = INVALID.get(problem, SignatureReason.CHAIN_FAILED)
    timestamp = status.timestamp_validity
    signed_at = (
        timestamp.timestamp
        if timestamp is not None and timestamp.intact and timestamp.valid
        else status.signer_reported_dt
    )
    return Verification(
        status=verdict,
        reason=str(reason),
        signer_name=_text(subject.get("common_name"))[:255],
        signer_organisation=", ".join(
            part
            for part in (
                _text(subject.get("organizational_unit_name")),
                _text(subject.get("organization_name")),
            )
            if part
        )[:255],
        issuer_name=(
            _text(certificate.issuer.native.get("common_name"))
            or certificate.issuer.human_friendly
        )[:255],
        signed_at=signed_at,
    )


def _name(indication: object) -> str:
    return getattr(indication, "name", "")


def _text(value: object) -> str:
    """A name attribute's value: a string, or a list of them when repeated."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _altered() -> str:
    return _(
        "The digital signature of the signed scan does not cover the whole "
        "document: the file was changed after it was signed."
    )


def _unreadable() -> str:
    return _("The digital signature of the signed scan cannot be read.")


# --- in words ---------------------------------------------------------------------


def described(check: SignatureCheck | None, *, scanned: bool) -> list[str]:
    """What the commitment page and the printed document say of the signed
    document, in the active language: "Digitally signed by … at …: valid",
    then what is wrong (not the head, why not valid); "Scan (no digital
    signature)" for a plain scan; nothing before signing."""
    if check is None:
        return [_("Scan (no digital signature)")] if scanned else []
    signer = check.signer_name
    if check.signer_organisation:
        signer = f"{signer} ({check.signer_organisation})"
    lines = [
        _("Digitally signed by %(signer)s at %(time)s: %(status)s")
        % {
            "signer": signer,
            "time": (
                timezone.localtime(check.signed_at).strftime("%d/%m/%Y %H:%M")
                if check.signed_at is not None
                else _("an unknown time")
            ),
            "status": check.get_status_display(),
        }
    ]
    if not check.signer_is_head:
        lines.append(
            _("The signer is not the head in office that day (%(head)s).")
            % {"head": check.head.full_name}
            if check.head is not None
            else _("The unit had no head in office on the signing day.")
        )
    if check.reason:
        lines.append(check.get_reason_display())
    return lines


# --- who signed --------------------------------------------------------------------


def _plain(name: str) -> str:
    name = unicodedata.normalize("NFC", name)
    return re.sub(r"\s+", " ", name).strip().casefold()


def _unaccented(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", _plain(name).replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def same_person(certificate_name: str, head_name: str) -> bool:
    """The certificate names the head: the same name, whatever the case and
    spacing, or the same letters without their accents ("NGUYEN VAN AN" for
    Nguyễn Văn An: some certificates are issued without diacritics)."""
    if not certificate_name.strip() or not head_name.strip():
        return False
    return _plain(certificate_name) == _plain(head_name) or _unaccented(
        certificate_name
    ) == _unaccented(head_name)


# --- the deployment's trust roots --------------------------------------------------


def read_trust_roots(
    folder: str | Path | None,
) -> tuple[list[x509.Certificate], list[str]]:
    """The certificates of the folder's .pem, .crt and .cer files (PEM,
    several to a file, or DER) and, in words, what could not be read. No
    folder: none."""
    if folder is None:
        return [], []
    path = Path(folder)
    if not path.is_dir():
        return [], [_("%(folder)s is not a folder.") % {"folder": path}]
    certificates: list[x509.Certificate] = []
    problems: list[str] = []
    for file in sorted(path.iterdir()):
        if file.suffix.lower() not in CERTIFICATE_SUFFIXES or not file.is_file():
            continue
        try:
            data = file.read_bytes()
            if pem.detect(data):
                read = [
                    x509.Certificate.load(der)
                    for kind, _headers, der in pem.unarmor(data, multiple=True)
                    if kind == "CERTIFICATE"
                ]
            else:
                read = [x509.Certificate.load(data)]
            # Parsed whole now: a broken certificate fails here, not later.
            if any(certificate.native is None for certificate in read):
                raise ValueError("empty certificate")
        except (OSError, ValueError, TypeError) as exc:
            problems.append(
                _("%(file)s is not a certificate: %(error)s")
                % {"file": file, "error": exc}
            )
            continue
        if not read:
            problems.append(_("%(file)s holds no certificate.") % {"file": file})
        certificates += read
    if not certificates and not problems:
        problems.append(_("%(folder)s holds no certificate.") % {"folder": path})
    return certificates, problems
