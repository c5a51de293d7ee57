"""Numbers in messages built in Python follow the reader's language:
Vietnamese groups thousands with a dot and writes a decimal comma, English
the other way round."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from cchc_portal import numbers
from scoring.assessments.services import _points
from scoring.frameworks.services import parse_points
from scoring.models import Node


@pytest.mark.parametrize(
    ("language", "value", "places", "expected"),
    [
        ("vi", 16788, None, "16.788"),
        ("en", 16788, None, "16,788"),
        ("vi", Decimal("1.50"), None, "1,50"),
        ("en", Decimal("1.50"), None, "1.50"),
        ("vi", Decimal("100.00"), None, "100,00"),
        ("vi", Decimal("9999.99"), None, "9.999,99"),
        ("en", Decimal("9999.99"), None, "9,999.99"),
        ("vi", Decimal("2.5"), 2, "2,50"),
        ("vi", 6000, None, "6.000"),
    ],
)
def test_a_number_is_written_as_the_language_writes_it(
    language: str, value: object, places: int | None, expected: str
) -> None:
    with translation.override(language):
        assert numbers.number(value, places) == expected  # type: ignore[arg-type]


def test_a_rate_is_a_percentage_in_both_languages() -> None:
    with translation.override("vi"):
        assert numbers.percent(Decimal("95.5")) == "95,5%"
    with translation.override("en"):
        assert numbers.percent(Decimal("95.5")) == "95.5%"


def _score_error(language: str) -> str:
    leaf = Node(code="1.2", max_points=Decimal("1.50"))
    with translation.override(language), pytest.raises(ValidationError) as caught:
        _points("3", leaf, field="self_score")
    return " ".join(caught.value.messages)


def test_the_score_range_message_has_a_decimal_comma_in_vietnamese() -> None:
    assert "1,50" in _score_error("vi")
    assert "từ 0 đến 1,50" in _score_error("vi")
    assert "from 0 to 1.50" in _score_error("en")


def test_the_maximum_points_limit_is_grouped_in_each_language() -> None:
    with translation.override("vi"), pytest.raises(ValueError, match=r"9\.999,99"):
        parse_points("10000")
    with translation.override("en"), pytest.raises(ValueError, match=r"9,999\.99"):
        parse_points("10000")
