"""Deadlines of open approval steps: a reminder before a step expires, and escalation when it
does. Run every minute by the Celery task `relman.approvals.tasks.run_deadlines`.

Each step is handled in its own transaction on its locked row (`skip_locked`: a step another
worker is handling is left to it), and the reminder or escalation is claimed with a
conditional update, so that two workers, or a run repeated after a crash, never send one
twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from relman.approvals.models import PendingStep
from relman.approvals.services import policy
from relman.audit import services as audit
from relman.notifications.services import emit
from relman.processes import services as processes
from relman.processes.definition import ApprovalStep
from relman.releases.choices import Status

logger = logging.getLogger(__name__)

# Steps handled per run at most; the next run (a minute later) takes the rest.
BATCH = 500


@dataclass
class DeadlineRun:
    """What one run did."""

    reminded: int = 0
    escalated: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"reminded": self.reminded, "escalated": self.escalated}


def _due(now: datetime) -> Q:
    return Q(remind_at__lte=now, reminded__isnull=True) | Q(
        expires_at__lte=now, escalated__isnull=True
    )


def run_deadlines(now: datetime | None = None) -> DeadlineRun:
    """Remind the approvers of the open steps whose reminder is due, and escalate the open
    steps that expired. Safe to run twice, and from several workers at once."""
    now = now or timezone.now()
    done = DeadlineRun()
    due = list(
        PendingStep.objects.filter(closed__isnull=True)
        .filter(_due(now))
        .order_by("expires_at", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    for pk in due:
        reminded, escalated = _handle(pk, now)
        done.reminded += reminded
        done.escalated += escalated
    if done.reminded or done.escalated:
        logger.info("approval deadlines: %d reminded, %d escalated", done.reminded, done.escalated)
    return done


def _locked(pk: int, now: datetime) -> PendingStep | None:
    """The step, locked for this transaction, if it is still open and due and no other
    worker holds it."""
    queryset = PendingStep.objects.filter(pk=pk, closed__isnull=True).filter(_due(now))
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.select_related("release", "release__requester").first()


def _claim(pending: PendingStep, field: str, now: datetime) -> bool:
    """Mark the step reminded or escalated; False when someone else did first."""
    won = PendingStep.objects.filter(pk=pending.pk, **{f"{field}__isnull": True}).update(
        **{field: now}
    )
    setattr(pending, field, now)
    return bool(won)


def _step_of(pending: PendingStep) -> ApprovalStep | None:
    release = pending.release
    variant = processes.definition(release.process_id).variant(release.variant)
    stage = variant.stage(pending.stage) if variant else None
    return stage.step(pending.step) if stage else None


def _handle(pk: int, now: datetime) -> tuple[int, int]:
    """Remind or escalate one step; (reminders sent, escalations made), each 0 or 1."""
    with transaction.atomic():
        pending = _locked(pk, now)
        if pending is None:
            return 0, 0
        release = pending.release
        step = _step_of(pending)
        current = release.status == Status.IN_PROGRESS and release.stage == pending.stage
        if step is None or not current:
            # The process no longer has this step, or the release moved on without the step
            # being closed: nobody can act on it, so nobody is told.
            if pending.reminded is None:
                _claim(pending, "reminded", now)
            if pending.expires_at and pending.expires_at <= now and pending.escalated is None:
                _claim(pending, "escalated", now)
            return 0, 0
        # The keys the notifications' renderer shows: the step and when it is due.
        data = {"stage": pending.stage, "step": pending.step, "due": pending.expires_at}
        if pending.expires_at is not None and pending.expires_at <= now:
            if pending.escalated is not None or not _claim(pending, "escalated", now):
                return 0, 0
            # A reminder overtaken by its escalation is not sent any more.
            if pending.reminded is None:
                _claim(pending, "reminded", now)
            audit.record(
                None,
                "approval.escalated",
                pending,
                release=release,
                before={"role": pending.role},
                after={
                    "stage": pending.stage,
                    "step": pending.step,
                    "escalate_to": pending.escalate_role,
                    "expired": pending.expires_at,
                },
            )
            users = policy.eligible_users(release, step, escalated=True)
            emit(
                "approval.escalated",
                release,
                data={**data, "escalated_to": pending.escalate_role},
                users=policy.with_delegates(users),
            )
            return 0, 1
        if pending.reminded is not None or not _claim(pending, "reminded", now):
            return 0, 0
        filled = policy.filled_by(release)
        users = [u for u in policy.eligible_users(release, step) if u.pk not in filled]
        emit("approval.reminder", release, data=data, users=policy.with_delegates(users))
        return 1, 0
