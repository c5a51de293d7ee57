"""The survey figures' import page (issue 19, item 5): the upload shows a
preview of what each row would do, or its errors by row (from 1 below the
header) and by column (as the file names it), and writes nothing; the
confirmation imports the kept upload all or nothing; who may do either."""

from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from commitments.organisation.models import UnitKind
from scoring.frameworks import survey
from scoring.models import Framework, FrameworkState, SurveyFigure
from tests.factories import UnitFactory

D = Decimal
PAGE = reverse("survey_figures")
CONFIRM = reverse("survey_figures_confirm")
GOOD = (
    "unit_code,source,rate\n"
    "CITY-A,sipas,90\n"  # replaces 80
    "CITY-A,portal,91\n"  # new
    "CITY-B,sipas,75\n"  # the same as stored
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """This test's own storage: what is kept can be counted."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def stored(year, org, reviewer):
    for unit, rate in ((org.commune_a, 80), (org.commune_b, 75)):
        SurveyFigure.objects.create(
            year=2025,
            unit=unit,
            source="sipas",
            rate=D(rate),
            imported_at=timezone.now(),
        )


def kept_files() -> list[str]:
    try:
        return default_storage.listdir(survey.UPLOAD_FOLDER)[1]
    except FileNotFoundError:
        return []


def figures():
    return sorted(SurveyFigure.objects.values_list("unit__code", "source", "rate"))


def upload(client, text: str, name: str = "so-lieu.csv", year: str = "2025"):
    return client.post(
        PAGE,
        {"year": year, "file": SimpleUploadedFile(name, text.encode(), "text/csv")},
    )


def token_of(response) -> str:
    return response.context["token"]


def test_the_upload_previews_each_row_and_writes_nothing(client, stored, reviewer):
    before = figures()
    client.force_login(reviewer)
    response = upload(client, GOOD)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert [(r.number, r.unit_code, r.change, r.current) for r in preview.rows] == [
        (1, "CITY-A", "replaced", D(80)),
        (2, "CITY-A", "new", None),
        (3, "CITY-B", "unchanged", D(75)),
    ]
    page = response.content.decode()
    assert (
        'data-testid="survey-preview-row" data-row="1" data-change="replaced"' in page
    )
    assert 'data-testid="survey-confirm-form"' in page
    assert figures() == before
    assert len(kept_files()) == 1


def test_confirming_imports_the_kept_upload(client, stored, reviewer):
    client.force_login(reviewer)
    token = token_of(upload(client, GOOD))
    response = client.post(CONFIRM, {"upload": token, "action": "confirm"})
    assert response.status_code == 302
    assert response.url == f"{PAGE}?year=2025"
    assert figures() == [
        ("CITY-A", "portal", D(91)),
        ("CITY-A", "sipas", D(90)),
        ("CITY-B", "sipas", D(75)),
    ]
    unchanged = SurveyFigure.objects.get(unit__code="CITY-B")
    assert unchanged.imported_by is None  # left as stored
    assert SurveyFigure.objects.get(unit__code="CITY-A", source="sipas").imported_by
    assert kept_files() == []
    # Used once: confirming again finds nothing waiting.
    again = client.post(CONFIRM, {"upload": token, "action": "confirm"}, follow=True)
    assert (
        "Tệp đã tải lên không còn chờ xác nhận: hãy tải tệp lên lại."
        in again.content.decode()
    )


def test_row_errors_name_the_row_and_the_files_column(client, year, org, reviewer):
    client.force_login(reviewer)
    response = upload(
        client,
        "Mã đơn vị;Nguồn;Tỷ lệ\nCITY-A;sipas;90\nNOPE;sipas;abc\nCITY-B;survey;70\n",
    )
    assert response.status_code == 422
    rows = response.context["preview"].rows
    assert [row.change for row in rows] == ["new", None, None]
    assert [(e.row, e.column, e.value) for e in response.context["preview"].errors] == [
        (2, "Mã đơn vị", "NOPE"),
        (2, "Tỷ lệ", "abc"),
        (3, "Nguồn", "survey"),
    ]
    page = response.content.decode()
    assert page.count('data-testid="survey-row-error"') == 3
    assert "cột Mã đơn vị “NOPE”" in page
    # Nothing can be confirmed, and nothing is kept.
    assert 'data-testid="survey-confirm-form"' not in page
    assert kept_files() == []
    assert not SurveyFigure.objects.exists()


def test_a_file_without_its_columns_is_refused_before_any_preview(
    client, year, reviewer
):
    client.force_login(reviewer)
    response = upload(client, "unit,rate\nCITY-A,90\n")
    assert response.status_code == 422
    assert response.context["preview"] is None
    assert 'data-testid="survey-import-errors"' in response.content.decode()


def test_cancelling_drops_the_upload(client, stored, reviewer):
    before = figures()
    client.force_login(reviewer)
    token = token_of(upload(client, GOOD))
    response = client.post(CONFIRM, {"upload": token, "action": "cancel"})
    assert response.status_code == 302
    assert figures() == before
    assert kept_files() == []


def test_only_the_uploader_confirms_and_a_forged_token_finds_nothing(
    client, stored, reviewer, superuser
):
    before = figures()
    client.force_login(reviewer)
    token = token_of(upload(client, GOOD))
    client.force_login(superuser)
    assert client.post(CONFIRM, {"upload": token}).status_code == 302
    client.force_login(reviewer)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(CONFIRM, {"upload": forged}).status_code == 302
    assert figures() == before
    assert len(kept_files()) == 1  # still the uploader's to confirm


def test_what_changed_since_the_preview_is_judged_again(client, stored, reviewer, year):
    before = figures()
    client.force_login(reviewer)
    token = token_of(upload(client, GOOD))
    Framework.objects.filter(pk=year.pk).update(state=FrameworkState.PUBLISHED)
    response = client.post(CONFIRM, {"upload": token, "action": "confirm"})
    assert response.status_code == 422
    assert 'data-testid="survey-import-errors"' in response.content.decode()
    assert figures() == before
    assert kept_files() == []


def test_who_may_preview_and_confirm(
    client, stored, org, city_reviewer, commune_staff, leader
):
    # Another district's commune: the city's reviewer no longer covers
    # every commune of the province.
    town = UnitFactory(code="TOWN", kind=UnitKind.DISTRICT, parent=org.province)
    UnitFactory(code="TOWN-X", parent=town)
    before = figures()
    # Not reviewers: the page is not theirs.
    for user in (commune_staff, leader):
        client.force_login(user)
        assert upload(client, GOOD).status_code == 404
        assert client.post(CONFIRM, {"upload": "x"}).status_code == 404
    # A city's reviewer reads frameworks but does not manage the communes'.
    client.force_login(city_reviewer)
    refused = upload(client, GOOD)
    assert refused.status_code == 403
    assert refused.context["preview"] is None
    token = survey.upload_keep(
        SimpleUploadedFile("x.csv", GOOD.encode()),
        user=city_reviewer,
        year=2025,
        now=timezone.now(),
    )
    assert client.post(CONFIRM, {"upload": token}).status_code == 403
    assert figures() == before
    client.logout()
    assert upload(client, GOOD).status_code == 302  # to sign in
