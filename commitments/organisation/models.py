"""The organisation: units in a tree (with their validity and lineage), ranking
groups, their heads over time, and who may log in for which unit in which role
(DOMAIN.md section 3). Tables of the app label `commitments`."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Concat, Substr
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

PATH_SEPARATOR = "/"
# Ids are zero-padded so that sorting by path lists a parent before its children
# and siblings in the order they were created ("/…/10/" would sort before "/…/2/").
PATH_DIGITS = 8


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("Provincial People's Committee")
    DEPARTMENT = "department", _("Department, board or agency")
    DISTRICT = "district", _("District-level People's Committee")
    OFFICE = "office", _("Specialised office")
    COMMUNE = "commune", _("Commune, ward or town")
    BRANCH = "branch", _("Branch office")


class OfficeFunction(models.TextChoices):
    """What a specialised office does, whatever its city or commune calls it
    (Phòng Tư pháp of every district is "justice"): an index criterion's
    owner is named by function and found inside each city or commune."""

    OFFICE = "office", _("Office of the People's Council and Committee")
    HOME_AFFAIRS = "home_affairs", _("Home affairs")
    JUSTICE = "justice", _("Justice")
    FINANCE = "finance", _("Finance and planning")
    ECONOMY = "economy", _("Economy, infrastructure and urban affairs")
    AGRICULTURE = "agriculture", _("Agriculture and environment")
    CULTURE = "culture", _("Culture, information and social affairs")
    EDUCATION = "education", _("Education and training")
    HEALTH = "health", _("Health")
    INSPECTORATE = "inspectorate", _("Inspectorate")


class RankingGroup(models.Model):
    """Units are ranked only against the others of their group."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("ranking group")
        verbose_name_plural = _("ranking groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    ranking_group = models.ForeignKey(
        RankingGroup,
        verbose_name=_("ranking group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    predecessors = models.ManyToManyField(
        "self",
        verbose_name=_("predecessor units"),
        symmetrical=False,
        blank=True,
        related_name="successors",
        help_text=_("Units merged or split into this one."),
    )
    # A specialised office's function: blank for every other kind of unit.
    office_function = models.CharField(
        _("function of the office"),
        max_length=20,
        choices=OfficeFunction.choices,
        blank=True,
    )
    # Materialised ancestry, "/<root id>/…/<own id>/": a subtree is one indexed
    # prefix match, which is what every scoped queryset asks.
    path = models.CharField(max_length=500, editable=False, db_index=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="unit_valid_to_after_valid_from",
                violation_error_message=_("A unit cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("pk")),
                name="unit_not_own_parent",
                violation_error_message=_("A unit cannot be its own parent."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        # The path needs the primary key, so a new unit is saved twice.
        if self.pk is None:
            self.path = ""
            super().save(*args, **kwargs)
            kwargs.pop("force_insert", None)
            kwargs["update_fields"] = ["path"]
            self.path = self._compute_path()
            super().save(*args, **kwargs)
            return
        old_path = (
            Unit.objects.filter(pk=self.pk).values_list("path", flat=True).first()
        )
        self.path = self._compute_path()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "path"}
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # Moving a unit moves its whole subtree.
            Unit.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(models.Value(self.path), Substr("path", len(old_path) + 1))
            )

    def get_absolute_url(self) -> str:
        return reverse("unit_detail", kwargs={"code": self.code})

    def clean(self) -> None:
        if self.parent_id and self.pk:
            parent_path = (
                Unit.objects.filter(pk=self.parent_id)
                .values_list("path", flat=True)
                .first()
            )
            own = f"{PATH_SEPARATOR}{self.pk:0{PATH_DIGITS}d}{PATH_SEPARATOR}"
            if parent_path and own in parent_path:
                raise ValidationError(
                    {"parent": _("A unit cannot be placed inside its own subtree.")}
                )

    def _compute_path(self) -> str:
        parent_path = self.parent.path if self.parent_id and self.parent else ""
        return (
            f"{parent_path or PATH_SEPARATOR}{self.pk:0{PATH_DIGITS}d}{PATH_SEPARATOR}"
        )

    @property
    def depth(self) -> int:
        return self.path.count(PATH_SEPARATOR) - 2

    def is_descendant_of(self, other: Unit) -> bool:
        return self.path.startswith(other.path) and self.pk != other.pk


class HeadPosition(models.TextChoices):
    HEAD = "head", _("Head")
    DEPUTY = "deputy", _("Deputy")


class Head(models.Model):
    """A person holding the head (or a deputy) position of a unit over a tenure.

    At most one head per unit at a time: checked by clean() (so forms, imports and
    services all refuse it with a message) and, on PostgreSQL, by an exclusion
    constraint (migration 0002) for anything that goes around them."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="heads"
    )
    full_name = models.CharField(_("full name"), max_length=200)
    title = models.CharField(
        _("title"),
        max_length=200,
        blank=True,
        help_text=_("As written on documents, e.g. Chủ tịch UBND, Giám đốc Sở."),
    )
    position = models.CharField(
        _("position"),
        max_length=10,
        choices=HeadPosition.choices,
        default=HeadPosition.HEAD,
    )
    tenure_from = models.DateField(_("tenure from"))
    tenure_to = models.DateField(_("tenure to"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="head_positions",
    )

    class Meta:
        verbose_name = _("head or deputy")
        verbose_name_plural = _("heads and deputies")
        ordering = ["unit__path", "position", "-tenure_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tenure_to__isnull=True)
                | Q(tenure_to__gte=F("tenure_from")),
                name="head_tenure_to_after_tenure_from",
                violation_error_message=_("A tenure cannot end before it starts."),
            ),
        ]
        indexes = [models.Index(fields=["unit", "position", "tenure_from"])]

    def __str__(self) -> str:
        return f"{self.full_name} – {self.get_position_display()}, {self.unit.name}"

    def clean(self) -> None:
        if self.position != HeadPosition.HEAD or not self.unit_id:
            return
        other = head_overlapping(
            unit_id=self.unit_id,
            tenure_from=self.tenure_from,
            tenure_to=self.tenure_to,
            exclude_pk=self.pk,
        )
        if other is not None:
            raise ValidationError(
                {
                    "tenure_from": _(
                        "The tenure overlaps that of %(name)s, head of this unit "
                        "from %(start)s to %(end)s."
                    )
                    % {
                        "name": other.full_name,
                        "start": date_format(other.tenure_from, "SHORT_DATE_FORMAT"),
                        "end": date_format(other.tenure_to, "SHORT_DATE_FORMAT")
                        if other.tenure_to
                        else _("now"),
                    }
                }
            )


def head_overlapping(
    *,
    unit_id: int,
    tenure_from: date,
    tenure_to: date | None,
    exclude_pk: int | None = None,
) -> Head | None:
    """Another head of the unit whose tenure shares at least one day with the
    given one (tenures are closed intervals; an open end runs to today and on)."""
    overlapping = Head.objects.filter(
        unit_id=unit_id, position=HeadPosition.HEAD
    ).filter(Q(tenure_to__isnull=True) | Q(tenure_to__gte=tenure_from))
    if tenure_to is not None:
        overlapping = overlapping.filter(tenure_from__lte=tenure_to)
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    return overlapping.order_by("tenure_from").first()


class Role(models.TextChoices):
    UNIT_STAFF = "unit_staff", _("Unit staff")
    UNIT_HEAD = "unit_head", _("Unit head")
    REVIEWER = "reviewer", _("Home Affairs reviewer")
    LEADER = "leader", _("Leader")


# Roles whose membership covers the unit's whole subtree (their jurisdiction):
# a Sở Nội vụ reviewer is attached to the province, a Phòng Nội vụ reviewer to
# its city. Staff and heads see exactly the unit they belong to.
SUBTREE_ROLES = frozenset({Role.REVIEWER, Role.LEADER})


class Membership(models.Model):
    """A login's role in a unit. One user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.CASCADE,
        related_name="memberships",
        help_text=_(
            "For reviewers and leaders: the unit whose whole tree they oversee."
        ),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.unit.name}"
