"""Issue 15, defect 7: a unit cannot waive its own targets. Whether a target
is mandatory is decided by Home Affairs above the unit or an administrator,
always with a reason, kept in the history; the unit's own people neither see
nor change the flag. Through the service and through the pages."""

from datetime import date, datetime

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from commitments import access, services
from commitments.models import Commitment, CommitmentTemplate, Target
from commitments.organisation.models import UnitKind
from tests.commitments.helpers import D, indicator, scan
from tests.factories import HeadFactory, UserFactory
from tests.wording import vi

YEAR = date.today().year
REASON = "Phường chưa có cổng thanh toán trực tuyến đến tháng 9"
NOW = timezone.make_aware(datetime(YEAR, 3, 2, 9, 30))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def commitment(org, reviewer):
    """Commune A's draft of the year, from its template."""
    template = CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE)
    services.commitments_create(
        year=YEAR, template=template, units=[org.commune_a], user=reviewer
    )
    return Commitment.objects.get(unit=org.commune_a, year=YEAR)


@pytest.fixture
def payment(commitment):
    return commitment.targets.get(indicator__code="thanh-toan")


def save(target, user, **changes):
    """target_save with the target's stored values, ``changes`` on top."""
    values = {
        "indicator": target.indicator,
        "comparison": target.comparison,
        "value": target.value,
        "deadline": target.deadline,
        **changes,
    }
    return services.target_save(
        commitment=target.commitment, user=user, target=target, now=NOW, **values
    )


def stored(target):
    target.refresh_from_db()
    return (target.mandatory, target.optional_reason)


# --- the service ---------------------------------------------------------------


def test_the_units_own_people_cannot_make_a_target_optional(
    payment, commune_staff, commune_head
):
    for user in (commune_staff, commune_head):
        with pytest.raises(PermissionDenied):
            save(payment, user, mandatory=False, optional_reason=REASON)
        assert stored(payment) == (True, "")


def test_a_target_the_unit_adds_is_mandatory(commitment, commune_staff):
    commitment.targets.filter(indicator__code="thanh-toan").delete()
    added = services.target_save(
        commitment=commitment,
        user=commune_staff,
        indicator=indicator("thanh-toan"),
        comparison="gte",
        value=D("90"),
        deadline=None,
    )
    assert stored(added) == (True, "")
    with pytest.raises(PermissionDenied):
        services.target_save(
            commitment=commitment,
            user=commune_staff,
            indicator=indicator("thanh-toan"),
            comparison="gte",
            value=D("90"),
            deadline=None,
            target=added,
            mandatory=False,
            optional_reason=REASON,
        )


def test_targets_drafted_from_a_template_are_mandatory(org, reviewer):
    """A template cannot say why one unit's target would not be mandatory."""
    template = CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE)
    template.targets.filter(indicator__code="thanh-toan").update(mandatory=False)
    services.commitments_create(
        year=YEAR, template=template, units=[org.commune_a], user=reviewer
    )
    targets = Target.objects.filter(commitment__unit=org.commune_a)
    assert targets.count() == 8
    assert not targets.filter(mandatory=False).exists()


def test_home_affairs_above_the_unit_makes_a_target_optional_with_a_reason(
    payment, city_reviewer
):
    with pytest.raises(ValidationError) as silent:
        save(payment, city_reviewer, mandatory=False, optional_reason="  ")
    assert silent.value.message_dict == {
        "optional_reason": ["Say why this target is not mandatory."]
    }
    assert stored(payment) == (True, "")
    save(payment, city_reviewer, mandatory=False, optional_reason=f" {REASON} ")
    payment.refresh_from_db()
    assert (payment.mandatory, payment.optional_reason) == (False, REASON)
    assert (payment.optional_by, payment.optional_at) == (city_reviewer, NOW)
    # The history keeps who decided it and why.
    last = payment.history.latest("history_date")
    assert (last.mandatory, last.optional_reason, last.history_user) == (
        False,
        REASON,
        city_reviewer,
    )


def test_an_administrator_makes_a_target_optional_even_at_the_top(
    org, payment, superuser
):
    save(payment, superuser, mandatory=False, optional_reason=REASON)
    assert stored(payment) == (False, REASON)
    # The province has nothing above it: only an administrator decides.
    top = Commitment.objects.create(unit=org.province, year=YEAR)
    target = Target.objects.create(
        commitment=top, indicator=indicator("dung-han"), value=D("100")
    )
    save(target, superuser, mandatory=False, optional_reason=REASON)
    assert stored(target) == (False, REASON)


