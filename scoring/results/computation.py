"""The year's computation: every assessment of the year's frameworks turned
into points, an index, a tier, a rank and its change, with the detail an
explanation needs (DOMAIN.md sections 5 and 6).

``calculate(year)`` reads everything and returns the results without
writing; ``run(run_id)`` writes them for a ComputationRun. The arithmetic is
scoring.rules; this module only gathers its inputs, in a number of queries
that does not grow with the number of units (units are read in batches of
BATCH, a fixed number of queries each).

A run replaces the year's provisional results in one transaction: a worker
killed halfway leaves the previous results as they were, and the next run
starts again from the inputs. Running twice gives identical results: nothing
depends on the clock or on the order rows come back in."""

from __future__ import annotations

import functools
import gc
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cchc_portal import numbers
from commitments.organisation.models import Unit, UnitKind
from procedures import selectors as procedure_selectors
from procedures.figures import RATE_COUNTS
from procedures.rules import Counts, figure
from procedures.rules import metrics as rates_of
from scoring import access, rules
from scoring.accountability import services as accountability
from scoring.frameworks.survey import figures_in_use
from scoring.models import (
    Adjustment,
    AdjustmentRule,
    AdjustmentState,
    Assessment,
    AssessmentState,
    ComputationRun,
    CriterionRank,
    Framework,
    Method,
    Node,
    Publication,
    PublishedResult,
    Result,
    RunError,
    RunState,
    Score,
    run_error_text,
)

logger = logging.getLogger(__name__)

BATCH = 500  # assessments read at a time
# Two places, like every stored point: sums keep them, so texts need no rounding.
ZERO = Decimal("0.00")

CRITERION_RANK_RULE = "criterion_rank_improved"
SATISFACTION_RULE = "communes_satisfaction_above_85"
LATE_RULE = "late_submission"


class ComputationError(Exception):
    """The year cannot be computed (no framework, a broken scoring rule):
    a cause (RunError) and what it names, put into words in the language
    active where it is read."""

    def __init__(self, code: RunError, **params: Any) -> None:
        super().__init__(code.value)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        return run_error_text(self.code, self.params) or self.code.value


def text(value: Decimal | None) -> str | None:
    """Points as "12.50". A value that already has two places (scores read
    from the database, sums of them) is written as it is; anything else is
    rounded half up first."""
    if value is None:
        return None
    written = str(value)
    dot = written.find(".")
    if dot != -1 and len(written) - dot == 3 and "E" not in written:
        return written
    return str(rules.points(value))


# Inside a unit's computation points are whole hundredths (ints): exactly the
# Decimals of two places every score and maximum is stored with, and many times
# faster to add and compare. They become Decimals again for the index. A year
# has few distinct scores, so their conversions are cached.


