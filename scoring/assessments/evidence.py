"""Evidence documents (tài liệu kiểm chứng): what a unit may upload, checked
by its content; stored under a name the server makes; served only to those
who may see the assessment.

The browser's file name and Content-Type header say what the uploader claims;
the bytes say what the file is. A document is accepted only when its bytes are
one of the types below (PDF, PNG, JPEG, Word/Excel/PowerPoint old and new,
OpenDocument text and spreadsheet), and it is stored with the extension of the
type found: a "quyet-dinh.pdf" that is really a ZIP archive is refused, and a
"scan.pdf" that is really a PNG is kept as a PNG."""

from __future__ import annotations

import hashlib
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date
from typing import IO, TYPE_CHECKING
from xml.etree import ElementTree

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from scoring.assessments import services
from scoring.models import Assessment, Evidence, Score

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# filetype looks at the first bytes only (its own default is 8 KiB).
HEAD_BYTES = 8192
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Kind:
    extension: str  # without the dot
    mime: str


OOXML = "application/vnd.openxmlformats-officedocument"
PDF = Kind("pdf", "application/pdf")
PNG = Kind("png", "image/png")
JPEG = Kind("jpg", "image/jpeg")
DOC = Kind("doc", "application/msword")
XLS = Kind("xls", "application/vnd.ms-excel")
PPT = Kind("ppt", "application/vnd.ms-powerpoint")
DOCX = Kind("docx", f"{OOXML}.wordprocessingml.document")
XLSX = Kind("xlsx", f"{OOXML}.spreadsheetml.sheet")
PPTX = Kind("pptx", f"{OOXML}.presentationml.presentation")
ODT = Kind("odt", "application/vnd.oasis.opendocument.text")
ODS = Kind("ods", "application/vnd.oasis.opendocument.spreadsheet")

# What filetype may answer for a file accepted as it is.
BY_MIME = {kind.mime: kind for kind in (PDF, PNG, JPEG, DOC, XLS, PPT)}
OPEN_DOCUMENTS = {kind.mime: kind for kind in (ODT, ODS)}
# An Office Open XML package says in [Content_Types].xml what its main part is;
# templates and macro-enabled files have other main types and are refused.
OOXML_MAIN_TYPES = {f"{kind.mime}.main+xml": kind for kind in (DOCX, XLSX, PPTX)}
ZIP_MIMES = {"application/zip", DOCX.mime, XLSX.mime, PPTX.mime}
# An OLE2 compound file (the Office 97–2003 container), and the stream each
# program writes into it, as its directory stores the names (UTF-16LE).
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE_STREAMS = (
    ("WordDocument".encode("utf-16-le"), DOC),
    ("Workbook".encode("utf-16-le"), XLS),
    ("PowerPoint Document".encode("utf-16-le"), PPT),
)
# Larger [Content_Types].xml than this is not an Office document.
CONTENT_TYPES_MAX = 256 * 1024
NAME_JUNK = re.compile(r"[\x00-\x1f\x7f/\\]+")


def max_upload_bytes() -> int:
    return int(settings.EVIDENCE_MAX_UPLOAD_MB) * 1024 * 1024


def accepted_label() -> str:
    return "PDF, PNG, JPEG, DOC, DOCX, XLS, XLSX, PPT, PPTX, ODT, ODS"


def _refused() -> ValidationError:
    return ValidationError(
        _(
            "This file is not a document the portal accepts as evidence; "
            "accepted: %(types)s."
        )
        % {"types": accepted_label()},
        code="type",
    )


def _ooxml_kind(archive: zipfile.ZipFile) -> Kind | None:
    """The package's main part, read from [Content_Types].xml, and present."""
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return None
    if info.file_size > CONTENT_TYPES_MAX:
        return None
    data = archive.read(info)
    # No document type definitions: nothing for an entity expansion to hide in.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None
    names = set(archive.namelist())
    for element in root:
        if not element.tag.endswith("}Override"):
            continue
        kind = OOXML_MAIN_TYPES.get(element.get("ContentType", ""))
        part = element.get("PartName", "").lstrip("/")
        if kind is not None and part in names:
            return kind
    return None


