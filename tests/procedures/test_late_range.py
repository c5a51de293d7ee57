"""The late-dossier list over a range of whole months (``from``/``to``, like
the figures page's range): the dossiers the 766 figures of that range count
late, each once, as of the figures' moment when opened from them; checked
against the rules case by case."""

# ruff: noqa: F811 - the cases fixture imported from the metrics tests

import csv
import io
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from procedures import metrics, rules, selectors
from procedures.metrics import periods_between
from procedures.models import CaseRecord
from tests.procedures.figure_data import dossiers, local
from tests.procedures.test_metrics import (  # noqa: F401 - the cases fixture
    LATER,
    cases,
    facts,
    ranges,
)
from tests.wording import vi

SEVENTH = local(2026, 12, 7, 8, 0)
TWENTY_FIRST = local(2026, 12, 21, 9, 0)


def month(value: tuple[int, int]) -> str:
    return f"{value[0]:04d}-{value[1]:02d}"


def listed_codes(client, **query) -> list[str]:
    """Every code of the list, through its CSV download (the page shows 50)."""
    answer = client.get("/cases/late/export.csv", query)
    assert answer.status_code == 200
    text = b"".join(answer.streaming_content).decode().lstrip("\ufeff")
    return [row["case_code"] for row in csv.DictReader(io.StringIO(text))]


@pytest.mark.parametrize("unit", ["CITY-A", "CITY-B"])
def test_the_list_holds_exactly_the_dossiers_a_range_counts_late(
    client, cases, reviewer, unit
):
    """Random ranges over November 2024 to May 2025, all over by now: the
    list is the set of dossiers the rules classify late over the range, and
    as many as the range's figures count."""
    owner = cases.commune_a if unit == "CITY-A" else cases.commune_b
    metrics.metrics_recompute(
        unit_ids=[owner.pk], periods=periods_between((2024, 11), LATER), as_of=LATER
    )
    records = list(CaseRecord.objects.filter(unit=owner))
    client.force_login(reviewer)
    for span in ranges(seed=17, n=6):
        expected = {
            r.case_code
            for r in records
            if rules.classify(facts(r), span.period, as_of=LATER).late
        }
        codes = listed_codes(
            client, unit=unit, **{"from": month(span.first), "to": month(span.last)}
        )
        assert len(codes) == len(set(codes))
        assert set(codes) == expected, span
        stored = selectors.range_counts([owner.pk], span)
        late = stored[owner.pk][0].late if owner.pk in stored else 0
        assert len(codes) == late, span
        page = client.get(
            "/cases/late/",
            {"unit": unit, "from": month(span.first), "to": month(span.last)},
        )
        assert page.context["page"].paginator.count == len(expected)


def test_the_range_row_of_the_figures_links_to_what_it_counts(
    client, org, commune_staff, monkeypatch
):
    """Figures judged on the 7th count one dossier late in November to
    December; by the 21st a second has fallen due. Opened from the range's
    row, the list holds the one counted, as of the 7th; up to now, both."""
    dossiers(
        org.commune_a,
        [
            ("LATE-BY-7TH", local(2026, 12, 1, 8), local(2026, 12, 4, 17), None),
            ("DUE-20TH", local(2026, 12, 1, 8), local(2026, 12, 20, 17), None),
            ("OCTOBER", local(2026, 10, 1, 8), local(2026, 10, 2, 17), None),
        ],
    )
    metrics.metrics_recompute(
        unit_ids=[org.commune_a.pk],
        periods=periods_between((2026, 10), SEVENTH),
        as_of=SEVENTH,
    )
    monkeypatch.setattr("django.utils.timezone.now", lambda: TWENTY_FIRST)
    client.force_login(commune_staff)
    page = client.get(
        "/units/CITY-A/metrics/", {"year": 2026, "from": "2026-11", "to": "2026-12"}
    )
    span_row = page.context["span_row"]
    assert span_row.as_of == SEVENTH
    href = next(
        line.split('href="', 1)[1].split('"', 1)[0]
        for line in page.content.decode().splitlines()
        if 'data-testid="range-late-link"' in line
    ).replace("&amp;", "&")
    query = parse_qs(urlsplit(href).query)
    assert (query["from"], query["to"]) == (["2026-11"], ["2026-12"])
    assert datetime.fromisoformat(query["as_of"][0]) == SEVENTH

    listed = client.get(href)
    codes = [row[0].case_code for row in listed.context["rows"]]
    # OCTOBER is late, but carried into November: counted late there too.
    assert sorted(codes) == ["LATE-BY-7TH", "OCTOBER"]
    assert len(codes) == span_row.counts.late
    body = listed.content.decode()
    assert 'data-testid="late-as-of"' in body
    assert "11/2026 – 12/2026" in body
    now = client.get(
        "/cases/late/", {"unit": "CITY-A", "from": "2026-11", "to": "2026-12"}
    )
    assert now.context["page"].paginator.count == 3
    # December alone leaves out nothing carried in: OCTOBER was still open.
    december = client.get(
        "/cases/late/", {"unit": "CITY-A", "from": "2026-12", "to": "2026-12"}
    )
    assert december.context["page"].paginator.count == 3
    # A range over before the dossiers were received lists none of them.
    summer = client.get(
        "/cases/late/", {"unit": "CITY-A", "from": "2026-06", "to": "2026-09"}
    )
    assert summer.context["page"].paginator.count == 0


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            {"from": "2026-01"},
            "to",
            "Give both ends of the range: from and to (yyyy-mm).",
        ),
        (
            {"to": "2026-01"},
            "from",
            "Give both ends of the range: from and to (yyyy-mm).",
        ),
        (
            {"from": "2026-05", "to": "2026-02"},
            "to",
            "The range ends before it starts.",
        ),
        (
            {"from": "2026-13", "to": "2026-12"},
            "from",
            "Enter a month as yyyy-mm (2026-01 for January 2026).",
        ),
    ],
)
def test_a_range_the_list_cannot_read_is_a_filter_error(
    client, org, commune_staff, query, field, message
):
    client.force_login(commune_staff)
    response = client.get("/cases/late/", query)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert vi(message) in response.content.decode()
    assert response.context["page"].paginator.count == 0
    download = client.get("/cases/late/export.csv", query)
    assert download.status_code == 400