@functools.cache
def cents(written: str | None) -> int | None:
    """Points as the database writes them as text ("2.5", "2.50", "2") in
    hundredths of a point."""
    if written is None:
        return None
    negative = written.startswith("-")
    whole, _dot, fraction = written.lstrip("-").partition(".")
    if len(fraction) > 2:
        exact = (Decimal(written) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return int(exact)
    value = int(whole or "0") * 100 + int((fraction + "00")[:2])
    return -value if negative else value


@functools.cache
def shown(hundredths: int) -> str:
    """Hundredths as "12.50"."""
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{part:02d}"


def decimal(hundredths: int) -> Decimal:
    return Decimal(hundredths).scaleb(-2)


# --- parameters: what the results are computed with -------------------------------


def framework_parameters(
    framework: Framework,
    nodes: Sequence[Node],
    rule_rows: Sequence[AdjustmentRule],
) -> dict[str, Any]:
    """The framework as the computation reads it, as JSON: stored with every
    run and in every publication, so that an explanation shows the maxima,
    methods and points per case the published figures came from."""
    codes = {node.pk: node.code for node in nodes}
    maximum = sum((n.max_points for n in nodes if n.parent_id is None), ZERO)
    return {
        "id": framework.pk,
        "year": framework.year,
        "unit_kind": framework.unit_kind,
        "name": framework.name,
        "maximum": text(maximum),
        "nodes": [
            {
                "code": node.code,
                "parent": codes.get(node.parent_id) if node.parent_id else None,
                "level": node.level,
                "title": node.title,
                "max": text(node.max_points),
                "method": node.method,
                "metric": node.metric,
                "scoring": node.scoring,
                "params": node.scoring_params,
            }
            for node in nodes
        ],
        "tiers": [
            {"code": t.code, "label": t.label, "min_index": text(t.min_index)}
            for t in framework.tiers.order_by("-min_index")
        ],
        "rules": [
            {
                "code": r.code,
                "title": r.title,
                "points_per_case": text(r.points_per_case),
                "cap": text(r.cap),
            }
            for r in rule_rows
        ],
        # The year's settings the results were computed with (item 10).
        "settings": {
            "satisfaction_threshold": text(framework.satisfaction_threshold),
            "deadline": framework.deadline.isoformat() if framework.deadline else None,
        },
    }


ScoreText = tuple[str | None, str | None, str]  # self, appraised, reason
# Points in hundredths, the entry in the detail and the entry as JSON text.
Entries = dict[ScoreText, tuple[int, dict[str, str], str]]
# A metric leaf and what its points depend on besides the unit's figures.
MetricLeaf = tuple[Node, tuple[Any, ...]]
Leaf = tuple[int, int, str, int, MetricLeaf | None, bool, Entries]


def appraised_entry(score: ScoreText, most: int) -> tuple[int, dict[str, str]]:
    """A scored leaf's points in hundredths (within 0 and ``most``) and its
    entry in the detail, from (self score, appraised score, reason) as the
    database writes them."""
    self_score, appraised, reason = score
    entry: dict[str, str] = {}
    got = 0
    if self_score is not None:
        entry["s"] = shown(cents(self_score) or 0)
    if appraised is not None:
        got = cents(appraised) or 0
        entry["a"] = shown(got)
    if reason:
        entry["r"] = reason
    got = 0 if got < 0 else most if got > most else got
    entry["p"] = shown(got)
    return got, entry


@dataclass
class Tree:
    """A framework's nodes in pre-order, ready for one unit after another."""

    params: dict[str, Any]
    node_ids: list[int]
    codes: list[str]
    parents: list[int | None]  # index of the parent in the lists, or None
    maxima: list[Decimal]
    maxima_cents: list[int]
    leaves: list[bool]
    leaf_indices: list[int]
    metric_nodes: dict[int, Node]  # index → the metric leaf
    nodes_by_id: dict[int, Node]
    maximum: Decimal
    tiers: list[tuple[str, Decimal]]
    tier_labels: dict[str, str]
    rules: dict[str, AdjustmentRule]
    has_metrics: bool
    survey_leaves: dict[int, bool] = field(default_factory=dict)  # index → leaf
    satisfaction_threshold: Decimal = Decimal(85)  # rules.COMMUNES_…_THRESHOLD
    deadline: Any = None
    # Derived once for every unit (see __post_init__): each leaf as
    # (index, node id, code, maximum in hundredths, the metric leaf or None,
    # fed by the survey?, its entries), the inner nodes' and the fields'
    # indices. A leaf's entries are its points in hundredths and its entry in
    # the detail for each (self score, appraised score, reason) seen: a year
    # repeats few of them, so each is worked out once.
    plan: list[Leaf] = field(init=False, repr=False)
    inner: list[int] = field(init=False, repr=False)
    fields: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.plan = [
            (
                i,
                self.node_ids[i],
                self.codes[i],
                self.maxima_cents[i],
                self._metric(i),
                bool(self.survey_leaves.get(i)),
                {},
            )
            for i in self.leaf_indices
        ]
        self.inner = [i for i, leaf in enumerate(self.leaves) if not leaf]
        self.fields = [i for i, parent in enumerate(self.parents) if parent is None]

    @classmethod
    def of(cls, framework: Framework) -> Tree:
        nodes = list(framework.nodes.order_by("position", "pk"))
        rule_rows = list(framework.adjustment_rules.all())
        params = framework_parameters(framework, nodes, rule_rows)
        place = {node.pk: i for i, node in enumerate(nodes)}
        has_children = {node.parent_id for node in nodes}
        return cls(
            params=params,
            node_ids=[node.pk for node in nodes],
            codes=[node.code for node in nodes],
            parents=[
                place[node.parent_id] if node.parent_id else None for node in nodes
            ],
            maxima=[node.max_points for node in nodes],
            maxima_cents=[int(node.max_points * 100) for node in nodes],
            leaves=[node.pk not in has_children for node in nodes],
            leaf_indices=[
                i for i, node in enumerate(nodes) if node.pk not in has_children
            ],
            metric_nodes={
                i: node
                for i, node in enumerate(nodes)
                if node.method == Method.METRIC and node.pk not in has_children
            },
            survey_leaves={
                i: True
                for i, node in enumerate(nodes)
                if node.method == Method.SURVEY and node.pk not in has_children
            },
            nodes_by_id={node.pk: node for node in nodes},
            maximum=Decimal(params["maximum"]),
            tiers=[(t.code, t.min_index) for t in framework.tiers.all()],
            tier_labels={t.code: t.label for t in framework.tiers.all()},
            rules={rule.code: rule for rule in rule_rows},
            has_metrics=any(node.method == Method.METRIC for node in nodes),
            satisfaction_threshold=framework.satisfaction_threshold,
            deadline=framework.deadline,
        )

    def _metric(self, i: int) -> MetricLeaf | None:
        node = self.metric_nodes.get(i)
        if node is None:
            return None
        params = json.dumps(node.scoring_params, sort_keys=True)
        return node, (node.metric, node.scoring, params, self.maxima_cents[i])

    def totals(self, leaf_points: Sequence[int]) -> list[int]:
        """Every node's points in hundredths, as rules.totals adds them: a
        leaf's own within 0 and its maximum, an inner node the sum of its
        children within its maximum. The lists are in pre-order (a child
        always after its parent), so one backward pass sums."""
        raw = list(leaf_points)
        value = [0] * len(raw)
        maxima, parents = self.maxima_cents, self.parents
        for i in range(len(raw) - 1, -1, -1):
            got = raw[i]
            got = 0 if got < 0 else maxima[i] if got > maxima[i] else got
            value[i] = got
            parent = parents[i]
            if parent is not None:
                raw[parent] += got
        return value


# --- what one unit's result is made of ---------------------------------------------


@dataclass
class Row:
    """One unit's result, before it is written as a Result."""

    framework_id: int
    unit_id: int
    unit_code: str
    group_id: int | None
    approved: bool
    obtained: Decimal
    adjustments: Decimal
    final: Decimal
    maximum: Decimal
    index: Decimal | None
    field_indices: dict[str, str | None]
    tier: str
    tier_label: str
    detail: dict[str, Any]
    rank: int | None = None
    previous_rank: int | None = None
    previous_index: Decimal | None = None
    rank_change: int | None = None
    index_change: Decimal | None = None
    # The detail as the Result's field writes it (JSONText), made with it.
    detail_text: str | None = None

    COLUMNS = (
        "framework_id",
        "unit_id",
        "group_id",
        "approved",
        "obtained",
        "adjustments",
        "final",
        "maximum",
        "index",
        "field_indices",
        "tier",
        "tier_label",
        "rank",
        "previous_rank",
        "previous_index",
        "rank_change",
        "index_change",
        "detail",
    )

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.COLUMNS}


