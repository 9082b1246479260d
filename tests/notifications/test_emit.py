"""`emit`: who hears of an event, once per channel, written inside the caller's transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from relman.notifications import services
from relman.notifications.choices import PARTICIPANT_EVENTS, Event, MessageStatus
from relman.notifications.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


def recipients(messages) -> set[tuple[str, str]]:
    return {(m.channel, m.target) for m in messages}


def test_the_requester_and_manager_hear_of_decisions_by_email(cast, emit):
    messages = emit(
        "approval.approved",
        cast.release,
        actor=cast.approver,
        data={"step": "pmo", "comment": "Fine by me."},
    )

    assert recipients(messages) == {
        ("email", "rita@example.test"),
        ("email", "mark@example.test"),
    }
    by_target = {m.target: m for m in messages}
    assert by_target["mark@example.test"].language == "zh-hans"
    assert by_target["rita@example.test"].language == "en"
    for message in messages:
        assert message.status == MessageStatus.PENDING
        assert message.release == cast.release
        assert message.actor == cast.approver
        assert message.data["comment"] == "Fine by me."
        assert message.data["actor_name"] == str(cast.approver)


def test_approval_requests_go_to_the_named_approvers_only(cast, emit):
    messages = emit(
        "approval.requested",
        cast.release,
        actor=cast.requester,
        data={"step": "pmo"},
        users=[cast.approver],
    )

    assert recipients(messages) == {("email", "pam@example.test")}
    assert messages[0].recipient == cast.approver


def test_participants_hear_every_event_but_requests_and_reminders(cast, emit):
    participants = {("email", "rita@example.test"), ("email", "mark@example.test")}
    for event in Event:
        messages = emit(event, cast.release, actor=cast.crew)
        assert recipients(messages) == (participants if event in PARTICIPANT_EVENTS else set())


def test_the_actor_is_not_told_of_their_own_action(cast, emit):
    messages = emit("release.deployed", cast.release, actor=cast.requester, users=[cast.requester])
    assert recipients(messages) == {("email", "mark@example.test")}


def test_each_person_once_per_channel_whatever_the_reasons(cast, emit):
    services.create_subscription(cast.manager, user=cast.manager, event="release.failed")
    services.create_subscription(cast.manager, user=cast.manager)  # every event
    services.create_subscription(
        None, role="release_manager", event="release.failed", channel="email"
    )
    services.create_subscription(None, target="MARK@example.test", channel="email")
    messages = emit("release.failed", cast.release, actor=cast.crew, users=[cast.manager])

    assert [m.target for m in messages].count("mark@example.test") == 1
    assert recipients(messages) == {("email", "rita@example.test"), ("email", "mark@example.test")}


def test_a_person_without_an_address_gets_no_email(cast, emit):
    silent = factories.user("sam", "pmo", app=cast.app)  # no e-mail address
    messages = emit("approval.requested", cast.release, actor=cast.requester, users=[silent])
    assert messages == []


def test_inactive_people_hear_nothing(cast, emit):
    cast.manager.is_active = False
    cast.manager.save(update_fields=["is_active"])
    messages = emit("release.closed", cast.release, actor=cast.crew)
    assert recipients(messages) == {("email", "rita@example.test")}


def test_role_subscriptions_reach_the_holders_for_the_application(cast, emit, app):
    other_app = factories.application("hr", process="tfdl")
    factories.user("cleo", "cab_member", app=app, email="cleo@example.test", language="zh-hans")
    factories.user("gus", "cab_member", email="gus@example.test")  # every application
    factories.user("hank", "cab_member", app=other_app, email="hank@example.test")
    services.create_subscription(None, role="cab_member", event="release.scheduled")

    messages = emit("release.scheduled", cast.release, actor=cast.crew)

    assert recipients(messages) >= {("email", "cleo@example.test"), ("email", "gus@example.test")}
    assert ("email", "hank@example.test") not in recipients(messages)
    assert {m.target: m.language for m in messages}["cleo@example.test"] == "zh-hans"


def test_subscriptions_filter_by_event_and_application(cast, emit, app, receiver):
    other_app = factories.application("hr", process="tfdl")
    services.create_subscription(
        None, channel="slack", target=receiver.url("/slack/crm"), application=app.code
    )
    services.create_subscription(
        None, channel="slack", target=receiver.url("/slack/hr"), application=other_app.code
    )
    services.create_subscription(
        None, channel="wecom", target=receiver.url("/wecom/closed"), event="release.closed"
    )

    deployed = recipients(emit("release.deployed", cast.release, actor=cast.crew))
    closed = recipients(emit("release.closed", cast.release, actor=cast.crew))

    assert ("slack", receiver.url("/slack/crm")) in deployed
    assert ("slack", receiver.url("/slack/hr")) not in deployed
    assert ("wecom", receiver.url("/wecom/closed")) not in deployed
    assert ("wecom", receiver.url("/wecom/closed")) in closed


def test_channels_hear_the_actors_own_actions(cast, emit, receiver):
    services.create_subscription(
        None, channel="dingtalk", target=receiver.url("/dingtalk/team"), language="zh-hans"
    )
    messages = emit("release.deployed", cast.release, actor=cast.requester)
    [robot] = [m for m in messages if m.channel == "dingtalk"]
    assert robot.recipient is None
    assert robot.language == "zh-hans"


def test_a_personal_subscription_needs_sight_of_the_release(cast, emit):
    services.create_subscription(cast.nobody, user=cast.nobody)
    messages = emit("release.deployed", cast.release, actor=cast.crew)
    assert ("email", "nina@example.test") not in recipients(messages)


def test_a_personal_subscription_may_send_elsewhere(cast, emit, receiver):
    services.create_subscription(
        cast.requester, user=cast.requester, channel="webhook", target=receiver.url("/hook/rita")
    )
    messages = emit("release.deployed", cast.release, actor=cast.crew)
    assert ("webhook", receiver.url("/hook/rita")) in recipients(messages)
    assert ("email", "rita@example.test") in recipients(messages)


def test_inactive_subscriptions_are_ignored(cast, emit, receiver):
    services.create_subscription(
        None, channel="slack", target=receiver.url("/slack/off"), active=False
    )
    messages = emit("release.deployed", cast.release, actor=cast.crew)
    assert ("slack", receiver.url("/slack/off")) not in recipients(messages)


def test_an_event_without_a_release(db, emit, receiver):
    factories.processes()
    factories.user("cleo", "cab_member", email="cleo@example.test")
    services.create_subscription(None, role="cab_member", event="cab.scheduled")
    services.create_subscription(None, channel="webhook", target=receiver.url("/hook/cab"))

    messages = emit("cab.scheduled", None, data={"date": "2027-03-11T19:00:00+08:00"})

    assert recipients(messages) == {
        ("email", "cleo@example.test"),
        ("webhook", receiver.url("/hook/cab")),
    }
    assert all(m.release is None for m in messages)


def test_an_unknown_event_is_a_programming_error(cast, emit):
    with pytest.raises(ValueError, match="unknown notification event"):
        emit("release.exploded", cast.release)


def test_messages_roll_back_with_the_change(cast):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.emit("release.closed", cast.release, actor=cast.crew)
        raise RuntimeError("the change failed")
    assert not Message.objects.exists()


def test_every_event_has_words(cast, emit):
    from relman.notifications.rendering import render

    rendered_events = set()
    for event in Event:
        for message in emit(event, cast.release, actor=cast.crew, users=[cast.approver]):
            rendered = render(message)
            assert cast.release.number in rendered.text
            assert rendered.link == f"https://relman.example.test/releases/{cast.release.number}/"
            rendered_events.add(event)
    assert rendered_events == set(Event)  # no event went unrendered for want of a recipient


@pytest.mark.django_db(transaction=True)
def test_emit_refuses_to_run_outside_a_transaction(cast):
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        services.emit("release.closed", cast.release, actor=cast.crew)
