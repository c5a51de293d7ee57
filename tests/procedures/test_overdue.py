"""The late and overdue dossier list (/cases/late/) and its CSV download, as each
role sees them."""

import csv
import io
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from procedures import selectors
from procedures.models import CaseRecord, Channel, DossierStatus, Procedure
from procedures.parsing import LOCAL_TZ
from procedures.selectors import LateCaseFilters, LateKind
from tests.wording import vi

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
URL = "/cases/late/"
CSV_URL = "/cases/late/export.csv"

_codes = count(1)


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ)


def make_case(
    unit,
    *,
    received,
    due,
    finished=None,
    code=None,
    procedure=None,
    officer="",
    status=None,
    channel=Channel.IN_PERSON,
    supplement_requests=0,
):
    """One dossier; finished ones default to "result returned", open ones to
    "processing"."""
    if status is None:
        status = (
            DossierStatus.PROCESSING if finished is None else DossierStatus.RETURNED
        )
    return CaseRecord.objects.create(
        case_code=code or f"HS-{next(_codes):05d}",
        procedure=procedure or Procedure.objects.get_or_create(code="P1")[0],
        unit=unit,
        received_at=received,
        due_at=due,
        finished_at=finished,
        status=status,
        channel=channel,
        supplement_requests=supplement_requests,
        officer=officer,
    )


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    """The views take "now" once from django.utils.timezone.now."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def cases(org):
    """Phường A's dossiers of spring 2025, one of each kind, and one late dossier
    of Xã B and of the department."""
    procedure = Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")
    other = Procedure.objects.create(code="P2", name="Đăng ký kết hôn")
    a = org.commune_a
    return {
        "finished_late": make_case(
            a,
            code="A-LATE",
            received=local(2025, 3, 2, 8),
            due=local(2025, 3, 5, 17),
            finished=local(2025, 3, 7, 9),
            officer="Nguyễn Văn A",
            procedure=procedure,
        ),
        "open_overdue": make_case(
            a,
            code="A-OPEN",
            received=local(2025, 5, 2, 8),
            due=local(2025, 6, 1, 17),
            officer="Trần Thị B",
            procedure=other,
            channel=Channel.ONLINE_FULL,
        ),
        "many_requests": make_case(
            a,
            code="A-SUPPL",
            received=local(2025, 4, 1, 8),
            due=local(2025, 4, 20, 17),
            finished=local(2025, 4, 10, 9),
            supplement_requests=2,
            officer="Nguyễn Văn A",
        ),
        "on_time": make_case(
            a,
            code="A-OK",
            received=local(2025, 3, 2, 8),
            due=local(2025, 3, 5, 17),
            finished=local(2025, 3, 5, 17),  # exactly at the due time
        ),
        "open_not_due": make_case(
            a,
            code="A-NOTDUE",
            received=local(2025, 6, 10, 8),
            due=local(2025, 6, 30, 17),
        ),
        "withdrawn": make_case(
            a,
            code="A-WITHDRAWN",
            received=local(2025, 2, 2, 8),
            due=local(2025, 2, 5, 17),
            status=DossierStatus.WITHDRAWN,
        ),
        "other_commune": make_case(
            org.commune_b,
            code="B-LATE",
            received=local(2025, 3, 2, 8),
            due=local(2025, 3, 5, 17),
            finished=local(2025, 3, 9, 9),
        ),
        "department": make_case(
            org.department,
            code="DEP-LATE",
            received=local(2025, 3, 2, 8),
            due=local(2025, 3, 5, 17),
        ),
    }


def listed(response):
    return [case.case_code for case, _days in response.context["rows"]]


def codes(user, **filters):
    cases = selectors.late_cases(user=user, now=NOW, filters=LateCaseFilters(**filters))
    return sorted(case.case_code for case in cases)


# --- What counts as late ----------------------------------------------------------


def test_late_means_finished_after_due_open_past_due_or_asked_twice(
    cases, commune_staff
):
    """On time, exactly at the due time, not yet due and withdrawn dossiers are
    not listed."""
    assert codes(commune_staff) == ["A-LATE", "A-OPEN", "A-SUPPL"]


def test_kinds_split_finished_late_from_open_overdue(cases, commune_staff):
    assert codes(commune_staff, kind=LateKind.FINISHED) == ["A-LATE", "A-SUPPL"]
    assert codes(commune_staff, kind=LateKind.OPEN) == ["A-OPEN"]


def test_an_open_dossier_asked_twice_for_documents_is_late_before_its_due_date(
    org, commune_staff
):
    make_case(
        org.commune_a,
        code="A-OPEN-SUPPL",
        received=local(2025, 6, 1, 8),
        due=local(2025, 7, 1, 17),
        supplement_requests=2,
    )
    assert codes(commune_staff, kind=LateKind.OPEN) == ["A-OPEN-SUPPL"]


def test_days_late_round_up_and_run_to_now_while_open(cases):
    assert selectors.days_late(cases["finished_late"], NOW) == 2  # 1 day 16 hours
    # Due 1 June 17:00 local (10:00 UTC), now 15 June 12:00 UTC: 14 days 2 hours.
    assert selectors.days_late(cases["open_overdue"], NOW) == 15
    assert selectors.days_late(cases["many_requests"], NOW) == 0


# --- Who sees what ----------------------------------------------------------------


def test_staff_see_only_their_own_unit(client, cases, commune_staff):
    client.force_login(commune_staff)
    response = client.get(URL)
    assert response.status_code == 200
    assert sorted(listed(response)) == ["A-LATE", "A-OPEN", "A-SUPPL"]


def test_reviewer_sees_the_jurisdiction_and_nothing_else(client, cases, city_reviewer):
    client.force_login(city_reviewer)
    assert sorted(listed(client.get(URL))) == [
        "A-LATE",
        "A-OPEN",
        "A-SUPPL",
        "B-LATE",
    ]


def test_superuser_sees_every_unit(client, cases, superuser):
    client.force_login(superuser)
    assert "DEP-LATE" in listed(client.get(URL))


@pytest.mark.parametrize("code", ["CITY-B", "NO-SUCH-UNIT"])
def test_staff_filtering_on_another_or_missing_unit_get_404(
    client, cases, commune_staff, code
):
    client.force_login(commune_staff)
    assert client.get(URL, {"unit": code}).status_code == 404
    assert client.get(CSV_URL, {"unit": code}).status_code == 404


def test_anonymous_visitors_are_sent_to_login(client, cases):
    for url in (URL, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


# --- Filters ----------------------------------------------------------------------


def test_reviewer_filters_by_unit(client, cases, city_reviewer):
    client.force_login(city_reviewer)
    assert listed(client.get(URL, {"unit": "CITY-B"})) == ["B-LATE"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"procedure": "P2"}, ["A-OPEN"]),
        ({"officer": "Nguyễn Văn A"}, ["A-LATE", "A-SUPPL"]),
        ({"channel": Channel.ONLINE_FULL}, ["A-OPEN"]),
        ({"kind": "open"}, ["A-OPEN"]),
        ({"kind": "finished"}, ["A-LATE", "A-SUPPL"]),
        ({"year": "2025", "month": "3"}, ["A-LATE"]),
        ({"year": "2024"}, []),
        (
            {"received_from": "01/04/2025", "received_to": "02/05/2025"},
            ["A-OPEN", "A-SUPPL"],
        ),
        ({"received_from": "2025-04-02"}, ["A-OPEN"]),
        ({"received_to": "01/04/2025"}, ["A-LATE", "A-SUPPL"]),
    ],
)
def test_filters(client, cases, commune_staff, params, expected):
    client.force_login(commune_staff)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert sorted(listed(response)) == expected


def test_year_of_receipt_is_the_local_year(client, org, commune_staff):
    """Received at 06:00 on 1 January local time (23:00 UTC the day before):
    the new year's dossier."""
    make_case(
        org.commune_a,
        code="NEW-YEAR",
        received=local(2025, 1, 1, 6),
        due=local(2025, 1, 2, 17),
        finished=local(2025, 1, 6, 9),
    )
    client.force_login(commune_staff)
    assert listed(client.get(URL, {"year": "2025", "month": "1"})) == ["NEW-YEAR"]
    assert listed(client.get(URL, {"year": "2024"})) == []
    assert listed(client.get(URL, {"received_to": "31/12/2024"})) == []
    assert listed(client.get(URL, {"received_from": "01/01/2025"})) == ["NEW-YEAR"]


