"""The admin's spreadsheet import, as an administrator uses it: upload, read the
preview with its row errors, confirm only a clean file."""

from django.core.files.uploadedfile import SimpleUploadedFile

from commitments.organisation.models import Unit
from tests.wording import vi

IMPORT_URL = "/admin/commitments/unit/import/"
HEADER = (
    "code,name,kind,parent_code,ranking_group,valid_from,valid_to,predecessor_codes\n"
)


def upload(client, text):
    return client.post(
        IMPORT_URL,
        {
            "resource": "0",
            "format": "0",  # CSV, the first of SpreadsheetAdmin.formats
            "import_file": SimpleUploadedFile("units.csv", text.encode("utf-8-sig")),
        },
    )


def test_preview_lists_row_errors_and_writes_nothing(client, org, superuser):
    client.force_login(superuser)
    response = upload(
        client,
        HEADER
        + "CITY-C,Phường C,commune,CITY,,01/01/2020,,\n"
        + "CITY-D,Phường D,commune,NOWHERE,,01/01/2020,,\n"
        + "CITY-C,Phường C lần hai,commune,CITY,,01/01/2020,,\n",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "NOWHERE" in page
    # The duplicate names the row it repeats.
    repeated = vi("“%(key)s” already appears in row %(row)s of this file.")
    assert repeated % {"key": "CITY-C", "row": 1} in page
    assert response.context.get("confirm_form") is None  # nothing to confirm
    assert not Unit.objects.filter(code__in=["CITY-C", "CITY-D"]).exists()


def test_clean_file_is_previewed_then_imported_on_confirmation(client, org, superuser):
    client.force_login(superuser)
    response = upload(client, HEADER + "CITY-C,Phường C,commune,CITY,,01/01/2020,,\n")
    confirm = response.context["confirm_form"]
    assert confirm is not None
    assert not Unit.objects.filter(code="CITY-C").exists()
    response = client.post(
        "/admin/commitments/unit/process_import/",
        {name: confirm.initial[name] for name in confirm.fields},
    )
    assert response.status_code == 302
    unit = Unit.objects.get(code="CITY-C")
    assert unit.parent == org.city
    assert unit.valid_from.isoformat() == "2020-01-01"


def test_staff_accounts_cannot_reach_the_admin(client, commune_staff):
    client.force_login(commune_staff)
    response = client.get(IMPORT_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