def columns_of(result: Any) -> dict[str, Any]:
    """The same columns read back from a Result or PublishedResult, for
    comparing a fresh calculation with what is stored."""
    return {name: getattr(result, name) for name in Row.COLUMNS}


# JSON as JSONText writes it (json.dumps with these options builds this
# encoder at every call).
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def detail_text(detail: Mapping[str, Any], written: Mapping[str, str]) -> str:
    """``detail`` as JSON text, exactly as JSONText writes it, taking the
    values of the keys in ``written`` as already written."""
    return (
        "{"
        + ",".join(
            f"{_json(key)}:{written[key] if key in written else _json(value)}"
            for key, value in detail.items()
        )
        + "}"
    )


def metric_leaf(
    node: Node, counts: Counts | None, maximum: Decimal
) -> tuple[Decimal, dict[str, Any]]:
    """A metric leaf's points and the inputs they came from."""
    rate = None
    inputs: dict[str, Any] = {"name": node.metric}
    if counts is not None:
        # The one figure the leaf is scored on, worked out alone.
        rate = figure(counts, node.metric)
        for name in RATE_COUNTS.get(node.metric, ()):
            inputs[name] = getattr(counts, name)
    inputs["rate"] = text(rate)
    try:
        got = rules.metric_points(node.scoring, node.scoring_params, rate, maximum)
    except rules.ScoringError as exc:
        # The framework came with its nodes (framework.nodes): no query.
        raise ComputationError(
            RunError.SCORING,
            framework=node.framework.name,
            leaf=node.code,
            detail=str(exc),
        ) from exc
    return (got if got is not None else ZERO), inputs


def adjustment_entry(adjustment: Adjustment) -> dict[str, Any]:
    return {
        "id": adjustment.pk,
        "rule": adjustment.rule.code,
        "cases": adjustment.cases,
        "points": text(adjustment.points),
        "reason": adjustment.reason,
        "evidence": adjustment.evidence,
        "state": adjustment.state,
        "computed": adjustment.proposed_by_computation,
        "decided_by": (
            adjustment.decided_by.get_full_name() or adjustment.decided_by.username
            if adjustment.decided_by
            else None
        ),
        "decided_at": (
            timezone.localtime(adjustment.decided_at).strftime("%d/%m/%Y")
            if adjustment.decided_at
            else None
        ),
    }


def counted_adjustments(
    tree: Tree, approved: Iterable[Adjustment]
) -> tuple[Decimal, dict[str, dict[str, str | None]]]:
    """The approved records' points, rule by rule, within each rule's cap:
    (the total, {rule: {"entered": sum of its records, "counted": after the
    cap}})."""
    by_rule: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for adjustment in approved:
        by_rule[adjustment.rule.code] += adjustment.points
    summary: dict[str, dict[str, str | None]] = {}
    total = ZERO
    for code, entered in sorted(by_rule.items()):
        rule = tree.rules.get(code)
        counted = entered
        if rule is not None and rule.cap is not None:
            counted = max(-rule.cap, min(rule.cap, entered))
        summary[code] = {"entered": text(entered), "counted": text(counted)}
        total += counted
    return total, summary


