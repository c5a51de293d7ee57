"""The year's index framework (DOMAIN.md section 4): building it, checking it,
opening it for self-assessment and copying it to a new year.

A framework is a tree read from its codes: "1" is a field, "1.2" a criterion
of it, "1.2.3" a sub-criterion of that. The parent of a node is always the
node whose code is its own without the last part, and a node's position is its
rank when the codes are read top to bottom (pre-order), so that the tree, the
spreadsheet and the assessment pages list items in the same order.

Every write checks that the user manages frameworks of that year and kind
(scoring.access.may_manage_frameworks_of: a superuser, or a Home Affairs
reviewer who appraises every unit of the kind; checked on the framework as
stored, under its row lock) and that the framework may still change
(services.framework_check_editable: never once its year is published). While
a framework is open, its assessments follow it: a new leaf gets a score row in
each of them, a leaf's new maximum is copied to its score rows, and a change
that would throw away what a unit entered (a score above the new maximum, a
leaf with scores deleted or split) is refused with the leaf and the unit named.

The read that decides who sees which framework lives here too
(``frameworks_visible``): the assessment scoping of scoring.access is by
unit, a framework belongs to a kind of unit. Seeing the frameworks being
prepared (and the pages that build them) is for every reviewer
(access.is_reviewer); changing one is for those
access.may_manage_framework allows."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from cchc_portal import numbers
from commitments.organisation.access import units_q
from commitments.organisation.models import Unit, UnitKind
from procedures.figures import Rate
from scoring import access, rules
from scoring.assessments import services
from scoring.frameworks import catalogue, thresholds
from scoring.models import (
    Assessment,
    Framework,
    FrameworkState,
    Method,
    Node,
    NodeLevel,
    Score,
    ScoringFunction,
    Tier,
)

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

# Field → criterion → sub-criterion: the depth of a code names its level.
LEVELS = (NodeLevel.FIELD, NodeLevel.CRITERION, NodeLevel.SUBCRITERION)
CODE_PATTERN = re.compile(r"^[0-9A-Za-z]+(\.[0-9A-Za-z]+){0,2}$")
CODE_WIDTH = Node._meta.get_field("code").max_length or 20
TITLE_WIDTH = Node._meta.get_field("title").max_length or 500
NAME_WIDTH = Framework._meta.get_field("name").max_length or 255
TIER_CODE_WIDTH = Tier._meta.get_field("code").max_length or 10
TIER_LABEL_WIDTH = Tier._meta.get_field("label").max_length or 100
# Node.max_points: six digits, two of them decimals.
MAX_POINTS_LIMIT = Decimal("9999.99")
CENT = Decimal("0.01")
FIRST_YEAR, LAST_YEAR = 2000, 2100
# The national tiers (DOMAIN.md section 5) with the labels provinces use: the
# start of every new framework, changed per framework on its page.
DEFAULT_TIERS = (
    ("A", "Tốt", Decimal(90)),
    ("B", "Khá", Decimal(80)),
    ("C", "Trung bình", Decimal(70)),
    ("D", "Yếu", Decimal(0)),
)
# How many units a refusal names before "and N more".
UNITS_NAMED = 3


# --- who sees which framework ---------------------------------------------------


def frameworks_visible(user: AnyUser) -> QuerySet[Framework]:
    """Every framework for Home Affairs reviewers (of any unit) and
    superusers, who see the frameworks being prepared and the pages that
    build them (which one they may change is access.may_manage_framework's
    answer); for anyone else (staff, heads, leaders) the frameworks, once
    open, of the kinds of unit they reach: those their units are assessed
    against. Drafts are Home Affairs' work in progress."""
    if access.is_reviewer(user):
        return Framework.objects.all()
    kinds = Unit.objects.filter(units_q(user)).values("kind")
    return Framework.objects.exclude(state=FrameworkState.DRAFT).filter(
        unit_kind__in=kinds
    )


def _check_manager(user: AnyUser, *, year: int, unit_kind: str) -> None:
    """The framework of ``year`` and ``unit_kind`` is the user's to change
    (PermissionDenied with the reason otherwise)."""
    if not access.is_reviewer(user):
        raise PermissionDenied
    access.check_manage_framework(user, year=year, unit_kind=unit_kind)


def _check_manages(user: AnyUser, framework: Framework) -> None:
    """As _check_manager, for the framework as stored (read under its lock
    by the caller): not the year or kind a caller's copy may claim."""
    _check_manager(user, year=framework.year, unit_kind=framework.unit_kind)


# --- codes ---------------------------------------------------------------------


def code_key(code: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key reading codes as a person does: 1.2 < 1.10 < 2, and a parent
    before its children (pre-order)."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in code.split(".")
    )


