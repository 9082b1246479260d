"""Reminders and escalation of open approval steps (`run_deadlines`, every minute).

The sign-off process's review step expires 48 hours after it opens, with a reminder 8 hours
before, and escalates to the PMO. Time is moved by passing `now` to `run_deadlines`.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from relman.approvals import tasks
from relman.approvals.models import PendingStep
from relman.approvals.services import decisions, inbox
from relman.approvals.services.deadlines import run_deadlines
from relman.audit.models import AuditEvent
from relman.core.errors import PermissionDenied
from relman.notifications.models import Message
from relman.releases.models import Approval
from tests.approvals.signoff import CHECKS, away, release_in_approval, world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def w(db, tmp_path):
    return world(tmp_path)


@pytest.fixture
def release(w):
    return release_in_approval(w)


def review(release) -> PendingStep:
    return PendingStep.objects.get(release=release, step="review", closed__isnull=True)


def later(release, hours: float):
    return review(release).opened + timedelta(hours=hours)


def told(event: str) -> list[str]:
    """Usernames that got a message of the event, in order."""
    return sorted(Message.objects.filter(event=event).values_list("recipient__username", flat=True))


def test_the_open_step_knows_its_deadlines(release):
    step = review(release)

    assert step.expires_at == step.opened + timedelta(hours=48)
    assert step.remind_at == step.opened + timedelta(hours=40)
    assert step.escalate_role == "pmo"


def test_nothing_is_due_before_the_reminder(release):
    done = run_deadlines(later(release, 39))

    assert done.as_dict() == {"reminded": 0, "escalated": 0}
    assert review(release).reminded is None
    assert not Message.objects.filter(event="approval.reminder").exists()


def test_the_approvers_are_reminded_once(w, release):
    away(w.bob, w.dave)

    first = run_deadlines(later(release, 41))
    second = run_deadlines(later(release, 42))

    assert (first.reminded, second.reminded) == (1, 0)
    assert review(release).reminded == later(release, 41)
    # The project managers and the delegate of the one away; never the requester or PMO.
    assert told("approval.reminder") == ["alice", "bob", "dave"]
    reminder = Message.objects.filter(event="approval.reminder").first()
    assert reminder.release == release
    assert reminder.data["step"] == "review"
    assert reminder.data["due"]  # when the step expires, shown in the message


def test_who_already_decided_is_not_reminded(w, release):
    decisions.approve(w.alice, release.number, step="review", checks=CHECKS)

    run_deadlines(later(release, 41))

    assert told("approval.reminder") == ["bob"]


def test_an_expired_step_escalates_once_and_is_audited(w, release):
    run_deadlines(later(release, 41))

    first = run_deadlines(later(release, 49))
    second = run_deadlines(later(release, 50))

    assert (first.escalated, second.escalated) == (1, 0)
    step = review(release)
    assert step.escalated == later(release, 49)
    event = AuditEvent.objects.get(action="approval.escalated")
    assert event.actor is None
    assert event.actor_name == "system"
    assert event.release == release
    assert event.after["escalate_to"] == "pmo"
    assert event.after["step"] == "review"
    # The PMO hears of it (and the step's own approvers, who may still decide).
    assert "pat" in told("approval.escalated")
    message = Message.objects.get(event="approval.escalated", recipient=w.pmo)
    assert message.data["escalated_to"] == "pmo"


def test_a_reminder_overtaken_by_the_escalation_is_not_sent(release):
    done = run_deadlines(later(release, 60))

    assert done.as_dict() == {"reminded": 0, "escalated": 1}
    assert review(release).reminded is not None
    assert not Message.objects.filter(event="approval.reminder").exists()


def test_after_escalation_the_escalation_role_may_decide_the_step(w, release):
    with pytest.raises(PermissionDenied, match="does not hold the role"):
        decisions.approve(w.pmo, release.number, step="review", checks=CHECKS)
    assert inbox.inbox(w.pmo) == []

    run_deadlines(later(release, 49))

    assert [i.step.key for i in inbox.inbox(w.pmo)] == ["review"]
    approval = decisions.approve(w.pmo, release.number, step="review", checks=CHECKS)
    assert approval.approver == w.pmo
    assert approval.step == "review"


def test_a_decided_step_is_neither_reminded_nor_escalated(w, release):
    decisions.approve(w.alice, release.number, step="review", checks=CHECKS)
    decisions.approve(w.bob, release.number, step="review", checks=CHECKS)
    assert not PendingStep.objects.filter(release=release, step="review", closed__isnull=True)

    done = run_deadlines(timezone.now() + timedelta(days=30))

    assert done.as_dict() == {"reminded": 0, "escalated": 0}
    assert not Message.objects.filter(event__in=["approval.reminder", "approval.escalated"])


def test_a_step_without_deadlines_is_never_due(w, release):
    decisions.approve(w.alice, release.number, step="review", checks=CHECKS)
    decisions.approve(w.bob, release.number, step="review", checks=CHECKS)
    owner_step = PendingStep.objects.get(release=release, step="release_owner", closed=None)
    assert owner_step.expires_at is None and owner_step.remind_at is None

    assert run_deadlines(timezone.now() + timedelta(days=365)).as_dict() == {
        "reminded": 0,
        "escalated": 0,
    }


def test_the_task_runs_every_minute_on_the_worker(w, release):
    PendingStep.objects.filter(pk=review(release).pk).update(
        remind_at=timezone.now() - timedelta(minutes=1)
    )
    schedule = settings.CELERY_BEAT_SCHEDULE["approval-deadlines"]
    assert schedule == {"task": "relman.approvals.tasks.run_deadlines", "schedule": 60.0}

    result = tasks.run_deadlines.apply()

    assert result.get() == {"reminded": 1, "escalated": 0}
    assert told("approval.reminder") == ["alice", "bob"]
    assert Approval.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not connection.features.has_select_for_update_skip_locked,
    reason="the database has no SELECT ... SKIP LOCKED (SQLite serialises writers instead)",
)
def test_a_step_another_worker_holds_is_skipped_not_sent_twice(tmp_path):
    w = world(tmp_path)
    release = release_in_approval(w)
    pk = review(release).pk
    when = later(release, 41)
    locked, finish = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                PendingStep.objects.select_for_update().get(pk=pk)
                locked.set()
                finish.wait(timeout=30)
        finally:
            connection.close()

    worker = threading.Thread(target=other_worker)
    worker.start()
    try:
        assert locked.wait(timeout=30)
        assert run_deadlines(when).reminded == 0
    finally:
        finish.set()
        worker.join()
    assert run_deadlines(when).reminded == 1
    assert run_deadlines(when).reminded == 0
    assert told("approval.reminder") == ["alice", "bob"]