def unit_row(
    *,
    tree: Tree,
    assessment: Mapping[str, Any],
    scores: Mapping[int, ScoreText],
    counts: Counts | None,
    adjustments: Sequence[Adjustment],
    survey: tuple[str, Decimal] | None = None,
) -> Row:
    """One unit: its leaves (appraised and survey points as the reviewer
    set them; metric leaves from the year's dossier figures), the capped
    totals, the approved adjustments within their caps, the index.
    ``scores`` maps node ids to (self score, appraised score, reason), the
    scores as the database writes them as text. ``survey`` is the unit's
    imported survey figure (source, rate %): its survey leaves then earn
    that share of their maximum; without one, what the reviewer entered."""
    points = [0] * len(tree.codes)
    leaves: dict[str, dict[str, Any]] = {}
    nothing: ScoreText = (None, None, "")
    # Metric leaves of one unit share their rate: each (metric, scoring,
    # maximum) is scored once.
    metrics: dict[tuple[Any, ...], tuple[Decimal, dict[str, Any]]] = {}
    # Each leaf's entry as JSON text too: most are the same few, so the
    # detail's text is mostly pieces already written (see detail_text).
    texts: list[str] = []
    entry: dict[str, Any]
    for i, node_id, code, most, metric, survey_leaf, entries in tree.plan:
        if metric is not None:
            node, key = metric
            scored = metrics.get(key)
            if scored is None:
                scored = metrics[key] = metric_leaf(node, counts, tree.maxima[i])
            entry = {"m": dict(scored[1])}
            got = int(scored[0] * 100)
        elif survey is not None and survey_leaf:
            entry = {}
            source, rate = survey
            got = int(rules.survey_points(tree.maxima[i], rate) * 100)
            entry["sv"] = {"source": source, "rate": text(rate)}
        else:
            score = scores.get(node_id, nothing)
            found = entries.get(score)
            if found is None:
                got, made = appraised_entry(score, most)
                found = entries[score] = (got, made, f"{_json(code)}:{_json(made)}")
            points[i] = found[0]
            leaves[code] = dict(found[1])
            texts.append(found[2])
            continue
        got = 0 if got < 0 else most if got > most else got
        points[i] = got
        entry["p"] = shown(got)
        leaves[code] = entry
        texts.append(f"{_json(code)}:{_json(entry)}")
    values = tree.totals(points)
    obtained = decimal(sum(values[i] for i in tree.fields))
    adjustment_total, per_rule = counted_adjustments(tree, adjustments)
    final = rules.final_points(
        obtained=obtained, adjustments=[adjustment_total], maximum=tree.maximum
    )
    index = rules.index_of(final, tree.maximum)
    field_indices = {
        tree.codes[i]: text(rules.index_of(decimal(values[i]), tree.maxima[i]))
        for i in tree.fields
    }
    tier = rules.tier_for(index, tree.tiers) if index is not None else None
    row = Row(
        framework_id=tree.params["id"],
        unit_id=assessment["unit_id"],
        unit_code=assessment["unit__code"],
        group_id=assessment["unit__ranking_group_id"],
        approved=assessment["state"] == AssessmentState.APPROVED,
        obtained=obtained,
        adjustments=final - obtained,
        final=final,
        maximum=tree.maximum,
        index=index,
        field_indices=field_indices,
        tier=tier or "",
        tier_label=tree.tier_labels.get(tier or "", ""),
        detail={
            "assessment": assessment["id"],
            "state": assessment["state"],
            "leaves": leaves,
            "nodes": {tree.codes[i]: shown(values[i]) for i in tree.inner},
            "adjustments": [adjustment_entry(a) for a in adjustments],
            "adjustments_by_rule": per_rule,
            "adjustments_entered": text(adjustment_total),
        },
    )
    row.detail_text = detail_text(row.detail, {"leaves": "{" + ",".join(texts) + "}"})
    return row


# --- proposals: bonuses that follow from the data -------------------------------------


@dataclass(frozen=True)
class Proposal:
    framework_id: int
    unit_id: int
    rule: AdjustmentRule
    cases: int
    reason: str


def criterion_rank_proposals(
    year: int, trees: Mapping[int, Tree], units: Mapping[int, dict[str, Any]]
) -> list[Proposal]:
    """A department whose criterion of the province's PAR INDEX or PCI rose
    in rank against last year: one case per criterion (the rule's cap
    limits the total)."""
    ranks: dict[tuple[int, str, str], int] = {}
    titles: dict[tuple[str, str], str] = {}
    owners: dict[tuple[str, str], int] = {}
    for row in CriterionRank.objects.filter(year__in=[year - 1, year]).values(
        "year", "index", "code", "title", "rank", "owner_unit_id"
    ):
        ranks[(row["year"], row["index"], row["code"])] = row["rank"]
        if row["year"] == year:
            titles[(row["index"], row["code"])] = row["title"]
            owners[(row["index"], row["code"])] = row["owner_unit_id"]
    improved: dict[int, list[str]] = defaultdict(list)
    for key, owner in owners.items():
        before = ranks.get((year - 1, *key))
        now = ranks[(year, *key)]
        if before is not None and now < before:
            improved[owner].append(
                f"{key[0].upper()} {key[1]} {titles[key]}: {before} → {now}"
            )
    found = []
    for framework_id, tree in trees.items():
        rule = tree.rules.get(CRITERION_RANK_RULE)
        if rule is None:
            continue
        for unit_id, lines in sorted(improved.items()):
            unit = units.get(unit_id)
            if unit is None or unit["framework_id"] != framework_id:
                continue
            found.append(
                Proposal(
                    framework_id,
                    unit_id,
                    rule,
                    len(lines),
                    _("Criterion ranks of the province improved on last year: ")
                    + "; ".join(sorted(lines)),
                )
            )
    return found


