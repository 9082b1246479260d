"""The subscription services and `retry`: their audit events and their refusals."""

from __future__ import annotations

import pytest

from relman.audit.models import AuditEvent
from relman.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from relman.notifications import services
from relman.notifications.access import can_administer
from relman.notifications.choices import MessageStatus
from relman.notifications.models import Message, Subscription
from tests import factories

pytestmark = pytest.mark.django_db


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("seq")


# ---------------------------------------------------------------- who administers


def test_administrators_are_superusers_and_release_administrators_everywhere(cast, admin, app):
    everywhere = factories.user("ada", "release_administrator")
    one_app = factories.user("abe", "release_administrator", app=app)

    assert can_administer(admin)
    assert can_administer(everywhere)
    assert not can_administer(one_app)
    assert not can_administer(cast.manager)


# ---------------------------------------------------------------- subscriptions


def test_a_user_subscribes_themselves_and_it_is_audited(cast):
    subscription = services.create_subscription(
        cast.requester, user=cast.requester, event="release.closed"
    )

    event = last_event("subscription.created")
    assert event.actor == cast.requester
    assert event.object_id == str(subscription.pk)
    assert event.after["user"] == "rita"
    assert event.after["event"] == "release.closed"
    assert event.after["channel"] == "email"


def test_the_secret_never_reaches_the_audit_log(cast, receiver):
    services.create_subscription(
        cast.requester,
        user=cast.requester,
        channel="webhook",
        target=receiver.url("/hook"),
        secret="s3cr3t-value",
    )
    event = last_event("subscription.created")
    assert event.after["has_secret"] is True
    assert "s3cr3t-value" not in str(event.after)


def test_a_user_may_not_subscribe_someone_else(cast):
    with pytest.raises(PermissionDenied, match="only your own"):
        services.create_subscription(cast.requester, user=cast.manager)
    assert not Subscription.objects.exists()


def test_only_administrators_subscribe_roles_and_channels(cast, admin, receiver):
    with pytest.raises(PermissionDenied, match="Only administrators"):
        services.create_subscription(cast.manager, role="cab_member")
    with pytest.raises(PermissionDenied, match="Only administrators"):
        services.create_subscription(cast.manager, channel="slack", target=receiver.url("/s"))

    services.create_subscription(admin, role="cab_member")
    assert last_event("subscription.created").actor == admin


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"event": "release.exploded"}, "event", "Unknown event"),
        ({"channel": "pigeon"}, "channel", "Choose one of"),
        ({"channel": "webhook"}, "target", "URL of the webhook"),
        ({"channel": "webhook", "target": "ftp://x.test/h"}, "target", "http:// or https://"),
        ({"channel": "slack", "target": "not a url"}, "target", "http:// or https://"),
        ({"channel": "email", "target": "nobody-at-all"}, "target", "valid e-mail"),
        ({"channel": "email"}, "target", "e-mail address the messages go to"),
        ({"channel": "email", "target": "a@b.test", "secret": "x"}, "secret", "take a secret"),
        ({"channel": "email", "target": "a@b.test", "language": "fr"}, "language", "Choose"),
        (
            {"channel": "email", "target": "a@b.test", "application": "nope"},
            "application",
            "Unknown",
        ),
        ({"role": "nope"}, "role", "Unknown role"),
        ({"role": "cab_member", "target": "a@b.test"}, "target", "leave the target empty"),
        (
            {"role": "cab_member", "channel": "slack", "target": "https://x.test"},
            "channel",
            "e-mail",
        ),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_field(admin, fields, field, words):
    with pytest.raises(ValidationFailed) as refused:
        services.create_subscription(admin, **fields)
    assert words in " ".join(refused.value.errors[field])
    assert not Subscription.objects.exists()
    assert not AuditEvent.objects.filter(action="subscription.created").exists()


def test_a_person_and_a_role_at_once_is_refused(cast, admin):
    with pytest.raises(ValidationFailed) as refused:
        services.create_subscription(admin, user=cast.requester, role="cab_member")
    assert "not both" in refused.value.errors["role"][0]


def test_a_person_without_an_address_must_give_one(cast):
    silent = factories.user("sam", "pmo", app=cast.app)
    with pytest.raises(ValidationFailed) as refused:
        services.create_subscription(silent, user=silent)
    assert "has no e-mail address" in refused.value.errors["target"][0]
    services.create_subscription(silent, user=silent, target="sam@example.test")


def test_the_same_subscription_twice_is_refused(cast):
    services.create_subscription(cast.requester, user=cast.requester, event="release.closed")
    with pytest.raises(ValidationFailed, match="exists already"):
        services.create_subscription(cast.requester, user=cast.requester, event="release.closed")


