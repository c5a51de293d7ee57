"""Issue 15, defect 7 (follow-up): a unit cannot waive its own targets by
removing them or by changing what they measure. A mandatory target is
removed only by Home Affairs strictly above the unit or an administrator,
saying why; the reason and who are kept on the history row of the removal
and shown on the commitment's history. A target Home Affairs already made
optional the unit may still remove. Through the service and the pages."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import translation

from commitments import access, services
from commitments.models import Commitment, CommitmentTemplate, Target
from commitments.organisation.models import UnitKind
from tests.commitments.helpers import D, indicator
from tests.wording import vi

YEAR = date.today().year
REASON = "Phường không có cổng thanh toán trực tuyến trong năm"
REFUSED = (
    "This target is mandatory: only Home Affairs of the unit's jurisdiction "
    "or an administrator removes it, saying why."
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def commitment(org, reviewer):
    """Commune A's draft of the year, from its template (every target
    mandatory)."""
    template = CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE)
    services.commitments_create(
        year=YEAR, template=template, units=[org.commune_a], user=reviewer
    )
    return Commitment.objects.get(unit=org.commune_a, year=YEAR)


@pytest.fixture
def payment(commitment):
    return commitment.targets.get(indicator__code="thanh-toan")


def exists(target):
    return Target.objects.filter(pk=target.pk).exists()


def save(target, user, **changes):
    values = {
        "indicator": target.indicator,
        "comparison": target.comparison,
        "value": target.value,
        "deadline": target.deadline,
        **changes,
    }
    return services.target_save(
        commitment=target.commitment, user=user, target=target, **values
    )


def removal(target):
    """The history row of the target's removal."""
    return Target.history.get(id=target.pk, history_type="-")


# --- the service ---------------------------------------------------------------


def test_the_units_people_remove_only_a_target_home_affairs_made_optional(
    payment, commune_staff, commune_head, city_reviewer
):
    for user in (commune_staff, commune_head):
        # Not even with a reason: the unit does not waive its own target.
        with pytest.raises(ValidationError) as refused:
            services.target_delete(target=payment, user=user, reason=REASON)
        assert refused.value.messages == [REFUSED]
        assert exists(payment)
        assert not access.may_remove(user, payment)
    # Once Home Affairs made it optional, the unit may remove it.
    save(payment, city_reviewer, mandatory=False, optional_reason=REASON)
    payment.refresh_from_db()
    assert access.may_remove(commune_staff, payment)
    services.target_delete(target=payment, user=commune_staff)
    assert not exists(payment)
    row = removal(payment)
    assert (row.history_user, row.optional_reason) == (commune_staff, REASON)


def test_home_affairs_above_the_unit_removes_a_mandatory_target_saying_why(
    payment, city_reviewer
):
    assert access.may_remove(city_reviewer, payment)
    with pytest.raises(ValidationError) as silent:
        services.target_delete(target=payment, user=city_reviewer, reason="  ")
    assert silent.value.message_dict == {
        "reason": ["Say why this mandatory target is removed."]
    }
    assert exists(payment)
    services.target_delete(target=payment, user=city_reviewer, reason=f" {REASON} ")
    assert not exists(payment)
    row = removal(payment)
    assert (row.history_user, row.history_change_reason, row.mandatory) == (
        city_reviewer,
        REASON,
        True,
    )


def test_an_administrator_removes_a_mandatory_target_saying_why(payment, superuser):
    with pytest.raises(ValidationError):
        services.target_delete(target=payment, user=superuser)
    services.target_delete(target=payment, user=superuser, reason=REASON)
    assert removal(payment).history_change_reason == REASON


def test_home_affairs_of_the_unit_itself_cannot_remove_its_mandatory_targets(
    org, city_reviewer, reviewer
):
    """Phòng Nội vụ belongs to the city: the city's own targets are removed
    by the province's Home Affairs, strictly above it."""
    city = Commitment.objects.create(unit=org.city, year=YEAR)
    target = Target.objects.create(
        commitment=city, indicator=indicator("dung-han"), value=D("100")
    )
    with pytest.raises(ValidationError) as refused:
        services.target_delete(target=target, user=city_reviewer, reason=REASON)
    assert refused.value.messages == [REFUSED]
    services.target_delete(target=target, user=reviewer, reason=REASON)
    assert not exists(target)