def survey_figures(year: int) -> dict[int, tuple[str, Decimal]]:
    """Each unit's imported survey figure of the year, the one that feeds
    its survey leaves (frameworks.survey.figures_in_use): (source, rate %)."""
    return {
        unit_id: (figure.source, figure.rate)
        for unit_id, figure in figures_in_use(year).items()
    }


def satisfaction_proposals(
    year: int,
    trees: Mapping[int, Tree],
    units: Mapping[int, dict[str, Any]],
    figures: Mapping[int, tuple[str, Decimal]] | None = None,
) -> list[Proposal]:
    """A district whose communes' mean satisfaction rate of the year is
    above its framework's threshold (85% by default). A commune's rate is its
    imported survey figure (``figures``), else the case records' estimate;
    the reason says how many of each were used."""
    figures = figures or {}
    found: list[Proposal] = []
    districts = {
        unit_id: unit
        for unit_id, unit in units.items()
        if SATISFACTION_RULE in trees[unit["framework_id"]].rules
    }
    if not districts:
        return found
    start, end = datetime(year, 1, 1).date(), datetime(year, 12, 31).date()
    paths = Q(pk__in=[])
    for unit in districts.values():
        paths |= Q(path__startswith=unit["unit__path"])
    communes = dict(
        Unit.objects.filter(paths, kind=UnitKind.COMMUNE, valid_from__lte=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
        .values_list("id", "path")
    )
    # (rate, from the survey?) per commune path.
    rates: dict[str, list[tuple[Decimal | None, bool]]] = defaultdict(list)
    counted = procedure_selectors.year_counts(year, communes)
    for unit_id, path in communes.items():
        if unit_id in figures:
            rates[path].append((figures[unit_id][1], True))
        elif unit_id in counted:
            rates[path].append((rates_of(counted[unit_id]).satisfaction_rate, False))
    for unit_id, unit in sorted(districts.items()):
        mine = [
            value
            for path, values in rates.items()
            if path.startswith(unit["unit__path"])
            for value in values
        ]
        tree = trees[unit["framework_id"]]
        threshold = tree.satisfaction_threshold
        if rules.communes_satisfaction_bonus([r for r, _s in mine], threshold):
            known = [(r, survey) for r, survey in mine if r is not None]
            mean = rules.points(sum((r for r, _s in known), ZERO) / len(known))
            surveyed = sum(1 for _r, survey in known if survey)
            found.append(
                Proposal(
                    unit["framework_id"],
                    unit_id,
                    tree.rules[SATISFACTION_RULE],
                    1,
                    _(
                        "The mean satisfaction rate of the district's %(count)d "
                        "communes in %(year)d is %(rate)s%%, above %(threshold)s%%."
                    )
                    % {
                        "count": len(known),
                        "year": year,
                        "rate": numbers.number(mean),
                        "threshold": numbers.number(threshold.normalize()),
                    }
                    + " "
                    + _(
                        "Rates from the imported survey figures: %(surveyed)d; "
                        "estimated from the case records: %(estimated)d."
                    )
                    % {"surveyed": surveyed, "estimated": len(known) - surveyed},
                )
            )
    return found


def late_proposals(
    trees: Mapping[int, Tree], units: Mapping[int, dict[str, Any]]
) -> list[Proposal]:
    """A unit whose self-assessment was not submitted by the deadline and
    was taken for appraisal as it stood when the cycle closed ("quá hạn"),
    where its framework's catalogue deducts for it (issue 17, item 9)."""
    found = []
    for unit_id, unit in sorted(units.items()):
        tree = trees[unit["framework_id"]]
        rule = tree.rules.get(LATE_RULE)
        if not unit["late"] or rule is None:
            continue
        found.append(
            Proposal(
                unit["framework_id"],
                unit_id,
                rule,
                1,
                _(
                    "The self-assessment was not submitted by the deadline "
                    "(%(deadline)s): Home Affairs took it for appraisal as it "
                    "stood when the cycle closed."
                )
                % {
                    "deadline": tree.deadline.strftime("%d/%m/%Y")
                    if tree.deadline
                    else "—"
                },
            )
        )
    return found


# --- the year -----------------------------------------------------------------------


@dataclass
class Calculation:
    year: int
    parameters: dict[str, Any]  # {framework id (str): framework_parameters}
    rows: list[Row] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)


Progress = Any  # a callable(stage: str, done: int) or None


