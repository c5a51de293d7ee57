"""How a result's figures read on a page: points with a decimal comma, a
signed change, a rank's climb or fall.

Plain functions, shared by the results pages, the ranking's selector and
the dashboard, so that the same change reads the same everywhere."""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats


def points(value: Decimal | None) -> str:
    """1,25 (a decimal comma in Vietnamese); empty when there is no figure."""
    return "" if value is None else formats.number_format(value, decimal_pos=2)


def signed(value: Decimal | None) -> str:
    """+1,25 / -0,50 / 0,00: a change of index shows its direction."""
    if value is None:
        return ""
    return ("+" if value > 0 else "") + points(value)


def rank_change(change: int | None) -> str:
    """▲3 climbed three places, ▼2 fell two, – kept its place; empty when
    there is no earlier rank to compare with."""
    if change is None:
        return ""
    if change > 0:
        return f"▲{change}"
    if change < 0:
        return f"▼{-change}"
    return "–"
