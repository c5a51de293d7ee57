"""Each year's rule settings (issue 17, item 10): the thresholds that were
constants, read from the year's framework of each kind of unit.

- ``lateness_threshold``: late dossiers after a reminder that make a unit
  repeatedly late (seed 003; procedures.rules.repeatedly_late, default 3);
- ``satisfaction_threshold``: the communes' mean satisfaction above which a
  district earns its bonus (seed 004, default 85%);
- the rating rule's shares and lowest tiers
  (scoring.accountability.rules.rating_proposal: 50% exceeded for
  "excellent", 50% met for "completed", tiers A, B, C).

Where a year has no framework of a kind, the defaults hold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from procedures import rules as procedure_rules
from procedures.selectors import repeated_lateness
from scoring.accountability.rules import TIER_ORDER
from scoring.models import Framework

RATING_FIELDS = (
    "excellent_exceeded_share",
    "completed_met_share",
    "excellent_min_tier",
    "good_min_tier",
    "completed_min_tier",
)
FIELDS = ("lateness_threshold", "satisfaction_threshold", *RATING_FIELDS)
PERCENT_FIELDS = (
    "satisfaction_threshold",
    "excellent_exceeded_share",
    "completed_met_share",
)
TIER_FIELDS = ("excellent_min_tier", "good_min_tier", "completed_min_tier")
# The tiers the rating rule knows, best first.
TIER_CODES = tuple(sorted(TIER_ORDER, key=TIER_ORDER.__getitem__, reverse=True))


def defaults() -> dict[str, Any]:
    return of(Framework())


def of(framework: Framework) -> dict[str, Any]:
    return {name: getattr(framework, name) for name in FIELDS}


def errors(values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with a framework's settings, by field."""
    found: dict[str, str] = {}
    threshold = values["lateness_threshold"]
    if not isinstance(threshold, int) or not 1 <= threshold <= 1000:
        found["lateness_threshold"] = _(
            "The number of late dossiers is from 1 to 1000."
        )
    for name in PERCENT_FIELDS:
        value = values[name]
        if (
            not isinstance(value, Decimal)
            or not Decimal(0) <= value <= Decimal(100)
            or value != value.quantize(Decimal("0.01"))
        ):
            found[name] = _("A percentage from 0 to 100, with at most two decimals.")
    for name in TIER_FIELDS:
        if values[name] not in TIER_ORDER:
            found[name] = _("One of the tiers %(codes)s.") % {
                "codes": ", ".join(TIER_CODES)
            }
    if not found:
        ladder = [TIER_ORDER[values[name]] for name in TIER_FIELDS]
        if not ladder[0] >= ladder[1] >= ladder[2]:
            found["good_min_tier"] = _(
                "A better rating cannot ask for a lower tier than a lesser one "
                "(excellent ≥ good ≥ completed)."
            )
    return found


def by_kind(year: int) -> dict[str, dict[str, Any]]:
    """The year's settings per kind of unit (only the kinds with a
    framework)."""
    return {
        framework.unit_kind: of(framework)
        for framework in Framework.objects.filter(year=year)
    }


def rating_parameters(settings: dict[str, Any] | None) -> dict[str, Any]:
    """rating_proposal's keyword parameters from a year's settings (none:
    its defaults)."""
    if settings is None:
        return {}
    return {name: settings[name] for name in RATING_FIELDS}


def late_unit_ids(year: int, settings: dict[str, dict[str, Any]]) -> set[int]:
    """Units repeatedly late in ``year`` after a reminder (seed 003), each
    against the threshold of its own kind's framework that year (the default
    where its kind has none). One reading at the lowest threshold, then each
    unit's own."""
    default = procedure_rules.REPEATED_LATENESS_THRESHOLD
    thresholds = {
        kind: values["lateness_threshold"] for kind, values in settings.items()
    }
    lowest = min([default, *thresholds.values()])
    return {
        flagged.unit.pk
        for flagged in repeated_lateness(year, user=None, threshold=lowest, as_of=None)
        if not flagged.officer
        and flagged.late_count >= thresholds.get(flagged.unit.kind, default)
    }
