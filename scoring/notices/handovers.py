"""What each step of the index cycle tells the people who act next: who they
are and the words of the notice. Called by the services inside their
transaction, so a refused or rolled-back step tells nobody. Subjects are in
the portal's language (a notice is read later, by someone else)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commitments.organisation.handovers import reviewers_of, unit_heads, unit_people
from scoring.notices import services as notices

if TYPE_CHECKING:
    from scoring.models import Adjustment, Assessment, Contest, HeadRating, Publication


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _points(value: Decimal) -> str:
    return formats.number_format(value, 2, use_l10n=True)


def _assessment_url(assessment: Assessment) -> str:
    return reverse("assessment_detail", kwargs={"pk": assessment.pk})


def _appraise_url(assessment: Assessment) -> str:
    return reverse("assessment_appraise", kwargs={"pk": assessment.pk})


def _names(assessment: Assessment) -> dict[str, Any]:
    return {"unit": assessment.unit.name, "year": assessment.framework.year}


def submitted(assessment: Assessment, *, actor: Any, now: datetime) -> None:
    """Submitted or resubmitted → the reviewers of the unit."""
    with translation.override(settings.LANGUAGE_CODE):
        if assessment.round > 1:
            subject = _(
                "%(unit)s resubmitted its self-assessment %(year)s (round %(round)d)"
            ) % {**_names(assessment), "round": assessment.round}
        else:
            subject = _(
                "%(unit)s submitted its self-assessment %(year)s: waiting for appraisal"
            ) % _names(assessment)
    notices.notices_send(
        users=reviewers_of(assessment.unit),
        subject=subject,
        url=_appraise_url(assessment),
        now=now,
        assessment=assessment,
        actor=actor,
    )


def returned(
    assessment: Assessment, *, comments: int, actor: Any, now: datetime
) -> None:
    """Returned with comments → the unit's staff and head."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = ngettext(
            "Home Affairs returned the self-assessment %(year)s of %(unit)s: "
            "%(n)d comment to answer",
            "Home Affairs returned the self-assessment %(year)s of %(unit)s: "
            "%(n)d comments to answer",
            comments,
        ) % {**_names(assessment), "n": comments}
    notices.notices_send(
        users=unit_people(assessment.unit_id),
        subject=subject,
        url=_assessment_url(assessment),
        now=now,
        assessment=assessment,
        actor=actor,
    )


def answered(assessment: Assessment, *, actor: Any, now: datetime) -> None:
    """Every comment of the return answered → the reviewers (the head
    resubmits next; they know what is coming)."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(
            "%(unit)s answered every comment on its self-assessment %(year)s"
        ) % _names(assessment)
    notices.notices_send(
        users=reviewers_of(assessment.unit),
        subject=subject,
        url=_appraise_url(assessment),
        now=now,
        assessment=assessment,
        actor=actor,
    )


def approved(
    assessment: Assessment,
    *,
    total: Decimal,
    maximum: Decimal,
    actor: Any,
    now: datetime,
) -> None:
    """Approved, with the appraised total → the unit."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(
            "The self-assessment %(year)s of %(unit)s is approved: appraised "
            "total %(total)s / %(max)s"
        ) % {**_names(assessment), "total": _points(total), "max": _points(maximum)}
    notices.notices_send(
        users=unit_people(assessment.unit_id),
        subject=subject,
        url=_assessment_url(assessment),
        now=now,
        assessment=assessment,
        actor=actor,
    )


def window_opened(assessment: Assessment, *, actor: Any, now: datetime) -> None:
    """Provisional results shown → the unit may ask for a review."""
    assert assessment.contest_until is not None
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(
            "Appraised scores %(year)s of %(unit)s are shown: a review may be "
            "asked for until %(day)s"
        ) % {**_names(assessment), "day": _day(assessment.contest_until)}
    notices.notices_send(
        users=unit_people(assessment.unit_id),
        subject=subject,
        url=_assessment_url(assessment),
        now=now,
        assessment=assessment,
        actor=actor,
    )


