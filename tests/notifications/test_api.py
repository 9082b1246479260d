"""The notification endpoints: the outbox (administrators) and one's subscriptions, run as
anonymous, unpermitted and permitted users (tests/api/matrix.py)."""

from __future__ import annotations

from functools import cached_property

import pytest

from relman.notifications import services
from relman.notifications.choices import MessageStatus
from relman.notifications.models import Message, Subscription
from tests import factories
from tests.api.matrix import API, Endpoint, PermissionMatrix, World, call

pytestmark = pytest.mark.django_db

OUTBOX = f"{API}/notifications/outbox"
RETRY = f"{API}/notifications/outbox/{{uuid}}/retry"
SUBSCRIPTIONS = f"{API}/notifications/subscriptions"
SUBSCRIPTION = f"{API}/notifications/subscriptions/{{subscription_id}}"


class NotificationWorld(World):
    """The matrix's world with an administrator, rita's own subscription, and a failed
    message to a webhook."""

    def __init__(self) -> None:
        super().__init__()
        self.users["admin"] = factories.admin()
        for user in self.users.values():
            user.email = f"{user.username}@example.test"
            user.save(update_fields=["email"])

    @cached_property
    def subscription(self) -> Subscription:
        return services.create_subscription(
            self.users["requester"], user=self.users["requester"], event="release.closed"
        )

    @cached_property
    def failed(self) -> Message:
        from django.db import transaction

        services.create_subscription(
            None, channel="webhook", target="https://hooks.example.test/relman"
        )
        with transaction.atomic():
            messages = services.emit("release.closed", self.release, actor=self.users["crew"])
        [message] = [m for m in messages if m.channel == "webhook"]
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.FAILED, attempts=8, last_error="HTTP 500"
        )
        return message


@pytest.fixture
def world(db) -> NotificationWorld:
    return NotificationWorld()


def lists_the_failed_message(response, world) -> None:
    [item] = response.json()["items"]
    assert item["uuid"] == str(world.failed.uuid)
    assert item["status"] == "failed"
    assert item["release"] == world.release.number
    assert item["last_error"] == "HTTP 500"


def queued_again(response, world) -> None:
    assert response.json()["status"] == "pending"
    world.failed.refresh_from_db()
    assert world.failed.status == MessageStatus.PENDING


def shows_only_own(response, world) -> None:
    assert response.json() == []


def lists_ritas(response, world) -> None:
    [item] = response.json()
    assert item["id"] == world.subscription.pk
    assert item["user"] == "rita"
    assert item["event"] == "release.closed"
    assert "secret" not in item


def created_own(response, world) -> None:
    body = response.json()
    assert body["user"] == "rita"
    assert body["channel"] == "webhook"
    assert body["has_secret"] is True
    assert "secret" not in body
    assert Subscription.objects.get(pk=body["id"]).user == world.users["requester"]


def created_shared(response, world) -> None:
    body = response.json()
    assert (body["user"], body["role"], body["application"]) == (None, "cab_member", "crm")


def changed(response, world) -> None:
    assert response.json()["event"] == "release.failed"
    world.subscription.refresh_from_db()
    assert world.subscription.event == "release.failed"


def deleted(response, world) -> None:
    assert not Subscription.objects.filter(pk=world.subscription.pk).exists()


class TestNotificationEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "outbox",
            "GET",
            OUTBOX,
            "admin",
            refused=(("requester", 403), ("owner", 403), ("nobody", 403)),
            query={"status": "failed"},
            setup=lambda w: w.failed,
            check=lists_the_failed_message,
        ),
        Endpoint(
            "retry",
            "POST",
            RETRY,
            "admin",
            refused=(("requester", 403), ("crew", 403), ("nobody", 403)),
            params=lambda w: {"uuid": w.failed.uuid},
            check=queued_again,
        ),
        Endpoint(
            "subscriptions",
            "GET",
            SUBSCRIPTIONS,
            "requester",
            refused=(("nobody", 200),),
            setup=lambda w: w.subscription,
            check=lists_ritas,
            hides=shows_only_own,
        ),
        Endpoint(
            "subscribe",
            "POST",
            SUBSCRIPTIONS,
            "requester",
            status=201,
            body=lambda w: {
                "channel": "webhook",
                "target": "https://hooks.example.test/rita",
                "secret": "k3y",
                "event": "approval.approved",
            },
            check=created_own,
        ),
        Endpoint(
            "subscribe a role",
            "POST",
            SUBSCRIPTIONS,
            "admin",
            status=201,
            refused=(("requester", 403), ("owner", 403)),
            body=lambda w: {"shared": True, "role": "cab_member", "application": "crm"},
            check=created_shared,
        ),
        Endpoint(
            "change",
            "PATCH",
            SUBSCRIPTION,
            "requester",
            refused=(("nobody", 404), ("crew", 404)),
            params=lambda w: {"subscription_id": w.subscription.pk},
            body=lambda w: {"event": "release.failed"},
            check=changed,
        ),
        Endpoint(
            "unsubscribe",
            "DELETE",
            SUBSCRIPTION,
            "requester",
            status=204,
            refused=(("nobody", 404), ("outsider", 404)),
            params=lambda w: {"subscription_id": w.subscription.pk},
            check=deleted,
        ),
    )


def test_a_bad_subscription_names_its_field(world):
    response = call(
        world.client("requester"),
        "POST",
        SUBSCRIPTIONS,
        body={"channel": "slack", "target": "ftp://example.test/x"},
    )
    assert response.status_code == 400
    assert "target" in response.json()["errors"]
    assert not Subscription.objects.exists()


def test_a_sent_message_is_not_retried(world):
    Message.objects.filter(pk=world.failed.pk).update(status=MessageStatus.SENT)
    response = call(world.client("admin"), "POST", RETRY, params={"uuid": world.failed.uuid})
    assert response.status_code == 409
    assert "never sent twice" in response.json()["detail"]


def test_retrying_an_unknown_message_is_404(world):
    response = call(
        world.client("admin"),
        "POST",
        RETRY,
        params={"uuid": "4b0f0a3e-0000-4000-8000-000000000000"},
    )
    assert response.status_code == 404


def test_the_outbox_filters_and_pages(world):
    world.failed  # noqa: B018  (one failed webhook message, and e-mails to rita, pending)
    admin = world.client("admin")
    everything = call(admin, "GET", OUTBOX).json()["items"]
    assert len(everything) == Message.objects.count() > 1
    only_email = call(admin, "GET", OUTBOX, query={"channel": "email"}).json()["items"]
    assert {i["channel"] for i in only_email} == {"email"}
    unsent = call(admin, "GET", OUTBOX, query={"status": "unsent"}).json()["items"]
    assert len(unsent) == len(everything)
    first = call(admin, "GET", OUTBOX, query={"limit": 1}).json()
    assert len(first["items"]) == 1
    second = call(admin, "GET", OUTBOX, query={"limit": 1, "before": first["next"]}).json()
    assert second["items"][0]["uuid"] != first["items"][0]["uuid"]
    bad = call(admin, "GET", OUTBOX, query={"status": "lost"})
    assert bad.status_code == 400
    assert "status" in bad.json()["errors"]


def test_the_outbox_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = world.client("admin")
    world.failed  # noqa: B018
    with CaptureQueriesContext(connection) as few:
        call(admin, "GET", OUTBOX)
    from django.db import transaction

    for _ in range(5):
        with transaction.atomic():
            services.emit("release.failed", world.release, actor=world.users["crew"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        items = call(admin, "GET", OUTBOX).json()["items"]
    assert len(items) > 5
