"""The write-path authorization matrix (issue 15), twin of the read audit in
test_api_scoping.py: every state-changing page (found by walking the URL
resolver) and every unsafe operation of the API schema, tried by every role
against commune A (the unit's people's own unit), commune B (another unit of
the same city) and commune C (another district: another jurisdiction), with
the outcome the policy expects (DOMAIN.md §2 and §8, docs/decisions.md "Who may
write what").

Roles: anonymous; A's staff and A's head; the city's reviewer (Phòng Nội vụ:
A and B are in its jurisdiction, C is not) and leader (the city's chairman);
the province's reviewer (Sở Nội vụ) and leader (the province's chairman); a
superuser. Outcomes:

  ok     answered 2xx/3xx and the stored object changed
  no     not done, the request otherwise answered (a row rejected by the
         import, a unit the form does not offer, a field not offered): the
         object is unchanged
  deny   refused with 403 (or 404 for a page the role is not shown at all)
  hide   404: the object is outside the actor's read scope, as if it did
         not exist (the read audit's rule)
  login  anonymous: sent to sign in (pages) or 401 (API)
  n/a    does not apply (the row says why)

Each attempt runs in its own savepoint (rolled back), after putting the
object in the state the write needs, and compares the stored object before
and after. The tables must list exactly the write paths there are:
test_every_write_path_is_in_the_matrix fails on a new one, and on a listed
one that is gone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.forms.models import model_to_dict
from django.shortcuts import resolve_url
from django.test import Client, TestCase, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views import static
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from commitments.models import (
    CheckState,
    Commitment,
    CommitmentState,
    CommitmentTemplate,
    Indicator,
    Target,
)
from commitments.organisation.models import Head, Unit, UnitKind
from procedures.models import CaseRecord, Reminder
from scoring.frameworks import survey, workbook
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    Adjustment,
    AdjustmentRule,
    Assessment,
    AssessmentState,
    Comment,
    ComputationRun,
    Contest,
    CriterionRank,
    Evidence,
    Framework,
    Node,
    Notice,
    NoticeSettings,
    Publication,
    Score,
    SurveyFigure,
    Tier,
)
from scoring.results import computation
from tests.cchc_portal.write_data import (
    FRAMEWORK_YEAR,
    PASSWORD,
    PDF,
    ROLES,
    Place,
    World,
    build,
)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# /admin/ is audited on its own; the API's routes through the schema below.
NOT_PAGES = ("admin/", "api/")


class Outcome(StrEnum):
    OK = "ok"
    NO = "no"
    DENY = "deny"
    HIDE = "hide"
    LOGIN = "login"
    NA = "n/a"


def grid(text: str) -> dict[str, tuple[Outcome, ...]]:
    """A table of outcomes: a role per line, then one outcome per target."""
    table = {}
    for line in text.strip().splitlines():
        role, *cells = line.split()
        table[role] = tuple(Outcome(cell) for cell in cells)
    assert set(table) == set(ROLES), set(ROLES) ^ set(table)
    return table


# --- the policy, as tables ---------------------------------------------------------
#                              A     B     C

# A commitment's draft: the unit's own people and the reviewers over it.
PREPARE = grid("""
anonymous                   login login login
unit_staff                  ok    hide  hide
unit_head                   ok    hide  hide
city_reviewer               ok    ok    hide
province_reviewer           ok    ok    ok
city_leader                 deny  deny  hide
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
# Point 7: only Home Affairs of the unit's jurisdiction or an administrator
# makes a target optional; the unit's own people may not.
MAKE_OPTIONAL = grid("""
anonymous                   login login login
unit_staff                  no    hide  hide
unit_head                   no    hide  hide
city_reviewer               ok    ok    hide
province_reviewer           ok    ok    ok
city_leader                 deny  deny  hide
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
# Point 4: the level above the unit (its parent's leaders and reviewers).
COUNTERSIGN = grid("""
anonymous                   login login login
unit_staff                  deny  hide  hide
unit_head                   deny  hide  hide
city_reviewer               ok    ok    hide
province_reviewer           ok    ok    ok
city_leader                 ok    ok    hide
province_leader             ok    ok    ok
superuser                   ok    ok    ok
""")
# ... never by the account that recorded the signature (nor the signing
# head's): refused, with the reason, to whoever could otherwise counter-sign.
NEVER_THE_SIGNER = grid("""
anonymous                   login login login
unit_staff                  deny  hide  hide
unit_head                   deny  hide  hide
city_reviewer               no    no    hide
province_reviewer           no    no    no
city_leader                 no    no    hide
province_leader             no    no    no
superuser                   no    no    no
""")
# The unit reports its manual indicators (an administrator may, from the
# unit's written report).
REPORT = grid("""
anonymous                   login login login
unit_staff                  ok    hide  hide
unit_head                   ok    hide  hide
city_reviewer               deny  deny  hide
province_reviewer           deny  deny  deny
city_leader                 deny  deny  hide
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
# Reviewers strictly above the unit: check reports, appraise, return,
# approve, extend, decide contests, decide deductions (four eyes).
REVIEW = grid("""
anonymous                   login login login
unit_staff                  deny  hide  hide
unit_head                   deny  hide  hide
city_reviewer               ok    ok    hide
province_reviewer           ok    ok    ok
city_leader                 deny  deny  hide
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
# Home Affairs' pages for many units at once (drafting commitments from a
# template, entering a deduction, showing provisional results): a unit
# outside the reviewer's jurisdiction is not offered, or left out.
HOME_AFFAIRS_FOR_UNITS = grid("""
anonymous                   login login login
unit_staff                  deny  deny  deny
unit_head                   deny  deny  deny
city_reviewer               ok    ok    no
province_reviewer           ok    ok    ok
city_leader                 deny  deny  deny
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
# Deductions and bonuses are Home Affairs' records: anyone else is refused
# the whole page (403 whatever the record, so nothing is disclosed);
# reviewers over the unit decide.
DECIDE_ADJUSTMENT = grid("""
anonymous                   login login login
unit_staff                  deny  deny  deny
unit_head                   deny  deny  deny
city_reviewer               ok    ok    hide
province_reviewer           ok    ok    ok
city_leader                 deny  deny  deny
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
# Four eyes: whoever entered a deduction or bonus never decides it (refused
# with the reason).
FOUR_EYES = grid("""
anonymous                   login login login
unit_staff                  deny  deny  deny
unit_head                   deny  deny  deny
city_reviewer               no    no    hide
province_reviewer           no    no    no
city_leader                 deny  deny  deny
province_leader             deny  deny  deny
superuser                   no    no    no
""")
# Approving many at once: the same, but a record out of the reviewer's reach
# is not among those the list offers, so ticking it approves nothing (the list
# comes back with the error) rather than answering 404.
APPROVE_MANY = grid("""
anonymous                   login login login
unit_staff                  deny  deny  deny
unit_head                   deny  deny  deny
city_reviewer               ok    ok    no
province_reviewer           ok    ok    ok
city_leader                 deny  deny  deny
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
APPROVE_MANY_OWN = grid("""
anonymous                   login login login
unit_staff                  deny  deny  deny
unit_head                   deny  deny  deny
city_reviewer               no    no    no
province_reviewer           no    no    no
city_leader                 deny  deny  deny
province_leader             deny  deny  deny
superuser                   no    no    no
""")
# Case records: the unit's people and the reviewers over it, row by row (a
# row for a unit out of reach is rejected, the others imported).
IMPORT = grid("""
anonymous                   login login login
unit_staff                  ok    no    no
unit_head                   ok    no    no
city_reviewer               ok    ok    no
province_reviewer           ok    ok    ok
city_leader                 deny  deny  deny
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
# Point 1: moving a case record between units is a reviewer's act, whose
# scope covers the unit it is in and the one it moves to. Target A: A's
# record moves to B; targets B and C: their record moves to A.
MOVE = grid("""
anonymous                   login login login
unit_staff                  no    no    no
unit_head                   no    no    no
city_reviewer               ok    ok    no
province_reviewer           ok    ok    ok
city_leader                 deny  deny  deny
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
# Reminders are recorded by reviewers and leaders over the unit.
REMIND = grid("""
anonymous                   login login login
unit_staff                  deny  deny  deny
unit_head                   deny  deny  deny
city_reviewer               ok    ok    no
province_reviewer           ok    ok    ok
city_leader                 ok    ok    no
province_leader             ok    ok    ok
superuser                   ok    ok    ok
""")
# Point 5: only the reviewer side withdraws one, with a reason; a leader may not.
WITHDRAW = grid("""
anonymous                   login login login
unit_staff                  deny  hide  hide
unit_head                   deny  hide  hide
city_reviewer               ok    ok    hide
province_reviewer           ok    ok    ok
city_leader                 deny  deny  hide
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
WITHDRAW_WITHOUT_REASON = grid("""
anonymous                   login login login
unit_staff                  deny  hide  hide
unit_head                   deny  hide  hide
city_reviewer               no    no    hide
province_reviewer           no    no    no
city_leader                 deny  deny  hide
province_leader             deny  deny  deny
superuser                   no    no    no
""")
# The self-assessment: the unit's staff and head fill in.
FILL_IN = grid("""
anonymous                   login login login
unit_staff                  ok    hide  hide
unit_head                   ok    hide  hide
city_reviewer               deny  deny  hide
province_reviewer           deny  deny  deny
city_leader                 deny  deny  hide
province_leader             deny  deny  deny
superuser                   deny  deny  deny
""")
# ... the head submits (and explains in an accountability case).
HEAD_ONLY = grid("""
anonymous                   login login login
unit_staff                  deny  hide  hide
unit_head                   ok    hide  hide
city_reviewer               deny  deny  hide
province_reviewer           deny  deny  deny
city_leader                 deny  deny  hide
province_leader             deny  deny  deny
superuser                   deny  deny  deny
""")
# A leader whose jurisdiction holds the unit's parent decides a case.
CASE_DECIDE = grid("""
anonymous                   login login login
unit_staff                  deny  hide  hide
unit_head                   deny  hide  hide
city_reviewer               deny  deny  hide
province_reviewer           deny  deny  deny
city_leader                 ok    ok    hide
province_leader             ok    ok    ok
superuser                   ok    ok    ok
""")
# The leader attached to the unit's parent rates its head (staff do not see
# their head's rating).
RATE = grid("""
anonymous                   login login login
unit_staff                  hide  hide  hide
unit_head                   deny  hide  hide
city_reviewer               deny  deny  hide
province_reviewer           deny  deny  deny
city_leader                 ok    ok    hide
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
RATINGS_CONFIRM = grid("""
anonymous                   login login login
unit_staff                  no    no    no
unit_head                   no    no    no
city_reviewer               no    no    no
province_reviewer           no    no    no
city_leader                 ok    ok    no
province_leader             no    no    no
superuser                   ok    ok    ok
""")
# Point 3, and computing and publishing: a reviewer whose jurisdiction
# covers every unit concerned in the province (Sở Nội vụ), or a superuser.
PROVINCE = grid("""
anonymous                   login
unit_staff                  deny
unit_head                   deny
city_reviewer               deny
province_reviewer           ok
city_leader                 deny
province_leader             deny
superuser                   ok
""")
# An upload that only shows what it would import (the survey figures'
# preview): the same people, and nothing written even for them.
PROVINCE_PREVIEW = grid("""
anonymous                   login
unit_staff                  deny
unit_head                   deny
city_reviewer               deny
province_reviewer           no
city_leader                 deny
province_leader             deny
superuser                   no
""")
# The province's criterion ranks name a department; the city's reviewer is
# offered none.
RANK_NEW = grid("""
anonymous                   login
unit_staff                  deny
unit_head                   deny
city_reviewer               no
province_reviewer           ok
city_leader                 deny
province_leader             deny
superuser                   ok
""")
# One's own account: notices, password, signing out.
OWN = grid("""
anonymous                   login
unit_staff                  ok
unit_head                   ok
city_reviewer               ok
province_reviewer           ok
city_leader                 ok
province_leader             ok
superuser                   ok
""")
SOMEONE_ELSES = grid("""
anonymous                   login
unit_staff                  hide
unit_head                   hide
city_reviewer               hide
province_reviewer           hide
city_leader                 hide
province_leader             hide
superuser                   hide
""")
# The organisation (units, heads) is the administrators': not the unit's own
# people, nor the reviewers and leaders above it (DOMAIN.md §2).
ADMINISTRATORS = grid("""
anonymous                   login login login
unit_staff                  deny  deny  deny
unit_head                   deny  deny  deny
city_reviewer               deny  deny  deny
province_reviewer           deny  deny  deny
city_leader                 deny  deny  deny
province_leader             deny  deny  deny
superuser                   ok    ok    ok
""")
# A dry run writes nothing, even the administrator's.
ADMINISTRATORS_DRY_RUN = grid("""
anonymous                   login
unit_staff                  deny
unit_head                   deny
city_reviewer               deny
province_reviewer           deny
city_leader                 deny
province_leader             deny
superuser                   no
""")
SIGN_IN = grid("""
anonymous                   ok
unit_staff                  ok
unit_head                   ok
city_reviewer               ok
province_reviewer           ok
city_leader                 ok
province_leader             ok
superuser                   ok
""")
# The reset link works for whoever holds it: the matrix posts to it without
# having opened it first, which writes nothing whoever asks
# (tests/cchc_portal/test_passwords.py follows the whole link).
NOBODY = grid("""
anonymous                   no
unit_staff                  no
unit_head                   no
city_reviewer               no
province_reviewer           no
city_leader                 no
province_leader             no
superuser                   no
""")
SIGN_OUT = grid("""
anonymous                   no
unit_staff                  ok
unit_head                   ok
city_reviewer               ok
province_reviewer           ok
city_leader                 ok
province_leader             ok
superuser                   ok
""")


# --- the attempt -------------------------------------------------------------------


@dataclass
class Try:
    """One attempt: the world, who acts, and the commune targeted (None for
    a write that is not per unit). ``stash`` carries what ``prepare`` made
    for ``data``."""

    world: World
    role: str
    actor: Any
    place: Place | None
    stash: dict[str, Any] = field(default_factory=dict)

    @property
    def p(self) -> Place:
        assert self.place is not None
        return self.place


def _nothing(t: Try) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Write:
    action: str
    # The URL pattern as the resolver spells it (pages) or the schema's path
    # (API); the attempt fills in ``params``.
    route: str
    expect: Mapping[str, tuple[Outcome, ...]]
    probe: Callable[[Try], Any]
    params: Callable[[Try], dict[str, Any]] = _nothing
    data: Callable[[Try], dict[str, Any]] = _nothing
    prepare: Callable[[Try], Any] = _nothing
    query: str = ""
    api: bool = False
    method: str = "POST"
    # The write's effect comes after commit (the upload runs the import then).
    after_commit: bool = False
    # An API operation that takes a file: multipart/form-data, not JSON.
    multipart: bool = False
    reason: str = ""

    targets: ClassVar[tuple[str | None, ...]] = (None,)

    def url(self, t: Try) -> str:
        params = self.params(t)
        if self.api:
            path = self.route.format(**params)
        else:
            path = "/" + re.sub(
                r"<(?:\w+:)?(\w+)>", lambda m: str(params[m.group(1)]), self.route
            )
        return path + self.query.format(**params)

    def attempt(
        self, world: World, role: str, target: str | None, client: Any
    ) -> str | None:
        """None when the outcome is the expected one, else what happened.
        ``client`` is signed in as the role (once for its three attempts)."""
        index = self.targets.index(target)
        expected = self.expect[role][index]
        if expected is Outcome.NA:
            return None
        actor = world.users[role]
        t = Try(world, role, actor, world.place(target) if target else None)
        with transaction.atomic():
            self.prepare(t)
            before = self.probe(t)
            response = self._send(client, t)
            after = self.probe(t)
            transaction.set_rollback(True)
        changed = before != after
        status = response.status_code
        # login_required's redirect names the page asked for; signing out
        # also ends on the sign-in page, without it.
        to_login = status == 302 and response.url.startswith(
            f"{resolve_url('login')}?next="
        )
        if _matches(expected, status, to_login, changed):
            return None
        return (
            f"{role} on {target or '-'}: expected {expected}, answered {status}"
            f"{' (to sign in)' if to_login else ''}, "
            f"{'changed' if changed else 'unchanged'}"
        )

    def client(self, actor: Any) -> Client | APIClient:
        if self.api:
            api = APIClient()
            if actor is not None:
                api.force_authenticate(actor)
            return api
        client = Client()
        if actor is not None:
            client.force_login(actor)
        return client

    def _send(self, client: Client | APIClient, t: Try) -> Any:
        if self.api and self.multipart:
            return client.post(self.url(t), self.data(t), format="multipart")
        if self.api:
            return client.generic(
                self.method, self.url(t), _json(self.data(t)), "application/json"
            )
        if self.after_commit:
            with TestCase.captureOnCommitCallbacks(execute=True):
                return client.post(self.url(t), self.data(t))
        return client.post(self.url(t), self.data(t))


def _json(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data)


def _matches(expected: Outcome, status: int, to_login: bool, changed: bool) -> bool:
    if status >= 500:
        return False
    match expected:
        case Outcome.OK:
            return changed and status < 400 and not to_login
        case Outcome.NO:
            return not changed and not to_login and status != 401
        case Outcome.DENY:
            return not changed and status in (403, 404)
        case Outcome.HIDE:
            return not changed and status == 404
        case Outcome.LOGIN:
            return not changed and (to_login or status == 401)
    return False


@dataclass(frozen=True)
class UnitWrite(Write):
    """A write on one commune's object: columns A, B and C."""

    targets: ClassVar[tuple[str | None, ...]] = ("a", "b", "c")


@dataclass(frozen=True)
class ProvinceWrite(Write):
    """A write that is not per unit (a framework is per year and kind of
    unit; a computation or a criterion rank is the province's): one column."""


@dataclass(frozen=True)
class AccountWrite(Write):
    """A write on the actor's own account (or another's): one column."""


# --- helpers for the rows ----------------------------------------------------------


def _survey_figures(t: Try) -> list[tuple[int, Decimal]]:
    return list(SurveyFigure.objects.values_list("unit_id", "rate"))


def _survey_file(t: Try) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "so-lieu.csv",
        f"unit_code,source,rate\n{t.world.a.unit.code},sipas,90\n".encode(),
        content_type="text/csv",
    )


def _survey_upload_kept(t: Try) -> None:
    """The actor's own upload, as the preview keeps it."""
    t.stash["upload"] = (
        ""
        if t.actor is None
        else survey.upload_keep(
            _survey_file(t), user=t.actor, year=FRAMEWORK_YEAR, now=timezone.now()
        )
    )


def _today() -> date:
    return timezone.localdate()


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


RESET_ADDRESS = "staff.a@example.vn"


def _reset_address(t: Try) -> None:
    """staff.a has the address, and no link was sent to it lately."""
    type(t.world.users["unit_staff"]).objects.filter(
        pk=t.world.users["unit_staff"].pk
    ).update(email=RESET_ADDRESS)
    cache.clear()


def _reset_link(user: Any) -> dict[str, Any]:
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


def _row(obj: Any) -> dict[str, Any] | None:
    """The stored row of ``obj``, or None once deleted."""
    fresh = type(obj).objects.filter(pk=obj.pk).first()
    return None if fresh is None else model_to_dict(fresh)


def _score(t: Try, code: str = "1.1.1") -> Score:
    return Score.objects.get(assessment=t.p.assessment, node__code=code)


def _assessment(t: Try, state: str, **values: Any) -> None:
    """The assessment in ``state``: self scores on the manual leaves, and
    appraised ones on every leaf once submitted."""
    scores = Score.objects.filter(assessment=t.p.assessment)
    scores.filter(node__code__in=["1.1.1", "1.1.2"]).update(self_score=1)
    if state != AssessmentState.DRAFT:
        scores.update(appraised_score=1)
    Assessment.objects.filter(pk=t.p.assessment.pk).update(
        state=state, round=1, submitted_at=timezone.now(), **values
    )


def _signed(t: Try, recorded_by: Any = None) -> None:
    Commitment.objects.filter(pk=t.p.commitment.pk).update(
        state=CommitmentState.SIGNED,
        head=t.p.head,
        signed_on=date(_today().year, 1, 2),
        signing_recorded_by=recorded_by,
    )


def _reported(t: Try) -> None:
    _signed(t)
    Target.objects.filter(pk=t.p.manual_target.pk).update(
        reported_value=Decimal(80),
        reported_at=timezone.now(),
        check_state=CheckState.PENDING,
    )


def _contest(t: Try) -> None:
    _assessment(t, AssessmentState.APPROVED, contest_until=_today() + timedelta(5))
    t.stash["contest"] = Contest.objects.create(
        score=_score(t),
        reason="Đã có đủ tài liệu",
        requested_score=Decimal(2),
        raised_at=timezone.now(),
    )


def _submitted_unappraised(t: Try) -> None:
    _assessment(t, AssessmentState.SUBMITTED)
    Score.objects.filter(assessment=t.p.assessment).update(appraised_score=None)


def _commented(t: Try) -> None:
    _assessment(t, AssessmentState.RETURNED)
    t.stash["comment"] = Comment.objects.create(
        score=_score(t), round=1, text="Bổ sung tài liệu", author=t.world.entrant
    )


def _other_indicator() -> Indicator:
    return Indicator.objects.exclude(code="dung-han").exclude(kind="manual")[0]


def _target_form(t: Try, **extra: Any) -> dict[str, Any]:
    return {
        "indicator": _other_indicator().pk,
        "comparison": "gte",
        "value": "90",
        "mandatory": "on",
        **extra,
    }


def _case_row(code: str, unit_code: str) -> dict[str, Any]:
    return {
        "case_code": code,
        "procedure_code": "P1",
        "unit_code": unit_code,
        "received_at": "2025-03-02T08:00:00+07:00",
        "due_at": "2025-03-10T17:00:00+07:00",
        "finished_at": "2025-03-05T10:00:00+07:00",
        "status": "da_tra_ket_qua",
        "channel": "truc_tiep",
    }


def _moved_to(t: Try) -> str:
    """Target A's record moves to B; B's and C's to A."""
    return (t.world.b if t.place is t.world.a else t.world.a).unit.code


def _csv(record: dict[str, Any]) -> SimpleUploadedFile:
    header = ",".join(record)
    line = ",".join(str(value) for value in record.values())
    return SimpleUploadedFile(
        "ho-so.csv", f"{header}\n{line}\n".encode(), content_type="text/csv"
    )


def _case_probe(t: Try) -> Any:
    return CaseRecord.objects.filter(pk=t.p.case.pk).values_list("unit_id", "status")[0]


def _publishable(t: Try) -> None:
    for place in (t.world.a, t.world.b, t.world.c):
        Score.objects.filter(assessment=place.assessment).update(
            self_score=1, appraised_score=1
        )
        Assessment.objects.filter(pk=place.assessment.pk).update(
            state=AssessmentState.APPROVED
        )
    Adjustment.objects.all().delete()
    run = computation.compute_now(FRAMEWORK_YEAR)
    t.stash["run"] = run.pk


def _framework_probe(framework: Framework) -> Callable[[Try], Any]:
    return lambda t: _row(framework) if framework.pk else None


def _tree(t: Try) -> Any:
    return list(
        Node.objects.filter(framework=t.world.draft).values_list(
            "code", "title", "max_points"
        )
    )


def _tiers(t: Try) -> Any:
    return list(
        Tier.objects.filter(framework=t.world.draft).values_list("code", "min_index")
    )


def _workbook(t: Try) -> dict[str, Any]:
    content = workbook.workbook_export(t.world.draft)
    return {
        "file": SimpleUploadedFile("bo-chi-so.xlsx", content),
        "replace": "on",
    }


def _imported(t: Try) -> Any:
    """The draft of next year, replaced by the import (new rows)."""
    return sorted(
        Node.objects.filter(
            framework__year=FRAMEWORK_YEAR + 1, framework__unit_kind=UnitKind.COMMUNE
        ).values_list("pk", flat=True)
    )


def _rules(t: Try) -> Any:
    return list(
        AdjustmentRule.objects.filter(framework=t.world.draft).values_list(
            "code", "title", "points_per_case"
        )
    )


def _ranks(t: Try) -> Any:
    return list(CriterionRank.objects.values_list("year", "index", "code", "rank"))


def _rank_form(t: Try, code: str = "1.2") -> dict[str, Any]:
    return {
        "year": str(FRAMEWORK_YEAR),
        "index": t.world.rank.index,
        "code": code,
        "title": "Tiêu chí",
        "rank": "15",
        "owner_unit": t.world.department.code,
    }


def _own_notice(t: Try) -> Notice:
    """The actor's notice (anonymous: A's staff's)."""
    return Notice.objects.get(user=t.actor or t.world.users["unit_staff"])


def _someone_elses_notice(t: Try) -> Notice:
    return Notice.objects.create(
        user=t.world.entrant, subject="Của người khác", created_at=timezone.now()
    )


# --- the tables --------------------------------------------------------------------

COMMITMENT = "commitments/<int:pk>/"
ASSESSMENT = "assessments/<int:pk>/"


def _commitment(t: Try) -> dict[str, Any]:
    return {"pk": t.p.commitment.pk}


def _metric_target(t: Try) -> dict[str, Any]:
    return {"pk": t.p.commitment.pk, "target_pk": t.p.metric_target.pk}


def _manual_target(t: Try) -> dict[str, Any]:
    return {"pk": t.p.commitment.pk, "target_pk": t.p.manual_target.pk}


def _assessment_pk(t: Try) -> dict[str, Any]:
    return {"pk": t.p.assessment.pk}


def _leaf(t: Try) -> dict[str, Any]:
    return {"pk": t.p.assessment.pk, "score_pk": _score(t).pk}


def _leaf_state(t: Try) -> Any:
    return Score.objects.filter(pk=_score(t).pk).values_list(
        "self_score", "explanation", "appraised_score", "appraisal_reason"
    )[0]


def _state(t: Try) -> Any:
    return Assessment.objects.filter(pk=t.p.assessment.pk).values_list(
        "state", "extended_until", "contest_until"
    )[0]


def _targets(t: Try) -> Any:
    return list(
        Target.objects.filter(commitment=t.p.commitment)
        .order_by("pk")
        .values_list("pk", "indicator_id", "value", "mandatory")
    )


def _optional(t: Try) -> Any:
    return list(
        Target.objects.filter(commitment=t.p.commitment, mandatory=False).values_list(
            "pk", flat=True
        )
    )


def _commitment_state(t: Try) -> Any:
    return Commitment.objects.filter(pk=t.p.commitment.pk).values_list(
        "state", flat=True
    )[0]


PAGES: list[Write] = [
    # --- commitments -----------------------------------------------------------------
    UnitWrite(
        "draft next year's commitment from the template",
        "commitments/new/",
        HOME_AFFAIRS_FOR_UNITS,
        probe=lambda t: Commitment.objects.filter(
            unit=t.p.unit, year=_today().year + 1
        ).exists(),
        data=lambda t: {
            "year": _today().year + 1,
            "template": CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE).pk,
            "units": [t.p.unit.pk],
        },
    ),
    UnitWrite(
        "add a mandatory target to the draft",
        COMMITMENT + "targets/new/",
        PREPARE,
        probe=_targets,
        params=_commitment,
        data=_target_form,
    ),
    UnitWrite(
        "add an optional target to the draft (point 7)",
        COMMITMENT + "targets/new/",
        MAKE_OPTIONAL,
        probe=_optional,
        params=_commitment,
        data=lambda t: _target_form(
            t, mandatory="", optional_reason="Chưa có phần mềm"
        ),
    ),
    UnitWrite(
        "change a target's value",
        COMMITMENT + "targets/<int:target_pk>/edit/",
        PREPARE,
        probe=_targets,
        params=_metric_target,
        data=lambda t: _target_form(t, indicator=t.p.metric_target.indicator_id),
    ),
    UnitWrite(
        "make a target optional (point 7)",
        COMMITMENT + "targets/<int:target_pk>/edit/",
        MAKE_OPTIONAL,
        probe=_optional,
        params=_metric_target,
        data=lambda t: _target_form(
            t,
            indicator=t.p.metric_target.indicator_id,
            value="95",
            mandatory="",
            optional_reason="Chưa có phần mềm",
        ),
    ),
    UnitWrite(
        "remove an optional target of the draft",
        COMMITMENT + "targets/<int:target_pk>/delete/",
        PREPARE,
        probe=_targets,
        params=_metric_target,
        prepare=lambda t: Target.objects.filter(pk=t.p.metric_target.pk).update(
            mandatory=False, optional_reason="Chưa có phần mềm"
        ),
    ),
    UnitWrite(
        "remove a mandatory target, saying why (point 7)",
        COMMITMENT + "targets/<int:target_pk>/delete/",
        MAKE_OPTIONAL,
        probe=_targets,
        params=_metric_target,
        data=lambda t: {"reason": "Không phù hợp với xã"},
    ),
    UnitWrite(
        "record the head's signature",
        COMMITMENT + "sign/",
        PREPARE,
        probe=_commitment_state,
        params=_commitment,
        data=lambda t: {
            "signed_on": _dmy(date(_today().year, 1, 2)),
            "scan": SimpleUploadedFile("ky.pdf", PDF),
            "acknowledge": "on",
        },
    ),
    UnitWrite(
        "counter-sign for the level above (point 4)",
        COMMITMENT + "countersign/",
        COUNTERSIGN,
        probe=_commitment_state,
        params=_commitment,
        prepare=lambda t: _signed(
            t, t.world.users["unit_head"] if t.place is t.world.a else None
        ),
        data=lambda t: {
            "countersigned_on": _dmy(_today()),
            "signer_name": "Lê Văn Trên",
            "signer_title": "Chủ tịch",
        },
    ),
    UnitWrite(
        "counter-sign a signature one recorded oneself (point 4)",
        COMMITMENT + "countersign/",
        NEVER_THE_SIGNER,
        probe=_commitment_state,
        params=_commitment,
        prepare=lambda t: _signed(t, recorded_by=t.actor),
        data=lambda t: {
            "countersigned_on": _dmy(_today()),
            "signer_name": "Lê Văn Trên",
            "signer_title": "Chủ tịch",
        },
    ),
    UnitWrite(
        "report a manual indicator's value",
        COMMITMENT + "targets/<int:target_pk>/report/",
        REPORT,
        probe=lambda t: _row(t.p.manual_target),
        params=_manual_target,
        prepare=_signed,
        data=lambda t: {"value": "90", "note": "Đã làm"},
    ),
    UnitWrite(
        "check a reported value",
        COMMITMENT + "targets/<int:target_pk>/check/",
        REVIEW,
        probe=lambda t: _row(t.p.manual_target),
        params=_manual_target,
        prepare=_reported,
        data=lambda t: {"decision": "reject", "note": "Thiếu tài liệu"},
    ),
    # --- case records and reminders --------------------------------------------------
    UnitWrite(
        "update the unit's case record by upload",
        "imports/new/",
        IMPORT,
        probe=_case_probe,
        data=lambda t: {"file": _csv(_case_row(t.p.case.case_code, t.p.unit.code))},
        after_commit=True,
    ),
    UnitWrite(
        "move a case record to another unit by upload (point 1)",
        "imports/new/",
        MOVE,
        probe=_case_probe,
        data=lambda t: {"file": _csv(_case_row(t.p.case.case_code, _moved_to(t)))},
        after_commit=True,
    ),
    UnitWrite(
        "record a reminder to the unit",
        "reminders/",
        REMIND,
        probe=lambda t: Reminder.objects.filter(unit=t.p.unit).count(),
        data=lambda t: {
            "unit": t.p.unit.code,
            "issued_on": _dmy(_today()),
            "year": str(_today().year),
            "reason": "Trễ hẹn nhiều hồ sơ",
        },
    ),
    UnitWrite(
        "withdraw a reminder, with a reason (point 5)",
        "reminders/<int:pk>/delete/",
        WITHDRAW,
        probe=lambda t: _row(t.p.reminder),
        params=lambda t: {"pk": t.p.reminder.pk},
        data=lambda t: {"reason": "Ghi nhầm đơn vị"},
    ),
    UnitWrite(
        "withdraw a reminder without a reason (point 5)",
        "reminders/<int:pk>/delete/",
        WITHDRAW_WITHOUT_REASON,
        probe=lambda t: _row(t.p.reminder),
        params=lambda t: {"pk": t.p.reminder.pk},
    ),
    # --- the self-assessment and its appraisal ---------------------------------------
    UnitWrite(
        "start the unit's assessment",
        "assessments/start/<int:framework_pk>/<str:code>/",
        FILL_IN,
        probe=lambda t: Assessment.objects.filter(
            framework=t.world.framework, unit=t.p.unit
        ).exists(),
        params=lambda t: {"framework_pk": t.world.framework.pk, "code": t.p.unit.code},
        prepare=lambda t: Assessment.objects.filter(pk=t.p.assessment.pk).delete(),
    ),
    UnitWrite(
        "save a self score",
        ASSESSMENT + "scores/<int:score_pk>/",
        FILL_IN,
        probe=_leaf_state,
        params=_leaf,
        data=lambda t: {"self_score": "2", "explanation": "Đủ", "version": 1},
    ),
    UnitWrite(
        "choose a leaf's documents",
        ASSESSMENT + "scores/<int:score_pk>/evidence/",
        FILL_IN,
        probe=lambda t: list(_score(t).evidence.values_list("pk", flat=True)),
        params=_leaf,
        data=lambda t: {"documents": [t.p.document.pk]},
    ),
    UnitWrite(
        "upload a document",
        ASSESSMENT + "documents/",
        FILL_IN,
        probe=lambda t: Evidence.objects.filter(assessment=t.p.assessment).count(),
        params=_assessment_pk,
        data=lambda t: {"file": SimpleUploadedFile("quyet-dinh.pdf", PDF)},
    ),
    UnitWrite(
        "delete a document",
        ASSESSMENT + "documents/<int:document_pk>/delete/",
        FILL_IN,
        probe=lambda t: _row(t.p.document),
        params=lambda t: {"pk": t.p.assessment.pk, "document_pk": t.p.document.pk},
    ),
    UnitWrite(
        "submit the self-assessment",
        ASSESSMENT + "submit/",
        HEAD_ONLY,
        probe=_state,
        params=_assessment_pk,
        prepare=lambda t: _assessment(t, AssessmentState.DRAFT),
    ),
    UnitWrite(
        "answer a reviewer's comment",
        ASSESSMENT + "comments/<int:comment_pk>/answer/",
        FILL_IN,
        probe=lambda t: _row(t.stash["comment"]),
        params=lambda t: {"pk": t.p.assessment.pk, "comment_pk": t.stash["comment"].pk},
        prepare=_commented,
        data=lambda t: {"answer": "Đã bổ sung"},
    ),
    UnitWrite(
        "contest an appraised score",
        ASSESSMENT + "scores/<int:score_pk>/contest/",
        FILL_IN,
        probe=lambda t: Contest.objects.filter(
            score__assessment=t.p.assessment
        ).count(),
        params=_leaf,
        prepare=lambda t: _assessment(
            t, AssessmentState.APPROVED, contest_until=_today() + timedelta(5)
        ),
        data=lambda t: {"requested_score": "2", "reason": "Đủ tài liệu"},
    ),
    UnitWrite(
        "appraise a leaf",
        ASSESSMENT + "scores/<int:score_pk>/appraise/",
        REVIEW,
        probe=_leaf_state,
        params=_leaf,
        prepare=lambda t: _assessment(t, AssessmentState.SUBMITTED),
        data=lambda t: {
            "appraised_score": "0.5",
            "appraisal_reason": "Thiếu tài liệu",
            "version": _score(t).version,
        },
    ),
    UnitWrite(
        "accept the self scores",
        ASSESSMENT + "accept/",
        REVIEW,
        probe=_leaf_state,
        params=_assessment_pk,
        prepare=_submitted_unappraised,
        data=lambda t: {"score": [_score(t).pk]},
    ),
    UnitWrite(
        "return the assessment",
        ASSESSMENT + "return/",
        REVIEW,
        probe=_state,
        params=_assessment_pk,
        prepare=lambda t: _assessment(t, AssessmentState.SUBMITTED),
        data=lambda t: {f"comment-{_score(t).pk}": "Bổ sung tài liệu"},
    ),
    UnitWrite(
        "approve the assessment",
        ASSESSMENT + "approve/",
        REVIEW,
        probe=_state,
        params=_assessment_pk,
        prepare=lambda t: _assessment(t, AssessmentState.SUBMITTED),
    ),
    UnitWrite(
        "grant an extension",
        ASSESSMENT + "extend/",
        REVIEW,
        probe=_state,
        params=_assessment_pk,
        data=lambda t: {"until": _dmy(_today() + timedelta(40))},
    ),
    UnitWrite(
        "decide a contest",
        ASSESSMENT + "contests/<int:contest_pk>/decide/",
        REVIEW,
        probe=lambda t: _row(t.stash["contest"]),
        params=lambda t: {"pk": t.p.assessment.pk, "contest_pk": t.stash["contest"].pk},
        prepare=_contest,
        data=lambda t: {"decision": "reject", "reason": "Không đủ căn cứ"},
    ),
    UnitWrite(
        "show provisional results and open contests",
        "assessments/provisional/<int:framework_pk>/",
        HOME_AFFAIRS_FOR_UNITS,
        probe=_state,
        params=lambda t: {"framework_pk": t.world.framework.pk},
        prepare=lambda t: _assessment(t, AssessmentState.APPROVED),
    ),
    # --- deductions and bonuses ------------------------------------------------------
    UnitWrite(
        "enter a deduction",
        "adjustments/new/",
        HOME_AFFAIRS_FOR_UNITS,
        probe=lambda t: Adjustment.objects.filter(unit=t.p.unit).count(),
        params=lambda t: {"framework": t.world.framework.pk},
        query="?framework={framework}",
        data=lambda t: {
            "unit": t.p.unit.code,
            "rule": t.world.rule.pk,
            "cases": "1",
            "reason": "Báo chí phản ánh, đã xác minh",
        },
    ),
    UnitWrite(
        "approve a deduction another reviewer entered",
        "adjustments/<int:pk>/decide/",
        DECIDE_ADJUSTMENT,
        probe=lambda t: _row(t.p.adjustment),
        params=lambda t: {"pk": t.p.adjustment.pk},
        data=lambda t: {"decision": "approve"},
    ),
    UnitWrite(
        "approve a deduction one entered oneself (four eyes)",
        "adjustments/<int:pk>/decide/",
        FOUR_EYES,
        probe=lambda t: _row(t.p.adjustment),
        params=lambda t: {"pk": t.p.adjustment.pk},
        prepare=lambda t: Adjustment.objects.filter(pk=t.p.adjustment.pk).update(
            entered_by=t.actor
        ),
        data=lambda t: {"decision": "approve"},
    ),
    UnitWrite(
        "approve ticked deductions from the list",
        "adjustments/approve/",
        APPROVE_MANY,
        probe=lambda t: _row(t.p.adjustment),
        data=lambda t: {"ids": [str(t.p.adjustment.pk)]},
    ),
    UnitWrite(
        "approve from the list a deduction one entered oneself (four eyes)",
        "adjustments/approve/",
        APPROVE_MANY_OWN,
        probe=lambda t: _row(t.p.adjustment),
        prepare=lambda t: Adjustment.objects.filter(pk=t.p.adjustment.pk).update(
            entered_by=t.actor
        ),
        data=lambda t: {"ids": [str(t.p.adjustment.pk)]},
    ),
    # --- accountability --------------------------------------------------------------
    UnitWrite(
        "explain an accountability case",
        "accountability/<int:pk>/explain/",
        HEAD_ONLY,
        probe=lambda t: _row(t.p.accountability_case),
        params=lambda t: {"pk": t.p.accountability_case.pk},
        data=lambda t: {"explanation": "Nguyên nhân khách quan"},
    ),
    UnitWrite(
        "decide an accountability case",
        "accountability/<int:pk>/decide/",
        CASE_DECIDE,
        probe=lambda t: _row(t.p.accountability_case),
        params=lambda t: {"pk": t.p.accountability_case.pk},
        prepare=lambda t: AccountabilityCase.objects.filter(
            pk=t.p.accountability_case.pk
        ).update(
            state=AccountabilityState.EXPLAINED, explanation="Nguyên nhân khách quan"
        ),
        data=lambda t: {"decision": "dismissed", "reason": "Đã giải trình đủ"},
    ),
    UnitWrite(
        "rate the unit's head",
        "ratings/<int:pk>/decide/",
        RATE,
        probe=lambda t: _row(t.p.rating),
        params=lambda t: {"pk": t.p.rating.pk},
        data=lambda t: {f"r{t.p.rating.pk}-level": str(t.p.rating.proposed)},
    ),
    UnitWrite(
        "confirm the proposed ratings",
        "ratings/confirm/",
        RATINGS_CONFIRM,
        probe=lambda t: _row(t.p.rating),
        data=lambda t: {"year": str(FRAMEWORK_YEAR), "rating": [t.p.rating.pk]},
    ),
    # --- frameworks (point 3) --------------------------------------------------------
    ProvinceWrite(
        "create a framework",
        "frameworks/new/",
        PROVINCE,
        probe=lambda t: Framework.objects.filter(
            unit_kind=UnitKind.DEPARTMENT
        ).exists(),
        data=lambda t: {
            "year": str(FRAMEWORK_YEAR + 1),
            "unit_kind": UnitKind.DEPARTMENT,
            "name": "Chỉ số CCHC sở",
            "deadline": _dmy(date(FRAMEWORK_YEAR + 2, 1, 7)),
            "contest_days": "10",
            "reminder_days": "7",
        },
    ),
    ProvinceWrite(
        "import a framework's workbook over the draft",
        "frameworks/import/",
        PROVINCE,
        probe=_imported,
        data=_workbook,
    ),
    ProvinceWrite(
        "change a framework's settings",
        "frameworks/<int:pk>/settings/",
        PROVINCE,
        probe=lambda t: _row(t.world.draft),
        params=lambda t: {"pk": t.world.draft.pk},
        data=lambda t: {
            "name": "Chỉ số mới",
            "deadline": _dmy(date(FRAMEWORK_YEAR + 2, 1, 10)),
            "contest_days": "7",
            "reminder_days": "3",
        },
    ),
    ProvinceWrite(
        "set a framework's tiers",
        "frameworks/<int:pk>/tiers/",
        PROVINCE,
        probe=_tiers,
        params=lambda t: {"pk": t.world.draft.pk},
        data=lambda t: {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "0",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-code": "A",
            "form-0-label": "Tốt",
            "form-0-min_index": "85",
            "form-1-code": "B",
            "form-1-label": "Khá",
            "form-1-min_index": "0",
        },
    ),
    ProvinceWrite(
        "add an item to a framework",
        "frameworks/<int:pk>/items/new/",
        PROVINCE,
        probe=_tree,
        params=lambda t: {"pk": t.world.draft.pk},
        data=lambda t: {
            "parent": Node.objects.get(framework=t.world.draft, code="1.1").pk,
            "code": "1.1.3",
            "title": "Tiêu chí mới",
            "max_points": "1",
            "method": "manual",
        },
    ),
    ProvinceWrite(
        "change an item of a framework",
        "frameworks/<int:pk>/items/<int:node_pk>/edit/",
        PROVINCE,
        probe=_tree,
        params=lambda t: {
            "pk": t.world.draft.pk,
            "node_pk": Node.objects.get(framework=t.world.draft, code="1.1.1").pk,
        },
        data=lambda t: {
            "code": "1.1.1",
            "title": "Tiêu chí đổi tên",
            "max_points": "2",
            "method": "manual",
        },
    ),
    ProvinceWrite(
        "delete an item of a framework",
        "frameworks/<int:pk>/items/<int:node_pk>/delete/",
        PROVINCE,
        probe=_tree,
        params=lambda t: {
            "pk": t.world.draft.pk,
            "node_pk": Node.objects.get(framework=t.world.draft, code="1.1.2").pk,
        },
    ),
    ProvinceWrite(
        "copy a framework to a new year",
        "frameworks/<int:pk>/copy/",
        PROVINCE,
        probe=lambda t: Framework.objects.filter(year=FRAMEWORK_YEAR + 2).exists(),
        params=lambda t: {"pk": t.world.draft.pk},
        data=lambda t: {"year": str(FRAMEWORK_YEAR + 2)},
    ),
    ProvinceWrite(
        "open a framework",
        "frameworks/<int:pk>/open/",
        PROVINCE,
        probe=lambda t: _row(t.world.draft),
        params=lambda t: {"pk": t.world.draft.pk},
    ),
    ProvinceWrite(
        "set a framework's rule settings",
        "frameworks/<int:pk>/thresholds/",
        PROVINCE,
        probe=lambda t: _row(t.world.draft),
        params=lambda t: {"pk": t.world.draft.pk},
        data=lambda t: {
            "lateness_threshold": "4",
            "satisfaction_threshold": "80",
            "excellent_exceeded_share": "60",
            "completed_met_share": "50",
            "excellent_min_tier": "A",
            "good_min_tier": "B",
            "completed_min_tier": "C",
        },
    ),
    ProvinceWrite(
        "close a framework's cycle after its deadline",
        "frameworks/<int:pk>/close/",
        PROVINCE,
        probe=lambda t: list(
            Assessment.objects.filter(framework=t.world.framework)
            .order_by("pk")
            .values_list("state", "late")
        ),
        params=lambda t: {"pk": t.world.framework.pk},
        prepare=lambda t: Framework.objects.filter(pk=t.world.framework.pk).update(
            deadline=_today() - timedelta(days=1)
        ),
    ),
    ProvinceWrite(
        "upload a year's survey figures (the preview)",
        "frameworks/survey-figures/",
        PROVINCE_PREVIEW,
        probe=_survey_figures,
        data=lambda t: {"year": str(FRAMEWORK_YEAR), "file": _survey_file(t)},
    ),
    ProvinceWrite(
        "confirm the import of a year's survey figures",
        "frameworks/survey-figures/confirm/",
        PROVINCE,
        probe=_survey_figures,
        prepare=_survey_upload_kept,
        data=lambda t: {"upload": t.stash["upload"], "action": "confirm"},
    ),
    ProvinceWrite(
        "add a rule to a framework's catalogue",
        "frameworks/<int:pk>/adjustment-rules/",
        PROVINCE,
        probe=_rules,
        params=lambda t: {"pk": t.world.draft.pk},
        data=lambda t: {
            "code": "bao-chi",
            "title": "Báo chí phản ánh",
            "points_per_case": "-1",
            "cap": "",
        },
    ),
    ProvinceWrite(
        "change a rule of the catalogue",
        "frameworks/<int:pk>/adjustment-rules/<int:rule_pk>/edit/",
        PROVINCE,
        probe=_rules,
        params=lambda t: {"pk": t.world.draft.pk, "rule_pk": t.world.draft_rule.pk},
        data=lambda t: {"title": "Khiếu nại", "points_per_case": "-2", "cap": ""},
    ),
    ProvinceWrite(
        "delete a rule of the catalogue",
        "frameworks/<int:pk>/adjustment-rules/<int:rule_pk>/delete/",
        PROVINCE,
        probe=_rules,
        params=lambda t: {"pk": t.world.draft.pk, "rule_pk": t.world.draft_rule.pk},
    ),
    ProvinceWrite(
        "record a criterion rank",
        "criterion-ranks/new/",
        RANK_NEW,
        probe=_ranks,
        data=_rank_form,
    ),
    ProvinceWrite(
        "change a criterion rank",
        "criterion-ranks/<int:pk>/edit/",
        PROVINCE,
        probe=_ranks,
        params=lambda t: {"pk": t.world.rank.pk},
        data=lambda t: _rank_form(t, code=t.world.rank.code),
    ),
    ProvinceWrite(
        "delete a criterion rank",
        "criterion-ranks/<int:pk>/delete/",
        PROVINCE,
        probe=_ranks,
        params=lambda t: {"pk": t.world.rank.pk},
    ),
    # --- the year's results ----------------------------------------------------------
    ProvinceWrite(
        "compute the year's results",
        "results/<int:year>/compute/",
        PROVINCE,
        probe=lambda t: ComputationRun.objects.count(),
        params=lambda t: {"year": FRAMEWORK_YEAR},
    ),
    ProvinceWrite(
        "publish the year's results",
        "results/<int:year>/publish/",
        PROVINCE,
        probe=lambda t: Publication.objects.count(),
        params=lambda t: {"year": FRAMEWORK_YEAR},
        prepare=_publishable,
        data=lambda t: {"run": str(t.stash["run"]), "note": "", "confirm": "on"},
    ),
    # --- one's own account -----------------------------------------------------------
    AccountWrite(
        "mark one's notice read",
        "notices/<int:pk>/read/",
        OWN,
        probe=lambda t: _row(_own_notice(t)),
        params=lambda t: {"pk": _own_notice(t).pk},
    ),
    AccountWrite(
        "mark someone else's notice read",
        "notices/<int:pk>/read/",
        SOMEONE_ELSES,
        probe=lambda t: _row(t.stash["notice"]),
        params=lambda t: {"pk": t.stash["notice"].pk},
        prepare=lambda t: t.stash.update(notice=_someone_elses_notice(t)),
    ),
    AccountWrite(
        "mark all one's notices read",
        "notices/read-all/",
        OWN,
        probe=lambda t: _row(_own_notice(t)),
    ),
    AccountWrite(
        "choose how one's notices come by e-mail",
        "notices/settings/",
        OWN,
        probe=lambda t: (
            NoticeSettings.objects.filter(user=t.actor)
            .values_list("email_mode", flat=True)
            .first()
            if t.actor
            else None
        ),
        data=lambda t: {"email_mode": "immediate"},
    ),
    AccountWrite(
        "change one's password",
        "password/change/",
        OWN,
        probe=lambda t: _row(t.actor) if t.actor else None,
        data=lambda t: {
            "old_password": PASSWORD,
            "new_password1": "another-horse-7731",
            "new_password2": "another-horse-7731",
        },
    ),
    AccountWrite(
        "ask for a password reset link by e-mail",
        "password/reset/",
        SIGN_IN,
        probe=lambda t: len(mail.outbox),
        prepare=_reset_address,
        data=lambda t: {"email": RESET_ADDRESS},
    ),
    AccountWrite(
        "post a new password to a reset link not opened first",
        "password/reset/<uidb64>/<token>/",
        NOBODY,
        probe=lambda t: _row(t.world.users["unit_staff"]),
        params=lambda t: _reset_link(t.world.users["unit_staff"]),
        data=lambda t: {
            "new_password1": "another-horse-7731",
            "new_password2": "another-horse-7731",
        },
    ),
    AccountWrite(
        "sign in",
        "login/",
        SIGN_IN,
        probe=lambda t: _row(t.world.users["unit_staff"]),
        data=lambda t: {"username": "staff.a", "password": PASSWORD},
    ),
    AccountWrite(
        "sign out",
        "logout/",
        SIGN_OUT,
        probe=lambda t: Session.objects.count(),
    ),
]

API: list[Write] = [
    UnitWrite(
        "push an update of the unit's case record",
        "/api/v1/cases/batch/",
        IMPORT,
        probe=_case_probe,
        data=lambda t: {"records": [_case_row(t.p.case.case_code, t.p.unit.code)]},
        api=True,
    ),
    UnitWrite(
        "push a case record moved to another unit (point 1)",
        "/api/v1/cases/batch/",
        MOVE,
        probe=_case_probe,
        data=lambda t: {"records": [_case_row(t.p.case.case_code, _moved_to(t))]},
        api=True,
    ),
    UnitWrite(
        "save a self score over the API",
        "/api/v1/assessments/{id}/scores/{node_code}/",
        FILL_IN,
        probe=_leaf_state,
        params=lambda t: {"id": t.p.assessment.pk, "node_code": "1.1.1"},
        data=lambda t: {"self_score": "2", "version": 1},
        api=True,
        method="PATCH",
    ),
    UnitWrite(
        "submit the self-assessment over the API",
        "/api/v1/assessments/{id}/submit/",
        HEAD_ONLY,
        probe=_state,
        params=lambda t: {"id": t.p.assessment.pk},
        prepare=lambda t: _assessment(t, AssessmentState.DRAFT),
        api=True,
    ),
    UnitWrite(
        "answer a reviewer's comment over the API",
        "/api/v1/assessments/{id}/comments/{comment_id}/answer/",
        FILL_IN,
        probe=lambda t: _row(t.stash["comment"]),
        params=lambda t: {"id": t.p.assessment.pk, "comment_id": t.stash["comment"].pk},
        prepare=_commented,
        data=lambda t: {"answer": "Đã bổ sung"},
        api=True,
    ),
    UnitWrite(
        "contest an appraised score over the API",
        "/api/v1/assessments/{id}/contests/",
        FILL_IN,
        probe=lambda t: Contest.objects.filter(
            score__assessment=t.p.assessment
        ).count(),
        params=lambda t: {"id": t.p.assessment.pk},
        prepare=lambda t: _assessment(
            t, AssessmentState.APPROVED, contest_until=_today() + timedelta(5)
        ),
        data=lambda t: {
            "node_code": "1.1.1",
            "requested_score": "2",
            "reason": "Đủ tài liệu",
        },
        api=True,
    ),
    UnitWrite(
        "appraise a leaf over the API",
        "/api/v1/assessments/{id}/appraisals/{node_code}/",
        REVIEW,
        probe=_leaf_state,
        params=lambda t: {"id": t.p.assessment.pk, "node_code": "1.1.1"},
        prepare=lambda t: _assessment(t, AssessmentState.SUBMITTED),
        data=lambda t: {
            "appraised_score": "0.5",
            "reason": "Thiếu tài liệu",
            "version": _score(t).version,
        },
        api=True,
        method="PATCH",
    ),
    UnitWrite(
        "appraise many leaves over the API",
        "/api/v1/assessments/{id}/appraisals/",
        REVIEW,
        probe=_leaf_state,
        params=lambda t: {"id": t.p.assessment.pk},
        prepare=lambda t: _assessment(t, AssessmentState.SUBMITTED),
        data=lambda t: {
            "appraisals": [
                {
                    "node_code": "1.1.1",
                    "appraised_score": "0.5",
                    "reason": "Thiếu tài liệu",
                    "version": _score(t).version,
                }
            ]
        },
        api=True,
    ),
    UnitWrite(
        "accept the self scores over the API",
        "/api/v1/assessments/{id}/appraisals/accept-self/",
        REVIEW,
        probe=_leaf_state,
        params=lambda t: {"id": t.p.assessment.pk},
        prepare=_submitted_unappraised,
        data=lambda t: {"node_codes": ["1.1.1"]},
        api=True,
    ),
    UnitWrite(
        "return the assessment over the API",
        "/api/v1/assessments/{id}/return/",
        REVIEW,
        probe=_state,
        params=lambda t: {"id": t.p.assessment.pk},
        prepare=lambda t: _assessment(t, AssessmentState.SUBMITTED),
        data=lambda t: {"comments": [{"node_code": "1.1.1", "text": "Bổ sung"}]},
        api=True,
    ),
    UnitWrite(
        "approve the assessment over the API",
        "/api/v1/assessments/{id}/approve/",
        REVIEW,
        probe=_state,
        params=lambda t: {"id": t.p.assessment.pk},
        prepare=lambda t: _assessment(t, AssessmentState.SUBMITTED),
        api=True,
    ),
    UnitWrite(
        "decide a contest over the API",
        "/api/v1/assessments/{id}/contests/{contest_id}/decision/",
        REVIEW,
        probe=lambda t: _row(t.stash["contest"]),
        params=lambda t: {"id": t.p.assessment.pk, "contest_id": t.stash["contest"].pk},
        prepare=_contest,
        data=lambda t: {"accept": False, "reason": "Không đủ căn cứ"},
        api=True,
    ),
    UnitWrite(
        "rename the unit over the API (bulk upsert)",
        "/api/v1/units/",
        ADMINISTRATORS,
        probe=lambda t: Unit.objects.get(pk=t.p.unit.pk).name,
        data=lambda t: [  # type: ignore[arg-type,return-value]
            {"code": t.p.unit.code, "name": "Tên mới", "kind": t.p.unit.kind}
        ],
        api=True,
    ),
    ProvinceWrite(
        "check units over the API (dry run)",
        "/api/v1/units/",
        ADMINISTRATORS_DRY_RUN,
        probe=lambda t: sorted(Unit.objects.values_list("code", "name")),
        data=lambda t: [  # type: ignore[arg-type,return-value]
            {
                "code": "MATRIX-NEW",
                "name": "Xã mới",
                "kind": "commune",
                "parent_code": t.world.province.code,
                "valid_from": "01/01/2025",
            }
        ],
        query="?dry_run=true",
        api=True,
    ),
    UnitWrite(
        "record a deputy of the unit over the API (bulk upsert)",
        "/api/v1/heads/",
        ADMINISTRATORS,
        probe=lambda t: sorted(
            Head.objects.filter(unit=t.p.unit).values_list("full_name", flat=True)
        ),
        data=lambda t: [  # type: ignore[arg-type,return-value]
            {
                "unit_code": t.p.unit.code,
                "full_name": "Phó Mới",
                "position": "deputy",
                "tenure_from": "01/01/2025",
            }
        ],
        api=True,
    ),
    # --- commitments over the API ---------------------------------------------------
    UnitWrite(
        "add a mandatory target over the API",
        "/api/v1/commitments/{id}/targets/",
        PREPARE,
        probe=_targets,
        params=lambda t: {"id": t.p.commitment.pk},
        data=lambda t: {"indicator": _other_indicator().code, "value": "90"},
        api=True,
    ),
    UnitWrite(
        "add an optional target over the API (point 7)",
        "/api/v1/commitments/{id}/targets/",
        MAKE_OPTIONAL,
        probe=_optional,
        params=lambda t: {"id": t.p.commitment.pk},
        data=lambda t: {
            "indicator": _other_indicator().code,
            "value": "90",
            "mandatory": False,
            "optional_reason": "Chưa có phần mềm",
        },
        api=True,
    ),
    UnitWrite(
        "change a target's value over the API",
        "/api/v1/commitments/{id}/targets/{target_id}/",
        PREPARE,
        probe=_targets,
        params=lambda t: {"id": t.p.commitment.pk, "target_id": t.p.metric_target.pk},
        data=lambda t: {"value": "90"},
        api=True,
        method="PATCH",
    ),
    UnitWrite(
        "remove a mandatory target over the API, saying why (point 7)",
        "/api/v1/commitments/{id}/targets/{target_id}/",
        MAKE_OPTIONAL,
        probe=_targets,
        params=lambda t: {"id": t.p.commitment.pk, "target_id": t.p.metric_target.pk},
        query="?reason=Kh%C3%B4ng+ph%C3%B9+h%E1%BB%A3p",
        api=True,
        method="DELETE",
    ),
    UnitWrite(
        "record the head's signature over the API",
        "/api/v1/commitments/{id}/sign/",
        PREPARE,
        probe=_commitment_state,
        params=lambda t: {"id": t.p.commitment.pk},
        data=lambda t: {
            "signed_on": date(_today().year, 1, 2).isoformat(),
            "scan": SimpleUploadedFile("ky.pdf", PDF),
            "acknowledge": "true",
        },
        api=True,
        multipart=True,
    ),
    UnitWrite(
        "counter-sign over the API (point 4)",
        "/api/v1/commitments/{id}/countersign/",
        COUNTERSIGN,
        probe=_commitment_state,
        params=lambda t: {"id": t.p.commitment.pk},
        prepare=lambda t: _signed(
            t, t.world.users["unit_head"] if t.place is t.world.a else None
        ),
        data=lambda t: {
            "countersigned_on": _today().isoformat(),
            "signer_name": "Lê Văn Trên",
            "signer_title": "Chủ tịch",
        },
        api=True,
    ),
    UnitWrite(
        "counter-sign over the API a signature one recorded oneself (point 4)",
        "/api/v1/commitments/{id}/countersign/",
        NEVER_THE_SIGNER,
        probe=_commitment_state,
        params=lambda t: {"id": t.p.commitment.pk},
        prepare=lambda t: _signed(t, recorded_by=t.actor),
        data=lambda t: {
            "countersigned_on": _today().isoformat(),
            "signer_name": "Lê Văn Trên",
        },
        api=True,
    ),
    UnitWrite(
        "report a manual indicator's value over the API",
        "/api/v1/commitments/{id}/targets/{target_id}/report/",
        REPORT,
        probe=lambda t: _row(t.p.manual_target),
        params=lambda t: {"id": t.p.commitment.pk, "target_id": t.p.manual_target.pk},
        prepare=_signed,
        data=lambda t: {"value": "90", "note": "Đã làm"},
        api=True,
    ),
    UnitWrite(
        "check a reported value over the API",
        "/api/v1/commitments/{id}/targets/{target_id}/check/",
        REVIEW,
        probe=lambda t: _row(t.p.manual_target),
        params=lambda t: {"id": t.p.commitment.pk, "target_id": t.p.manual_target.pk},
        prepare=_reported,
        data=lambda t: {"accept": False, "note": "Thiếu tài liệu"},
        api=True,
    ),
    # --- reminders over the API ------------------------------------------------------
    UnitWrite(
        "record a reminder over the API",
        "/api/v1/reminders/",
        REMIND,
        probe=lambda t: Reminder.objects.filter(unit=t.p.unit).count(),
        data=lambda t: {
            "unit": t.p.unit.code,
            "issued_on": _today().isoformat(),
            "reason": "Trễ hẹn nhiều hồ sơ",
        },
        api=True,
    ),
    UnitWrite(
        "withdraw a reminder over the API, with a reason (point 5)",
        "/api/v1/reminders/{id}/withdraw/",
        WITHDRAW,
        probe=lambda t: _row(t.p.reminder),
        params=lambda t: {"id": t.p.reminder.pk},
        data=lambda t: {"reason": "Ghi nhầm đơn vị"},
        api=True,
    ),
    UnitWrite(
        "withdraw a reminder over the API without a reason (point 5)",
        "/api/v1/reminders/{id}/withdraw/",
        WITHDRAW_WITHOUT_REASON,
        probe=lambda t: _row(t.p.reminder),
        params=lambda t: {"id": t.p.reminder.pk},
        api=True,
    ),
    # --- deductions and bonuses over the API -----------------------------------------
    UnitWrite(
        "enter a deduction over the API",
        "/api/v1/adjustments/",
        HOME_AFFAIRS_FOR_UNITS,
        probe=lambda t: Adjustment.objects.filter(unit=t.p.unit).count(),
        data=lambda t: {
            "framework": t.world.framework.pk,
            "unit": t.p.unit.code,
            "rule": t.world.rule.code,
            "cases": 1,
            "reason": "Báo chí phản ánh, đã xác minh",
        },
        api=True,
    ),
    UnitWrite(
        "approve over the API a deduction another reviewer entered",
        "/api/v1/adjustments/{id}/decision/",
        DECIDE_ADJUSTMENT,
        probe=lambda t: _row(t.p.adjustment),
        params=lambda t: {"id": t.p.adjustment.pk},
        data=lambda t: {"approve": True},
        api=True,
    ),
    UnitWrite(
        "approve over the API a deduction one entered oneself (four eyes)",
        "/api/v1/adjustments/{id}/decision/",
        FOUR_EYES,
        probe=lambda t: _row(t.p.adjustment),
        params=lambda t: {"id": t.p.adjustment.pk},
        prepare=lambda t: Adjustment.objects.filter(pk=t.p.adjustment.pk).update(
            entered_by=t.actor
        ),
        data=lambda t: {"approve": True},
        api=True,
    ),
    # --- accountability over the API -------------------------------------------------
    UnitWrite(
        "explain an accountability case over the API",
        "/api/v1/accountability-cases/{id}/explanation/",
        HEAD_ONLY,
        probe=lambda t: _row(t.p.accountability_case),
        params=lambda t: {"id": t.p.accountability_case.pk},
        data=lambda t: {"explanation": "Nguyên nhân khách quan"},
        api=True,
    ),
    UnitWrite(
        "decide an accountability case over the API",
        "/api/v1/accountability-cases/{id}/decision/",
        CASE_DECIDE,
        probe=lambda t: _row(t.p.accountability_case),
        params=lambda t: {"id": t.p.accountability_case.pk},
        prepare=lambda t: AccountabilityCase.objects.filter(
            pk=t.p.accountability_case.pk
        ).update(
            state=AccountabilityState.EXPLAINED, explanation="Nguyên nhân khách quan"
        ),
        data=lambda t: {"decision": "dismissed", "reason": "Đã giải trình đủ"},
        api=True,
    ),
    UnitWrite(
        "rate the unit's head over the API",
        "/api/v1/head-ratings/{id}/decision/",
        RATE,
        probe=lambda t: _row(t.p.rating),
        params=lambda t: {"id": t.p.rating.pk},
        data=lambda t: {"level": t.p.rating.proposed},
        api=True,
    ),
    ProvinceWrite(
        "request a computation over the API",
        "/api/v1/results/{year}/runs/",
        PROVINCE,
        probe=lambda t: ComputationRun.objects.count(),
        params=lambda t: {"year": FRAMEWORK_YEAR},
        api=True,
    ),
    ProvinceWrite(
        "publish the year's results over the API",
        "/api/v1/results/{year}/publications/",
        PROVINCE,
        probe=lambda t: Publication.objects.count(),
        params=lambda t: {"year": FRAMEWORK_YEAR},
        prepare=_publishable,
        data=lambda t: {"run": t.stash["run"], "note": "Quyết định số 12"},
        api=True,
    ),
]

# Pages that take a POST (no method restriction) but only read: a POST is
# answered like a GET and nothing stored changes.
READ_ONLY: dict[str, str] = {
    "": "the home page",
    "favicon.ico": "the favicon (a redirect to the static file)",
    "units/": "the list of units",
    "units/<str:code>/": "a unit's page",
    "heads/": "the list of heads",
    "commitments/": "the list of commitments",
    "commitments/progress/": "the targets' progress",
    COMMITMENT: "a commitment's page",
    COMMITMENT + "scan/": "the signed scan",
    COMMITMENT + "print/": "the printable commitment",
    COMMITMENT + "pdf/": "the commitment as PDF",
    "units/<str:code>/metrics/": "a unit's figures",
    "accountability/": "the list of accountability cases",
    "accountability/<int:pk>/": "an accountability case's page",
    "ratings/": "the list of ratings",
    # Django's set_language: the choice is the browser's cookie, not stored.
    "i18n/setlang/": "the language switcher (a cookie)",
}


def _read_only_params(world: World) -> dict[str, Any]:
    return {
        "code": world.a.unit.code,
        "pk": world.a.commitment.pk,
    }


# --- walking the URLs and the schema -----------------------------------------------


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def unsafe_methods(view: Any) -> frozenset[str]:
    """The unsafe methods a view accepts: a class-based view's handlers, or
    what require_http_methods (require_POST, require_GET, …) lets through;
    a function view without it takes any method."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return (
            frozenset(
                method.upper()
                for method in view_class.http_method_names
                if hasattr(view_class, method)
            )
            & UNSAFE
        )
    function = view
    while function is not None:
        names = function.__code__.co_freevars
        if "request_method_list" in names:
            cell = function.__closure__[names.index("request_method_list")]
            return frozenset(cell.cell_contents) & UNSAFE
        function = getattr(function, "__wrapped__", None)
    return UNSAFE


def page_write_routes() -> dict[str, frozenset[str]]:
    return {
        route: methods
        for route, pattern in _walk(get_resolver().url_patterns)
        if not route.startswith(NOT_PAGES)
        # The uploads' folder, served by Django only when the URLconf was
        # first read with DEBUG on (pytest-django turns it off for the tests,
        # so whether it is there depends on which test read the URLconf
        # first): it reads files, whatever the method.
        and pattern.callback is not static.serve
        and (methods := unsafe_methods(pattern.callback))
    }


@pytest.fixture(scope="module")
def schema_operations() -> set[tuple[str, str]]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return {
        (path, method.upper())
        for path, operations in paths.items()
        for method in operations
        if method.upper() in UNSAFE
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """Built once for the module, in a transaction rolled back at its end;
    each test's own transaction and each attempt's savepoint sit inside."""
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        transaction.atomic(),
    ):
        yield build()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- the tests ---------------------------------------------------------------------


def test_every_write_path_is_in_the_matrix(schema_operations):
    listed_pages = {row.route for row in PAGES}
    found = page_write_routes()

    assert not listed_pages & set(READ_ONLY)
    assert listed_pages | set(READ_ONLY) == set(found)
    for row in PAGES:
        assert row.method in found[row.route], (row.route, row.method)
    assert {(row.route, row.method) for row in API} == schema_operations


def test_every_row_says_what_each_role_meets():
    for row in PAGES + API:
        assert set(row.expect) == set(ROLES), row.action
        for role, outcomes in row.expect.items():
            assert len(outcomes) == len(row.targets), (row.action, role)


@pytest.mark.parametrize("row", PAGES + API, ids=lambda row: row.action)
def test_each_role_writes_what_the_policy_allows(row, world, db):
    failures = []
    for role in ROLES:
        client = row.client(world.users[role])
        for target in row.targets:
            if (failure := row.attempt(world, role, target, client)) is not None:
                failures.append(failure)

    assert not failures, "\n".join([row.action, *failures])


def _stored() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the portal's own tables (the data set is small)."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for app in ("commitments", "procedures", "scoring")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.mark.parametrize("route", sorted(READ_ONLY))
def test_pages_that_only_read_change_nothing_on_post(route, world, db):
    params = _read_only_params(world)
    url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(params[m.group(1)]), route)
    client = Client()
    # The superuser reaches every page, so each one renders in full.
    client.force_login(world.users["superuser"])
    before = _stored()

    response = client.post(url, {"language": "en", "next": "/"})

    assert response.status_code < 500, route
    assert _stored() == before, route
