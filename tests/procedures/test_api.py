"""The case-record REST API: pushing batches from other systems, and reading
case records back, scoped to the units the caller sees."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from procedures.api import views
from procedures.api.views import CasePushThrottle
from procedures.models import (
    CaseRecord,
    Channel,
    DossierStatus,
    ImportRun,
    ImportSource,
    ImportStatus,
    Procedure,
)

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
PUSH_URL = reverse("procedures_api:case-push")
LIST_URL = reverse("procedures_api:case-list")


def detail_url(code):
    return reverse("procedures_api:case-detail", kwargs={"case_code": code})


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # The throttle counts in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def procedures(db):
    return (
        Procedure.objects.create(code="P1", name="Đăng ký khai sinh"),
        Procedure.objects.create(code="P2", name="Chứng thực bản sao"),
    )


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def record(code, unit="CITY-A", **overrides):
    values = {
        "case_code": code,
        "procedure_code": "P1",
        "unit_code": unit,
        "received_at": "2025-03-02T08:00:00+07:00",
        "due_at": "2025-03-10T17:00:00+07:00",
        "finished_at": "2025-03-09T10:00:00+07:00",
        "status": "da_tra_ket_qua",
        "channel": "truc_tuyen_toan_trinh",
        "digitized": True,
        "fee_required": False,
        "paid_online": False,
        "supplement_requests": 0,
        "satisfaction": "",
        "complaint": False,
        "officer": "",
    }
    values.update(overrides)
    return values


def push(user, records, *, atomic=False):
    return client_for(user).post(
        PUSH_URL, {"atomic": atomic, "records": records}, format="json"
    )


def make_case(code, unit, procedure, **overrides):
    values = {
        "received_at": datetime(2025, 3, 2, 8, 0, tzinfo=LOCAL),
        "due_at": datetime(2025, 3, 10, 17, 0, tzinfo=LOCAL),
        "finished_at": None,
        "status": DossierStatus.PROCESSING,
        "channel": Channel.IN_PERSON,
    }
    values.update(overrides)
    return CaseRecord.objects.create(
        case_code=code, unit=unit, procedure=procedure, **values
    )


# --- push ------------------------------------------------------------------------


def test_push_creates_records_and_records_the_run(commune_staff, procedures):
    response = push(
        commune_staff,
        [
            record("H1", officer="Nguyễn Văn A", satisfaction="hai_long"),
            record(
                "H2",
                procedure_code="P2",
                finished_at=None,
                status="dang_xu_ly",
                digitized=False,
                supplement_requests=1,
            ),
        ],
    )

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "import_id": body["import_id"],
        "status": "succeeded",
        "rows_total": 2,
        "rows_new": 2,
        "rows_updated": 0,
        "rows_unchanged": 0,
        "rows_rejected": 0,
        "rows_moved": 0,
        "errors": [],
    }
    first = CaseRecord.objects.get(case_code="H1")
    assert first.unit.code == "CITY-A"
    assert first.received_at == datetime(2025, 3, 2, 1, 0, tzinfo=ZoneInfo("UTC"))
    assert first.digitized is True
    assert first.officer == "Nguyễn Văn A"
    assert first.satisfaction == "hai_long"
    second = CaseRecord.objects.get(case_code="H2")
    assert second.procedure.code == "P2"
    assert second.finished_at is None
    assert second.digitized is False
    assert second.supplement_requests == 1
    run = ImportRun.objects.get(pk=body["import_id"])
    assert run.source == ImportSource.API
    assert run.user == commune_staff
    assert run.file_name == "api"
    assert run.status == ImportStatus.SUCCEEDED
    assert run.rows_expected == 2
    assert run.started_at <= run.finished_at
    assert first.last_import == run


def test_pushing_the_same_batch_twice_reports_it_unchanged(commune_staff, procedures):
    batch = [record("H1"), record("H2", finished_at=None, status="dang_xu_ly")]
    assert push(commune_staff, batch).json()["rows_new"] == 2

    again = push(commune_staff, batch).json()

    assert again["rows_unchanged"] == 2
    assert again["rows_new"] == again["rows_updated"] == again["rows_rejected"] == 0


def test_a_changed_record_is_reported_updated(commune_staff, procedures):
    push(commune_staff, [record("H1", finished_at=None, status="dang_xu_ly")])

    body = push(commune_staff, [record("H1")]).json()

    assert body["rows_updated"] == 1
    assert CaseRecord.objects.get(case_code="H1").status == DossierStatus.RETURNED


def test_bad_records_are_reported_by_position_and_column(commune_staff, procedures):
    response = push(
        commune_staff,
        [
            record("H1"),
            record("H2", unit="NOPE"),
            record("H3", received_at="32/13/2025"),
            record("H4", procedure_code="P9"),
        ],
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "succeeded"
    assert (body["rows_total"], body["rows_new"], body["rows_rejected"]) == (4, 1, 3)
    assert [(e["row"], e["column"], e["value"]) for e in body["errors"]] == [
        (2, "unit_code", "NOPE"),
        (3, "received_at", "32/13/2025"),
        (4, "procedure_code", "P9"),
    ]
    assert all(e["message"] for e in body["errors"])
    assert list(CaseRecord.objects.values_list("case_code", flat=True)) == ["H1"]


def test_values_too_long_for_their_column_are_rejected_row_by_row(
    commune_staff, procedures
):
    body = push(
        commune_staff,
        [record("H" * 101), record("H2", officer="o" * 201), record("H3")],
    ).json()

    assert (body["rows_total"], body["rows_new"], body["rows_rejected"]) == (3, 1, 2)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (1, "case_code"),
        (2, "officer"),
    ]
    assert list(CaseRecord.objects.values_list("case_code", flat=True)) == ["H3"]


def test_an_atomic_push_with_a_value_too_long_writes_nothing(commune_staff, procedures):
    response = push(commune_staff, [record("H1"), record("H" * 101)], atomic=True)

    assert response.status_code == 400
    assert response.json()["rows_rejected"] == 1
    assert not CaseRecord.objects.exists()


def test_a_case_code_repeated_in_the_batch_is_rejected_at_its_repeat(
    commune_staff, procedures
):
    body = push(commune_staff, [record("H1"), record("H2"), record("H1")]).json()

    assert body["rows_new"] == 2
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "case_code")]


def test_atomic_push_with_a_bad_record_writes_nothing(commune_staff, procedures):
    response = push(
        commune_staff, [record("H1"), record("H2", due_at="soon")], atomic=True
    )

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "failed"
    assert body["rows_rejected"] == 1
    assert body["rows_new"] == 0
    assert body["errors"][0]["row"] == 2
    assert body["errors"][0]["column"] == "due_at"
    assert not CaseRecord.objects.exists()
    run = ImportRun.objects.get(pk=body["import_id"])
    assert run.atomic is True
    assert run.error


def test_atomic_push_without_errors_writes_everything(commune_staff, procedures):
    response = push(commune_staff, [record("H1"), record("H2")], atomic=True)

    assert response.status_code == 200
    assert CaseRecord.objects.count() == 2


def test_staff_pushing_for_another_unit_has_that_record_rejected(
    commune_staff, procedures
):
    body = push(commune_staff, [record("H1"), record("H2", unit="CITY-B")]).json()

    assert body["rows_new"] == 1
    assert [(e["row"], e["column"], e["value"]) for e in body["errors"]] == [
        (2, "unit_code", "CITY-B")
    ]
    assert not CaseRecord.objects.filter(case_code="H2").exists()


def test_a_reviewer_pushes_for_the_units_of_its_jurisdiction(city_reviewer, procedures):
    body = push(
        city_reviewer,
        [record("H1"), record("H2", unit="CITY-B"), record("H3", unit="PROV-DEP")],
    ).json()

    assert body["rows_new"] == 2
    assert [(e["row"], e["value"]) for e in body["errors"]] == [(3, "PROV-DEP")]


def test_a_superuser_pushes_for_any_unit(superuser, org, procedures):
    body = push(superuser, [record("H1", unit="PROV-DEP")]).json()

    assert body["rows_new"] == 1


@pytest.mark.parametrize("persona", ["leader", "no_unit_user"])
def test_a_user_who_may_write_for_no_unit_is_refused(request, persona, procedures):
    user = request.getfixturevalue(persona)

    response = push(user, [record("H1")])

    assert response.status_code == 403
    assert not ImportRun.objects.exists()
    assert not CaseRecord.objects.exists()


def test_anonymous_push_is_refused(org, procedures):
    response = push(None, [record("H1")])

    assert response.status_code == 401
    assert not ImportRun.objects.exists()


def test_push_with_an_api_token(commune_staff, procedures):
    token = Token.objects.create(user=commune_staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.post(PUSH_URL, {"records": [record("H1")]}, format="json")

    assert response.status_code == 200
    assert response.json()["rows_new"] == 1
    assert ImportRun.objects.get().user == commune_staff


def test_a_wrong_api_token_is_refused(commune_staff, procedures):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.post(PUSH_URL, {"records": [record("H1")]}, format="json")

    # 401 with the first authenticator's challenge (token authentication).
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not ImportRun.objects.exists()


def test_more_than_10000_records_are_refused_whole(commune_staff, procedures):
    records = [{"case_code": f"H{i}"} for i in range(10_001)]

    response = push(commune_staff, records)

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["field"], error["code"]) == ("records", "max_length")
    assert "10000" in error["message"]
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "records"),
        ({"records": []}, "records"),
        ({"records": "H1"}, "records"),
        # The first record is not an object: named by its position.
        ({"records": [["H1", "P1"]]}, "records.0"),
        ({"records": [record("H1")], "atomic": "maybe"}, "atomic"),
    ],
)
def test_a_malformed_envelope_is_refused(commune_staff, procedures, body, expected):
    response = client_for(commune_staff).post(PUSH_URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert [e["field"] for e in response.json()["errors"]] == [expected]
    assert not ImportRun.objects.exists()


def test_records_that_are_not_case_records_are_named_by_position(
    commune_staff, procedures
):
    response = push(
        commune_staff,
        [
            record("H1"),
            record("H2", recieved_at="2025-03-02"),
            record("H3", officer={"name": "A"}),
            {"case_code": None, "officer": ""},
        ],
    )

    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"records"}
    messages = [e["message"] for e in response.json()["errors"]]
    assert len(messages) == 3
    assert "2" in messages[0]
    assert "recieved_at" in messages[0]
    assert "3" in messages[1]
    assert "officer" in messages[1]
    assert "4" in messages[2]
    assert not ImportRun.objects.exists()


def test_a_full_batch_of_10000_records_is_accepted(commune_staff, procedures):
    """About 4.5 MB of JSON: more than Django's DATA_UPLOAD_MAX_MEMORY_SIZE."""
    records = [record(f"H{i}", officer="Nguyễn Thị Thanh Hương") for i in range(10_000)]

    response = push(commune_staff, records)

    assert response.status_code == 200
    assert response.json()["rows_new"] == 10_000


