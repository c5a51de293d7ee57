"""Evidence documents: the type is read from the bytes (not the name, not the
browser's header), the size is limited, the file is stored under a name the
server makes with its SHA-256, one document supports several leaves, and only
those who see the assessment download it."""

import contextlib
import hashlib
import io
import struct
import threading
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from commitments.organisation.access import memberships
from scoring.assessments import evidence, services
from scoring.models import Evidence, Score
from tests.scoring.assessments.test_views import (
    PDF,
    add_document,
    fill_in,
    login,
    opened,
    score,
    submit,
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary directory, not the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def open_assessment(assessment, framework):
    return opened(assessment, framework)


OOXML = "application/vnd.openxmlformats-officedocument"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{part}" ContentType="{main}"/>'
    "</Types>"
)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + (b"\x00" * 64)
    + b"\xff\xd9"
)


def package(part: str, main: str, *, first: str = "[Content_Types].xml") -> bytes:
    """An Office Open XML package whose main part is ``part`` of type ``main``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = {
            "[Content_Types].xml": CONTENT_TYPES.format(part=part, main=main),
            "_rels/.rels": "<Relationships/>",
            part: "<document/>",
        }
        archive.writestr(first, entries.pop(first))
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def docx() -> bytes:
    return package("word/document.xml", f"{OOXML}.wordprocessingml.document.main+xml")


def pptx() -> bytes:
    return package(
        "ppt/presentation.xml", f"{OOXML}.presentationml.presentation.main+xml"
    )


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active["A1"] = "Báo cáo CCHC quý IV"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def open_document(mime: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mime, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
    return buffer.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def doc() -> bytes:
    """Word 97–2003: the signature filetype knows (the Word FIB at 512)."""
    return OLE + b"\x00" * 504 + b"\xec\xa5\xc1\x00" + b"\x00" * 600


def ole_with_stream(name: str) -> bytes:
    """An OLE2 file filetype's signatures miss, with the stream's name in its
    directory (as LibreOffice writes them)."""
    return (
        OLE
        + b"\x00" * 504
        + b"\x11\x22\x33\x44"
        + b"\x00" * 1200
        + name.encode("utf-16-le")
        + b"\x00" * 100
    )


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bao-cao.txt", "không phải tài liệu Office")
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


ACCEPTED = [
    ("quyet-dinh.pdf", PDF, ".pdf", "application/pdf"),
    ("anh-chup.png", png(), ".png", "image/png"),
    ("anh.jpeg", JPEG, ".jpg", "image/jpeg"),
    ("bao-cao.docx", docx(), ".docx", f"{OOXML}.wordprocessingml.document"),
    ("so-lieu.xlsx", xlsx(), ".xlsx", f"{OOXML}.spreadsheetml.sheet"),
    ("trinh-chieu.pptx", pptx(), ".pptx", f"{OOXML}.presentationml.presentation"),
    (
        "van-ban.odt",
        open_document("application/vnd.oasis.opendocument.text"),
        ".odt",
        "application/vnd.oasis.opendocument.text",
    ),
    (
        "bang-tinh.ods",
        open_document("application/vnd.oasis.opendocument.spreadsheet"),
        ".ods",
        "application/vnd.oasis.opendocument.spreadsheet",
    ),
    ("cong-van.doc", doc(), ".doc", "application/msword"),
    ("cu.doc", ole_with_stream("WordDocument"), ".doc", "application/msword"),
    ("cu.xls", ole_with_stream("Workbook"), ".xls", "application/vnd.ms-excel"),
    (
        "cu.ppt",
        ole_with_stream("PowerPoint Document"),
        ".ppt",
        "application/vnd.ms-powerpoint",
    ),
    # The name says PDF; the bytes are a PNG: kept, as the PNG it is.
    ("scan.pdf", png(), ".png", "image/png"),
]


@pytest.mark.parametrize(
    ("name", "data", "extension", "mime"),
    ACCEPTED,
    ids=[row[0] for row in ACCEPTED],
)
def test_accepted_documents_are_recognised_by_their_content(
    name, data, extension, mime
):
    kind = evidence.check_upload(upload(name, data, "application/octet-stream"))
    assert (f".{kind.extension}", kind.mime) == (extension, mime)


def macro_workbook() -> bytes:
    return package(
        "xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    )


def docx_without_its_main_part() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            CONTENT_TYPES.format(
                part="word/document.xml",
                main=f"{OOXML}.wordprocessingml.document.main+xml",
            ),
        )
        archive.writestr("word/other.xml", "<x/>")
    return buffer.getvalue()


def docx_with_entities() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]>'
            + CONTENT_TYPES.format(
                part="word/document.xml",
                main=f"{OOXML}.wordprocessingml.document.main+xml",
            ).split("?>", 1)[1],
        )
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


REFUSED = [
    ("a zip named .pdf", "quyet-dinh.pdf", zip_archive()),
    ("a macro-enabled workbook named .xlsx", "so-lieu.xlsx", macro_workbook()),
    ("a package without its main part", "bao-cao.docx", docx_without_its_main_part()),
    ("a package declaring entities", "bao-cao.docx", docx_with_entities()),
    ("text named .docx", "bao-cao.docx", b"Bao cao ket qua CCHC nam 2025\n" * 10),
    ("a program named .pdf", "quyet-dinh.pdf", b"MZ\x90\x00" + b"\x00" * 200),
    ("an HTML page named .pdf", "trang.pdf", b"<!doctype html><script>x</script>"),
    ("an OLE file of another program", "tep.doc", ole_with_stream("Unknown")),
    ("a truncated zip", "bao-cao.docx", docx()[:60]),
    ("a GIF image", "anh.png", b"GIF89a" + b"\x00" * 100),
]


@pytest.mark.parametrize(
    ("label", "name", "data"), REFUSED, ids=[row[0] for row in REFUSED]
)
def test_other_content_is_refused_whatever_its_name_or_header(label, name, data):
    with pytest.raises(ValidationError) as error:
        evidence.check_upload(upload(name, data, "application/pdf"))
    assert "PDF, PNG, JPEG" in " ".join(error.value.messages)


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError):
        evidence.check_upload(upload("rong.pdf", b""))


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.EVIDENCE_MAX_UPLOAD_MB = 1
    big = PDF + b"0" * (1024 * 1024)
    with pytest.raises(ValidationError) as error:
        evidence.check_upload(upload("lon.pdf", big))
    assert "1,0" in error.value.messages[0] or "1.0" in error.value.messages[0]
    assert evidence.check_upload(upload("vua.pdf", PDF + b"0" * 1000)).extension == (
        "pdf"
    )


def test_the_default_limit_is_twenty_megabytes(settings):
    assert settings.EVIDENCE_MAX_UPLOAD_MB == 20
    assert evidence.max_upload_bytes() == 20 * 1024 * 1024


def test_a_stored_document_has_a_server_made_name_its_hash_and_its_label(
    open_assessment, commune_staff, settings
):
    data = png()
    document = evidence.evidence_add(
        user=commune_staff,
        assessment=open_assessment,
        upload=upload("../../etc/Ảnh chụp biên bản.pdf", data, "application/pdf"),
        today=timezone.localdate(),
    )
    assert document.file.name == f"evidence/{document.token}.png"
    assert document.extension == ".png"
    assert document.content_type == "image/png"
    assert document.original_name == "Ảnh chụp biên bản.pdf"
    assert document.size == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.uploaded_by == commune_staff
    stored = Path(settings.MEDIA_ROOT) / document.file.name
    assert stored.read_bytes() == data
    assert document.history.get().history_user == commune_staff


def test_a_refused_document_leaves_no_row_and_no_file(
    open_assessment, commune_staff, settings
):
    with pytest.raises(ValidationError):
        evidence.evidence_add(
            user=commune_staff,
            assessment=open_assessment,
            upload=upload("quyet-dinh.pdf", zip_archive()),
            today=timezone.localdate(),
        )
    assert not Evidence.objects.exists()
    folder = Path(settings.MEDIA_ROOT) / "evidence"
    assert not folder.exists() or not any(folder.iterdir())


def test_a_document_whose_attachment_fails_is_not_kept(
    open_assessment, commune_staff, framework, org, settings
):
    other = services.assessment_open(framework=framework, unit=org.commune_b)
    foreign = score(other, "1.1.1")
    with pytest.raises((ValidationError, PermissionDenied)):
        evidence.evidence_add(
            user=commune_staff,
            assessment=open_assessment,
            upload=upload("quyet-dinh.pdf", PDF),
            today=timezone.localdate(),
            attach_to=foreign,
        )
    assert not Evidence.objects.exists()
    folder = Path(settings.MEDIA_ROOT) / "evidence"
    assert not folder.exists() or not any(folder.iterdir())


def test_reviewers_and_other_units_cannot_upload(
    open_assessment, city_reviewer, other_commune_staff, leader
):
    for user in (city_reviewer, other_commune_staff, leader):
        with pytest.raises(PermissionDenied):
            evidence.evidence_add(
                user=user,
                assessment=open_assessment,
                upload=upload("quyet-dinh.pdf", PDF),
                today=timezone.localdate(),
            )
    assert not Evidence.objects.exists()


def test_no_upload_after_the_deadline(open_assessment, commune_staff):
    with pytest.raises(ValidationError):
        evidence.evidence_add(
            user=commune_staff,
            assessment=open_assessment,
            upload=upload("quyet-dinh.pdf", PDF),
            today=open_assessment.framework.deadline + timedelta(days=1),
        )


# --- Through the pages ----------------------------------------------------------------


def test_upload_from_a_leaf_attaches_the_document_to_it(
    client, open_assessment, commune_staff
):
    client.force_login(commune_staff)
    s = score(open_assessment, "1.1.2")
    response = client.post(
        f"/assessments/{open_assessment.pk}/documents/",
        {"file": upload("ke-hoach.pdf", PDF), "score": s.pk},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith("#leaf-1.1.2")
    document = Evidence.objects.get()
    assert list(score(open_assessment, "1.1.2").evidence.all()) == [document]
    assert "ke-hoach.pdf" in response.content.decode()
    assert services.completeness(open_assessment)["missing_evidence"] == []


def test_a_refused_upload_says_why_naming_the_leaf(
    client, open_assessment, commune_staff
):
    client.force_login(commune_staff)
    s = score(open_assessment, "1.1.2")
    response = client.post(
        f"/assessments/{open_assessment.pk}/documents/",
        {"file": upload("quyet-dinh.pdf", zip_archive()), "score": s.pk},
        follow=True,
    )
    text = " ".join(str(m) for m in response.context["messages"])
    assert "1.1.2" in text
    assert "PDF, PNG, JPEG" in text
    assert not Evidence.objects.exists()


def test_one_document_supports_several_leaves(client, open_assessment, commune_staff):
    document = add_document(open_assessment, commune_staff)
    client.force_login(commune_staff)
    for code in ("1.1.1", "1.1.2"):
        s = score(open_assessment, code)
        client.post(
            f"/assessments/{open_assessment.pk}/scores/{s.pk}/evidence/",
            {"documents": [document.pk]},
        )
    assert set(document.scores.values_list("node__code", flat=True)) == {
        "1.1.1",
        "1.1.2",
    }
    # Unchecking it on one leaf leaves it on the other.
    s = score(open_assessment, "1.1.1")
    client.post(f"/assessments/{open_assessment.pk}/scores/{s.pk}/evidence/", {})
    assert list(document.scores.values_list("node__code", flat=True)) == ["1.1.2"]


def test_another_assessments_document_cannot_be_attached(
    client, open_assessment, commune_staff, other_commune_staff, framework, org
):
    other = services.assessment_open(
        framework=open_assessment.framework, unit=org.commune_b
    )
    foreign = add_document(other, other_commune_staff)
    client.force_login(commune_staff)
    s = score(open_assessment, "1.1.1")
    response = client.post(
        f"/assessments/{open_assessment.pk}/scores/{s.pk}/evidence/",
        {"documents": [foreign.pk]},
        follow=True,
    )
    assert any("1.1.1" in str(m) for m in response.context["messages"])
    assert not score(open_assessment, "1.1.1").evidence.exists()


DOWNLOAD_STATUS = {
    "commune_staff": 200,
    "commune_head": 200,
    "city_reviewer": 200,
    "reviewer": 200,
    "leader": 200,
    "superuser": 200,
    "other_commune_staff": 404,
    "department_staff": 404,
    "no_unit_user": 404,
}


@pytest.mark.parametrize("persona", sorted(DOWNLOAD_STATUS))
def test_a_document_downloads_only_for_those_who_see_the_assessment(
    client, request, open_assessment, commune_staff, persona
):
    document = fill_in(open_assessment, commune_staff)
    login(client, request, persona)
    response = client.get(f"/assessments/evidence/{document.token}/")
    assert response.status_code == DOWNLOAD_STATUS[persona]
    if response.status_code == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "ke-hoach.pdf" in disposition
        assert response["X-Content-Type-Options"] == "nosniff"


def test_an_unknown_token_answers_404(client, commune_staff, open_assessment):
    client.force_login(commune_staff)
    response = client.get("/assessments/evidence/00000000-0000-4000-8000-000000000000/")
    assert response.status_code == 404


def test_a_document_whose_file_is_gone_answers_404(
    client, open_assessment, commune_staff
):
    document = fill_in(open_assessment, commune_staff)
    document.file.storage.delete(document.file.name)
    client.force_login(commune_staff)
    assert client.get(f"/assessments/evidence/{document.token}/").status_code == 404


UPLOAD_STATUS = {
    "commune_staff": 302,
    "commune_head": 302,
    "city_reviewer": 403,
    "leader": 403,
    "superuser": 403,
    "other_commune_staff": 404,
    "no_unit_user": 404,
}


@pytest.mark.parametrize("persona", sorted(UPLOAD_STATUS))
def test_only_the_units_people_upload(client, request, open_assessment, persona):
    login(client, request, persona)
    response = client.post(
        f"/assessments/{open_assessment.pk}/documents/",
        {"file": upload("ke-hoach.pdf", PDF)},
    )
    assert response.status_code == UPLOAD_STATUS[persona]
    assert Evidence.objects.exists() == (response.status_code == 302)


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("commune_head", 302),
        ("city_reviewer", 403),
        ("leader", 403),
        ("other_commune_staff", 404),
    ],
)
def test_deleting_a_document_detaches_it_and_removes_the_file(
    client, request, open_assessment, commune_staff, settings, persona, status
):
    document = fill_in(open_assessment, commune_staff)
    stored = Path(settings.MEDIA_ROOT) / document.file.name
    user = login(client, request, persona)
    response = client.post(
        f"/assessments/{open_assessment.pk}/documents/{document.pk}/delete/"
    )
    assert response.status_code == status
    if status == 302:
        assert not Evidence.objects.exists()
        assert not score(open_assessment, "1.1.2").evidence.exists()
        # The detachment is in the leaf's history.
        latest = Score.history.filter(id=score(open_assessment, "1.1.2").pk).first()
        assert latest is not None
        assert latest.history_user == user
    else:
        assert Evidence.objects.exists()
        assert stored.exists()


def test_the_file_is_removed_once_the_deletion_is_committed(
    client, open_assessment, commune_staff, settings, django_capture_on_commit_callbacks
):
    document = fill_in(open_assessment, commune_staff)
    stored = Path(settings.MEDIA_ROOT) / document.file.name
    client.force_login(commune_staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/assessments/{open_assessment.pk}/documents/{document.pk}/delete/"
        )
    assert not stored.exists()


def test_documents_cannot_change_once_submitted(
    client, open_assessment, commune_staff, commune_head
):
    submit(open_assessment, commune_staff, commune_head)
    document = Evidence.objects.get()
    client.force_login(commune_staff)
    response = client.post(
        f"/assessments/{open_assessment.pk}/documents/{document.pk}/delete/",
        follow=True,
    )
    assert response.context["messages"]
    assert Evidence.objects.exists()
    refused = client.post(
        f"/assessments/{open_assessment.pk}/documents/",
        {"file": upload("them.pdf", PDF)},
        follow=True,
    )
    assert refused.context["messages"]
    assert Evidence.objects.count() == 1


# --- attaching under the leaf's lock (issue 15, defect 8) ----------------------------

UPLOADS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_uploads_to_one_leaf_all_stay_attached(
    open_assessment, commune_staff
):
    """Twenty uploads to one leaf at once, each from its own thread and
    database connection, all released by a barrier together: every one is
    attached. On PostgreSQL (CI's database) they really run at once and wait
    for each other on the leaf's row lock; SQLite has one writer at a time
    and no row locks, so there they take turns."""
    leaf = score(open_assessment, "1.1.2")
    memberships(commune_staff)  # read once here, not by twenty threads
    turns = (
        contextlib.nullcontext()
        if connection.vendor == "postgresql"
        else threading.Lock()
    )
    start = threading.Barrier(UPLOADS)
    failures: list[BaseException] = []

    def upload_one(number: int) -> None:
        try:
            start.wait()
            with turns:
                evidence.evidence_add(
                    user=commune_staff,
                    assessment=open_assessment,
                    upload=upload(f"minh-chung-{number:02d}.pdf", PDF),
                    today=timezone.localdate(),
                    attach_to=leaf,
                )
        except BaseException as exc:  # reported below, in the test thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload_one, args=(n,)) for n in range(UPLOADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    attached = set(
        score(open_assessment, "1.1.2").evidence.values_list("pk", flat=True)
    )
    assert attached == set(Evidence.objects.values_list("pk", flat=True))
    assert len(attached) == UPLOADS
    # One version per attachment: each was written on the one before it.
    assert score(open_assessment, "1.1.2").version == leaf.version + UPLOADS


def test_a_document_uploaded_since_the_page_was_read_stays_attached(
    client, open_assessment, commune_staff
):
    """The leaf's list of documents, saved from a page that did not show a
    document uploaded meanwhile (from another window), keeps it; what the
    page showed and the user unticked goes."""
    kept_apart = add_document(open_assessment, commune_staff, name="ke-hoach.pdf")
    leaf = score(open_assessment, "1.1.1")
    url = f"/assessments/{open_assessment.pk}/scores/{leaf.pk}/evidence/"
    client.force_login(commune_staff)
    page = client.get(f"/assessments/{open_assessment.pk}/").content.decode()
    form = page[page.index(f'action="{url}"') :]
    assert form.index('name="listed" value="1"') < form.index("</form>")
    uploaded = evidence.evidence_add(
        user=commune_staff,
        assessment=open_assessment,
        upload=upload("bao-cao.pdf", PDF),
        today=timezone.localdate(),
        attach_to=leaf,
    )
    # The page showed nothing attached; the user ticks ke-hoach.pdf.
    client.post(url, {"documents": [kept_apart.pk], "listed": "1"})
    assert set(score(open_assessment, "1.1.1").evidence.all()) == {
        kept_apart,
        uploaded,
    }
    # Read again, both shown; the user unticks bao-cao.pdf.
    client.post(
        url,
        {
            "documents": [kept_apart.pk],
            "shown": [kept_apart.pk, uploaded.pk],
            "listed": "1",
        },
    )
    assert list(score(open_assessment, "1.1.1").evidence.all()) == [kept_apart]
