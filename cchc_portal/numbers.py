"""Numbers as the reader's language writes them, for messages and history
lines built in Python (templates localise on their own): Vietnamese groups
thousands with a dot and writes a decimal comma ("16.788 hồ sơ", "từ 0 đến
1,50"), English the other way round ("16,788", "1.50"). The language is the
one active when the text is made: the request's, or the one a task was
handed."""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats


def number(value: int | float | Decimal, places: int | None = None) -> str:
    """``value`` with the active language's separators; ``places`` decimals,
    or as many as the value has (a Decimal keeps its own: 100.00 stays
    "100,00")."""
    return formats.number_format(
        value, decimal_pos=places, use_l10n=True, force_grouping=True
    )


def percent(value: int | float | Decimal, places: int | None = None) -> str:
    """A rate: "95,5%" in Vietnamese, "95.5%" in English."""
    return f"{number(value, places)}%"