def parent_code(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def level_of(code: str) -> str:
    return LEVELS[code.count(".")]


def code_error(code: str) -> str | None:
    """Why a code is not usable, or None."""
    if not code:
        return _("Give the item's code.")
    if len(code) > CODE_WIDTH:
        return _("“%(code)s” is longer than %(width)s characters.") % {
            "code": code,
            "width": CODE_WIDTH,
        }
    if code.count(".") > len(LEVELS) - 1 and all(
        part.isalnum() for part in code.split(".")
    ):
        return _(
            "“%(code)s” is deeper than a sub-criterion: a framework has fields, "
            "criteria and sub-criteria (1, 1.2, 1.2.3)."
        ) % {"code": code}
    if not CODE_PATTERN.match(code):
        return _(
            "“%(code)s” is not a code: write numbers or letters separated by "
            "dots, such as 1, 1.2 or 1.2.3."
        ) % {"code": code}
    return None


# --- values as written by people -------------------------------------------------


def normalise(text: object) -> str:
    """Lower case without diacritics, words joined by "_": "Điểm tối đa" and
    "diem toi da" both read "diem_toi_da"."""
    value = str(text or "").strip().lower().replace("đ", "d")
    value = "".join(
        c for c in unicodedata.normalize("NFD", value) if not unicodedata.combining(c)
    )
    return re.sub(r"[^0-9a-z]+", "_", value).strip("_")


def parse_points(value: object) -> Decimal:
    """A maximum as written (2, 2.5 or 2,5): ValueError with the reason."""
    if isinstance(value, float):
        value = repr(value)
    text = str(value if value is not None else "").strip().replace(",", ".")
    if not text:
        raise ValueError(_("Give the maximum points."))
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": value}) from exc
    if not number.is_finite() or number <= 0:
        raise ValueError(_("The maximum must be above 0."))
    if number > MAX_POINTS_LIMIT:
        raise ValueError(
            _("The maximum must be at most %(limit)s.")
            % {"limit": numbers.number(MAX_POINTS_LIMIT)}
        )
    if number != number.quantize(CENT):
        raise ValueError(_("At most two decimals."))
    return number.quantize(CENT)


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _rate(text: str) -> Decimal:
    try:
        rate = Decimal(text.strip().rstrip("%").strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(_("“%(value)s” is not a rate.") % {"value": text}) from exc
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise ValueError(_("A rate is from 0 to 100."))
    return rate


def parse_scoring_params(scoring: str, value: object) -> dict[str, Any]:
    """The parameters of a scoring function, as JSON or as officials write
    them: for ``linear`` the rate that earns full points ("80"); for
    ``banded`` rate:share pairs, highest first ("95:1; 80:0.5"). ValueError
    with the reason."""
    text = str(value if value is not None else "").strip()
    if isinstance(value, float):
        text = repr(value)
    if text.startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(_("The parameters are not valid JSON.")) from exc
        if not isinstance(raw, dict):
            raise ValueError(_("The parameters are not valid JSON."))
        if scoring == ScoringFunction.LINEAR:
            text = str(raw.get("full_at", ""))
        elif scoring == ScoringFunction.BANDED:
            written = raw.get("bands")
            if not isinstance(written, list) or not all(
                isinstance(b, list | tuple) and len(b) == 2 for b in written
            ):
                raise ValueError(_("Banded scoring needs bands written as rate:share."))
            text = "; ".join(f"{t}:{s}" for t, s in written)
    if scoring == ScoringFunction.LINEAR:
        if not text:
            return {"full_at": 100}
        full_at = _rate(text)
        if full_at <= 0:
            raise ValueError(_("The rate for full points must be above 0."))
        return {"full_at": _json_number(full_at)}
    if scoring == ScoringFunction.BANDED:
        bands: list[list[int | float]] = []
        for chunk in filter(None, (c.strip() for c in re.split(r"[;\n]", text))):
            rate_text, sep, share_text = chunk.partition(":")
            if not sep:
                raise ValueError(
                    _("“%(band)s” is not a band: write rate:share, such as 80:0.5.")
                    % {"band": chunk}
                )
            rate = _rate(rate_text)
            try:
                share = Decimal(share_text.strip().replace(",", "."))
            except InvalidOperation as exc:
                raise ValueError(
                    _("“%(value)s” is not a share.") % {"value": share_text.strip()}
                ) from exc
            if not share.is_finite() or not 0 <= share <= 1:
                raise ValueError(_("A band's share is from 0 to 1."))
            bands.append([_json_number(rate), _json_number(share)])
        if not bands:
            raise ValueError(
                _(
                    "Banded scoring needs bands written as rate:share, such as "
                    "95:1; 80:0.5."
                )
            )
        bands.sort(key=lambda band: band[0], reverse=True)
        return {"bands": bands}
    if text:
        raise ValueError(_("Parameters belong only to a scoring function."))
    return {}


def scoring_params_text(scoring: str, params: Mapping[str, Any]) -> str:
    """The parameters as parse_scoring_params reads them back."""
    if scoring == ScoringFunction.LINEAR:
        return str(params.get("full_at", 100))
    if scoring == ScoringFunction.BANDED:
        return "; ".join(f"{t}:{s}" for t, s in params.get("bands", []))
    return ""


def parse_reminder_days(value: object) -> list[int]:
    """Days before the deadline, "7; 2" or "7, 2", largest first."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value))
    days = []
    for part in filter(
        None, (p.strip() for p in re.split(r"[;,\s]+", str(value or "")))
    ):
        if not part.isdigit() or not 0 < int(part) <= 366:
            raise ValueError(
                _("“%(value)s” is not a number of days from 1 to 366.")
                % {"value": part}
            )
        days.append(int(part))
    return sorted(set(days), reverse=True)


def reminder_days_text(days: Iterable[int]) -> str:
    return "; ".join(str(day) for day in days)


# --- what a framework is made of -------------------------------------------------


@dataclass(frozen=True)
class NodeData:
    """One item as entered on a page or read from a workbook row."""

    code: str
    title: str
    max_points: Decimal
    method: str = Method.MANUAL
    metric: str = ""
    scoring: str = ""
    scoring_params: dict[str, Any] = field(default_factory=dict)
    evidence_required: bool = False
    guidance: str = ""
    owner_unit: Unit | None = None
    # The owner by office function, found inside each city (issue 17, item 11).
    owner_kind: str = ""

    @classmethod
    def of(cls, node: Node) -> NodeData:
        return cls(
            code=node.code,
            title=node.title,
            max_points=node.max_points,
            method=node.method,
            metric=node.metric,
            scoring=node.scoring,
            scoring_params=dict(node.scoring_params or {}),
            evidence_required=node.evidence_required,
            guidance=node.guidance,
            owner_unit=node.owner_unit,
            owner_kind=node.owner_kind,
        )


@dataclass(frozen=True)
class TierData:
    code: str
    label: str
    min_index: Decimal


@dataclass(frozen=True)
class FrameworkData:
    """A whole framework, as a workbook holds it."""

    year: int
    unit_kind: str
    name: str
    deadline: date | None
    contest_days: int
    reminder_days: list[int]
    tiers: list[TierData]
    nodes: list[NodeData]


def node_errors(data: NodeData, *, is_leaf: bool) -> dict[str, str]:
    """Field → message for what is wrong with one item on its own (the tree
    around it is checked by tree_errors). Messages name the item."""
    errors: dict[str, str] = {}
    code = data.code or "?"
    if not data.title.strip():
        errors["title"] = _("%(code)s: give the title.") % {"code": code}
    elif len(data.title) > TITLE_WIDTH:
        errors["title"] = _(
            "%(code)s: the title is longer than %(width)s characters."
        ) % {
            "code": code,
            "width": TITLE_WIDTH,
        }
    if data.method not in Method.values:
        errors["method"] = _("%(code)s: “%(value)s” is not a scoring method.") % {
            "code": code,
            "value": data.method,
        }
        return errors
    if not is_leaf:
        if data.method != Method.MANUAL or data.metric or data.scoring:
            errors["method"] = _(
                "%(code)s has items below it: only its leaves are scored, so "
                "the scoring method belongs on them."
            ) % {"code": code}
        elif data.evidence_required:
            errors["evidence_required"] = _(
                "%(code)s has items below it: evidence is asked for on its leaves."
            ) % {"code": code}
        return errors
    if data.method == Method.METRIC:
        if data.metric not in Rate.values:
            errors["metric"] = (
                _("%(code)s: a metric leaf names the metric it reads.") % {"code": code}
                if not data.metric
                else _("%(code)s: “%(value)s” is not a metric.")
                % {"code": code, "value": data.metric}
            )
        if data.scoring not in ScoringFunction.values:
            errors["scoring"] = (
                _("%(code)s: a metric leaf names its scoring function.")
                % {"code": code}
                if not data.scoring
                else _("%(code)s: “%(value)s” is not a scoring function.")
                % {"code": code, "value": data.scoring}
            )
        else:
            try:
                rules.metric_points(
                    data.scoring,
                    data.scoring_params,
                    Decimal(50),
                    data.max_points or Decimal(1),
                )
            except (rules.ScoringError, TypeError, ValueError, InvalidOperation):
                errors["scoring_params"] = _(
                    "%(code)s: the parameters do not fit the scoring function."
                ) % {"code": code}
    elif data.metric or data.scoring:
        errors["metric" if data.metric else "scoring"] = _(
            "%(code)s: only a leaf scored from the dossier figures reads a "
            "metric; choose that method or leave the metric empty."
        ) % {"code": code}
    return errors


def tree_errors(nodes: Sequence[NodeData]) -> list[tuple[str, str, str]]:
    """(code, field, message) for what is wrong in the tree as a whole: a code
    twice, a parent missing, an item's children whose maxima do not add up to
    its own. A code that is itself wrong is reported by code_error."""
    errors: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for data in nodes:
        if data.code in seen:
            errors.append(
                (
                    data.code,
                    "code",
                    _("The code %(code)s appears twice.") % {"code": data.code},
                )
            )
        seen.add(data.code)
    valid = [data for data in nodes if code_error(data.code) is None]
    codes = {data.code for data in valid}
    for data in valid:
        parent = parent_code(data.code)
        if parent is not None and parent not in codes:
            errors.append(
                (
                    data.code,
                    "code",
                    _("%(code)s has no parent: there is no item %(parent)s.")
                    % {"code": data.code, "parent": parent},
                )
            )
    children: dict[str, list[NodeData]] = {}
    for data in valid:
        parent = parent_code(data.code)
        if parent is not None:
            children.setdefault(parent, []).append(data)
    first: dict[str, NodeData] = {}
    for data in valid:
        first.setdefault(data.code, data)
    for code, kids in children.items():
        parent_data = first.get(code)
        if parent_data is None:
            continue
        total = sum((kid.max_points for kid in kids), Decimal(0))
        if total != parent_data.max_points:
            errors.append(
                (
                    code,
                    "max_points",
                    _(
                        "%(code)s has a maximum of %(max)s points but its items "
                        "%(children)s add up to %(sum)s."
                    )
                    % {
                        "code": code,
                        "max": numbers.number(parent_data.max_points),
                        "children": ", ".join(
                            kid.code
                            for kid in sorted(kids, key=lambda k: code_key(k.code))
                        ),
                        "sum": numbers.number(total),
                    },
                )
            )
    return errors


def tier_errors(tiers: Sequence[TierData]) -> list[tuple[int, str, str]]:
    """(index in the list, field, message) for the tiers of a framework: a
    code once, from-index values from 0 to 100 and different, the lowest from
    0 so that every index has a tier."""
    errors: list[tuple[int, str, str]] = []
    if not tiers:
        return [(0, "code", _("Give at least one tier."))]
    codes: dict[str, int] = {}
    floors: dict[Decimal, int] = {}
    for i, tier in enumerate(tiers):
        if not tier.code.strip():
            errors.append((i, "code", _("Give the tier's code.")))
        elif len(tier.code) > TIER_CODE_WIDTH:
            errors.append(
                (
                    i,
                    "code",
                    _("The tier code %(code)s is longer than %(width)s characters.")
                    % {"code": tier.code, "width": TIER_CODE_WIDTH},
                )
            )
        elif tier.code in codes:
            errors.append(
                (i, "code", _("The tier %(code)s appears twice.") % {"code": tier.code})
            )
        codes.setdefault(tier.code, i)
        if not tier.label.strip():
            errors.append(
                (i, "label", _("Tier %(code)s: give its label.") % {"code": tier.code})
            )
        elif len(tier.label) > TIER_LABEL_WIDTH:
            errors.append(
                (
                    i,
                    "label",
                    _("Tier %(code)s: the label is longer than %(width)s characters.")
                    % {"code": tier.code, "width": TIER_LABEL_WIDTH},
                )
            )
        if not 0 <= tier.min_index <= 100 or tier.min_index != tier.min_index.quantize(
            CENT
        ):
            errors.append(
                (
                    i,
                    "min_index",
                    _(
                        "Tier %(code)s: the index it starts from is from 0 to 100, "
                        "with at most two decimals."
                    )
                    % {"code": tier.code},
                )
            )
        elif tier.min_index in floors:
            errors.append(
                (
                    i,
                    "min_index",
                    _("Tier %(code)s starts at the same index as tier %(other)s.")
                    % {"code": tier.code, "other": tiers[floors[tier.min_index]].code},
                )
            )
        floors.setdefault(tier.min_index, i)
    if not errors and min(tier.min_index for tier in tiers) != 0:
        lowest = min(tiers, key=lambda tier: tier.min_index)
        errors.append(
            (
                tiers.index(lowest),
                "min_index",
                _(
                    "The lowest tier (%(code)s) must start at 0, so that every "
                    "index has a tier."
                )
                % {"code": lowest.code},
            )
        )
    return errors


def settings_errors(
    *, year: int, name: str, contest_days: int, reminder_days: Sequence[int]
) -> dict[str, str]:
    errors = {}
    if not FIRST_YEAR <= year <= LAST_YEAR:
        errors["year"] = _("The year must be from %(first)s to %(last)s.") % {
            "first": FIRST_YEAR,
            "last": LAST_YEAR,
        }
    if not name.strip():
        errors["name"] = _("Give the framework's name.")
    elif len(name) > NAME_WIDTH:
        errors["name"] = _("The name is longer than %(width)s characters.") % {
            "width": NAME_WIDTH
        }
    if not 0 <= contest_days <= 365:
        errors["contest_days"] = _("The days to contest are from 0 to 365.")
    if any(not 0 < day <= 366 for day in reminder_days):
        errors["reminder_days"] = _("Reminder days are from 1 to 366.")
    return errors


# --- problems of a saved framework ------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something that keeps a framework from being opened. ``code`` names the
    item, empty for the framework as a whole."""

    code: str
    message: str


def _tree(framework: Framework) -> list[Node]:
    return list(Node.objects.filter(framework=framework).order_by("position", "code"))


def problems(
    framework: Framework,
    nodes: Sequence[Node] | None = None,
    tiers: Sequence[Tier] | None = None,
) -> list[Problem]:
    """Everything that must be fixed before the framework opens, in the order
    of the tree: maxima that do not add up, leaves whose scoring is
    incomplete, no items, no deadline, tiers that do not cover every index."""
    nodes = _tree(framework) if nodes is None else nodes
    found: list[Problem] = []
    if not nodes:
        found.append(Problem("", _("The framework has no items yet.")))
    has_children = {node.parent_id for node in nodes if node.parent_id}
    by_pk = {node.pk: node for node in nodes}
    mismatched = {
        key: (maximum, total)
        for key, maximum, total in rules.sum_mismatches(
            rules.TreeNode(node.pk, node.parent_id, node.max_points) for node in nodes
        )
    }
    for node in nodes:
        if node.pk in mismatched:
            maximum, total = mismatched[node.pk]
            found.append(
                Problem(
                    node.code,
                    _(
                        "%(code)s has a maximum of %(max)s points but its items "
                        "add up to %(sum)s."
                    )
                    % {
                        "code": node.code,
                        "max": numbers.number(maximum),
                        "sum": numbers.number(total),
                    },
                )
            )
        expected_parent = parent_code(node.code)
        actual_parent = by_pk[node.parent_id].code if node.parent_id in by_pk else None
        if expected_parent != actual_parent:
            found.append(
                Problem(
                    node.code,
                    _("%(code)s is not placed under %(parent)s as its code says.")
                    % {"code": node.code, "parent": expected_parent or "—"},
                )
            )
        if node.max_points <= 0:
            found.append(
                Problem(
                    node.code,
                    _("%(code)s: the maximum must be above 0.") % {"code": node.code},
                )
            )
        is_leaf = node.pk not in has_children
        for message in node_errors(NodeData.of(node), is_leaf=is_leaf).values():
            found.append(Problem(node.code, message))
    if framework.deadline is None:
        found.append(Problem("", _("The self-assessment deadline is not set.")))
    bands = list(framework.tiers.all()) if tiers is None else tiers
    for _index, _field, message in tier_errors(
        [TierData(tier.code, tier.label, tier.min_index) for tier in bands]
    ):
        found.append(Problem("", message))
    return found


@dataclass(frozen=True)
class TreeRow:
    """One line of the tree page."""

    node: Node
    depth: int
    is_leaf: bool
    children_sum: Decimal | None
    problems: list[str]

    @property
    def mismatch(self) -> bool:
        return (
            self.children_sum is not None and self.children_sum != self.node.max_points
        )


@dataclass(frozen=True)
class TreeSummary:
    rows: list[TreeRow]
    problems: list[Problem]
    fields: int
    criteria: int
    subcriteria: int
    leaves: int
    total: Decimal
    survey_total: Decimal


def framework_tree(framework: Framework) -> TreeSummary:
    """The tree with each inner item's running sum and the problems on each
    line (two queries: nodes with their owner units, tiers)."""
    nodes = list(
        Node.objects.filter(framework=framework)
        .select_related("owner_unit")
        .order_by("position", "code")
    )
    found = problems(framework, nodes)
    per_code: dict[str, list[str]] = {}
    for problem in found:
        per_code.setdefault(problem.code, []).append(problem.message)
    sums: dict[int, Decimal] = {}
    for node in nodes:
        if node.parent_id:
            sums[node.parent_id] = (
                sums.get(node.parent_id, Decimal(0)) + node.max_points
            )
    rows = [
        TreeRow(
            node=node,
            depth=node.code.count("."),
            is_leaf=node.pk not in sums,
            children_sum=sums.get(node.pk),
            problems=per_code.get(node.code, []),
        )
        for node in nodes
    ]
    levels = [node.level for node in nodes]
    return TreeSummary(
        rows=rows,
        problems=found,
        fields=levels.count(NodeLevel.FIELD),
        criteria=levels.count(NodeLevel.CRITERION),
        subcriteria=levels.count(NodeLevel.SUBCRITERION),
        leaves=sum(1 for row in rows if row.is_leaf),
        total=sum((n.max_points for n in nodes if n.parent_id is None), Decimal(0)),
        survey_total=sum(
            (
                row.node.max_points
                for row in rows
                if row.is_leaf and row.node.method == Method.SURVEY
            ),
            Decimal(0),
        ),
    )


# --- writes --------------------------------------------------------------------


def _locked(framework: Framework, user: AnyUser) -> Framework:
    """The framework's row, locked for the transaction, once the user is
    found to manage it as stored: an edit and the opening (or publishing) of
    the same framework happen one after the other, and the state checked is
    the one written."""
    locked = Framework.objects.select_for_update().get(pk=framework.pk)
    _check_manages(user, locked)
    services.framework_check_editable(locked)
    return locked


def _raise_field_errors(errors: Mapping[str, str]) -> None:
    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})