def test_the_caller_cannot_pass_a_target_off_as_optional(payment, commune_staff):
    """The flag is read as stored, not from the caller's copy."""
    payment.mandatory = False
    with pytest.raises(ValidationError):
        services.target_delete(target=payment, user=commune_staff)
    assert exists(payment)


def test_a_long_reason_is_kept_whole():
    """The history's change reason is a text, not simple-history's
    100-character default (PostgreSQL would refuse a longer reason)."""
    field = Target.history.model._meta.get_field("history_change_reason")
    assert isinstance(field, models.TextField)


# --- what a target measures ------------------------------------------------------


def test_the_unit_cannot_change_what_a_mandatory_target_measures(
    payment, commune_staff, commune_head, city_reviewer
):
    other = indicator("dung-han")
    Target.objects.filter(commitment=payment.commitment, indicator=other).delete()
    for user in (commune_staff, commune_head):
        with pytest.raises(ValidationError) as swapped:
            save(payment, user, indicator=other)
        assert list(swapped.value.message_dict) == ["indicator"]
        # "At most" a value the unit already beats: no warning at signing.
        with pytest.raises(ValidationError) as flipped:
            save(payment, user, comparison="lte")
        assert list(flipped.value.message_dict) == ["comparison"]
    payment.refresh_from_db()
    assert (payment.indicator.code, payment.comparison) == ("thanh-toan", "gte")
    # Its value stays the unit's to adjust (below last year's result is
    # said at signing and recorded).
    save(payment, commune_staff, value=D("10"))
    payment.refresh_from_db()
    assert payment.value == D("10")
    # Home Affairs above the unit changes what it measures.
    save(payment, city_reviewer, indicator=other, comparison="lte")
    payment.refresh_from_db()
    assert (payment.indicator, payment.comparison) == (other, "lte")


def test_the_unit_cannot_carry_an_optional_targets_reason_to_another_indicator(
    payment, commune_staff, city_reviewer
):
    save(payment, city_reviewer, mandatory=False, optional_reason=REASON)
    payment.refresh_from_db()
    other = indicator("dung-han")
    Target.objects.filter(commitment=payment.commitment, indicator=other).delete()
    with pytest.raises(ValidationError):
        save(payment, commune_staff, indicator=other)


# --- the pages -----------------------------------------------------------------


def _remove_url(target):
    return reverse("target_delete", args=[target.commitment_id, target.pk])


def test_the_units_page_offers_no_removal_of_a_mandatory_target(
    client, commitment, payment, commune_staff, city_reviewer
):
    client.force_login(commune_staff)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert 'data-testid="target-edit"' in page
    assert 'data-testid="target-remove"' not in page
    # Home Affairs makes one optional: that one the unit may remove.
    save(payment, city_reviewer, mandatory=False, optional_reason=REASON)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert page.count('data-testid="target-remove"') == 1
    assert _remove_url(payment) in page
    assert 'data-testid="target-remove-reason"' not in page


def test_the_unit_removing_a_mandatory_target_is_refused_on_the_page(
    client, payment, commune_staff
):
    client.force_login(commune_staff)
    response = client.post(_remove_url(payment), {"reason": REASON})
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "Chỉ tiêu này là bắt buộc: chỉ cơ quan Nội vụ quản lý đơn vị hoặc quản trị "
        "viên mới được bỏ, kèm lý do."
    ) in page
    assert 'data-testid="target-table"' in page
    assert exists(payment)


def test_home_affairs_removes_a_mandatory_target_on_the_page_saying_why(
    client, commitment, payment, city_reviewer
):
    client.force_login(city_reviewer)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert page.count('data-testid="target-remove-reason"') == 8
    refused = client.post(_remove_url(payment), {"reason": ""})
    assert refused.status_code == 400
    assert vi("Say why this mandatory target is removed.") in refused.content.decode()
    assert exists(payment)
    done = client.post(_remove_url(payment), {"reason": REASON})
    assert done.status_code == 302
    assert not exists(payment)
    detail = client.get(commitment.get_absolute_url()).content.decode()
    history = detail.split('data-testid="history-table"')[1]
    assert vi("removed because: %(reason)s") % {"reason": REASON} in history
    assert "reviewer.city" in history