def _previous(year: int) -> tuple[dict[int, int], dict[int, Decimal]]:
    """Ranks and indices of the previous year's latest publication."""
    latest = Publication.objects.filter(year=year - 1).order_by("-version").first()
    if latest is None:
        return {}, {}
    ranks, indices = {}, {}
    for unit_id, rank, index in PublishedResult.objects.filter(
        publication=latest
    ).values_list("unit_id", "rank", "index"):
        if rank is not None:
            ranks[unit_id] = rank
        if index is not None:
            indices[unit_id] = index
    return ranks, indices


def rank_rows(year: int, rows: Sequence[Row]) -> None:
    """Ranks within each ranking group (units without one: within their
    framework) among approved assessments, and the change on last year."""
    groups: dict[tuple[str, int], dict[int, Decimal]] = defaultdict(dict)
    for row in rows:
        if row.approved and row.index is not None:
            key = ("g", row.group_id) if row.group_id else ("f", row.framework_id)
            groups[key][row.unit_id] = row.index
    current_ranks: dict[int, int] = {}
    for indices in groups.values():
        current_ranks.update(rules.ranks(indices))
    current_indices = {
        row.unit_id: row.index for row in rows if row.unit_id in current_ranks
    }
    previous_ranks, previous_indices = _previous(year)
    predecessors: dict[int, list[int]] = defaultdict(list)
    for unit_id, before in Unit.predecessors.through.objects.filter(
        from_unit_id__in=list(current_ranks)
    ).values_list("from_unit_id", "to_unit_id"):
        predecessors[unit_id].append(before)
    found = rules.changes(
        current_ranks=current_ranks,
        current_indices=current_indices,  # type: ignore[arg-type]
        previous_ranks=previous_ranks,
        previous_indices=previous_indices,
        predecessors=predecessors,
    )
    for row in rows:
        row.rank = current_ranks.get(row.unit_id)
        change = found.get(row.unit_id)
        if change is not None:
            row.previous_rank = change.previous_rank
            row.previous_index = change.previous_index
            row.rank_change = change.rank_change
            row.index_change = change.index_change


def _rows(values: Any) -> list[tuple[Any, ...]]:
    """The rows of a values_list() query as the driver returns them, in one
    fetch: its columns need no conversion (ids, texts), and a year's scores
    are hundreds of thousands of rows."""
    sql, params = values.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _batches[T](items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def calculate(year: int, progress: Progress = None) -> Calculation:
    """The year's results from its inputs, without writing anything."""
    frameworks = list(
        Framework.objects.filter(year=year).prefetch_related(
            "tiers", "adjustment_rules"
        )
    )
    if not frameworks:
        raise ComputationError(RunError.NO_FRAMEWORK, year=year)
    trees = {framework.pk: Tree.of(framework) for framework in frameworks}
    calculation = Calculation(
        year=year,
        parameters={str(pk): tree.params for pk, tree in trees.items()},
    )
    assessments = list(
        Assessment.objects.filter(framework__year=year)
        .order_by("unit__code")
        .values(
            "id",
            "framework_id",
            "state",
            "unit_id",
            "unit__code",
            "unit__path",
            "unit__ranking_group_id",
            "late",
        )
    )
    units: dict[int, dict[str, Any]] = {
        row["unit_id"]: dict(row) for row in assessments
    }
    figures = survey_figures(year)
    calculation.proposals = (
        criterion_rank_proposals(year, trees, units)
        + satisfaction_proposals(year, trees, units, figures)
        + late_proposals(trees, units)
    )
    # Only approved records count (and show in the detail); proposals wait
    # on the adjustments page for a reviewer.
    adjustments: dict[tuple[int, int], list[Adjustment]] = defaultdict(list)
    for adjustment in (
        Adjustment.objects.filter(framework__year=year, state=AdjustmentState.APPROVED)
        .select_related("rule", "decided_by")
        .order_by("rule__position", "entered_at", "pk")
    ):
        adjustments[(adjustment.framework_id, adjustment.unit_id)].append(adjustment)
    metric_names = {
        node.metric
        for tree in trees.values()
        for node in tree.nodes_by_id.values()
        if node.method == Method.METRIC
    }
    # The year's figures of every unit: one row each, one query.
    counts: dict[int, Counts] = (
        procedure_selectors.year_counts(year) if metric_names else {}
    )
    done = 0
    # Scores by batches of assessments in id order: the id range lets the
    # database walk the (assessment, node) index instead of scanning every
    # year's scores for each batch.
    assessments.sort(key=lambda row: row["id"])
    for batch in _batches(assessments, BATCH):
        ids = [row["id"] for row in batch]
        scores: dict[int, dict[int, tuple[str | None, str | None, str]]] = defaultdict(
            dict
        )
        for assessment_id, node_id, self_score, appraised, reason in _rows(
            Score.objects.filter(assessment_id__gte=ids[0], assessment_id__lte=ids[-1])
            .filter(assessment_id__in=ids)
            # Score's default ordering joins the nodes and sorts: not needed.
            .order_by()
            .annotate(
                self_text=Cast("self_score", TextField()),
                appraised_text=Cast("appraised_score", TextField()),
            )
            .values_list(
                "assessment_id",
                "node_id",
                "self_text",
                "appraised_text",
                "appraisal_reason",
            )
        ):
            scores[assessment_id][node_id] = (self_score, appraised, reason)
        for assessment in batch:
            calculation.rows.append(
                unit_row(
                    tree=trees[assessment["framework_id"]],
                    assessment=assessment,
                    scores=scores.get(assessment["id"], {}),
                    counts=counts.get(assessment["unit_id"]),
                    adjustments=adjustments.get(
                        (assessment["framework_id"], assessment["unit_id"]), []
                    ),
                    survey=figures.get(assessment["unit_id"]),
                )
            )
        done += len(batch)
        if progress is not None:
            progress("computing", done)
    rank_rows(year, calculation.rows)
    return calculation


# --- a run --------------------------------------------------------------------------


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "SCORING_RUN_STALE_SECONDS", 600))