def positions_renumber(framework: Framework) -> None:
    """Positions from the codes, read top to bottom (pre-order)."""
    nodes = sorted(
        Node.objects.filter(framework=framework).only("pk", "code", "position"),
        key=lambda node: code_key(node.code),
    )
    changed = []
    for position, node in enumerate(nodes):
        if node.position != position:
            node.position = position
            changed.append(node)
    Node.objects.bulk_update(changed, ["position"], batch_size=500)


def _tiers_create(framework: Framework, tiers: Iterable[TierData]) -> None:
    Tier.objects.bulk_create(
        Tier(framework=framework, code=t.code, label=t.label, min_index=t.min_index)
        for t in tiers
    )


def _check_not_taken(year: int, unit_kind: str, *, exclude: int | None = None) -> None:
    taken = Framework.objects.filter(year=year, unit_kind=unit_kind)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    other = taken.first()
    if other is not None:
        raise ValidationError(
            {
                "year": _(
                    "There is already a framework for %(kind)s in %(year)s: %(name)s."
                )
                % {
                    "kind": UnitKind(unit_kind).label,
                    "year": year,
                    "name": other.name,
                }
            }
        )


def default_deadline(year: int) -> date:
    """Seed 004 (Cần Thơ): the self-assessment is due by 7 January of the
    year after the year assessed."""
    return date(year + 1, 1, 7)


