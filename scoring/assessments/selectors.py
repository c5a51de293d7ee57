"""Reads of the assessment pages: one assessment as a tree with its scores,
metric values, evidence, comments, contests and running totals; the
reviewers' queue; the history of an assessment.

Each read runs a fixed number of queries, whatever the size of the tree or of
the queue (tests count them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commitments.organisation.access import get_scoped_or_404, memberships
from commitments.organisation.models import Unit
from procedures import figures
from procedures import rules as procedure_rules
from procedures import selectors as procedure_selectors
from scoring import access, rules
from scoring.assessments import services
from scoring.frameworks.survey import Figure, figure_in_use
from scoring.models import (
    Assessment,
    AssessmentState,
    Comment,
    Contest,
    ContestState,
    Evidence,
    Framework,
    FrameworkState,
    Method,
    Node,
    Notice,
    Score,
    SurveyFigure,
)

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser


# --- One assessment ---------------------------------------------------------------


def assessment_get(*, user: AnyUser, pk: int) -> Assessment:
    """The assessment, or 404 when it does not exist or the user may not see
    it (another unit's draft is not even confirmed to exist)."""
    return get_scoped_or_404(
        user,
        Assessment.objects.select_related("framework", "unit", "submitted_by"),
        pk=pk,
    )


def score_get(*, assessment: Assessment, pk: int) -> Score:
    try:
        return Score.objects.select_related("node").get(assessment=assessment, pk=pk)
    except Score.DoesNotExist as exc:
        raise Http404 from exc


def comment_get(*, assessment: Assessment, pk: int) -> Comment:
    """A reviewer's comment on one of the assessment's leaves."""
    return get_object_or_404(
        Comment.objects.select_related("score__node"),
        pk=pk,
        score__assessment=assessment,
    )


def contest_get(*, assessment: Assessment, pk: int) -> Contest:
    """A request to review one of the assessment's appraised scores."""
    return get_object_or_404(
        Contest.objects.select_related("score__node"),
        pk=pk,
        score__assessment=assessment,
    )


def document_get(*, assessment: Assessment, pk: int) -> Evidence:
    try:
        return Evidence.objects.get(assessment=assessment, pk=pk)
    except Evidence.DoesNotExist as exc:
        raise Http404 from exc


def document_for_download(*, user: AnyUser, token: UUID | str) -> Evidence:
    """A document, only for those who may see its assessment."""
    try:
        return Evidence.objects.get(
            token=token, assessment__in=access.assessments_visible(user)
        )
    except (Evidence.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class MetricValue:
    """A metric leaf's value for the framework's year: the rate (None: no
    dossier to count), its points, and the counts it was made of."""

    year: int
    rate: Decimal | None
    points: Decimal | None
    counts: list[tuple[str, int]]
    lists_late: bool
    # The leaf's scoring parameters cannot be used (the framework is wrong).
    unusable: bool = False

    @property
    def no_data(self) -> bool:
        return self.rate is None


def metric_value(
    node: Node, counts: procedure_rules.Counts | None, year: int
) -> MetricValue:
    computed = procedure_rules.metrics(counts or procedure_rules.Counts())
    rate: Decimal | None = getattr(computed, node.metric, None) if counts else None
    shown = [
        (str(figures.COUNT_LABELS[name]), getattr(counts, name))
        for name in figures.RATE_COUNTS.get(node.metric, ())
        if counts is not None
    ]
    try:
        points = rules.metric_points(
            node.scoring, node.scoring_params or {}, rate, node.max_points
        )
    except (rules.ScoringError, ArithmeticError, TypeError, ValueError):
        return MetricValue(
            year, rate, None, shown, node.metric in figures.LISTS_LATE, True
        )
    return MetricValue(year, rate, points, shown, node.metric in figures.LISTS_LATE)


def unit_year_counts(assessment: Assessment) -> procedure_rules.Counts | None:
    """The unit's counts of the framework's year, as the computation reads
    them: its predecessors' added for a unit formed during the year."""
    year = assessment.framework.year
    return procedure_selectors.year_counts(year, [assessment.unit_id]).get(
        assessment.unit_id
    )


@dataclass(frozen=True)
class Change:
    """One field's value before and after, as shown."""

    label: str
    old: str
    new: str


@dataclass
class Row:
    """One node of the tree, with its score when it is a leaf."""

    node: Node
    depth: int
    is_leaf: bool
    self_points: Decimal = rules.ZERO
    appraised_points: Decimal = rules.ZERO
    score: Score | None = None
    metric: MetricValue | None = None
    documents: list[Evidence] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    contests: list[Contest] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    # A survey leaf of a unit with an imported survey figure: where its
    # points come from (nobody enters or appraises them).
    survey: Figure | None = None
    # A survey leaf without one: the case records' satisfaction rate of the
    # year and the points it would give, a guide for the reviewer's entry.
    survey_estimate: tuple[Decimal, Decimal] | None = None

    @property
    def survey_points(self) -> Decimal | None:
        return self.survey.points(self.node.max_points) if self.survey else None

    @property
    def open_contest(self) -> Contest | None:
        return next((c for c in self.contests if c.state == ContestState.OPEN), None)

    @property
    def differs(self) -> bool:
        score = self.score
        return (
            score is not None
            and score.appraised_score is not None
            and score.self_score is not None
            and score.appraised_score != score.self_score
        )


@dataclass
class Sheet:
    """An assessment as its pages show it."""

    assessment: Assessment
    rows: list[Row]
    documents: list[Evidence]
    max_total: Decimal
    self_total: Decimal
    appraised_total: Decimal
    completeness: dict[str, list[str]]
    to_appraise: int
    appraised: int
    # The leaves still to appraise by hand (codes, in the tree's order):
    # approval waits for them.
    pending: list[str]
    # Whether this reader sees the appraised scores (reviewers and leaders
    # always; the unit once returned or once provisional results are shown).
    shows_appraisal: bool

    @property
    def leaves(self) -> list[Row]:
        return [row for row in self.rows if row.is_leaf]

    @property
    def complete(self) -> bool:
        return not (self.completeness["empty"] or self.completeness["missing_evidence"])


def _fmt(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return str(formats.number_format(value, decimal_pos=2))
    return str(value)


def _depths(nodes: Iterable[Node]) -> dict[int, int]:
    depth: dict[int, int] = {}
    for node in nodes:  # in pre-order: a parent comes before its children
        depth[node.pk] = 0 if node.parent_id is None else depth[node.parent_id] + 1
    return depth


def tree_totals(
    nodes: Iterable[Node], leaf_points: Mapping[int, Decimal | None]
) -> dict[int, Decimal]:
    return rules.totals(
        (rules.TreeNode(n.pk, n.parent_id, n.max_points) for n in nodes), leaf_points
    )


def leaf_self_points(
    score: Score,
    metric: MetricValue | None,
    *,
    shows_appraisal: bool,
    survey: Figure | None = None,
) -> Decimal | None:
    """What a leaf adds to the unit's own total: its self score; a metric
    leaf's computed points; a survey leaf's points once shown (the imported
    figure's share of its maximum where there is one)."""
    method = score.node.method
    if method == Method.METRIC:
        return metric.points if metric else None
    if method == Method.SURVEY:
        if not shows_appraisal:
            return None
        return leaf_appraised_points(score, metric, survey=survey)
    return score.self_score


def leaf_appraised_points(
    score: Score, metric: MetricValue | None, *, survey: Figure | None = None
) -> Decimal | None:
    if score.node.method == Method.METRIC:
        return metric.points if metric else None
    if score.node.method == Method.SURVEY and survey is not None:
        return survey.points(score.node.max_points)
    return score.appraised_score


def survey_estimate(
    node: Node, counts: procedure_rules.Counts | None
) -> tuple[Decimal, Decimal] | None:
    """The case records' satisfaction rate of the year (766 "5.4") and the
    points it would give a survey leaf: shown beside the reviewer's entry,
    never counted (a satisfaction metric leaf already scores those dossiers)."""
    if counts is None:
        return None
    rate = procedure_rules.metrics(counts).satisfaction_rate
    if rate is None:
        return None
    return rate, rules.survey_points(node.max_points, rate)


def shows_appraisal(user: AnyUser, assessment: Assessment) -> bool:
    if not access.may_fill_in(user, assessment):
        return True  # reviewers, leaders, superusers
    # Returned: the reasons to revise. Approved: the unit's result, the
    # reviewer's work being finished (issue 18; before, only once the
    # provisional results were shown).
    return assessment.state in (
        AssessmentState.RETURNED,
        AssessmentState.APPROVED,
    ) or (assessment.contest_until is not None)


def reviewer_changes(assessment: Assessment) -> dict[int, list[Change]]:
    """Per score, what the reviewer changed since the unit's last submission:
    the appraised score and its reason then (from the history) and now."""
    if assessment.submitted_at is None:
        return {}
    baseline: dict[int, dict[str, Any]] = {}
    for record in (
        Score.history.filter(
            assessment_id=assessment.pk, history_date__lte=assessment.submitted_at
        )
        .order_by("history_date", "history_id")
        .values("id", "appraised_score", "appraisal_reason")
    ):
        baseline[record["id"]] = record
    changes: dict[int, list[Change]] = {}
    for score in Score.objects.filter(assessment=assessment).only(
        "pk", "appraised_score", "appraisal_reason"
    ):
        before = baseline.get(
            score.pk, {"appraised_score": None, "appraisal_reason": ""}
        )
        found = []
        if before["appraised_score"] != score.appraised_score:
            found.append(
                Change(
                    _("appraised score"),
                    _fmt(before["appraised_score"]),
                    _fmt(score.appraised_score),
                )
            )
        if before["appraisal_reason"] != score.appraisal_reason:
            found.append(
                Change(
                    _("reason for the appraised score"),
                    _fmt(before["appraisal_reason"]),
                    _fmt(score.appraisal_reason),
                )
            )
        if found:
            changes[score.pk] = found
    return changes


def assessment_sheet(*, assessment: Assessment, user: AnyUser) -> Sheet:
    """The whole tree of an assessment for its pages, in a fixed number of
    queries."""
    nodes = list(
        Node.objects.filter(framework_id=assessment.framework_id).order_by(
            "position", "pk"
        )
    )
    scores = {
        score.node_id: score
        for score in Score.objects.filter(assessment=assessment)
        .select_related("node", "updated_by")
        .prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.order_by("original_name")),
            Prefetch(
                "comments",
                queryset=Comment.objects.select_related(
                    "author", "answered_by"
                ).order_by("round", "created_at", "pk"),
            ),
            Prefetch(
                "contests",
                queryset=Contest.objects.select_related(
                    "raised_by", "decided_by"
                ).order_by("raised_at", "pk"),
            ),
        )
    }
    documents = list(
        Evidence.objects.filter(assessment=assessment)
        .select_related("uploaded_by")
        .order_by("original_name", "pk")
    )
    visible = shows_appraisal(user, assessment)
    has_survey = any(node.method == Method.SURVEY for node in nodes)
    figure = (
        figure_in_use(year=assessment.framework.year, unit_id=assessment.unit_id)
        if has_survey
        else None
    )
    has_metric = any(node.method == Method.METRIC for node in nodes)
    counts = (
        unit_year_counts(assessment)
        if has_metric or (has_survey and figure is None)
        else None
    )
    changes = (
        reviewer_changes(assessment)
        if assessment.state == AssessmentState.RETURNED
        else {}
    )
    parents = {node.parent_id for node in nodes}
    depth = _depths(nodes)
    rows: list[Row] = []
    self_points: dict[int, Decimal | None] = {}
    appraised_points: dict[int, Decimal | None] = {}
    to_appraise = appraised = 0
    pending: list[str] = []
    for node in nodes:
        is_leaf = node.pk not in parents
        row = Row(node=node, depth=depth[node.pk], is_leaf=is_leaf)
        score = scores.get(node.pk)
        if is_leaf and score is not None:
            row.score = score
            if node.method == Method.METRIC:
                row.metric = metric_value(node, counts, assessment.framework.year)
            elif node.method == Method.SURVEY and figure is not None:
                row.survey = figure
            else:
                to_appraise += 1
                appraised += score.appraised_score is not None
                if score.appraised_score is None:
                    pending.append(node.code)
                if node.method == Method.SURVEY:
                    row.survey_estimate = survey_estimate(node, counts)
            row.documents = list(score.evidence.all())
            row.comments = list(score.comments.all())
            row.contests = list(score.contests.all())
            row.changes = changes.get(score.pk, [])
            self_points[node.pk] = leaf_self_points(
                score, row.metric, shows_appraisal=visible, survey=row.survey
            )
            appraised_points[node.pk] = leaf_appraised_points(
                score, row.metric, survey=row.survey
            )
        rows.append(row)
    self_totals_ = tree_totals(nodes, self_points)
    appraised_totals = tree_totals(nodes, appraised_points)
    for row in rows:
        row.self_points = self_totals_.get(row.node.pk, rules.ZERO)
        row.appraised_points = appraised_totals.get(row.node.pk, rules.ZERO)
    roots = [row for row in rows if row.node.parent_id is None]
    return Sheet(
        assessment=assessment,
        rows=rows,
        documents=documents,
        max_total=sum((row.node.max_points for row in roots), rules.ZERO),
        self_total=sum((row.self_points for row in roots), rules.ZERO),
        appraised_total=sum((row.appraised_points for row in roots), rules.ZERO),
        completeness=services.completeness(assessment),
        to_appraise=to_appraise,
        appraised=appraised,
        pending=pending,
        shows_appraisal=visible,
    )


# --- The queue -------------------------------------------------------------------

NOT_STARTED = "not_started"
STATE_ORDER = Case(
    When(state=AssessmentState.SUBMITTED, then=Value(0)),
    When(state=AssessmentState.RETURNED, then=Value(1)),
    When(state=AssessmentState.DRAFT, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


@dataclass(frozen=True)
class QueueFilters:
    framework: Framework | None = None
    year: int | None = None
    # An AssessmentState, NOT_STARTED (a draft without any self score), or "".
    state: str = ""
    # Part of the unit's name or code.
    search: str = ""


def _surveyed() -> Exists:
    """Whether the unit of the assessment has an imported survey figure of
    its framework's year (then its survey leaves are not appraised by hand)."""
    return Exists(
        SurveyFigure.objects.filter(
            year=OuterRef("framework__year"), unit=OuterRef("unit_id")
        )
    )


def _open_contests() -> QuerySet[Any]:
    """The number of open contests of the assessment of OuterRef("pk")."""
    return (
        Contest.objects.filter(
            score__assessment=OuterRef("pk"), state=ContestState.OPEN
        )
        .order_by()
        .values("score__assessment")
        .annotate(n=Count("pk"))
        .values("n")
    )


def _with_progress(queryset: QuerySet[Assessment]) -> QuerySet[Assessment]:
    """Each assessment with its progress: leaves self-scored, leaves to
    appraise, leaves appraised, open contests (scores joined and counted)."""
    # A survey leaf is appraised by hand only where the unit has no imported
    # survey figure of the year (services.surveyed).
    leaves_to_appraise = Q(scores__node__method=Method.MANUAL) | Q(
        scores__node__method=Method.SURVEY, surveyed=False
    )
    surveyed = _surveyed()
    return queryset.annotate(surveyed=surveyed).annotate(
        leaves=Count("scores"),
        manual_leaves=Count("scores", filter=Q(scores__node__method=Method.MANUAL)),
        self_scored=Count("scores", filter=Q(scores__self_score__isnull=False)),
        to_appraise=Count("scores", filter=leaves_to_appraise),
        appraised=Count(
            "scores",
            filter=leaves_to_appraise & Q(scores__appraised_score__isnull=False),
        ),
        open_contests=Coalesce(Subquery(_open_contests()), 0),
    )


def _queue_ordered(*, user: AnyUser, filters: QueueFilters) -> QuerySet[Assessment]:
    """The assessments a user sees, filtered and in the queue's order,
    without their progress."""
    queryset = (
        access.assessments_visible(user)
        .select_related("framework", "unit")
        .annotate(state_order=STATE_ORDER)
    )
    if filters.framework is not None:
        queryset = queryset.filter(framework=filters.framework)
    if filters.year is not None:
        queryset = queryset.filter(framework__year=filters.year)
    if filters.state == NOT_STARTED:
        # Not on the self_scored count, which would count every row's scores.
        queryset = queryset.filter(state=AssessmentState.DRAFT).exclude(
            Exists(
                Score.objects.filter(
                    assessment=OuterRef("pk"), self_score__isnull=False
                )
            )
        )
    elif filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.search:
        queryset = queryset.filter(
            Q(unit__name__icontains=filters.search)
            | Q(unit__code__icontains=filters.search)
        )
    if filters.state == AssessmentState.SUBMITTED:
        # What waits for appraisal: the longest waiting first.
        return queryset.order_by("submitted_at", "unit__path")
    return queryset.order_by(
        "-framework__year", "framework__unit_kind", "state_order", "unit__path"
    )


def assessment_queue(
    *, user: AnyUser, filters: QueueFilters | None = None
) -> QuerySet[Assessment]:
    """The assessments a user sees, each with its progress: leaves
    self-scored, leaves to appraise, leaves appraised, open contests. One
    query, whatever the number of assessments (a page of it: queue_page)."""
    return _with_progress(_queue_ordered(user=user, filters=filters or QueueFilters()))


def queue_page(
    *, user: AnyUser, filters: QueueFilters, number: Any, per_page: int
) -> Page:
    """A page of the queue: its assessments chosen in order without their
    progress (and counted so by the paginator), then read, then their scores
    counted. Counting every score of every assessment in reach before cutting
    a page took seconds for a province; joining a page's scores to its rows
    and grouping on every column took 90-130 ms for 250 rows. Now four
    queries whatever the page, the scores counted per assessment alone, with
    the same figures as assessment_queue."""
    ordered = _queue_ordered(user=user, filters=filters)
    page = Paginator(ordered.values_list("pk", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    found = (
        Assessment.objects.filter(pk__in=ids)
        .select_related("framework", "unit")
        .annotate(
            surveyed=_surveyed(),
            open_contests=Coalesce(Subquery(_open_contests()), 0),
        )
        .in_bulk()
    )
    manual = Q(node__method=Method.MANUAL)
    survey = Q(node__method=Method.SURVEY)
    appraised = Q(appraised_score__isnull=False)
    counts = {
        row["assessment_id"]: row
        for row in Score.objects.filter(assessment_id__in=ids)
        .order_by()
        .values("assessment_id")
        .annotate(
            leaves=Count("pk"),
            manual_leaves=Count("pk", filter=manual),
            survey_leaves=Count("pk", filter=survey),
            self_scored=Count("pk", filter=Q(self_score__isnull=False)),
            manual_appraised=Count("pk", filter=manual & appraised),
            survey_appraised=Count("pk", filter=survey & appraised),
        )
    }
    rows: list[Any] = []
    for pk in ids:
        # The figures as attributes, as assessment_queue's annotations.
        assessment: Any = found[pk]
        row: dict[str, Any] = dict(counts.get(pk, {}))
        # A survey leaf is appraised by hand only where the unit has no
        # imported survey figure of the year (as _with_progress).
        by_hand = not assessment.surveyed
        assessment.leaves = row.get("leaves", 0)
        assessment.manual_leaves = row.get("manual_leaves", 0)
        assessment.self_scored = row.get("self_scored", 0)
        assessment.to_appraise = row.get("manual_leaves", 0) + (
            row.get("survey_leaves", 0) if by_hand else 0
        )
        assessment.appraised = row.get("manual_appraised", 0) + (
            row.get("survey_appraised", 0) if by_hand else 0
        )
        rows.append(assessment)
    return Page(rows, page.number, page.paginator)


def waiting_for_appraisal(*, user: AnyUser) -> QuerySet[Assessment]:
    """Submitted assessments the user appraises (none for anyone else)."""
    if not access.is_reviewer(user):
        return Assessment.objects.none()
    return access.reviewable(
        user, Assessment.objects.filter(state=AssessmentState.SUBMITTED)
    )


def queue_frameworks(*, user: AnyUser) -> QuerySet[Framework]:
    """The frameworks of the assessments a user sees (the filter's choices)."""
    return Framework.objects.filter(
        pk__in=access.assessments_visible(user).values("framework_id")
    ).order_by("-year", "unit_kind")


def assessments_startable(*, user: AnyUser) -> list[tuple[Framework, Unit]]:
    """Open frameworks of the units the user fills in (access.may_start) for
    which the unit has no assessment yet."""
    paths = {path for _role, path in memberships(user)}
    units = [
        unit
        for unit in (Unit.objects.filter(path__in=paths) if paths else [])
        if access.may_start(user, unit)
    ]
    if not units:
        return []
    frameworks = Framework.objects.filter(
        state=FrameworkState.OPEN, unit_kind__in={unit.kind for unit in units}
    ).order_by("-year")
    started = set(
        Assessment.objects.filter(unit__in=units).values_list("framework_id", "unit_id")
    )
    return [
        (framework, unit)
        for framework in frameworks
        for unit in units
        if unit.kind == framework.unit_kind and (framework.pk, unit.pk) not in started
    ]


@dataclass(frozen=True)
class ProvisionalSummary:
    """For a reviewer, one framework's approved assessments and whether their
    provisional results are shown."""

    framework: Framework
    approved: int
    shown: int
    contest_until: date | None


def provisional_summary(
    *, user: AnyUser, framework: Framework
) -> ProvisionalSummary | None:
    reviewable = access.reviewable(
        user,
        Assessment.objects.filter(framework=framework, state=AssessmentState.APPROVED),
    )
    approved = reviewable.count()
    if not approved:
        return None
    shown = reviewable.filter(contest_until__isnull=False)
    latest = shown.order_by("-contest_until").values_list("contest_until", flat=True)
    return ProvisionalSummary(framework, approved, shown.count(), latest.first())


# --- History ---------------------------------------------------------------------


@dataclass
class HistoryEntry:
    """One recorded change: who, when, on what, and each field's old → new."""

    when: datetime
    who: str
    subject: str
    action: str
    changes: list[Change]
    # Orders entries made in the same instant (the history row's own id).
    order: int = 0


HISTORY_ACTIONS = {
    "+": gettext_lazy("created"),
    "~": gettext_lazy("changed"),
    "-": gettext_lazy("deleted"),
}
# Fields not shown: identities, and what a row's own subject already says.
HIDDEN_FIELDS = frozenset({"id", "assessment", "framework", "unit", "node", "score"})


def _who(record: Any) -> str:
    user = record.history_user
    if user is None:
        return _("the system")
    return user.get_full_name() or user.get_username()


def _field_value(record: Any, name: str, users: Mapping[int, str]) -> str:
    model_field = record.instance_type._meta.get_field(name)
    value = getattr(record, model_field.attname)
    if model_field.choices and value not in (None, ""):
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        return users.get(value, "—") if value is not None else "—"
    if name == "size" and isinstance(value, int):
        from django.template.defaultfilters import filesizeformat

        return str(filesizeformat(value))
    return _fmt(value)


def _diff(
    record: Any, previous: Any | None, fields_: list[str], users: Mapping[int, str]
) -> list[Change]:
    """old → new of each field that changed (from nothing for a first
    record: its non-empty fields)."""
    meta = record.instance_type._meta
    if previous is None:
        names = [
            name
            for name in fields_
            if getattr(record, meta.get_field(name).attname) not in (None, "")
        ]
        old = dict.fromkeys(names, "—")
    else:
        delta = record.diff_against(previous, included_fields=fields_)
        names = [name for name in fields_ if name in delta.changed_fields]
        old = {name: _field_value(previous, name, users) for name in names}
    return [
        Change(
            str(meta.get_field(name).verbose_name),
            old[name],
            _field_value(record, name, users),
        )
        for name in names
    ]


def tracked_fields(model: type, *, exclude: Iterable[str] = ()) -> list[str]:
    """The fields of a model's history a reader is shown (not the hidden
    ones, nor ``exclude``): shared with the adjustments' history."""
    history_model = model.history.model  # type: ignore[attr-defined]
    names = [f.name for f in history_model.tracked_fields if f.editable]
    skipped = HIDDEN_FIELDS | set(exclude)
    return [name for name in names if name not in skipped]


def history_entries(
    records: Iterable[Any],
    *,
    subject: Any,
    fields_: list[str],
    users: Mapping[int, str],
    extra: Any = None,
) -> list[HistoryEntry]:
    """Entries of one model's history rows, each compared with the previous
    row of the same object. ``extra(record, previous)`` adds changes. The
    adjustments' history is read the same way (scoring.adjustments.views)."""
    previous: dict[int, Any] = {}
    entries = []
    for record in records:
        before = previous.get(record.id)
        changes = _diff(record, before, fields_, users)
        if extra is not None:
            changes += extra(record, before)
        previous[record.id] = record
        if record.history_type == "~" and before is not None and not changes:
            continue  # a save that changed nothing shown (a version bump)
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=_who(record),
                subject=subject(record),
                action=str(HISTORY_ACTIONS.get(record.history_type, "")),
                changes=changes,
                order=record.history_id,
            )
        )
    return entries


def assessment_history(*, assessment: Assessment) -> list[HistoryEntry]:
    """Every recorded change of the assessment, its leaves (with the
    documents attached to each), its documents, comments and contests, newest
    first."""
    score_of_node = dict(
        Score.objects.filter(assessment=assessment).values_list("pk", "node_id")
    )
    score_ids = list(score_of_node)
    codes = dict(
        Node.objects.filter(framework_id=assessment.framework_id).values_list(
            "pk", "code"
        )
    )
    from django.contrib.auth import get_user_model

    def by_date(queryset: QuerySet[Any]) -> list[Any]:
        return list(
            queryset.select_related("history_user").order_by(
                "history_date", "history_id"
            )
        )

    assessment_rows = by_date(Assessment.history.filter(id=assessment.pk))
    score_rows = by_date(Score.history.filter(assessment_id=assessment.pk))
    document_rows = by_date(Evidence.history.filter(assessment_id=assessment.pk))
    comment_rows = by_date(Comment.history.filter(score_id__in=score_ids))
    contest_rows = by_date(Contest.history.filter(score_id__in=score_ids))

    user_ids: set[int] = set()
    for rows_, names in (
        (assessment_rows, ("submitted_by_id", "approved_by_id")),
        (comment_rows, ("author_id", "answered_by_id")),
        (contest_rows, ("raised_by_id", "decided_by_id")),
        (document_rows, ("uploaded_by_id",)),
    ):
        for row in rows_:
            user_ids.update(getattr(row, name) for name in names)
    users = {
        user.pk: user.get_full_name() or user.get_username()
        for user in get_user_model().objects.filter(pk__in=user_ids - {None})
    }

    # The documents attached to each score history row (one query), named.
    through = Score.history.model._meta.get_field(
        "historicalscore_evidence"
    ).related_model
    attached: dict[int, list[int]] = defaultdict(list)
    for history_id, evidence_id in through.objects.filter(
        history_id__in=[row.history_id for row in score_rows]
    ).values_list("history_id", "evidence_id"):
        attached[history_id].append(evidence_id)
    document_names = {row.id: row.original_name for row in document_rows}
    evidence_label = str(Score._meta.get_field("evidence").verbose_name)

    def documents_of(record: Any) -> str:
        listed = sorted(
            document_names.get(pk, f"#{pk}") for pk in attached[record.history_id]
        )
        return ", ".join(listed) or "—"

    def evidence_change(record: Any, before: Any | None) -> list[Change]:
        new = documents_of(record)
        old = documents_of(before) if before is not None else "—"
        return [Change(evidence_label, old, new)] if old != new else []

    def score_subject(record: Any) -> str:
        return _("Leaf %(code)s") % {"code": codes.get(record.node_id, "?")}

    def code_of_score(score_id: int) -> str:
        return codes.get(score_of_node.get(score_id, 0), "?")

    entries = [
        *history_entries(
            assessment_rows,
            subject=lambda record: _("Assessment"),
            fields_=tracked_fields(Assessment),
            users=users,
        ),
        *history_entries(
            score_rows,
            subject=score_subject,
            fields_=tracked_fields(
                Score, exclude={"updated_by", "max_points", "evidence"}
            ),
            users=users,
            extra=evidence_change,
        ),
        *history_entries(
            document_rows,
            subject=lambda record: (
                _("Document “%(name)s”") % {"name": record.original_name}
            ),
            fields_=tracked_fields(Evidence, exclude={"uploaded_by", "extension"}),
            users=users,
        ),
        *history_entries(
            comment_rows,
            subject=lambda record: (
                _("Comment on %(code)s (round %(round)s)")
                % {"code": code_of_score(record.score_id), "round": record.round}
            ),
            fields_=tracked_fields(Comment, exclude={"round"}),
            users=users,
        ),
        *history_entries(
            contest_rows,
            subject=lambda record: (
                _("Contest of %(code)s") % {"code": code_of_score(record.score_id)}
            ),
            fields_=tracked_fields(Contest),
            users=users,
        ),
    ]
    entries.sort(key=lambda entry: (entry.when, entry.order), reverse=True)
    return entries


def unread_notice_count(user: AnyUser) -> int:
    """The menu's badge: the user's notices not read yet."""
    if not user.is_authenticated:
        return 0
    return Notice.objects.filter(user_id=user.pk, read_at__isnull=True).count()
