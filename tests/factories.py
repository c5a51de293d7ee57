from datetime import date

import factory
from django.contrib.auth import get_user_model

from commitments.organisation.models import (
    Head,
    HeadPosition,
    Membership,
    RankingGroup,
    Unit,
    UnitKind,
)


class RankingGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RankingGroup
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"group-{n}")
    name = factory.Sequence(lambda n: f"Nhóm {n}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.Sequence(lambda n: f"Đơn vị {n}")
    kind = UnitKind.COMMUNE
    valid_from = date(2019, 1, 1)


class HeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Head

    unit = factory.SubFactory(UnitFactory)
    full_name = factory.Sequence(lambda n: f"Nguyễn Văn {n}")
    position = HeadPosition.HEAD
    tenure_from = date(2020, 1, 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-42")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory)
    role = "unit_staff"