@transaction.atomic
def framework_create(
    *,
    user: AnyUser,
    year: int,
    unit_kind: str,
    name: str,
    deadline: date | None,
    contest_days: int = 10,
    reminder_days: Sequence[int] = (7, 2),
) -> Framework:
    """An empty draft framework with the national tiers. Without a deadline,
    7 January of the next year (seed 004: "chậm nhất là ngày 7/1 của năm
    sau liền kề năm đánh giá")."""
    if deadline is None and FIRST_YEAR <= year <= LAST_YEAR:
        deadline = default_deadline(year)
    if unit_kind in UnitKind.values and FIRST_YEAR <= year <= LAST_YEAR:
        _check_manager(user, year=year, unit_kind=unit_kind)
    elif not access.is_reviewer(user):
        raise PermissionDenied
    errors = settings_errors(
        year=year, name=name, contest_days=contest_days, reminder_days=reminder_days
    )
    if unit_kind not in UnitKind.values:
        errors["unit_kind"] = _("Choose a kind of unit.")
    _raise_field_errors(errors)
    _check_not_taken(year, unit_kind)
    framework = Framework.objects.create(
        year=year,
        unit_kind=unit_kind,
        name=name.strip(),
        deadline=deadline,
        contest_days=contest_days,
        reminder_days=sorted(set(reminder_days), reverse=True),
    )
    _tiers_create(framework, (TierData(*tier) for tier in DEFAULT_TIERS))
    catalogue.defaults_create(framework)
    return framework


