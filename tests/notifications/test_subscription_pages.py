"""A person's own subscriptions on the page: list, add (refusals name the field), remove."""

from __future__ import annotations

import pytest
from django.test import Client

from relman.audit.models import AuditEvent
from relman.notifications.models import Subscription
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(fast_passwords):
    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login


def test_anonymous_people_are_sent_to_log_in(db):
    response = Client().get("/notifications/subscriptions/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_person_subscribes_a_chat_robot_and_removes_it(client_for):
    ann = factories.user("ann", email="ann@example.org")
    page = client_for(ann)
    assert "None yet" in page.get("/notifications/subscriptions/").content.decode()
    response = page.post(
        "/notifications/subscriptions/",
        {"event": "approval.rejected", "channel": "wecom", "target": "https://qyapi.example/hook"},
        follow=True,
    )
    assert "You are subscribed." in response.content.decode()
    subscription = Subscription.objects.get(user=ann)
    assert (subscription.event, subscription.channel) == ("approval.rejected", "wecom")
    assert AuditEvent.objects.filter(action="subscription.created").exists()
    assert (
        "https://qyapi.example/hook" in page.get("/notifications/subscriptions/").content.decode()
    )

    response = page.post(f"/notifications/subscriptions/{subscription.pk}/delete/", follow=True)
    assert "The subscription is removed." in response.content.decode()
    assert not Subscription.objects.exists()


def test_a_bad_target_is_refused_naming_it_and_nothing_is_stored(client_for):
    ann = factories.user("ann", email="ann@example.org")
    response = client_for(ann).post(
        "/notifications/subscriptions/",
        {"event": "", "channel": "slack", "target": "not a url"},
        follow=True,
    )
    assert response.status_code == 200
    assert not Subscription.objects.exists()
    assert "target: Enter a URL that starts with http:// or https://." in response.content.decode()


def test_nobody_removes_someone_elses_subscription(client_for):
    ann = factories.user("ann", email="ann@example.org")
    bob = factories.user("bob", email="bob@example.org")
    client_for(ann).post("/notifications/subscriptions/", {"channel": "email"})
    theirs = Subscription.objects.get(user=ann)
    client_for(bob).post(f"/notifications/subscriptions/{theirs.pk}/delete/")
    assert Subscription.objects.filter(pk=theirs.pk).exists()
