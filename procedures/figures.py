"""The 766 figures' vocabulary, the one place that names them: the counts kept
per unit and period (`procedures.rules.Counts`), the rates derived from them
(`procedures.rules.Metrics`) that a commitment's target or an index leaf may
read (`Rate`), and which counts make each rate. Adding a figure touches this
module, `rules.py` (how it is counted) and their tests."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from procedures import rules

# The counts stored on every UnitMetric row, in rules.Counts' order.
COUNT_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(rules.Counts))

# Every figure rules.metrics derives (rates, 766 scores, the digitisation test).
FIGURE_NAMES: tuple[str, ...] = tuple(field.name for field in fields(rules.Metrics))

COUNT_LABELS = {
    "received": _("Received"),
    "in_scope": _("In scope"),
    "on_time": _("On time"),
    "late": _("Late"),
    "online": _("Online"),
    "online_full": _("Fully online"),
    "digitized": _("Digitised"),
    "fee_required": _("Fee-bearing"),
    "paid_online": _("Paid online"),
    "complaint_or_dissatisfied": _("With a complaint or dissatisfied"),
}


class Rate(models.TextChoices):
    """The rates of rules.Metrics that a commitment's target or an index leaf
    may read (a test keeps them among rules.Metrics' fields)."""

    ON_TIME = "on_time_rate", _("Dossiers settled on time (%)")
    ONLINE = "online_rate", _("Dossiers received online (%)")
    ONLINE_FULL = "online_full_rate", _("Dossiers received fully online (%)")
    DIGITIZATION = "digitization_rate", _("Dossiers digitised (%)")
    ONLINE_PAYMENT = "online_payment_rate", _("Fees paid online (%)")
    SATISFACTION = "satisfaction_rate", _("Satisfaction (%)")


# The counts each rate is made of (rules.metrics), shown beside a value to say
# where it came from.
RATE_COUNTS: dict[str, tuple[str, ...]] = {
    Rate.ON_TIME: ("on_time", "in_scope"),
    Rate.ONLINE: ("online", "received"),
    Rate.ONLINE_FULL: ("online_full", "received"),
    Rate.DIGITIZATION: ("digitized", "received"),
    Rate.ONLINE_PAYMENT: ("paid_online", "fee_required"),
    Rate.SATISFACTION: ("late", "in_scope", "complaint_or_dissatisfied", "received"),
}

# Rates that late dossiers lower: their dossiers are on the late-dossier list.
LISTS_LATE = frozenset({Rate.ON_TIME, Rate.SATISFACTION})


def counts_from(row: Any) -> rules.Counts:
    """The counts of a stored UnitMetric row, or of a dict with its fields."""
    if isinstance(row, dict):
        return rules.Counts(**{name: row[name] for name in COUNT_FIELDS})
    return rules.Counts(**{name: getattr(row, name) for name in COUNT_FIELDS})


def rates(counts: rules.Counts) -> dict[str, Any]:
    """Every figure of rules.Metrics by name (None: no data)."""
    computed = rules.metrics(counts)
    return {name: getattr(computed, name) for name in FIGURE_NAMES}
