"""A message's words: made at delivery, in the recipient's language, from the process."""

from __future__ import annotations

import pytest

from relman.notifications.models import Message
from relman.notifications.rendering import render

pytestmark = pytest.mark.django_db


def words(message: Message) -> str:
    return render(message).text


def test_a_step_is_named_by_who_decides_it(cast):
    message = Message(
        event="approval.requested",
        release=cast.release,
        language="en",
        data={"stage": "plan_review", "step": "release_owner"},
    )
    assert "waits for your approval (Release owner)" in words(message)
    assert "Stage: Release plan review" in words(message)

    message.language = "zh-hans"
    assert "发布方案评审" in words(message)
    assert "发布负责人" in words(message)


def test_an_unknown_stage_or_step_shows_its_key(cast):
    message = Message(
        event="approval.escalated",
        release=cast.release,
        language="en",
        data={"stage": "gone_stage", "step": "gone_step", "escalated_to": "pmo"},
    )
    text = words(message)
    assert "gone_stage" in text
    assert "gone_step" in text
    assert "Escalated to: pmo" in text


def test_a_voided_approval_names_the_changed_deliverable(cast):
    message = Message(
        event="approval.voided",
        release=cast.release,
        actor=cast.requester,
        language="zh-hans",
        data={
            "stage": "plan_review",
            "step": "release_owner",
            "deliverable": "backout_plan",
            "version": 2,
        },
    )
    assert "回退方案 v2" in words(message)


def test_a_decision_by_a_delegate_says_for_whom(cast):
    message = Message(
        event="approval.approved",
        release=cast.release,
        actor=cast.crew,
        language="en",
        data={"step": "release_owner", "on_behalf_of": "Olive Owner", "comment": "OK"},
    )
    text = words(message)
    assert text.startswith("carl approved")
    assert "On behalf of: Olive Owner" in text
    assert "Comment: OK" in text


def test_a_cab_meeting_needs_no_release(db, settings):
    settings.RELMAN_BASE_URL = "https://relman.example.test"
    message = Message(
        event="cab.scheduled",
        release=None,
        language="en",
        data={
            "date": "2027-03-11T19:00:00+08:00",
            "title": "March CAB",
            "location": "Room 5",
            "agenda": ["REL-2027-0001", "REL-2027-0002"],
            "actor_name": "Carla",
        },
    )
    rendered = render(message)
    assert rendered.headline == "A CAB meeting was scheduled for 2027-03-11 19:00 CST."
    assert ("Meeting", "March CAB") in rendered.facts
    assert ("Location", "Room 5") in rendered.facts
    assert ("Agenda", "REL-2027-0001, REL-2027-0002") in rendered.facts
    assert ("Done by", "Carla") in rendered.facts
    assert rendered.link == "https://relman.example.test/"