def runs_interrupt_stale(
    year: int, now: datetime, *, exclude: int | None = None
) -> int:
    """Runs of the year with no sign of life for too long: their worker died
    (their transaction, if any, was rolled back with it)."""
    cutoff = now - stale_after()
    stale = ComputationRun.objects.filter(
        year=year, state__in=[RunState.RUNNING, RunState.QUEUED]
    ).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    if exclude is not None:
        stale = stale.exclude(pk=exclude)
    return stale.update(
        state=RunState.INTERRUPTED,
        finished_at=now,
        **_cause(
            RunError.INTERRUPTED,
            {"time": timezone.localtime(cutoff).strftime("%d/%m/%Y %H:%M")},
        ),
    )


def _cause(code: RunError, params: dict[str, Any]) -> dict[str, Any]:
    """A run's cause as stored: the code and its parameters (put into the
    reader's words when shown) and the text in the portal's language."""
    with translation.override(settings.LANGUAGE_CODE):
        text = run_error_text(code, params) or code.value
    return {"error_code": code, "error_params": params, "error": text}


def _beat(run_id: int, stage: str, units: int | None = None) -> None:
    fields: dict[str, Any] = {"heartbeat_at": timezone.now(), "stage": stage}
    if units is not None:
        fields["units"] = units
    ComputationRun.objects.filter(pk=run_id).update(**fields)


def _pause(stage: str) -> None:
    """Only for the tests that kill a worker halfway (settings.
    SCORING_COMPUTE_PAUSE = {"writing": seconds}): hold the run at a stage."""
    seconds = getattr(settings, "SCORING_COMPUTE_PAUSE", {}).get(stage)
    if seconds:
        time.sleep(float(seconds))


def proposals_write(calculation: Calculation, now: datetime) -> int:
    """Upsert the run's proposals; withdraw those the data no longer
    supports. A proposal a reviewer decided on is left as it is."""
    wanted = {(p.framework_id, p.unit_id, p.rule.pk): p for p in calculation.proposals}
    existing = {
        (a.framework_id, a.unit_id, a.rule_id): a
        for a in Adjustment.objects.select_for_update().filter(
            framework__year=calculation.year, proposed_by_computation=True
        )
    }
    for key, adjustment in existing.items():
        if key not in wanted and adjustment.state == AdjustmentState.PROPOSED:
            adjustment.delete()
    for key, proposal in wanted.items():
        points = proposal.rule.points_per_case * proposal.cases
        found = existing.get(key)
        if found is None:
            Adjustment.objects.create(
                framework_id=proposal.framework_id,
                unit_id=proposal.unit_id,
                rule=proposal.rule,
                cases=proposal.cases,
                points=points,
                reason=proposal.reason,
                proposed_by_computation=True,
                entered_at=now,
            )
        elif found.state == AdjustmentState.PROPOSED and (
            found.cases,
            found.points,
            found.reason,
        ) != (proposal.cases, points, proposal.reason):
            found.cases, found.points = proposal.cases, points
            found.reason = proposal.reason
            found.save()
    return len(wanted)


def results_write(run: ComputationRun, calculation: Calculation, now: datetime) -> None:
    """Replace the year's provisional results, all or nothing."""
    with transaction.atomic():
        # Two runs of a year write one after the other.
        list(
            Framework.objects.select_for_update()
            .filter(year=calculation.year)
            .values_list("pk", flat=True)
        )
        proposals = proposals_write(calculation, now)
        Result.objects.filter(framework__year=calculation.year).delete()
        _pause("writing")
        results_insert(run, calculation.rows)
        # Once the year is over: its commitments judged, accountability
        # opened, heads' ratings proposed (on these results' tiers), in the
        # same transaction as the results they follow from.
        accountability.evaluate_year(calculation.year, now=now)
        ComputationRun.objects.filter(pk=run.pk).update(
            state=RunState.SUCCEEDED,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            stage="",
            frameworks=len(calculation.parameters),
            units=len(calculation.rows),
            proposals=proposals,
            parameters=calculation.parameters,
            error="",
            error_code="",
            error_params={},
        )