def window_closed(assessment: Assessment, *, open_contests: int, now: datetime) -> int:
    """The review window closed (a beat task, once per assessment): the unit
    is told; the reviewers too while requests wait for their decision."""
    assert assessment.contest_until is not None
    key = f"contest-closed:{assessment.pk}"
    with translation.override(settings.LANGUAGE_CODE):
        unit_subject = _(
            "The window to ask for a review of the appraised scores %(year)s of "
            "%(unit)s closed on %(day)s"
        ) % {**_names(assessment), "day": _day(assessment.contest_until)}
        reviewer_subject = ngettext(
            "Review window of %(unit)s (%(year)s) closed: %(n)d request to decide",
            "Review window of %(unit)s (%(year)s) closed: %(n)d requests to decide",
            open_contests,
        ) % {**_names(assessment), "n": open_contests}
    sent = notices.notices_send(
        users=unit_people(assessment.unit_id),
        subject=unit_subject,
        url=_assessment_url(assessment),
        now=now,
        assessment=assessment,
        key=key,
    )
    if open_contests:
        sent += notices.notices_send(
            users=reviewers_of(assessment.unit),
            subject=reviewer_subject,
            url=_appraise_url(assessment),
            now=now,
            assessment=assessment,
            key=key,
        )
    return len(sent)


def contest_raised(contest: Contest, *, actor: Any, now: datetime) -> None:
    assessment = contest.score.assessment
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("%(unit)s asks for a review of leaf %(code)s (%(year)s)") % {
            **_names(assessment),
            "code": contest.score.node.code,
        }
    notices.notices_send(
        users=reviewers_of(assessment.unit),
        subject=subject,
        url=_appraise_url(assessment),
        now=now,
        assessment=assessment,
        actor=actor,
    )


def contest_decided(contest: Contest, *, actor: Any, now: datetime) -> None:
    assessment = contest.score.assessment
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Review of leaf %(code)s (%(year)s) decided: %(decision)s") % {
            **_names(assessment),
            "code": contest.score.node.code,
            "decision": contest.get_state_display().lower(),
        }
    notices.notices_send(
        users=unit_people(assessment.unit_id),
        subject=subject,
        url=_assessment_url(assessment),
        now=now,
        assessment=assessment,
        actor=actor,
    )


def adjustment_entered(adjustment: Adjustment, *, actor: Any, now: datetime) -> None:
    """A deduction or bonus waiting for approval → the unit's other
    reviewers (four eyes: the one who entered it may not approve it)."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(
            "%(kind)s of %(points)s for %(unit)s (%(year)s) waits for your approval"
        ) % {
            "kind": _("A deduction") if adjustment.points < 0 else _("A bonus"),
            "points": _points(adjustment.points),
            "unit": adjustment.unit.name,
            "year": adjustment.framework.year,
        }
    notices.notices_send(
        users=reviewers_of(adjustment.unit),
        subject=subject,
        url=reverse("adjustment_detail", kwargs={"pk": adjustment.pk}),
        now=now,
        actor=actor,
    )


def rating_decided(rating: HeadRating, *, actor: Any, now: datetime) -> None:
    """The head rated (their own account) and the unit's head role."""
    users = set(unit_heads(rating.unit_id).values_list("pk", flat=True))
    if rating.head.user_id is not None:
        users.add(rating.head.user_id)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Rating %(year)s of the head of %(unit)s: %(level)s") % {
            "year": rating.year,
            "unit": rating.unit.name,
            "level": rating.get_final_display(),
        }
    notices.notices_send(
        users=users,
        subject=subject,
        url=f"{reverse('rating_list')}?year={rating.year}#rating-{rating.pk}",
        now=now,
        actor=actor,
    )


def published(publication: Publication, *, actor: Any, now: datetime) -> None:
    """The year's results are published: everyone with a role (units find
    their rank, leaders the ranking)."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, memberships__isnull=False)
        .values_list("pk", flat=True)
        .distinct()
    )
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("The %(year)s results are published (version %(version)d)") % {
            "year": publication.year,
            "version": publication.version,
        }
    notices.notices_send(
        users=list(users),
        subject=subject,
        url=reverse("results_year", kwargs={"year": publication.year}),
        now=now,
        actor=actor,
    )