def test_a_subscription_is_changed_and_audited(cast, receiver):
    subscription = services.create_subscription(cast.requester, user=cast.requester)
    services.update_subscription(
        cast.requester,
        subscription.pk,
        channel="wecom",
        target=receiver.url("/wecom/rita"),
        active=False,
    )
    subscription.refresh_from_db()
    assert (subscription.channel, subscription.active) == ("wecom", False)
    event = last_event("subscription.updated")
    assert event.before["channel"] == "email"
    assert event.after["channel"] == "wecom"
    assert event.after["active"] is False


def test_a_change_is_checked_whole(cast):
    subscription = services.create_subscription(cast.requester, user=cast.requester)
    with pytest.raises(ValidationFailed) as refused:
        services.update_subscription(cast.requester, subscription.pk, channel="slack")
    assert "target" in refused.value.errors
    with pytest.raises(ValidationFailed):
        services.update_subscription(cast.requester, subscription.pk, colour="red")


def test_others_subscriptions_are_not_found_for_a_user(cast, admin):
    subscription = services.create_subscription(cast.manager, user=cast.manager)
    with pytest.raises(NotFound):
        services.update_subscription(cast.requester, subscription.pk, event="release.closed")
    with pytest.raises(NotFound):
        services.delete_subscription(cast.requester, subscription.pk)
    services.delete_subscription(admin, subscription.pk)
    assert last_event("subscription.deleted").actor == admin


def test_deleting_a_subscription_drops_its_unsent_messages(cast, emit, receiver):
    subscription = services.create_subscription(
        cast.requester, user=cast.requester, channel="webhook", target=receiver.url("/hook/r")
    )
    emit("release.closed", cast.release, actor=cast.crew)
    assert Message.objects.filter(subscription=subscription).count() == 1

    services.delete_subscription(cast.requester, subscription.pk)

    assert not Subscription.objects.filter(pk=subscription.pk).exists()
    assert not Message.objects.filter(target=receiver.url("/hook/r")).exists()
    event = last_event("subscription.deleted")
    assert event.before["target"] == receiver.url("/hook/r")
    assert event.after == {"unsent_messages_dropped": 1}


def test_users_list_their_own_subscriptions_and_administrators_all(cast, admin):
    mine = services.create_subscription(cast.requester, user=cast.requester)
    theirs = services.create_subscription(cast.manager, user=cast.manager)
    shared = services.create_subscription(admin, role="cab_member")

    assert list(services.manageable(cast.requester)) == [mine]
    assert set(services.manageable(admin)) == {mine, theirs, shared}


# ---------------------------------------------------------------- retry


@pytest.fixture
def failed(cast, emit, receiver):
    services.create_subscription(None, channel="webhook", target=receiver.url("/gone"))
    [message] = [
        m for m in emit("release.closed", cast.release, actor=cast.crew) if m.channel == "webhook"
    ]
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED, attempts=8, last_error="HTTP 410: gone"
    )
    message.refresh_from_db()
    return message


def test_an_administrator_retries_a_failed_message_and_it_is_audited(admin, failed):
    services.retry(admin, str(failed.uuid))

    failed.refresh_from_db()
    assert failed.status == MessageStatus.PENDING
    assert failed.attempts == 0
    event = last_event("notification.retried")
    assert event.actor == admin
    assert event.before == {"status": "failed", "attempts": 8, "last_error": "HTTP 410: gone"}
    assert event.after["status"] == "pending"
    assert event.after["uuid"] == str(failed.uuid)
    assert event.release_number == failed.release.number


def test_retry_is_refused_to_non_administrators(cast, failed):
    for who in (cast.requester, cast.manager, cast.nobody):
        with pytest.raises(PermissionDenied):
            services.retry(who, failed.uuid)
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED
    assert not AuditEvent.objects.filter(action="notification.retried").exists()


def test_a_sent_message_is_never_retried(admin, failed):
    Message.objects.filter(pk=failed.pk).update(status=MessageStatus.SENT)
    with pytest.raises(Conflict, match="never sent twice"):
        services.retry(admin, failed.uuid)


def test_retrying_an_unknown_message_is_not_found(admin, db):
    with pytest.raises(NotFound):
        services.retry(admin, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        services.retry(admin, "not-a-uuid")


def test_the_outbox_is_for_administrators(cast, admin):
    with pytest.raises(PermissionDenied):
        services.outbox(cast.manager)
    assert services.outbox(admin).count() == 0
