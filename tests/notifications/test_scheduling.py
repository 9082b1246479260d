"""The calendar's scheduling services tell the people concerned through the outbox."""

from __future__ import annotations

from datetime import datetime

import pytest

from relman.calendar.services import scheduling
from relman.notifications.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


def planned_start(release) -> datetime:
    release.refresh_from_db()
    return release.planned_start


def test_scheduling_and_unscheduling_notify_requester_and_manager(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        schedule = factories.schedule(cast.crew, cast.release)

    scheduled = Message.objects.filter(event="release.scheduled")
    assert {m.target for m in scheduled} == {"rita@example.test", "mark@example.test"}
    for message in scheduled:
        assert message.actor == cast.crew
        assert datetime.fromisoformat(message.data["window"]) == planned_start(cast.release)
        assert message.data["window_name"] == schedule.window.name

    with django_capture_on_commit_callbacks(execute=True):
        scheduling.unschedule(cast.crew, cast.release, reason="The vendor patch slipped.")

    unscheduled = Message.objects.filter(event="release.unscheduled")
    assert {m.target for m in unscheduled} == {"rita@example.test", "mark@example.test"}
    for message in unscheduled:
        assert message.actor == cast.crew
        assert message.data["reason"] == "The vendor patch slipped."
        assert "window" not in message.data


def test_the_one_who_scheduled_is_not_told(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        factories.schedule(cast.requester, cast.release)
    assert {m.target for m in Message.objects.all()} == {"mark@example.test"}
