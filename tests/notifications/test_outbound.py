"""Webhooks and chat robots may not be pointed at the server's own network: refused when
subscribing (naming the target), and again when sending, on the address actually connected
to, as a final failure of that message with its reason and nothing reaching the receiver."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from relman.core import outbound
from relman.core.errors import ValidationFailed
from relman.notifications import services
from relman.notifications.choices import MessageStatus
from relman.notifications.models import Message, Subscription
from tests.api.matrix import API
from tests.notifications.conftest import deliver_all

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = f"{API}/notifications/subscriptions"


@pytest.fixture
def nothing_allowed(settings):
    """The default: no exception to the guard."""
    settings.RELMAN_OUTBOUND_ALLOW = []


def answering(monkeypatch, answers: dict[str, list[str]]) -> None:
    """The guard's resolver answers from `answers` (address literals answer themselves)."""
    real = outbound.resolve

    def fake(host: str, port: int) -> list[Any]:
        if host in answers:
            return [ipaddress.ip_address(a) for a in answers[host]]
        return real(host, port)

    monkeypatch.setattr(outbound, "resolve", fake)


def approved(emit, cast) -> list[Message]:
    return emit(
        "approval.approved",
        cast.release,
        actor=cast.approver,
        data={"stage": cast.release.stage, "step": "pmo"},
    )


@pytest.mark.parametrize(
    ("channel", "target", "words"),
    [
        ("webhook", "http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address"),
        ("webhook", "http://10.0.0.5/hook", "10.0.0.5 is a private address"),
        (
            "slack",
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254 is a link-local address",
        ),
        ("wecom", "http://[::1]:9000/send", "::1 is a loopback address"),
        ("dingtalk", "http://localhost:8000/robot", "localhost resolves to 127.0.0.1"),
    ],
)
def test_subscribing_an_internal_address_is_refused_naming_the_target(
    nothing_allowed, admin, channel, target, words
):
    with pytest.raises(ValidationFailed) as refused:
        services.create_subscription(admin, channel=channel, target=target)

    [problem] = refused.value.errors["target"]
    assert words in problem
    assert "add it to RELMAN_OUTBOUND_ALLOW to allow it" in problem
    assert refused.value.message.startswith("target: ")
    assert not Subscription.objects.exists()


def test_a_name_resolving_to_a_private_address_is_refused(nothing_allowed, admin, monkeypatch):
    answering(monkeypatch, {"hooks.intra.example": ["10.0.0.5"]})

    with pytest.raises(ValidationFailed) as refused:
        services.create_subscription(
            admin, channel="webhook", target="https://hooks.intra.example/relman"
        )

    assert refused.value.errors["target"] == [
        "hooks.intra.example resolves to 10.0.0.5, a private address; "
        "add it to RELMAN_OUTBOUND_ALLOW to allow it."
    ]


def test_the_allow_list_lets_an_internal_address_through(settings, admin, receiver, cast, emit):
    settings.RELMAN_OUTBOUND_ALLOW = ["127.0.0.1/32"]
    services.create_subscription(admin, channel="webhook", target=receiver.url("/hook"))

    approved(emit, cast)
    deliver_all()

    assert len(receiver.to("/hook")) == 1


def test_moving_a_subscription_to_an_internal_address_is_refused(
    nothing_allowed, admin, monkeypatch
):
    answering(monkeypatch, {"hooks.example.org": ["93.184.216.34"]})
    subscription = services.create_subscription(
        admin, channel="webhook", target="https://hooks.example.org/relman"
    )

    with pytest.raises(ValidationFailed) as refused:
        services.update_subscription(admin, subscription.pk, target="http://10.1.1.1/x")

    assert "10.1.1.1 is a private address" in refused.value.errors["target"][0]


def test_a_subscription_refused_since_can_still_be_switched_off(settings, admin, receiver):
    subscription = services.create_subscription(
        admin, channel="webhook", target=receiver.url("/hook")
    )
    settings.RELMAN_OUTBOUND_ALLOW = []

    services.update_subscription(admin, subscription.pk, active=False)

    with pytest.raises(ValidationFailed) as refused:
        services.update_subscription(admin, subscription.pk, active=True)
    assert "127.0.0.1 is a loopback address" in refused.value.errors["target"][0]


def test_a_subscription_disallowed_since_is_refused_when_sending(
    settings, admin, receiver, cast, emit
):
    """Allowed when made; the operator then takes 127.0.0.1 off the list: the message fails
    for good, its reason recorded, and the receiver gets nothing."""
    services.create_subscription(admin, channel="webhook", target=receiver.url("/hook"))
    services.create_subscription(admin, channel="slack", target=receiver.url("/slack/x"))
    messages = approved(emit, cast)
    settings.RELMAN_OUTBOUND_ALLOW = []

    deliver_all()

    assert receiver.requests == []
    sent = Message.objects.filter(pk__in=[m.pk for m in messages], channel__in=["webhook", "slack"])
    assert sent.count() == 2
    for message in sent:
        assert message.status == MessageStatus.FAILED
        assert message.attempts == 1  # final: no retry
        assert "127.0.0.1 is a loopback address" in message.last_error
        assert "RELMAN_OUTBOUND_ALLOW" in message.last_error


def test_a_name_rebound_to_loopback_is_refused_when_sending(
    nothing_allowed, admin, receiver, cast, emit, monkeypatch
):
    """DNS rebinding: public when subscribing, 127.0.0.1 when the worker connects."""
    answers = {"hooks.rebind.example": ["93.184.216.34"]}
    answering(monkeypatch, answers)
    target = f"http://hooks.rebind.example:{receiver.port}/hook"
    services.create_subscription(admin, channel="webhook", target=target)
    [message] = [m for m in approved(emit, cast) if m.channel == "webhook"]

    answers["hooks.rebind.example"] = ["127.0.0.1"]
    deliver_all()

    message.refresh_from_db()
    assert receiver.requests == []
    assert message.status == MessageStatus.FAILED
    assert message.last_error == (
        "hooks.rebind.example resolves to 127.0.0.1, a loopback address; "
        "add it to RELMAN_OUTBOUND_ALLOW to allow it."
    )


def test_an_allowed_name_is_sent_to_the_address_checked(
    settings, admin, receiver, cast, emit, monkeypatch
):
    """The worker connects to the address it checked and names the URL's host."""
    answering(monkeypatch, {"hooks.intra.example": ["127.0.0.1"]})
    settings.RELMAN_OUTBOUND_ALLOW = ["hooks.intra.example"]
    services.create_subscription(
        admin, channel="webhook", target=f"http://hooks.intra.example:{receiver.port}/hook"
    )

    approved(emit, cast)
    deliver_all()

    [request] = receiver.to("/hook")
    assert request.headers["host"] == f"hooks.intra.example:{receiver.port}"


def test_the_api_refuses_an_internal_target_with_400_naming_it(nothing_allowed, cast, api_client):
    response = api_client(cast.requester).post(
        SUBSCRIPTIONS,
        {"channel": "webhook", "target": "http://169.254.169.254/latest/meta-data/"},
        content_type="application/json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "169.254.169.254 is a link-local address" in body["errors"]["target"][0]
    assert not Subscription.objects.exists()