def test_a_body_over_the_size_limit_is_refused(commune_staff, procedures, monkeypatch):
    monkeypatch.setattr(views, "MAX_PUSH_BYTES", 1_000)

    response = push(commune_staff, [record(f"H{i}") for i in range(10)])

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not ImportRun.objects.exists()


def test_a_body_that_is_not_json_is_refused(commune_staff, procedures):
    response = client_for(commune_staff).post(
        PUSH_URL, b'{"records": [', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not ImportRun.objects.exists()


def test_form_encoded_pushes_are_refused(commune_staff, procedures):
    response = client_for(commune_staff).post(PUSH_URL, {"records": "H1"})

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_pushes_are_throttled_per_user(commune_staff, procedures, monkeypatch):
    monkeypatch.setattr(CasePushThrottle, "rate", "2/min")

    responses = [push(commune_staff, [record("H1")]) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    refused = responses[-1]
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0


def test_the_push_rate_is_120_a_minute():
    assert CasePushThrottle.rate == "120/min"


# --- read --------------------------------------------------------------------------


@pytest.fixture
def cases(org, procedures):
    p1, p2 = procedures
    return {
        "A1": make_case("A1", org.commune_a, p1),
        "A2": make_case(
            "A2",
            org.commune_a,
            p2,
            finished_at=datetime(2025, 3, 9, 10, 0, tzinfo=LOCAL),
            status=DossierStatus.RETURNED,
            channel=Channel.ONLINE_FULL,
        ),
        "B1": make_case("B1", org.commune_b, p1),
    }


def codes(response):
    assert response.status_code == 200, response.content
    return sorted(case["case_code"] for case in response.json()["results"])


def test_list_shows_only_the_cases_of_the_callers_units(commune_staff, cases):
    assert codes(client_for(commune_staff).get(LIST_URL)) == ["A1", "A2"]


def test_a_reviewer_lists_the_cases_of_its_jurisdiction(city_reviewer, cases):
    assert codes(client_for(city_reviewer).get(LIST_URL)) == ["A1", "A2", "B1"]


def test_a_leader_reads_cases_too(leader, cases):
    assert codes(client_for(leader).get(LIST_URL)) == ["A1", "A2", "B1"]


def test_a_user_without_units_lists_nothing(no_unit_user, cases):
    assert codes(client_for(no_unit_user).get(LIST_URL)) == []


def test_anonymous_cannot_list(cases):
    assert client_for().get(LIST_URL).status_code == 401


def test_detail_shows_codes_and_local_times(commune_staff, cases):
    response = client_for(commune_staff).get(detail_url("A2"))

    assert response.status_code == 200
    assert response.json() == {
        "case_code": "A2",
        "procedure_code": "P2",
        "unit_code": "CITY-A",
        "received_at": "2025-03-02T08:00:00+07:00",
        "due_at": "2025-03-10T17:00:00+07:00",
        "finished_at": "2025-03-09T10:00:00+07:00",
        "status": "da_tra_ket_qua",
        "channel": "truc_tuyen_toan_trinh",
        "digitized": False,
        "fee_required": False,
        "paid_online": False,
        "supplement_requests": 0,
        "satisfaction": "",
        "complaint": False,
        "officer": "",
    }


def test_another_units_case_answers_404(commune_staff, cases):
    assert client_for(commune_staff).get(detail_url("B1")).status_code == 404
    assert client_for(commune_staff).get(detail_url("NOPE")).status_code == 404


def test_a_case_code_with_slashes_has_a_detail_page(commune_staff, cases, org):
    make_case("H01/2025/7", org.commune_a, Procedure.objects.get(code="P1"))

    response = client_for(commune_staff).get(detail_url("H01/2025/7"))

    assert response.status_code == 200
    assert response.json()["case_code"] == "H01/2025/7"


def test_what_was_pushed_reads_back_the_same(commune_staff, procedures):
    pushed = record("H1", officer="Trần Thị B", satisfaction="hai_long")
    push(commune_staff, [pushed])

    assert client_for(commune_staff).get(detail_url("H1")).json() == pushed


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=da_tra_ket_qua", ["A2"]),
        ("status=dang_xu_ly", ["A1", "B1"]),
        ("channel=truc_tuyen_toan_trinh", ["A2"]),
        ("unit=CITY-B", ["B1"]),
        ("unit=CITY", []),
        ("procedure=P2", ["A2"]),
        ("finished=true", ["A2"]),
        ("finished=false", ["A1", "B1"]),
    ],
)
def test_list_filters(city_reviewer, cases, query, expected):
    assert codes(client_for(city_reviewer).get(f"{LIST_URL}?{query}")) == expected


