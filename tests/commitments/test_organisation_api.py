"""/api/v1/units/ and /api/v1/heads/: every signed-in caller reads within
their scope; administrators upsert in bulk, all rows or none, with a dry run
that returns the row errors without writing."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from commitments.organisation.models import Head, Unit
from tests.factories import HeadFactory
from tests.wording import vi


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def codes(response, key="code"):
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()["results"]]


def test_units_are_read_within_the_callers_scope(
    org, commune_staff, city_reviewer, superuser
):
    assert codes(client_for(commune_staff).get("/api/v1/units/")) == ["CITY-A"]
    assert codes(client_for(city_reviewer).get("/api/v1/units/")) == [
        "CITY",
        "CITY-A",
        "CITY-B",
    ]
    everything = client_for(superuser).get("/api/v1/units/").json()["results"]
    assert everything[0] == {
        "code": "PROV",
        "name": "UBND tỉnh",
        "kind": "province",
        "parent_code": None,
        "ranking_group": None,
        "valid_from": org.province.valid_from.isoformat(),
        "valid_to": None,
        "predecessor_codes": [],
    }
    assert len(everything) == 5


def test_units_filter_by_kind_parent_and_day(org, city_reviewer):
    client = client_for(city_reviewer)
    assert codes(client.get("/api/v1/units/", {"parent": "CITY"})) == [
        "CITY-A",
        "CITY-B",
    ]
    assert codes(client.get("/api/v1/units/", {"kind": "district"})) == ["CITY"]
    Unit.objects.filter(code="CITY-B").update(valid_to=date(2025, 6, 30))
    assert "CITY-B" not in codes(
        client.get("/api/v1/units/", {"valid_on": "2025-07-01"})
    )


def test_heads_are_read_within_the_callers_scope(org, commune_staff, city_reviewer):
    HeadFactory(unit=org.commune_a, full_name="Trưởng A", tenure_from=date(2024, 1, 1))
    HeadFactory(unit=org.commune_b, full_name="Trưởng B", tenure_from=date(2024, 1, 1))
    HeadFactory(unit=org.department, full_name="Giám đốc", tenure_from=date(2024, 1, 1))
    assert codes(client_for(commune_staff).get("/api/v1/heads/"), "full_name") == [
        "Trưởng A"
    ]
    reviewer = client_for(city_reviewer)
    assert codes(reviewer.get("/api/v1/heads/"), "full_name") == [
        "Trưởng A",
        "Trưởng B",
    ]
    assert (
        codes(reviewer.get("/api/v1/heads/", {"on": "2023-12-31"}), "full_name") == []
    )


def test_reading_needs_a_signed_in_caller(org):
    assert APIClient().get("/api/v1/units/").status_code == 401


@pytest.mark.parametrize("who", ["commune_staff", "city_reviewer", "reviewer"])
def test_only_administrators_upsert(org, request, who):
    user = request.getfixturevalue(who)
    row = {
        "code": "NEW-1",
        "name": "Xã Một",
        "kind": "commune",
        "valid_from": "01/01/2025",
    }
    response = client_for(user).post("/api/v1/units/", [row], format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Unit.objects.filter(code="NEW-1").exists()


def test_an_administrator_upserts_units_all_or_none(org, superuser):
    client = client_for(superuser)
    rows = [
        {
            "code": "NEW-W",
            "name": "Phường Mới",
            "kind": "commune",
            "parent_code": "CITY",
            "valid_from": "01/07/2025",
            "predecessor_codes": ["CITY-A", "CITY-B"],
        },
        {"code": "CITY-A", "name": "Phường A (đổi tên)", "kind": "commune"},
    ]
    response = client.post("/api/v1/units/", rows, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["written"] is True
    assert (body["rows_new"], body["rows_updated"], body["errors"]) == (1, 1, [])
    ward = Unit.objects.get(code="NEW-W")
    assert ward.parent == org.city
    assert ward.predecessors.count() == 2
    renamed = Unit.objects.get(code="CITY-A")
    # A property left out keeps the stored value, as a column left out of a file.
    assert (renamed.name, renamed.parent) == ("Phường A (đổi tên)", org.city)

    # What is read back can be sent again: nothing changes.
    read = client.get("/api/v1/units/", {"parent": "CITY"}).json()["results"]
    again = client.post("/api/v1/units/", read, format="json").json()
    assert (again["rows_unchanged"], again["rows_new"], again["rows_updated"]) == (
        3,
        0,
        0,
    )


def test_a_rejected_row_writes_nothing_and_the_dry_run_reports_it(org, superuser):
    client = client_for(superuser)
    rows = [
        {
            "code": "NEW-1",
            "name": "Xã Một",
            "kind": "commune",
            "valid_from": "2025-01-01",
        },
        {
            "code": "NEW-2",
            "name": "Xã Hai",
            "kind": "commune",
            "parent_code": "NOWHERE",
            "valid_from": "01/01/2025",
        },
    ]
    dry = client.post("/api/v1/units/?dry_run=true", rows, format="json")
    refused = client.post("/api/v1/units/", rows, format="json")

    assert dry.status_code == 200
    assert refused.status_code == 400
    for body in (dry.json(), refused.json()):
        assert body["written"] is False
        assert body["rows_rejected"] == 1
        assert body["errors"] == [
            {
                "row": 2,
                "column": "parent_code",
                "value": "NOWHERE",
                "message": vi("No %(model)s has the code “%(code)s”.")
                % {"model": vi("unit"), "code": "NOWHERE"},
            }
        ]
    assert not Unit.objects.filter(code__startswith="NEW-").exists()


def test_a_dry_run_of_valid_rows_writes_nothing(org, superuser):
    row = {
        "code": "NEW-1",
        "name": "Xã Một",
        "kind": "commune",
        "valid_from": "2025-01-01",
    }
    response = client_for(superuser).post(
        "/api/v1/units/?dry_run=true", [row], format="json"
    )
    assert response.status_code == 200
    assert (response.json()["dry_run"], response.json()["rows_new"]) == (True, 1)
    assert not Unit.objects.filter(code="NEW-1").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"code": "NEW-1", "name": "Xã Một"}], "0.kind"),
        ([{"code": "NEW-1", "name": "Xã Một", "kind": "hamlet"}], "0.kind"),
        ([{"code": 7, "name": "Xã Một", "kind": "commune"}], "0.code"),
        (
            [{"code": "N", "name": "X", "kind": "commune", "parnt_code": "CITY"}],
            "0.parnt_code",
        ),
        ([], None),
        ({"code": "NEW-1"}, None),
    ],
)
def test_a_malformed_list_answers_the_error_format(org, superuser, body, field):
    response = client_for(superuser).post("/api/v1/units/", body, format="json")
    assert response.status_code == 400
    error = response.json()
    assert set(error) == {"status", "code", "detail", "errors"}
    if field is not None:
        assert field in [item["field"] for item in error["errors"]]
    assert Unit.objects.count() == 5


def test_dry_run_takes_only_true_or_false(org, superuser):
    response = client_for(superuser).post("/api/v1/units/?dry_run=1", [], format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "dry_run"


def test_an_administrator_upserts_heads_and_an_overlap_writes_nothing(org, superuser):
    HeadFactory(
        unit=org.commune_a,
        full_name="Nguyễn Cũ",
        tenure_from=date(2020, 1, 1),
        tenure_to=date(2024, 12, 31),
    )
    client = client_for(superuser)
    ok = client.post(
        "/api/v1/heads/",
        [
            {
                "unit_code": "CITY-A",
                "full_name": "Trần Mới",
                "title": "Chủ tịch UBND",
                "position": "head",
                "tenure_from": "01/01/2025",
            }
        ],
        format="json",
    )
    assert ok.status_code == 200, ok.content
    assert Head.objects.filter(full_name="Trần Mới", unit=org.commune_a).exists()

    overlap = client.post(
        "/api/v1/heads/",
        [
            {
                "unit_code": "CITY-B",
                "full_name": "Lê Hợp Lệ",
                "position": "head",
                "tenure_from": "2025-01-01",
            },
            {
                "unit_code": "CITY-A",
                "full_name": "Đỗ Trùng",
                "position": "head",
                "tenure_from": "01/06/2024",
                "tenure_to": "30/06/2024",
            },
        ],
        format="json",
    )
    assert overlap.status_code == 400
    (error,) = overlap.json()["errors"]
    assert (error["row"], error["column"]) == (2, "tenure_from")
    assert "Nguyễn Cũ" in error["message"]
    assert not Head.objects.filter(unit=org.commune_b).exists()
