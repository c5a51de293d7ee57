"""A certificate authority, signers and signed PDFs made at test time
(cryptography for the keys and certificates, pyHanko's writer and signer
for the PDF): no binary fixture is committed."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko_certvalidator.registry import SimpleCertificateStore

with warnings.catch_warnings():
    # cryptography deprecates DSA, which pyHanko's signer still imports.
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    from pyhanko.sign import fields, signers

TEXT = b"Ban cam ket thuc hien nhiem vu cai cach hanh chinh"


def _name(common_name: str, organisation: str = "") -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _usage(*, ca: bool, signs: bool = True) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signs,
        content_commitment=signs and not ca,
        key_encipherment=not signs,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(
        certificate.public_bytes(serialization.Encoding.DER)
    )


@dataclass
class Authority:
    """A root CA that issues signers' certificates."""

    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, name: str = "CA thử nghiệm Chính phủ") -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=400))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(_usage(ca=True), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(name=name, key=key, certificate=certificate)

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def write_root(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "root.pem"
        path.write_bytes(self.pem())
        return path

    def issue(
        self,
        person: str,
        organisation: str = "",
        *,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        for_signing: bool = True,
    ) -> Signer:
        """A signer's certificate; ``for_signing`` False: one for encryption
        only (key encipherment), not meant to sign documents."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(person, organisation))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid_from or now - timedelta(days=30))
            .not_valid_after(valid_to or now + timedelta(days=365))
            .add_extension(_usage(ca=False, signs=for_signing), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return Signer(authority=self, key=key, certificate=certificate)


@dataclass
class Signer:
    authority: Authority
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def sign(self, pdf: bytes, field_name: str = "ChuKyLanhDao") -> bytes:
        """The PDF with this signer's PAdES signature over the whole file
        (its CA's certificate embedded, as signing software does). In a
        thread of its own: pyHanko starts an event loop, and a browser
        test's thread already runs Playwright's."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(self._sign, pdf, field_name).result()

    def _sign(self, pdf: bytes, field_name: str) -> bytes:
        signer = signers.SimpleSigner(
            signing_cert=_asn1(self.certificate),
            signing_key=asn1_keys.PrivateKeyInfo.load(
                self.key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            ),
            cert_registry=SimpleCertificateStore.from_certs(
                [_asn1(self.authority.certificate)]
            ),
        )
        signed = signers.sign_pdf(
            IncrementalPdfFileWriter(BytesIO(pdf), strict=False),
            signers.PdfSignatureMetadata(
                field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES
            ),
            signer=signer,
        )
        return signed.getvalue()


def blank_pdf(text: bytes = TEXT) -> bytes:
    """A one-page PDF with a line of text, written by pyHanko."""
    writer = PdfFileWriter()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Font"),
                generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
                generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
            }
        )
    )
    content = generic.StreamObject(
        stream_data=b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
    )
    page = PageObject(
        contents=writer.add_object(content),
        media_box=[0, 0, 595, 842],
        resources=generic.DictionaryObject(
            {
                generic.NameObject("/Font"): generic.DictionaryObject(
                    {generic.NameObject("/F1"): font}
                )
            }
        ),
    )
    writer.insert_page(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def tampered(signed: bytes, text: bytes = TEXT) -> bytes:
    """The signed file with one byte of its text changed in place (the same
    length, so the file still reads)."""
    at = signed.index(text)
    changed = bytes([signed[at] ^ 0x01])
    return signed[:at] + changed + signed[at + 1 :]