def test_an_unknown_filter_value_is_a_400(city_reviewer, cases):
    response = client_for(city_reviewer).get(f"{LIST_URL}?status=lost")

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["status"]


def test_the_overdue_filter(commune_staff, org, procedures):
    p1 = procedures[0]
    now = timezone.now()
    week = timedelta(days=7)
    make_case(
        "OPEN-LATE", org.commune_a, p1, received_at=now - 2 * week, due_at=now - week
    )
    make_case(
        "OPEN-ON-TIME", org.commune_a, p1, received_at=now - week, due_at=now + week
    )
    make_case(
        "FINISHED-LATE",
        org.commune_a,
        p1,
        received_at=now - 3 * week,
        due_at=now - 2 * week,
        finished_at=now - week,
        status=DossierStatus.RETURNED,
    )
    make_case(
        "FINISHED-ON-TIME",
        org.commune_a,
        p1,
        received_at=now - 3 * week,
        due_at=now - week,
        finished_at=now - 2 * week,
        status=DossierStatus.RETURNED,
    )
    make_case(
        "WITHDRAWN",
        org.commune_a,
        p1,
        received_at=now - 2 * week,
        due_at=now - week,
        status=DossierStatus.WITHDRAWN,
    )
    client = client_for(commune_staff)

    assert codes(client.get(f"{LIST_URL}?overdue=true")) == [
        "FINISHED-LATE",
        "OPEN-LATE",
    ]
    assert codes(client.get(f"{LIST_URL}?overdue=false")) == [
        "FINISHED-ON-TIME",
        "OPEN-ON-TIME",
        "WITHDRAWN",
    ]