@transaction.atomic
def framework_settings_update(
    *,
    user: AnyUser,
    framework: Framework,
    name: str,
    deadline: date | None,
    contest_days: int,
    reminder_days: Sequence[int],
) -> Framework:
    """Name, deadline, days to contest and reminder days. The year and the
    kind of unit are what the framework is; a different year is a copy."""
    locked = _locked(framework, user)
    _raise_field_errors(
        settings_errors(
            year=locked.year,
            name=name,
            contest_days=contest_days,
            reminder_days=reminder_days,
        )
    )
    locked.name = name.strip()
    locked.deadline = deadline
    locked.contest_days = contest_days
    locked.reminder_days = sorted(set(reminder_days), reverse=True)
    locked.save(update_fields=["name", "deadline", "contest_days", "reminder_days"])
    return locked


@transaction.atomic
def framework_thresholds_set(
    *, user: AnyUser, framework: Framework, values: Mapping[str, Any]
) -> Framework:
    """The year's rule settings (scoring.frameworks.thresholds): the
    repeated-lateness threshold, the communes' satisfaction threshold, the
    rating rule's shares and lowest tiers. By whoever manages the framework,
    until its year is published (then refused, as every change of it)."""
    locked = _locked(framework, user)
    given = {name: values[name] for name in thresholds.FIELDS}
    _raise_field_errors(thresholds.errors(given))
    for name, value in given.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(thresholds.FIELDS))
    return locked


