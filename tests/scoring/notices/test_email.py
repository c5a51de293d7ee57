"""Notices by e-mail (issue 18, item 2): one digest a day per person by
default, each notice at once for those who choose it, none for those who
refuse; the choice on the person's own settings page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from scoring.models import EmailMode, Notice, NoticeSettings
from scoring.notices import services
from scoring.tasks import notices_digest_task
from tests.factories import UserFactory
from tests.wording import vi

NOW = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # 07:30 in Hà Nội
TODAY = date(2026, 12, 7)


def person(username: str, email: bool = True, mode: str | None = None) -> Any:
    user: Any = UserFactory(
        username=username, email=f"{username}@example.gov.vn" if email else ""
    )
    if mode is not None:
        NoticeSettings.objects.create(user=user, email_mode=mode)
    return user


def notice(user, subject: str, *, read: bool = False, emailed: bool = False):
    return Notice.objects.create(
        user=user,
        subject=subject,
        url="/assessments/1/",
        created_at=NOW - timedelta(hours=3),
        read_at=NOW if read else None,
        emailed_at=NOW if emailed else None,
    )


@pytest.fixture
def people(db):
    return {
        "digest": person("digest"),
        "chosen_digest": person("chosen", mode=EmailMode.DIGEST),
        "immediate": person("immediate", mode=EmailMode.IMMEDIATE),
        "none": person("none", mode=EmailMode.NONE),
        "no_address": person("noaddress", email=False),
        "quiet": person("quiet"),
    }


def test_one_digest_per_person_with_their_unread_notices(people, mailoutbox):
    notice(people["digest"], "Phường A đã gửi bản tự đánh giá")
    notice(people["digest"], "Xã B đã gửi bản tự đánh giá")
    notice(people["digest"], "Đã đọc rồi", read=True)
    notice(people["chosen_digest"], "Cam kết cần ký")
    for name in ("immediate", "none", "no_address"):
        notice(people[name], "Không gửi trong bản tổng hợp")

    assert services.notices_digest_send(today=TODAY, now=NOW) == 2

    by_address = {mail.to[0]: mail for mail in mailoutbox}
    assert set(by_address) == {
        "digest@example.gov.vn",
        "chosen@example.gov.vn",
    }
    digest = by_address["digest@example.gov.vn"]
    assert "Phường A đã gửi bản tự đánh giá" in digest.body
    assert "Xã B đã gửi bản tự đánh giá" in digest.body
    assert "Đã đọc rồi" not in digest.body
    assert "07/12/2026" in digest.subject
    assert "http://localhost:8000/assessments/1/" in digest.body
    # Sent notices are marked; the unread one read later is not sent again.
    assert not Notice.objects.filter(
        user=people["digest"], read_at__isnull=True, emailed_at__isnull=True
    ).exists()


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_only_whats_new(
    people, mailoutbox
):
    notice(people["digest"], "Thứ nhất")
    assert services.notices_digest_send(today=TODAY, now=NOW) == 1
    notice(people["digest"], "Thứ hai, cùng ngày")
    assert services.notices_digest_send(today=TODAY, now=NOW) == 0

    tomorrow = TODAY + timedelta(days=1)
    assert services.notices_digest_send(today=tomorrow, now=NOW + timedelta(1)) == 1
    assert "Thứ hai, cùng ngày" in mailoutbox[-1].body
    assert "Thứ nhất" not in mailoutbox[-1].body


def test_nothing_new_sends_nothing(people, mailoutbox):
    notice(people["digest"], "Đã gửi", emailed=True)
    assert services.notices_digest_send(today=TODAY, now=NOW) == 0
    assert mailoutbox == []


def test_the_beat_task_sends_the_digest(people, mailoutbox):
    notice(people["digest"], "Việc mới")
    assert notices_digest_task.delay().get() == 1
    assert len(mailoutbox) == 1


def test_immediate_mode_sends_each_notice_once(people, mailoutbox):
    first = notice(people["immediate"], "Được trả lại")
    assert services.notices_email(notice_ids=[first.pk], now=NOW) == 1
    # Redelivered: nothing twice.
    assert services.notices_email(notice_ids=[first.pk], now=NOW) == 0
    assert [mail.subject for mail in mailoutbox] == ["Được trả lại"]


def test_notices_send_mails_at_once_only_to_who_chose_it(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.notices_send(
            users=[people["immediate"], people["digest"], people["none"]],
            subject="Kết quả đã công bố",
            url="/results/2026/",
            now=NOW,
        )
    assert [mail.to for mail in mailoutbox] == [["immediate@example.gov.vn"]]
    assert Notice.objects.filter(subject="Kết quả đã công bố").count() == 3


def test_a_keyed_notice_is_written_once_per_person(people):
    for _ in range(2):
        services.notices_send(
            users=[people["digest"]], subject="Hết hạn", url="", now=NOW, key="k:1"
        )
    assert Notice.objects.filter(user=people["digest"], key="k:1").count() == 1


# --- the settings page ------------------------------------------------------------


def test_the_settings_page_shows_and_saves_the_choice(client, people):
    user = people["digest"]
    client.force_login(user)
    response = client.get("/notices/settings/")
    assert response.status_code == 200
    assert response.context["form"].initial["email_mode"] == EmailMode.DIGEST
    assert vi("One digest a day") in response.content.decode()

    response = client.post("/notices/settings/", {"email_mode": "immediate"})
    assert response.status_code == 302
    assert NoticeSettings.objects.get(user=user).email_mode == EmailMode.IMMEDIATE
    assert client.get("/notices/").content.decode().count("/notices/settings/") == 1


def test_the_settings_page_refuses_an_unknown_choice(client, people):
    client.force_login(people["digest"])
    response = client.post("/notices/settings/", {"email_mode": "hourly"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not NoticeSettings.objects.filter(user=people["digest"]).exists()


def test_the_settings_page_asks_for_a_login(client, db):
    response = client.get("/notices/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