def test_home_affairs_of_the_unit_itself_cannot_waive_its_targets(
    org, city_reviewer, reviewer
):
    """Phòng Nội vụ belongs to the city: the city's own targets are waived
    by the province's Home Affairs, strictly above it."""
    city = Commitment.objects.create(unit=org.city, year=YEAR)
    target = Target.objects.create(
        commitment=city, indicator=indicator("dung-han"), value=D("100")
    )
    assert access.may_prepare(city_reviewer, org.city)
    with pytest.raises(PermissionDenied):
        save(target, city_reviewer, mandatory=False, optional_reason=REASON)
    save(target, reviewer, mandatory=False, optional_reason=REASON)
    assert stored(target) == (False, REASON)


def test_making_a_target_mandatory_again_needs_no_reason(
    payment, city_reviewer, commune_staff
):
    save(payment, city_reviewer, mandatory=False, optional_reason=REASON)
    # The unit changes the value of its optional target: the decision stays.
    save(payment, commune_staff, value=D("92"))
    assert stored(payment) == (False, REASON)
    # Nor can the unit undo it: the flag is Home Affairs' either way.
    with pytest.raises(PermissionDenied):
        save(payment, commune_staff, mandatory=True)
    save(payment, city_reviewer, mandatory=True)
    payment.refresh_from_db()
    assert (payment.mandatory, payment.optional_reason, payment.optional_by) == (
        True,
        "",
        None,
    )
    # The waiver stays in the history.
    assert payment.history.filter(mandatory=False, optional_reason=REASON).exists()


def test_a_signed_commitments_targets_are_frozen_for_home_affairs_too(
    org, commitment, payment, commune_head, city_reviewer
):
    HeadFactory(unit=org.commune_a)
    services.commitment_sign(
        commitment=commitment,
        user=commune_head,
        signed_on=date(YEAR, 1, 2),
        scan=scan(),
        today=date(YEAR, 1, 2),
    )
    with pytest.raises(ValidationError) as frozen:
        save(payment, city_reviewer, mandatory=False, optional_reason=REASON)
    assert frozen.value.messages == [
        "The commitment is signed: its targets no longer change."
    ]
    assert stored(payment) == (True, "")


def test_the_database_refuses_an_optional_target_without_a_reason(payment):
    payment.mandatory = False
    with pytest.raises(IntegrityError), transaction.atomic():
        payment.save()


# --- the pages -----------------------------------------------------------------


def _edit_url(target):
    return reverse("target_edit", args=[target.commitment_id, target.pk])


def _post(target, **extra):
    return {
        "indicator": target.indicator_id,
        "comparison": target.comparison,
        "value": "90",
        "deadline": "",
        **extra,
    }


def test_the_units_form_has_no_mandatory_field_and_ignores_one_posted(
    client, payment, commune_staff
):
    client.force_login(commune_staff)
    page = client.get(_edit_url(payment)).content.decode()
    assert 'name="mandatory"' not in page
    assert 'name="optional_reason"' not in page
    # Posted anyway, without the box ticked (as an unticked box is posted)
    # and with a reason: the target stays mandatory.
    response = client.post(_edit_url(payment), _post(payment, optional_reason=REASON))
    assert response.status_code == 302
    assert stored(payment) == (True, "")


def test_home_affairs_makes_a_target_optional_through_the_page(
    client, payment, city_reviewer
):
    client.force_login(city_reviewer)
    page = client.get(_edit_url(payment)).content.decode()
    assert 'name="mandatory"' in page
    assert 'name="optional_reason"' in page
    refused = client.post(_edit_url(payment), _post(payment))
    assert refused.status_code == 400
    assert 'data-testid="error-optional_reason"' in refused.content.decode()
    assert stored(payment) == (True, "")
    done = client.post(_edit_url(payment), _post(payment, optional_reason=REASON))
    assert done.status_code == 302
    assert stored(payment) == (False, REASON)
    detail = client.get(payment.commitment.get_absolute_url()).content.decode()
    # The page speaks Vietnamese.
    shown = vi("not mandatory: %(reason)s") % {"reason": REASON}
    assert f'data-testid="target-optional-reason">{shown}<' in detail
    # And the history says who and why.
    assert shown in detail.split('data-testid="history-table"')[1]
    again = client.post(_edit_url(payment), _post(payment, mandatory="on"))
    assert again.status_code == 302
    assert stored(payment) == (True, "")


def test_the_admin_edits_no_target_nor_commitment(client, payment):
    """The admin would skip the services' checks: neither a target (the
    mandatory flag) nor a commitment (its counter-signature) is registered
    there, alone or inline."""
    edited = {Commitment, Target, Target.history.model}
    assert not edited & set(admin.site._registry)
    for model_admin in admin.site._registry.values():
        assert not {inline.model for inline in model_admin.inlines} & edited
    client.force_login(
        UserFactory(username="admin.staff", is_staff=True, is_superuser=True)
    )
    url = f"/admin/commitments/target/{payment.pk}/change/"
    assert client.get(url).status_code == 404