@transaction.atomic
def tiers_set(
    *, user: AnyUser, framework: Framework, tiers: Sequence[TierData]
) -> None:
    """Replace the framework's tiers."""
    locked = _locked(framework, user)
    errors = tier_errors(tiers)
    if errors:
        raise ValidationError([message for _index, _field, message in errors])
    Tier.objects.filter(framework=locked).delete()
    _tiers_create(locked, tiers)


def _entered(scores: QuerySet[Score]) -> QuerySet[Score]:
    """Score rows on which someone has entered something."""
    return scores.filter(
        Q(self_score__isnull=False)
        | Q(appraised_score__isnull=False)
        | ~Q(explanation="")
        | ~Q(appraisal_reason="")
        | Q(evidence__isnull=False)
        | Q(comments__isnull=False)
        | Q(contests__isnull=False)
    ).distinct()


def _units_named(scores: QuerySet[Score]) -> str:
    names = list(
        scores.order_by("assessment__unit__path")
        .values_list("assessment__unit__name", flat=True)
        .distinct()[: UNITS_NAMED + 1]
    )
    if len(names) > UNITS_NAMED:
        more = scores.values("assessment__unit").distinct().count() - UNITS_NAMED
        return _("%(units)s and %(count)s more") % {
            "units": ", ".join(names[:UNITS_NAMED]),
            "count": more,
        }
    return ", ".join(names)


def _check_no_entries(framework: Framework, leaves: Sequence[Node], why: str) -> None:
    """Refuse a change that would throw away what a unit entered on a leaf."""
    for leaf in leaves:
        entered = _entered(Score.objects.filter(node=leaf))
        if entered.exists():
            raise ValidationError(
                why % {"leaf": leaf.code, "units": _units_named(entered)}
            )


def _assessments_follow(framework: Framework) -> None:
    """Give every assessment of the framework a score row per leaf (new
    leaves, or inner items that became leaves)."""
    for assessment in Assessment.objects.filter(framework=framework).select_related(
        "unit"
    ):
        services.assessment_open(framework=framework, unit=assessment.unit)


@transaction.atomic
def node_add(
    *, user: AnyUser, framework: Framework, parent: Node | None, data: NodeData
) -> Node:
    """A new item below ``parent`` (a field when None). In an open framework
    every assessment gets a score row for it; should the parent have been a
    leaf, its empty score rows go (its entered ones refuse the change)."""
    locked = _locked(framework, user)
    if parent is not None and parent.framework_id != locked.pk:
        raise ValidationError(_("The parent item belongs to another framework."))
    code = data.code.strip()
    problem = code_error(code)
    if problem is None and parent_code(code) != (parent.code if parent else None):
        problem = (
            _("The code of an item below %(parent)s starts with “%(parent)s.”.")
            % {"parent": parent.code}
            if parent is not None
            else _("A field's code has no dot, such as 1 or 2.")
        )
    if problem is None and Node.objects.filter(framework=locked, code=code).exists():
        problem = _("The code %(code)s is already used in this framework.") % {
            "code": code
        }
    errors = node_errors(data, is_leaf=True)
    if problem:
        errors["code"] = problem
    _raise_field_errors(errors)
    if parent is not None and not parent.children.exists():
        scores = Score.objects.filter(node=parent)
        _check_no_entries(
            locked,
            [parent],
            _(
                "%(leaf)s already has scores entered by %(units)s: an item "
                "cannot be added below it."
            ),
        )
        scores.delete()
        # Only leaves are scored: the parent's own scoring no longer applies.
        parent.method = Method.MANUAL
        parent.metric = parent.scoring = ""
        parent.scoring_params = {}
        parent.evidence_required = False
        parent.save(
            update_fields=[
                "method",
                "metric",
                "scoring",
                "scoring_params",
                "evidence_required",
            ]
        )
    node = Node.objects.create(
        framework=locked,
        parent=parent,
        level=level_of(code),
        code=code,
        title=data.title.strip(),
        max_points=data.max_points,
        method=data.method,
        metric=data.metric,
        scoring=data.scoring,
        scoring_params=data.scoring_params,
        evidence_required=data.evidence_required,
        guidance=data.guidance.strip(),
        owner_unit=data.owner_unit,
        owner_kind=data.owner_kind,
    )
    positions_renumber(locked)
    _assessments_follow(locked)
    node.refresh_from_db()
    return node