def test_late_in_year_keeps_what_the_766_figures_count_late(org, commune_staff):
    """Received in December, still open and overdue at the new year: late in
    both years' figures. Finished late in December: late in that year only."""
    make_case(
        org.commune_a,
        code="CARRIED",
        received=local(2024, 12, 20, 8),
        due=local(2024, 12, 27, 17),
    )
    make_case(
        org.commune_a,
        code="DECEMBER",
        received=local(2024, 12, 2, 8),
        due=local(2024, 12, 5, 17),
        finished=local(2024, 12, 9, 9),
    )
    assert codes(commune_staff, late_in_year=2024) == ["CARRIED", "DECEMBER"]
    assert codes(commune_staff, late_in_year=2025) == ["CARRIED"]
    assert codes(commune_staff, late_in_year=2026) == []  # not begun on NOW


@pytest.mark.parametrize(
    "params",
    [
        {"month": "3"},  # a month needs its year
        {"received_from": "31/02/2025"},
        {"received_from": "05/04/2025", "received_to": "01/04/2025"},
        {"year": "20255"},
        {"kind": "everything"},
    ],
)
def test_invalid_filters_are_explained_and_list_nothing(
    client, cases, commune_staff, params
):
    client.force_login(commune_staff)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert listed(response) == []
    assert 'data-testid="late-filter-errors"' in response.content.decode()
    assert client.get(CSV_URL, params).status_code == 400