def _open_document_kind(archive: zipfile.ZipFile, expected: Kind) -> Kind | None:
    names = set(archive.namelist())
    if "mimetype" not in names or "content.xml" not in names:
        return None
    if archive.read("mimetype").strip() != expected.mime.encode("ascii"):
        return None
    return expected


def _zip_kind(stream: IO[bytes], detected_mime: str) -> Kind | None:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            if detected_mime in OPEN_DOCUMENTS:
                return _open_document_kind(archive, OPEN_DOCUMENTS[detected_mime])
            return _ooxml_kind(archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _ole_kind(stream: IO[bytes]) -> Kind | None:
    """An Office 97–2003 file filetype's signatures miss (files written by
    LibreOffice, for one): the name of its main stream, in the directory."""
    stream.seek(0)
    tail = b""
    longest = max(len(name) for name, _kind in OLE_STREAMS)
    while chunk := stream.read(CHUNK):
        window = tail + chunk
        for name, kind in OLE_STREAMS:
            if name in window:
                return kind
        tail = window[-longest:]
    return None


def detect(stream: IO[bytes]) -> Kind:
    """The kind of document the bytes are, or ValidationError."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    guess = filetype.guess(head)
    mime = guess.mime if guess is not None else ""
    kind: Kind | None = None
    if mime in ZIP_MIMES or mime in OPEN_DOCUMENTS:
        kind = _zip_kind(stream, mime)
    elif mime in BY_MIME:
        kind = BY_MIME[mime]
    elif head.startswith(OLE_SIGNATURE):
        kind = _ole_kind(stream)
    stream.seek(0)
    if kind is None:
        raise _refused()
    return kind


def _digest(stream: IO[bytes]) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _stream(upload: UploadedFile) -> IO[bytes]:
    if upload.file is None:
        raise ValidationError(_("The file is empty."), code="empty")
    return upload.file


def check_upload(upload: UploadedFile) -> Kind:
    """Size, then content. Raises ValidationError with the reason."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    limit = max_upload_bytes()
    if size > limit:
        raise ValidationError(
            _("The file is %(size)s; evidence files of at most %(limit)s are accepted.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    return detect(_stream(upload))


def label_for(name: str | None) -> str:
    """The uploader's file name, kept as a label only (never as a path)."""
    label = NAME_JUNK.sub(" ", (name or "").rsplit("/", 1)[-1]).strip()
    return (label or _("document"))[:255]


def evidence_add(
    *,
    user: User,
    assessment: Assessment,
    upload: UploadedFile,
    today: date,
    attach_to: Score | None = None,
) -> Evidence:
    """Store a document of the assessment, and attach it to a leaf when one is
    named. Only those who may fill in the assessment, while they may."""
    services.check_fill_in(user, assessment, today)
    kind = check_upload(upload)
    document = Evidence(
        assessment=assessment,
        token=uuid.uuid4(),
        extension=f".{kind.extension}",
        original_name=label_for(upload.name),
        content_type=kind.mime,
        size=upload.size or 0,
        sha256=_digest(_stream(upload)),
        uploaded_by=user,
    )
    # The name passed here is ignored: scoring.models.evidence_path makes it.
    document.file.save(document.original_name, upload, save=False)
    try:
        with transaction.atomic():
            document._history_user = user  # type: ignore[attr-defined]
            document.save()
            if attach_to is not None:
                # The leaf's links are read under its lock, not here: a list
                # read before the lock misses the uploads committed meanwhile.
                services.score_evidence_attach(
                    user=user, score_id=attach_to.pk, document=document, today=today
                )
    except BaseException:
        # Nothing in the database refers to the file: do not keep it.
        document.file.delete(save=False)
        raise
    return document


@transaction.atomic
def evidence_remove(
    *, user: User, assessment: Assessment, document: Evidence, today: date
) -> None:
    """Detach the document from every leaf (each change in that leaf's
    history), then delete it; the file goes once the deletion is committed."""
    services.check_fill_in(user, assessment, today)
    for score_id in Score.objects.filter(evidence=document).values_list(
        "pk", flat=True
    ):
        services.score_evidence_detach(
            user=user, score_id=score_id, document=document, today=today
        )
    storage, name = document.file.storage, document.file.name
    document._history_user = user  # type: ignore[attr-defined]
    document.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))