@transaction.atomic
def node_update(*, user: AnyUser, node: Node, data: NodeData) -> Node:
    """Change an item. A new code keeps the item under the same parent and
    renames the items below it. In an open framework a leaf's new maximum
    reaches every score row, and may not fall below a score already given."""
    locked = _locked(node.framework, user)
    node = Node.objects.select_for_update().get(pk=node.pk, framework=locked)
    is_leaf = not node.children.exists()
    code = data.code.strip()
    errors = node_errors(data, is_leaf=is_leaf)
    problem = code_error(code)
    if problem is None and parent_code(code) != parent_code(node.code):
        problem = _(
            "%(code)s stays below %(parent)s: only the last part of its code can "
            "change."
        ) % {"code": node.code, "parent": parent_code(node.code) or "—"}
    if (
        problem is None
        and code != node.code
        and Node.objects.filter(framework=locked, code=code).exists()
    ):
        problem = _("The code %(code)s is already used in this framework.") % {
            "code": code
        }
    if problem:
        errors["code"] = problem
    _raise_field_errors(errors)
    if is_leaf and data.max_points != node.max_points:
        above = Score.objects.filter(node=node).filter(
            Q(self_score__gt=data.max_points) | Q(appraised_score__gt=data.max_points)
        )
        if above.exists():
            raise ValidationError(
                {
                    "max_points": _(
                        "%(leaf)s: %(units)s already scored more than %(max)s "
                        "points on it; the maximum cannot go below their score."
                    )
                    % {
                        "leaf": node.code,
                        "units": _units_named(above),
                        "max": numbers.number(data.max_points),
                    }
                }
            )
        Score.objects.filter(node=node).update(max_points=data.max_points)
    old_code = node.code
    node.code = code
    node.title = data.title.strip()
    node.max_points = data.max_points
    node.method = data.method
    node.metric = data.metric
    node.scoring = data.scoring
    node.scoring_params = data.scoring_params
    node.evidence_required = data.evidence_required
    node.guidance = data.guidance.strip()
    node.owner_unit = data.owner_unit
    node.owner_kind = data.owner_kind
    node.save()
    if code != old_code:
        below = list(
            Node.objects.filter(framework=locked, code__startswith=f"{old_code}.")
        )
        for item in below:
            item.code = code + item.code[len(old_code) :]
        # Two steps: the new codes of some may be the old codes of others.
        for item in below:
            Node.objects.filter(pk=item.pk).update(code=f"~{item.pk}")
        Node.objects.bulk_update(below, ["code"])
        positions_renumber(locked)
    return node


@transaction.atomic
def node_delete(*, user: AnyUser, node: Node) -> None:
    """Delete an item and everything below it. Refused when a unit has
    entered something on one of its leaves; in an open framework a parent
    left without items becomes a leaf and every assessment gets a score row
    for it."""
    locked = _locked(node.framework, user)
    node = Node.objects.get(pk=node.pk, framework=locked)
    subtree = Node.objects.filter(
        Q(pk=node.pk) | Q(code__startswith=f"{node.code}."), framework=locked
    )
    leaves = list(subtree.filter(children__isnull=True).order_by("position"))
    _check_no_entries(
        locked,
        leaves,
        _("%(leaf)s already has scores entered by %(units)s: it cannot be deleted."),
    )
    Score.objects.filter(node__in=subtree).delete()
    parent_id = node.parent_id
    node.delete()  # and, by cascade, the items below it
    positions_renumber(locked)
    if parent_id is not None and not Node.objects.filter(parent_id=parent_id).exists():
        _assessments_follow(locked)


def units_to_assess(framework: Framework, today: date) -> QuerySet[Unit]:
    """The units of the framework's kind valid on the day that counts: today,
    or the last day of the framework's year when that is over (a 2025
    framework opened in 2026 is for the units that ended 2025, not for those
    merged away during it)."""
    day = min(today, date(framework.year, 12, 31))
    return Unit.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        kind=framework.unit_kind,
        valid_from__lte=day,
    ).order_by("path")


@transaction.atomic
def framework_open(*, user: AnyUser, framework: Framework, today: date) -> int:
    """Draft → open: refused while problems remain; then every unit to assess
    gets its assessment with a score row per leaf. On an open framework it
    only adds the assessments of units that have appeared since. Returns the
    number of assessments created."""
    locked = _locked(framework, user)
    if locked.state == FrameworkState.DRAFT:
        found = problems(locked)
        if found:
            raise ValidationError(
                [
                    _("The framework cannot be opened yet:"),
                    *(problem.message for problem in found),
                ]
            )
        locked.state = FrameworkState.OPEN
        locked.save(update_fields=["state"])
    return services.assessments_open(
        framework=locked, units=list(units_to_assess(locked, today))
    )


def _shift_year(day: date | None, years: int) -> date | None:
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _nodes_create(framework: Framework, nodes: Sequence[NodeData]) -> None:
    """Insert a tree, level by level so that parents have their ids."""
    ordered = sorted(nodes, key=lambda data: code_key(data.code))
    position = {data.code: i for i, data in enumerate(ordered)}
    ids: dict[str, int] = {}
    for depth in range(len(LEVELS)):
        batch = [
            Node(
                framework=framework,
                parent_id=ids[parent] if (parent := parent_code(data.code)) else None,
                level=LEVELS[depth],
                code=data.code,
                position=position[data.code],
                title=data.title.strip(),
                max_points=data.max_points,
                method=data.method,
                metric=data.metric,
                scoring=data.scoring,
                scoring_params=data.scoring_params,
                evidence_required=data.evidence_required,
                guidance=data.guidance.strip(),
                owner_unit=data.owner_unit,
                owner_kind=data.owner_kind,
            )
            for data in ordered
            if data.code.count(".") == depth
        ]
        for node in Node.objects.bulk_create(batch):
            if node.pk is None:  # a backend that does not return ids
                node.pk = Node.objects.get(framework=framework, code=node.code).pk
            ids[node.code] = node.pk