def test_the_received_range_is_in_local_days(commune_staff, org, procedures):
    p1 = procedures[0]
    # 00:30 on 2 March in Hà Nội is still 1 March in UTC.
    make_case(
        "EARLY-2-MAR",
        org.commune_a,
        p1,
        received_at=datetime(2025, 3, 2, 0, 30, tzinfo=LOCAL),
    )
    make_case(
        "LATE-1-MAR",
        org.commune_a,
        p1,
        received_at=datetime(2025, 3, 1, 23, 30, tzinfo=LOCAL),
    )
    make_case(
        "3-MAR",
        org.commune_a,
        p1,
        received_at=datetime(2025, 3, 3, 9, 0, tzinfo=LOCAL),
    )
    client = client_for(commune_staff)

    def received(query):
        return codes(client.get(f"{LIST_URL}?{query}"))

    assert received("received_from=2025-03-02") == ["3-MAR", "EARLY-2-MAR"]
    assert received("received_to=2025-03-01") == ["LATE-1-MAR"]
    assert received("received_from=2025-03-02&received_to=2025-03-02") == [
        "EARLY-2-MAR"
    ]


def test_list_ordering(city_reviewer, org, procedures):
    p1 = procedures[0]
    for code, day in (("C2", 2), ("C3", 3), ("C1", 1)):
        make_case(
            code,
            org.commune_a,
            p1,
            received_at=datetime(2025, 3, day, 8, 0, tzinfo=LOCAL),
            due_at=datetime(2025, 3, 20 - day, 8, 0, tzinfo=LOCAL),
        )
    client = client_for(city_reviewer)

    def ordered(query):
        return [
            c["case_code"] for c in client.get(f"{LIST_URL}?{query}").json()["results"]
        ]

    assert ordered("") == ["C3", "C2", "C1"]  # newest first
    assert ordered("ordering=received_at") == ["C1", "C2", "C3"]
    assert ordered("ordering=due_at") == ["C3", "C2", "C1"]


def test_a_page_costs_a_fixed_number_of_queries(
    city_reviewer, org, procedures, django_assert_max_num_queries
):
    units = [org.commune_a, org.commune_b, org.city]
    for number in range(30):
        make_case(f"Q{number:02}", units[number % 3], procedures[number % 2])
    client = client_for(city_reviewer)

    # Memberships, count, page: none per case.
    with django_assert_max_num_queries(3):
        response = client.get(LIST_URL)

    assert response.status_code == 200
    assert response.json()["count"] == 30
    assert {case["unit_code"] for case in response.json()["results"]} == {
        "CITY",
        "CITY-A",
        "CITY-B",
    }
