# ruff: noqa: F811 - the results fixtures imported from results/test_views
"""Downloads are rate-limited per user (cchc_portal.throttling): beyond the
export rate the page answers 429 with Retry-After and says when to retry;
another user keeps their own count."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.scoring.results.test_views import (  # noqa: F401 - fixtures
    framework_2025,
    published_2024,
    units,
)
from tests.wording import vi_n


@pytest.fixture
def two_a_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"export": "2/min"},
    }


def test_exports_beyond_the_rate_answer_429(
    client, leader, reviewer, published_2024, two_a_minute
):
    client.force_login(leader)
    csv_url = reverse("results_csv", kwargs={"year": 2024})
    xlsx_url = reverse("results_export_xlsx", kwargs={"year": 2024})
    assert client.get(csv_url).status_code == 200
    assert client.get(xlsx_url).status_code == 200
    refused = client.get(xlsx_url)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    wait = int(refused["Retry-After"])
    too_many = vi_n(
        "You have asked for many files in a short time: try again in %(seconds)s "
        "second.",
        "You have asked for many files in a short time: try again in %(seconds)s "
        "seconds.",
        wait,
    )
    assert too_many % {"seconds": wait} in refused.content.decode()
    # Someone else is not held back by the leader's downloads.
    client.force_login(reviewer)
    assert client.get(xlsx_url).status_code == 200


def test_the_default_rate_allows_a_working_session(client, leader, published_2024):
    client.force_login(leader)
    url = reverse("results_csv", kwargs={"year": 2024})
    assert all(client.get(url).status_code == 200 for _ in range(10))