@transaction.atomic
def framework_copy(*, user: AnyUser, source: Framework, year: int) -> Framework:
    """Last year's framework as the draft of a new year: its settings (the
    deadline moved to the new year), tiers and tree. The copy is a framework
    of the source's kind: whoever manages that kind in the new year copies."""
    if not access.is_reviewer(user):
        raise PermissionDenied
    source = Framework.objects.get(pk=source.pk)
    if FIRST_YEAR <= year <= LAST_YEAR:
        _check_manager(user, year=year, unit_kind=source.unit_kind)
    _raise_field_errors(
        settings_errors(
            year=year,
            name=source.name,
            contest_days=source.contest_days,
            reminder_days=source.reminder_days,
        )
    )
    _check_not_taken(year, source.unit_kind)
    shift = year - source.year
    framework = Framework.objects.create(
        year=year,
        unit_kind=source.unit_kind,
        name=source.name.replace(str(source.year), str(year)),
        deadline=_shift_year(source.deadline, shift),
        contest_days=source.contest_days,
        reminder_days=list(source.reminder_days),
        copied_from=source,
        **thresholds.of(source),
    )
    _tiers_create(
        framework,
        (TierData(t.code, t.label, t.min_index) for t in source.tiers.all()),
    )
    _nodes_create(
        framework,
        [NodeData.of(node) for node in source.nodes.select_related("owner_unit")],
    )
    catalogue.copy_catalogue(source, framework)
    return framework


@transaction.atomic
def framework_load(
    *, user: AnyUser, data: FrameworkData, replace: bool = False
) -> Framework:
    """A whole framework at once (an imported workbook, the demo). With
    ``replace`` a draft of the same year and kind of unit, not yet opened, is
    replaced; anything else of that year and kind is refused. The data is
    checked again here: a caller may not have."""
    if data.unit_kind in UnitKind.values and FIRST_YEAR <= data.year <= LAST_YEAR:
        _check_manager(user, year=data.year, unit_kind=data.unit_kind)
    elif not access.is_reviewer(user):
        raise PermissionDenied
    errors = settings_errors(
        year=data.year,
        name=data.name,
        contest_days=data.contest_days,
        reminder_days=data.reminder_days,
    )
    if data.unit_kind not in UnitKind.values:
        errors["unit_kind"] = _("Choose a kind of unit.")
    _raise_field_errors(errors)
    parents = {parent_code(item.code) for item in data.nodes}
    messages: list[str] = []
    for item in data.nodes:
        problem = code_error(item.code)
        if problem:
            messages.append(problem)
        else:
            messages += node_errors(item, is_leaf=item.code not in parents).values()
    messages += [message for _code, _field, message in tree_errors(data.nodes)]
    messages += [message for _i, _field, message in tier_errors(data.tiers)]
    if messages:
        raise ValidationError(messages)
    existing = (
        Framework.objects.select_for_update()
        .filter(year=data.year, unit_kind=data.unit_kind)
        .first()
    )
    if existing is not None:
        if not replace:
            _check_not_taken(data.year, data.unit_kind)
        if existing.state != FrameworkState.DRAFT or existing.assessments.exists():
            raise ValidationError(
                {
                    "year": _(
                        "The framework %(name)s is %(state)s: only a draft can be "
                        "replaced by an import."
                    )
                    % {
                        "name": existing.name,
                        "state": existing.get_state_display().lower(),
                    }
                }
            )
        existing.nodes.all().delete()
        existing.tiers.all().delete()
        framework = existing
    else:
        framework = Framework(year=data.year, unit_kind=data.unit_kind)
    framework.name = data.name.strip()
    framework.deadline = data.deadline
    framework.contest_days = data.contest_days
    framework.reminder_days = list(data.reminder_days)
    framework.save()
    _tiers_create(framework, data.tiers)
    _nodes_create(framework, data.nodes)
    if not framework.adjustment_rules.exists():
        catalogue.defaults_create(framework)
    return framework


def framework_counts(frameworks: Sequence[Framework]) -> dict[int, dict[str, Any]]:
    """Per framework: items by level, leaves, total points, problems and
    assessments, for the list page (three queries whatever the number)."""
    ids = [framework.pk for framework in frameworks]
    nodes_by_framework: dict[int, list[Node]] = {pk: [] for pk in ids}
    for node in Node.objects.filter(framework_id__in=ids).order_by("position"):
        nodes_by_framework[node.framework_id].append(node)
    assessments = dict(
        Assessment.objects.filter(framework_id__in=ids)
        .values_list("framework")
        .annotate(n=Count("pk"))
        .values_list("framework", "n")
    )
    tiers: dict[int, list[Tier]] = {pk: [] for pk in ids}
    for tier in Tier.objects.filter(framework_id__in=ids):
        tiers[tier.framework_id].append(tier)
    counts = {}
    for framework in frameworks:
        nodes = nodes_by_framework[framework.pk]
        parents = {node.parent_id for node in nodes}
        levels = [node.level for node in nodes]
        counts[framework.pk] = {
            "fields": levels.count(NodeLevel.FIELD),
            "criteria": levels.count(NodeLevel.CRITERION),
            "subcriteria": levels.count(NodeLevel.SUBCRITERION),
            "leaves": sum(1 for node in nodes if node.pk not in parents),
            "total": sum(
                (node.max_points for node in nodes if node.parent_id is None),
                Decimal(0),
            ),
            "problems": len(problems(framework, nodes, tiers[framework.pk])),
            "assessments": assessments.get(framework.pk, 0),
        }
    return counts
