"""Issue 15, defect 4: four eyes on a commitment. The account that recorded
the head's signature, or the head's own login, never counter-signs the same
commitment, even holding a role at the level above or being an
administrator; another account at the level above does. Through the service
and through the pages."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from commitments import access, services
from commitments.models import Commitment, CommitmentState
from commitments.organisation.models import Role
from tests.commitments.helpers import indicator, scan
from tests.factories import HeadFactory, MembershipFactory, UserFactory
from tests.wording import vi

TODAY = date.today()
YEAR = TODAY.year
SIGNED_ON = min(date(YEAR, 1, 2), TODAY)
REFUSAL = (
    "You took part in the head's signature: another account of the level above "
    "counter-signs."
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def head(org):
    return HeadFactory(unit=org.commune_a, full_name="Trần Thị Hoa")


def signed_by(org, head, user) -> Commitment:
    """Commune A's commitment, its signature recorded by ``user``."""
    commitment = Commitment.objects.create(unit=org.commune_a, year=YEAR)
    commitment.targets.create(indicator=indicator("dung-han"), value=100)
    return services.commitment_sign(
        commitment=commitment, user=user, signed_on=SIGNED_ON, scan=scan(), today=TODAY
    )


def countersign(commitment, user):
    return services.commitment_countersign(
        commitment=commitment,
        user=user,
        countersigned_on=TODAY,
        signer_name="Nguyễn Văn Chủ",
        signer_title="Chủ tịch UBND thành phố",
        today=TODAY,
    )


def state(commitment):
    commitment.refresh_from_db()
    return commitment.state


# --- the service ---------------------------------------------------------------


def test_home_affairs_who_recorded_the_signature_cannot_countersign(
    org, head, city_reviewer, leader
):
    """The city's reviewer records the commune's signature and also sits at
    the level above: another account counter-signs."""
    commitment = signed_by(org, head, city_reviewer)
    assert access.is_level_above(city_reviewer, commitment)
    assert not access.may_countersign(city_reviewer, commitment)
    with pytest.raises(ValidationError) as refused:
        countersign(commitment, city_reviewer)
    assert refused.value.messages == [REFUSAL]
    assert state(commitment) == CommitmentState.SIGNED
    assert access.may_countersign(leader, commitment)
    done = countersign(commitment, leader)
    assert done.state == CommitmentState.COUNTERSIGNED
    assert done.countersign_recorded_by == leader


def test_an_administrator_who_recorded_the_signature_cannot_countersign(
    org, head, superuser
):
    commitment = signed_by(org, head, superuser)
    with pytest.raises(ValidationError):
        countersign(commitment, superuser)
    assert state(commitment) == CommitmentState.SIGNED
    another = UserFactory(username="root2", is_superuser=True, is_staff=True)
    assert countersign(commitment, another).state == CommitmentState.COUNTERSIGNED


def test_the_signing_heads_own_login_cannot_countersign(org, commune_staff):
    """The head signs the paper and also leads above (a login of both)."""
    login = UserFactory(username="head.and.leader")
    MembershipFactory(user=login, unit=org.city, role=Role.LEADER)
    head = HeadFactory(unit=org.commune_a, user=login)
    commitment = signed_by(org, head, commune_staff)
    with pytest.raises(ValidationError):
        countersign(commitment, login)
    assert state(commitment) == CommitmentState.SIGNED


def test_the_units_people_and_those_not_above_are_still_refused(
    org, head, commune_staff, commune_head, other_commune_staff, leader
):
    commitment = signed_by(org, head, commune_staff)
    for user in (commune_head, other_commune_staff):
        with pytest.raises(PermissionDenied):
            countersign(commitment, user)
    assert state(commitment) == CommitmentState.SIGNED
    assert countersign(commitment, leader).state == CommitmentState.COUNTERSIGNED


# --- the pages -----------------------------------------------------------------


def _countersign_url(commitment):
    return reverse("commitment_countersign", args=[commitment.pk])


FORM = {
    "countersigned_on": TODAY.strftime("%d/%m/%Y"),
    "signer_name": "Nguyễn Văn Chủ",
    "signer_title": "Chủ tịch UBND thành phố",
}


def test_the_signer_is_refused_on_the_page_and_told_why(
    client, org, head, city_reviewer, leader
):
    commitment = signed_by(org, head, city_reviewer)
    client.force_login(city_reviewer)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert 'data-testid="countersign-form"' not in page
    assert 'data-testid="countersign-by-another"' in page
    refused = client.post(_countersign_url(commitment), FORM)
    assert refused.status_code == 400
    # The page speaks Vietnamese.
    assert vi(REFUSAL) in refused.content.decode()
    assert state(commitment) == CommitmentState.SIGNED
    client.logout()
    client.force_login(leader)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert 'data-testid="countersign-form"' in page
    assert 'data-testid="countersign-by-another"' not in page
    assert client.post(_countersign_url(commitment), FORM).status_code == 302
    assert state(commitment) == CommitmentState.COUNTERSIGNED


def test_the_units_own_people_get_403_on_the_page(
    client, org, head, commune_staff, commune_head
):
    commitment = signed_by(org, head, commune_staff)
    client.force_login(commune_head)
    assert client.post(_countersign_url(commitment), FORM).status_code == 403
    assert state(commitment) == CommitmentState.SIGNED


def test_the_refusal_is_said_in_vietnamese(org, head, city_reviewer):
    commitment = signed_by(org, head, city_reviewer)
    with translation.override("vi"), pytest.raises(ValidationError) as refused:
        countersign(commitment, city_reviewer)
    assert refused.value.messages == [vi(REFUSAL)]
