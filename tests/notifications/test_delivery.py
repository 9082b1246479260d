"""Delivery through each channel to a real local SMTP server and a real local HTTP receiver:
formats, signatures, languages, retries with backoff, idempotency and lost messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from relman.notifications import services
from relman.notifications.choices import PARTICIPANT_EVENTS, Event, MessageStatus
from relman.notifications.models import Message
from relman.notifications.services import delivery
from relman.notifications.tasks import deliver, sweep
from tests import factories
from tests.cli.conftest import free_port
from tests.notifications.conftest import deliver_all

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec-test-0123456789"
DINGTALK_SECRET = "SEC0123456789abcdef"


@pytest.fixture
def channels(receiver):
    """One subscription of each chat and webhook kind, for every event."""
    services.create_subscription(
        None, channel="webhook", target=receiver.url("/hook"), secret=WEBHOOK_SECRET
    )
    services.create_subscription(
        None,
        channel="dingtalk",
        target=receiver.url("/dingtalk/robot/send?access_token=abc"),
        secret=DINGTALK_SECRET,
        language="zh-hans",
    )
    services.create_subscription(
        None, channel="wecom", target=receiver.url("/wecom/webhook/send?key=k1")
    )
    services.create_subscription(None, channel="slack", target=receiver.url("/slack/T0/B0/x"))
    return receiver


def test_every_event_arrives_once_in_each_subscribed_channel(cast, emit, smtp, channels):
    emitted = {}
    for event in Event:
        emitted[event] = emit(
            event,
            cast.release,
            actor=cast.crew,
            data={"stage": cast.release.stage, "step": "pmo", "comment": f"about {event}"},
            users=[cast.approver] if event.startswith("approval.") else [],
        )
    deliver_all()
    # A second run of every task finds nothing to send: a sent message is never sent again.
    for messages in emitted.values():
        for message in messages:
            assert deliver(message.pk) == "skipped"

    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    for path in ("/hook", "/dingtalk/robot/send", "/wecom/webhook/send", "/slack/T0/B0/x"):
        got = channels.to(path)
        assert len(got) == len(Event), path
        assert len({r.delivery or r.body for r in got}) == len(Event), path
    hook_events = Counter(r.headers["x-relman-event"] for r in channels.to("/hook"))
    assert hook_events == Counter(Event.values)
    for person, events in (
        ("rita@example.test", PARTICIPANT_EVENTS),
        ("mark@example.test", PARTICIPANT_EVENTS),
        ("pam@example.test", {e for e in Event if e.startswith("approval.")}),
    ):
        mail = smtp.to(person)
        assert Counter(m["X-Relman-Event"] for m in mail) == Counter(events), person
    assert smtp.to("carl@example.test") == []  # the actor


def test_the_email_has_text_and_html_in_the_recipients_language(cast, emit, smtp):
    messages = emit(
        "approval.rejected",
        cast.release,
        actor=cast.approver,
        data={"stage": "plan_review", "step": "pmo", "reason": "No backout plan."},
    )
    by_target = {m.target: m for m in messages}
    to_rita, to_mark = by_target["rita@example.test"], by_target["mark@example.test"]
    deliver_all()

    [english] = smtp.to("rita@example.test")
    [chinese] = smtp.to("mark@example.test")
    for mail, message in ((english, to_rita), (chinese, to_mark)):
        assert mail.get_content_type() == "multipart/alternative"
        assert mail["Message-ID"] == f"<{message.uuid}@example.test>"
        assert mail["X-Relman-Delivery"] == str(message.uuid)
        assert mail["From"] == "relman@example.test"
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        for body in (text, html):
            assert cast.release.number in body
            assert "Upgrade CRM" in body
            assert "No backout plan." in body
            assert "pam" in body
            assert f"https://relman.example.test/releases/{cast.release.number}/" in body
    assert "rejected" in english["Subject"].lower()
    assert "Application: CRM (crm)" in english.get_body(("plain",)).get_content()
    assert "<html" in english.get_body(("html",)).get_content()
    chinese_text = chinese.get_body(("plain",)).get_content()
    assert "驳回" in chinese["Subject"]
    assert "驳回" in chinese_text
    assert "应用" in chinese_text
    assert "rejected" not in chinese_text
    assert 'lang="zh-hans"' in chinese.get_body(("html",)).get_content()


def test_the_webhook_is_signed_and_carries_the_event(cast, emit, channels):
    [message] = [
        m
        for m in emit(
            "release.failed", cast.release, actor=cast.crew, data={"reason": "Smoke test failed"}
        )
        if m.channel == "webhook"
    ]
    deliver_all()

    [request] = channels.to("/hook")
    headers = request.headers
    assert headers["x-relman-event"] == "release.failed"
    assert headers["x-relman-delivery"] == str(message.uuid)
    assert headers["content-type"].startswith("application/json")
    # Verified as docs/notifications.md tells a receiver to.
    expected = hmac.new(
        WEBHOOK_SECRET.encode(),
        headers["x-relman-timestamp"].encode() + b"." + request.body,
        hashlib.sha256,
    ).hexdigest()
    assert hmac.compare_digest(headers["x-relman-signature"], f"sha256={expected}")
    body = request.json
    assert body["id"] == str(message.uuid)
    assert body["event"] == "release.failed"
    assert body["release"]["number"] == cast.release.number
    assert body["release"]["application"] == "crm"
    assert body["actor"]["username"] == "carl"
    assert body["data"]["reason"] == "Smoke test failed"
    assert "Smoke test failed" in body["text"]
    assert body["occurred"].startswith(str(message.created.date().year))


def test_an_unsigned_webhook_has_no_signature(cast, emit, receiver):
    services.create_subscription(None, channel="webhook", target=receiver.url("/plain"))
    emit("release.closed", cast.release, actor=cast.crew)
    deliver_all()
    [request] = receiver.to("/plain")
    assert "x-relman-signature" not in request.headers
    assert request.headers["x-relman-timestamp"].isdigit()


def test_dingtalk_is_markdown_signed_the_dingtalk_way(cast, emit, channels):
    emit("release.deployed", cast.release, actor=cast.crew, data={"stage": cast.release.stage})
    deliver_all()

    [request] = channels.to("/dingtalk/robot/send")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)
    assert query["access_token"] == ["abc"]
    [timestamp], [sign] = query["timestamp"], query["sign"]
    digest = hmac.new(
        DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
    ).digest()
    assert sign == base64.b64encode(digest).decode()  # parse_qs undid the URL encoding
    assert "%2B" in request.path or "+" not in base64.b64encode(digest).decode()
    body = request.json
    assert body["msgtype"] == "markdown"
    assert cast.release.number in body["markdown"]["title"]
    assert cast.release.number in body["markdown"]["text"]
    assert "发布" in body["markdown"]["text"]  # the robot's subscription is in Chinese


def test_wecom_and_slack_get_their_own_formats(cast, emit, channels):
    emit("release.rolled_back", cast.release, actor=cast.crew, data={"reason": "Errors up"})
    deliver_all()

    [wecom] = channels.to("/wecom/webhook/send")
    assert wecom.json["msgtype"] == "markdown"
    assert "Errors up" in wecom.json["markdown"]["content"]
    [slack] = channels.to("/slack/T0/B0/x")
    assert cast.release.number in slack.json["text"]
    blocks = slack.json["blocks"]
    assert blocks[0]["type"] == "section"
    assert any(b["type"] == "actions" for b in blocks)
    assert "Errors up" in str(blocks)


def test_a_down_receiver_is_retried_with_backoff_then_arrives_once(cast, emit, receiver, settings):
    settings.RELMAN_NOTIFY_BACKOFF_SECONDS = 10
    services.create_subscription(None, channel="webhook", target=receiver.url("/flaky"))
    receiver.fail("/flaky", 500, 503)
    [message] = [
        m for m in emit("release.closed", cast.release, actor=cast.crew) if m.channel == "webhook"
    ]

    waits = []
    for attempt in (1, 2):
        before = timezone.now()
        assert deliver(message.pk) == MessageStatus.PENDING
        message.refresh_from_db()
        assert message.attempts == attempt
        assert message.status == MessageStatus.PENDING
        assert "HTTP 50" in message.last_error
        waits.append(message.next_attempt_at - before)
        # Not due yet: a task arriving early sends nothing.
        assert deliver(message.pk) == "skipped"
        Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert timedelta(seconds=9) < waits[0] <= timedelta(seconds=11)
    assert timedelta(seconds=29) < waits[1] <= timedelta(seconds=31)

    assert deliver(message.pk) == MessageStatus.SENT
    assert deliver(message.pk) == "skipped"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None
    assert message.last_error == ""
    got = receiver.to("/flaky")
    assert len(got) == 3
    assert {r.delivery for r in got} == {str(message.uuid)}  # one delivery id: arrived once


def test_a_closed_port_is_retried(cast, emit, receiver):
    services.create_subscription(
        None, channel="slack", target=f"http://127.0.0.1:{free_port()}/slack/nobody"
    )
    [message] = [
        m for m in emit("release.closed", cast.release, actor=cast.crew) if m.channel == "slack"
    ]
    assert deliver(message.pk) == MessageStatus.PENDING
    message.refresh_from_db()
    assert "ConnectError" in message.last_error
    assert message.next_attempt_at > timezone.now()


def test_after_the_last_attempt_the_message_fails_for_an_admin_to_see(
    cast, emit, receiver, settings
):
    settings.RELMAN_NOTIFY_MAX_ATTEMPTS = 2
    services.create_subscription(None, channel="webhook", target=receiver.url("/down"))
    receiver.fail("/down", 500, 500)
    [message] = [
        m for m in emit("release.closed", cast.release, actor=cast.crew) if m.channel == "webhook"
    ]

    assert deliver(message.pk) == MessageStatus.PENDING
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert deliver(message.pk) == MessageStatus.FAILED
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 2
    assert deliver(message.pk) == "skipped"

    services.retry(None, message.uuid)
    assert deliver(message.pk) == MessageStatus.SENT
    assert len(receiver.to("/down")) == 3


def test_a_client_error_is_final(cast, emit, receiver):
    services.create_subscription(None, channel="webhook", target=receiver.url("/gone"))
    receiver.fail("/gone", 404)
    [message] = [
        m for m in emit("release.closed", cast.release, actor=cast.crew) if m.channel == "webhook"
    ]
    assert deliver(message.pk) == MessageStatus.FAILED
    message.refresh_from_db()
    assert message.attempts == 1
    assert "HTTP 404" in message.last_error


def test_too_many_requests_is_retried(cast, emit, receiver):
    services.create_subscription(None, channel="webhook", target=receiver.url("/busy"))
    receiver.fail("/busy", 429)
    [message] = [
        m for m in emit("release.closed", cast.release, actor=cast.crew) if m.channel == "webhook"
    ]
    assert deliver(message.pk) == MessageStatus.PENDING


def test_a_chat_robot_error_code_is_a_failure(cast, emit, receiver):
    services.create_subscription(None, channel="dingtalk", target=receiver.url("/dingtalk/bad"))
    services.create_subscription(None, channel="wecom", target=receiver.url("/wecom/bad"))
    services.create_subscription(None, channel="slack", target=receiver.url("/slack/bad"))
    receiver.fail("/dingtalk/bad", 200, body=b'{"errcode":310000,"errmsg":"sign not match"}')
    receiver.fail("/wecom/bad", 200, body=b'{"errcode":93000,"errmsg":"invalid webhook url"}')
    receiver.fail("/slack/bad", 200, body=b"invalid_payload")
    messages = emit("release.closed", cast.release, actor=cast.crew)

    errors = {}
    for message in messages:
        if message.channel != "email":
            assert deliver(message.pk) == MessageStatus.PENDING
            message.refresh_from_db()
            errors[message.channel] = message.last_error
    assert "310000" in errors["dingtalk"]
    assert "93000" in errors["wecom"]
    assert "invalid_payload" in errors["slack"]


def test_an_unreachable_smtp_server_is_retried(cast, emit, smtp, settings):
    settings.EMAIL_PORT = free_port()  # nobody listens there
    [message, *_rest] = emit("release.closed", cast.release, actor=cast.crew)
    assert deliver(message.pk) == MessageStatus.PENDING
    message.refresh_from_db()
    assert "Connection refused" in message.last_error or "Errno" in message.last_error


def test_an_address_the_smtp_server_refuses_is_final(cast, emit, smtp):
    bouncer = factories.user("bob", "pmo", app=cast.app, email="bounce@example.test")
    [message] = emit("approval.requested", cast.release, actor=cast.crew, users=[bouncer])
    assert deliver(message.pk) == MessageStatus.FAILED
    message.refresh_from_db()
    assert "refused" in message.last_error
    assert smtp.to("bounce@example.test") == []


def test_sweep_hands_back_a_message_whose_worker_died_while_sending(cast, emit, receiver, settings):
    settings.RELMAN_NOTIFY_STUCK_SECONDS = 60
    services.create_subscription(None, channel="webhook", target=receiver.url("/late"))
    [message] = [
        m for m in emit("release.closed", cast.release, actor=cast.crew) if m.channel == "webhook"
    ]
    # A worker claims it, then dies before it could say how sending went.
    assert delivery.claim(message.pk) is not None
    assert deliver(message.pk) == "skipped"  # no second worker sends it meanwhile

    assert sweep()["recovered"] == 0  # not stuck long enough yet
    Message.objects.filter(pk=message.pk).update(claimed_at=timezone.now() - timedelta(seconds=61))
    result = sweep()
    assert result["recovered"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert "worker stopped" in message.last_error

    assert deliver(message.pk) == MessageStatus.SENT
    assert [r.delivery for r in receiver.to("/late")] == [str(message.uuid)]
    message.refresh_from_db()
    assert message.attempts == 2


def test_sweep_requeues_due_messages_whose_task_was_lost(cast, emit, settings):
    settings.RELMAN_NOTIFY_SWEEP_SECONDS = 15
    messages = emit("release.closed", cast.release, actor=cast.crew)
    assert sweep()["queued"] == 0  # just queued on commit: give that task its chance
    Message.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=16))
    assert sweep()["queued"] == len(messages)


def test_a_stuck_message_with_no_attempt_left_fails(cast, emit, settings):
    settings.RELMAN_NOTIFY_MAX_ATTEMPTS = 1
    [message, *_rest] = emit("release.closed", cast.release, actor=cast.crew)
    assert delivery.claim(message.pk) is not None
    Message.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=settings.RELMAN_NOTIFY_STUCK_SECONDS + 1)
    )
    sweep()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED


def test_the_text_is_rendered_when_sent_from_the_release_as_it_is_then(cast, emit, smtp):
    emit("release.closed", cast.release, actor=cast.crew, data={"outcome": "succeeded"})
    cast.release.title = "Upgrade CRM to 7.2"
    cast.release.save(update_fields=["title"])
    deliver_all()
    [mail] = smtp.to("rita@example.test")
    assert "Upgrade CRM to 7.2" in mail.get_body(("plain",)).get_content()
    assert "Succeeded" in mail.get_body(("plain",)).get_content()
