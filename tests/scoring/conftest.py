"""A small commune framework and its assessment for commune A:

1   field, 6 points
└── 1.1   criterion, 6
    ├── 1.1.1   manual, 2
    └── 1.1.2   manual, 4, evidence required
2   field, 4 points
├── 2.1   metric (on-time rate, linear to 100%), 2
└── 2.2   survey, 2
"""

from datetime import date
from decimal import Decimal

import pytest

from commitments.organisation.models import UnitKind
from scoring.assessments import services
from scoring.models import Framework, Method, Node, NodeLevel

DEADLINE = date(2026, 1, 7)
# Node.position is the node's rank in the tree read top to bottom.
ORDER = ["1", "1.1", "1.1.1", "1.1.2", "2", "2.1", "2.2"]


@pytest.fixture
def framework(db):
    """Two fields; field 1 has a criterion with two manual leaves (one needs
    evidence), field 2 a metric leaf and a survey leaf."""
    fw = Framework.objects.create(
        year=2025,
        unit_kind=UnitKind.COMMUNE,
        name="Chỉ số CCHC cấp xã",
        deadline=DEADLINE,
    )

    def node(code, parent, level, points, **extra):
        return Node.objects.create(
            framework=fw,
            parent=parent,
            level=level,
            code=code,
            position=ORDER.index(code),
            title=f"Mục {code}",
            max_points=Decimal(points),
            **extra,
        )

    f1 = node("1", None, NodeLevel.FIELD, 6)
    c11 = node("1.1", f1, NodeLevel.CRITERION, 6)
    node("1.1.1", c11, NodeLevel.SUBCRITERION, 2)
    node("1.1.2", c11, NodeLevel.SUBCRITERION, 4, evidence_required=True)
    f2 = node("2", None, NodeLevel.FIELD, 4)
    node(
        "2.1",
        f2,
        NodeLevel.CRITERION,
        2,
        method=Method.METRIC,
        metric="on_time_rate",
        scoring="linear",
        scoring_params={"full_at": 100},
    )
    node("2.2", f2, NodeLevel.CRITERION, 2, method=Method.SURVEY)
    return fw


@pytest.fixture
def assessment(framework, org):
    return services.assessment_open(framework=framework, unit=org.commune_a)


@pytest.fixture
def year(framework):
    """The framework with the national tiers and the default catalogue of
    deductions and bonuses, as frameworks.framework_create makes them."""
    from tests.scoring.results_helpers import add_tiers_and_catalogue

    add_tiers_and_catalogue(framework)
    return framework


from tests.scoring.accountability_fixtures import (  # noqa: E402, F401 - fixtures
    city_leader,
    head_user,
    heads,
)
