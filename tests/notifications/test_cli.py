"""`relman outbox list` and `relman outbox retry`, server-side admin commands."""

from __future__ import annotations

import pytest

from relman.audit.models import AuditEvent
from relman.notifications import services
from relman.notifications.choices import MessageStatus
from relman.notifications.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(cast, emit, receiver):
    services.create_subscription(None, channel="wecom", target=receiver.url("/wecom/ops"))
    messages = emit("release.closed", cast.release, actor=cast.crew)
    [message] = [m for m in messages if m.channel == "wecom"]
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED, attempts=8, last_error="WeCom errcode 93000: invalid"
    )
    return message


def test_list_shows_the_failed_messages(run, failed):
    result = run("outbox", "list", "--status", "failed")
    assert result.exit_code == 0, result.output
    assert str(failed.uuid) in result.output
    assert "WeCom errcode 93000" in result.output
    assert "rita@example.test" not in result.output  # pending, not failed


def test_list_without_a_filter_shows_everything(run, failed):
    result = run("outbox", "list")
    assert result.exit_code == 0, result.output
    assert "rita@example.test" in result.output
    assert str(failed.uuid) in result.output


def test_list_refuses_an_unknown_status(run, db):
    result = run("outbox", "list", "--status", "lost")
    assert result.exit_code == 2
    assert "--status" in result.output


def test_list_says_when_nothing_matches(run, db):
    result = run("outbox", "list", "--status", "failed")
    assert result.exit_code == 0
    assert "No notifications match." in result.output


def test_retry_queues_a_failed_message_and_is_audited(run, failed):
    result = run("outbox", "retry", str(failed.uuid))

    assert result.exit_code == 0, result.output
    assert "queued to be sent again" in result.output
    failed.refresh_from_db()
    assert failed.status == MessageStatus.PENDING
    event = AuditEvent.objects.get(action="notification.retried")
    assert event.channel == "cli"
    assert event.actor_name == "system"


def test_retry_of_a_sent_message_is_refused(run, failed):
    Message.objects.filter(pk=failed.pk).update(status=MessageStatus.SENT)
    result = run("outbox", "retry", str(failed.uuid))
    assert result.exit_code == 4
    assert "never sent twice" in result.output


def test_retry_of_an_unknown_message_is_refused(run, db):
    result = run("outbox", "retry", "00000000-0000-4000-8000-000000000000")
    assert result.exit_code == 1
    assert "was not found" in result.output