# --- The page ---------------------------------------------------------------------


def test_page_shows_local_times_and_vietnamese_labels(client, cases, commune_staff):
    client.force_login(commune_staff)
    html = client.get(URL, {"kind": "open"}).content.decode()
    assert vi("Late and overdue dossiers") in html
    assert "02/05/2025 08:00" in html  # received, local time
    assert "01/06/2025 17:00" in html  # due
    assert vi("Processing") in html  # the status, in Vietnamese
    assert '<td class="days-late">15</td>' in html


def test_one_page_costs_a_fixed_number_of_queries(
    client, org, commune_staff, city_reviewer, django_assert_max_num_queries
):
    """Unit and procedure come with the page's rows: no query per row."""
    for n in range(120):
        make_case(
            org.commune_a if n % 2 else org.commune_b,
            procedure=Procedure.objects.get_or_create(code=f"P{n % 7}")[0],
            received=local(2025, 3, 1, 8) + timedelta(minutes=n),
            due=local(2025, 3, 5, 17),
            finished=local(2025, 3, 9, 9),
        )
    client.force_login(city_reviewer)
    client.get(URL)  # warm the session
    # Session, user, memberships, count, rows, the menu (2), the unread-notice
    # badge, the units of the filter: none per row.
    with django_assert_max_num_queries(9):
        first = client.get(URL)
    with django_assert_max_num_queries(9):
        second = client.get(URL, {"page": 2})
    assert len(first.context["rows"]) == 50
    assert first.context["page"].paginator.count == 120
    assert not set(listed(first)) & set(listed(second))


