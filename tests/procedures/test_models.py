"""The model choices and the pure rules speak the same codes."""

import pytest

from procedures import models, rules


@pytest.mark.parametrize(
    ("model_choices", "rule_enum"),
    [
        (models.DossierStatus, rules.DossierStatus),
        (models.Channel, rules.Channel),
        (models.Satisfaction, rules.Satisfaction),
    ],
)
def test_model_choices_and_rule_constants_agree(model_choices, rule_enum):
    assert {c.name: c.value for c in model_choices} == {
        c.name: c.value for c in rule_enum
    }