def results_insert(run: ComputationRun, rows: Sequence[Row]) -> None:
    """Insert the rows as the run's results. On PostgreSQL by one COPY: a
    year is thousands of results of a few kilobytes of detail each, which an
    INSERT makes the ORM prepare value by value and the server parse."""
    if connection.vendor != "postgresql":
        Result.objects.bulk_create(
            (Result(run=run, **row.columns()) for row in rows), batch_size=1000
        )
        return
    meta = Result._meta
    by_name = {field.attname: field for field in meta.concrete_fields}
    # The JSON columns as text, as the fields write them (a JSONField without
    # an encoder, a JSONText); the others are plain values.
    prepare: dict[str, Callable[[Any], Any]] = {
        "field_indices": json.dumps,
        "detail": by_name["detail"].get_prep_value,
    }
    columns = ", ".join(str(by_name[name].column) for name in ("run_id", *Row.COLUMNS))

    def line(row: Row) -> str:
        values = [str(run.pk)]
        for name in Row.COLUMNS:
            value = getattr(row, name)
            values.append(
                _copy_text(prepare[name](value) if name in prepare else value)
            )
        return "\t".join(values) + "\n"

    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {meta.db_table} ({columns}) FROM STDIN",
            _Lines(line(row) for row in rows),
            size=COPY_CHUNK,
        )


COPY_CHUNK = 1 << 20


class _Lines:
    """The lines of a COPY, read as a file: each piece is made when the
    driver asks for it, so the server stores one piece while the next is
    written."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines

    def read(self, size: int = -1) -> bytes:
        piece: list[str] = []
        length = 0
        for line in self.lines:
            piece.append(line)
            length += len(line)
            if length >= size > 0:
                break
        return "".join(piece).encode()


def _copy_text(value: Any) -> str:
    """A value as COPY's text format takes it. (Not csv: it would double every
    quote of the JSON.)"""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    written = str(value)
    if "\\" in written or "\t" in written or "\n" in written or "\r" in written:
        written = (
            written.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return written


def run_request(*, year: int, trigger: str, user: Any = None) -> ComputationRun:
    """A new run of the year, queued; a run already queued or under way
    (and alive) is returned instead of starting a second one. Asked for by a
    person (``user``), it is for one who may run the year (access.may_run);
    the beat, the command and the demo ask without one."""
    if user is not None and not access.may_run(user, year):
        raise PermissionDenied
    now = timezone.now()
    runs_interrupt_stale(year, now)
    alive = (
        ComputationRun.objects.filter(
            year=year, state__in=[RunState.QUEUED, RunState.RUNNING]
        )
        .order_by("-created_at")
        .first()
    )
    if alive is not None:
        return alive
    return ComputationRun.objects.create(
        year=year,
        trigger=trigger,
        requested_by=user if user is not None and user.is_authenticated else None,
        created_at=now,
    )


@contextmanager
def cycles_uncollected() -> Iterator[None]:
    """Python's cycle collector paused: a year's computation makes hundreds
    of thousands of small dicts (the detail) that live until written and form
    no cycles, and the collector would walk them, and everything else the
    process holds, again and again as they are made. Reference counting
    still frees everything else; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run(run_id: int) -> ComputationRun:
    """Carry out a run: compute, then write the results and the run's
    outcome together. A run already finished is left alone (a redelivered
    task); one that was interrupted is started again."""
    computation_run = ComputationRun.objects.get(pk=run_id)
    if computation_run.state in (RunState.SUCCEEDED, RunState.FAILED):
        return computation_run
    now = timezone.now()
    runs_interrupt_stale(computation_run.year, now, exclude=run_id)
    ComputationRun.objects.filter(pk=run_id).update(
        state=RunState.RUNNING,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        stage="reading",
        error="",
        error_code="",
        error_params={},
    )
    try:
        with cycles_uncollected():
            calculation = calculate(
                computation_run.year,
                progress=lambda stage, done: _beat(run_id, stage, done),
            )
            _beat(run_id, "writing")
            _pause("computed")
            results_write(computation_run, calculation, timezone.now())
    except Exception as exc:
        # The exception's own words (a database's message, a path) are for
        # the log; readers get the cause in their language.
        logger.exception("computation run %s failed", run_id)
        if isinstance(exc, ComputationError):
            cause = _cause(exc.code, exc.params)
        else:
            cause = _cause(RunError.UNEXPECTED, {"run": run_id})
        ComputationRun.objects.filter(pk=run_id).update(
            state=RunState.FAILED, finished_at=timezone.now(), stage="", **cause
        )
        raise
    computation_run.refresh_from_db()
    return computation_run


def years_to_refresh() -> list[int]:
    """Years with a framework still open to change and an approved
    assessment: their provisional results are worth recomputing."""
    return sorted(
        set(
            Assessment.objects.filter(state=AssessmentState.APPROVED)
            .exclude(framework__state="published")
            .order_by()
            .values_list("framework__year", flat=True)
            .distinct()
        )
    )


def compute_now(
    year: int, *, trigger: str = "command", user: Any = None
) -> ComputationRun:
    """Queue and carry out a run in this process (the command, the demo, the
    tests): not through the broker."""
    requested = run_request(year=year, trigger=trigger, user=user)
    return run(requested.pk)