def test_the_pages_queries_do_not_grow_with_units_or_dossiers(
    client, org, city_reviewer
):
    """More units and ten times the dossiers, late, open and on time, in
    every kind the list offers: the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import UnitFactory

    def add(units, per_unit):
        for unit in units:
            for n in range(per_unit):
                make_case(
                    unit,
                    received=local(2025, 3, 1, 8) + timedelta(hours=n),
                    due=local(2025, 3, 5, 17),
                    finished=None if n % 3 == 0 else local(2025, 3, 4 + n % 4, 9),
                    supplement_requests=n % 3,
                )

    def queries():
        counted = []
        for kind in ("", "open", "finished"):
            with CaptureQueriesContext(connection) as found:
                assert client.get(URL, {"kind": kind}).status_code == 200
            counted.append(len(found))
        return counted

    add([org.commune_a], 6)
    client.force_login(city_reviewer)
    client.get(URL)  # warm the session
    few = queries()
    more = [UnitFactory(code=f"CITY-L{n}", parent=org.city) for n in range(4)]
    add([org.commune_a, org.commune_b, *more], 12)
    assert queries() == few


def test_metrics_page_links_to_the_units_late_list(client, cases, commune_staff):
    client.force_login(commune_staff)
    html = client.get("/units/CITY-A/metrics/", {"year": 2025}).content.decode()
    assert f"{URL}?unit=CITY-A&amp;late_year=2025" in html


def test_menu_offers_the_late_list_to_every_role(client, cases, commune_staff):
    client.force_login(commune_staff)
    items = client.get(URL).context["nav_items"]
    assert {item.key: item.url for item in items}["late_cases"] == URL


# --- CSV --------------------------------------------------------------------------


def read_csv(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def test_csv_has_the_filtered_rows_in_local_time(client, cases, commune_staff):
    client.force_login(commune_staff)
    response = client.get(CSV_URL, {"officer": "Nguyễn Văn A", "kind": "finished"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    rows = {row["case_code"]: row for row in read_csv(response)}
    assert set(rows) == {"A-LATE", "A-SUPPL"}
    late = rows["A-LATE"]
    assert late["unit_code"] == "CITY-A"
    assert late["procedure_code"] == "P1"
    assert late["received_at"] == "02/03/2025 08:00"
    assert late["finished_at"] == "07/03/2025 09:00"
    assert late["days_late"] == "2"
    assert late["status"] == DossierStatus.RETURNED
    assert late["status_label"] == vi("Result returned")
    assert rows["A-SUPPL"]["supplement_requests"] == "2"


def test_csv_is_scoped_like_the_page(client, cases, commune_staff):
    client.force_login(commune_staff)
    got = {row["case_code"] for row in read_csv(client.get(CSV_URL))}
    assert got == {"A-LATE", "A-OPEN", "A-SUPPL"}


def test_csv_cells_cannot_become_formulas(client, org, commune_staff):
    """A spreadsheet would run a cell starting with = + - @ as a formula."""
    make_case(
        org.commune_a,
        code="=HYPERLINK(1)",
        officer='@SUM(1+1)*cmd|" /C calc"!A0',
        received=local(2025, 3, 2, 8),
        due=local(2025, 3, 5, 17),
        finished=local(2025, 3, 9, 9),
    )
    Procedure.objects.filter(code="P1").update(name="-2+3")
    client.force_login(commune_staff)
    (row,) = read_csv(client.get(CSV_URL))
    assert row["case_code"] == "'=HYPERLINK(1)"
    assert row["officer"].startswith("'@")
    assert row["procedure_name"] == "'-2+3"


def test_a_long_list_is_counted_as_far_as_its_pages_go(
    client, org, city_reviewer, monkeypatch, django_assert_max_num_queries
):
    """Beyond LATE_CASES_COUNTED the list says "more than" and its pages stop
    there (the CSV keeps them all); up to it, the exact count, as before."""
    from procedures import views

    for n in range(7):
        make_case(
            org.commune_a,
            received=local(2025, 3, 1, 8) + timedelta(minutes=n),
            due=local(2025, 3, 5, 17) - timedelta(minutes=n),
            finished=local(2025, 3, 9, 9),
        )
    monkeypatch.setattr(views, "LATE_CASES_PER_PAGE", 2)
    monkeypatch.setattr(views, "LATE_CASES_COUNTED", 5)
    client.force_login(city_reviewer)
    client.get(URL)  # warm the session
    with django_assert_max_num_queries(9):
        first = client.get(URL)
    paginator = first.context["page"].paginator
    assert (paginator.count, paginator.capped, paginator.num_pages) == (5, True, 3)
    html = first.content.decode()
    assert 'data-testid="late-count-capped"' in html
    assert (
        vi(
            "More than %(shown)s dossiers: the pages stop there. Filter by unit, "
            "procedure or period, or download the CSV to have them all."
        )
        % {"shown": 5}
        in html
    )
    # The last page holds the fifth dossier; a page past it is the last.
    last = client.get(URL, {"page": 9})
    assert last.context["page"].number == 3
    assert len(listed(last)) == 1
    every = [listed(client.get(URL, {"page": n})) for n in (1, 2, 3)]
    assert len({code for page in every for code in page}) == 5
    # The CSV holds all seven.
    rows = list(csv.reader(io.StringIO(client.get(CSV_URL).getvalue().decode())))
    assert len(rows) == 1 + 7
    # Up to the limit, the exact count.
    monkeypatch.setattr(views, "LATE_CASES_COUNTED", 7)
    exact = client.get(URL)
    assert (
        exact.context["page"].paginator.count,
        exact.context["page"].paginator.capped,
    ) == (7, False)
    assert 'data-testid="late-count-capped"' not in exact.content.decode()
