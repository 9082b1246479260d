"""Delivering the outbox: claim a message, send it, record the outcome; find lost ones.

A message moves pending → sending → sent, or back to pending with a later `next_attempt_at`
(exponential backoff) after a failure, or to failed after its last attempt or a final refusal.
Claiming is one conditional UPDATE, so two workers given the same message cannot both send
it, and a sent message is never sent again. A worker killed while sending leaves its message
in `sending`; `sweep` hands it back to pending once it has been there longer than
RELMAN_NOTIFY_STUCK_SECONDS, and queues every due pending message whose task was lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from relman.notifications.channels import DeliveryFailed, send
from relman.notifications.choices import MessageStatus
from relman.notifications.models import Message
from relman.notifications.rendering import render

logger = logging.getLogger(__name__)

# How many due messages one sweep queues at most (the next sweep takes the rest).
SWEEP_BATCH = 500
LAST_ERROR_LENGTH = 2000


def max_attempts() -> int:
    return int(getattr(settings, "RELMAN_NOTIFY_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: base × 3^(n-1), capped
    (10 s, 30 s, 90 s, 270 s ... by default)."""
    base = float(getattr(settings, "RELMAN_NOTIFY_BACKOFF_SECONDS", 10))
    cap = float(getattr(settings, "RELMAN_NOTIFY_BACKOFF_MAX_SECONDS", 3600))
    return timedelta(seconds=min(cap, base * 3 ** max(0, attempts - 1)))


def claim(message_id: int, now: datetime | None = None) -> Message | None:
    """Take a due pending message for sending; None when it is not there, not due, or
    another worker has it (or had it: sent and failed messages are never claimed)."""
    now = now or timezone.now()
    claimed = Message.objects.filter(
        pk=message_id, status=MessageStatus.PENDING, next_attempt_at__lte=now
    ).update(
        status=MessageStatus.SENDING,
        claimed_at=now,
        attempts=F("attempts") + 1,
        updated=now,
    )
    if not claimed:
        return None
    return Message.objects.select_related(
        "release__application", "actor", "recipient", "subscription"
    ).get(pk=message_id)


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery attempt."""

    status: str
    retry_in: float | None = None
    error: str = ""


def finish(message: Message, failure: DeliveryFailed | None) -> Outcome:
    """Record the attempt's outcome on the claimed message (only if it still holds the claim:
    a sweep may have handed it on)."""
    now = timezone.now()
    mine = Message.objects.filter(
        pk=message.pk, status=MessageStatus.SENDING, claimed_at=message.claimed_at
    )
    if failure is None:
        mine.update(
            status=MessageStatus.SENT, sent_at=now, claimed_at=None, last_error="", updated=now
        )
        return Outcome(MessageStatus.SENT)
    error = str(failure)[:LAST_ERROR_LENGTH]
    if failure.final or message.attempts >= max_attempts():
        mine.update(status=MessageStatus.FAILED, claimed_at=None, last_error=error, updated=now)
        logger.warning(
            "notification %s to %s failed for good after %d attempt(s): %s",
            message.uuid,
            message.target,
            message.attempts,
            error,
        )
        return Outcome(MessageStatus.FAILED, error=error)
    wait = backoff(message.attempts)
    mine.update(
        status=MessageStatus.PENDING,
        claimed_at=None,
        last_error=error,
        next_attempt_at=now + wait,
        updated=now,
    )
    logger.info(
        "notification %s attempt %d failed, next in %.0f s: %s",
        message.uuid,
        message.attempts,
        wait.total_seconds(),
        error,
    )
    return Outcome(MessageStatus.PENDING, retry_in=wait.total_seconds(), error=error)


def deliver(message_id: int) -> Outcome | None:
    """Claim, render, send and record one message; None when there was nothing to do.
    Safe to run twice, or at once in two workers."""
    message = claim(message_id)
    if message is None:
        return None
    try:
        send(message, render(message))
    except DeliveryFailed as failure:
        return finish(message, failure)
    except Exception as exc:  # a defect must not leave the message `sending` until the sweep
        logger.exception("notification %s could not be sent", message.uuid)
        return finish(message, DeliveryFailed(f"{type(exc).__name__}: {exc}"))
    return finish(message, None)


def recover_stuck(now: datetime | None = None) -> list[int]:
    """Hand back messages left `sending` by a worker that died: to pending (due now), or to
    failed when they have no attempt left. Returns the ids of those due again."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=float(getattr(settings, "RELMAN_NOTIFY_STUCK_SECONDS", 300)))
    stuck = Message.objects.filter(status=MessageStatus.SENDING, claimed_at__lt=stale)
    failed = stuck.filter(attempts__gte=max_attempts()).update(
        status=MessageStatus.FAILED,
        claimed_at=None,
        last_error="the worker stopped while sending, and no attempt is left",
        updated=now,
    )
    ids = list(stuck.values_list("pk", flat=True)[:SWEEP_BATCH])
    if ids:
        stuck.filter(pk__in=ids).update(
            status=MessageStatus.PENDING,
            claimed_at=None,
            next_attempt_at=now,
            last_error="the worker stopped while sending; it will be sent again",
            updated=now,
        )
    if failed or ids:
        logger.warning("sweep: %d notification(s) were stuck in sending", failed + len(ids))
    return ids


def lost_ids(now: datetime | None = None) -> list[int]:
    """Pending messages due for longer than a sweep interval: their delivery task was lost
    (a worker killed, the broker down or restarted) or never queued."""
    now = now or timezone.now()
    grace = timedelta(seconds=float(getattr(settings, "RELMAN_NOTIFY_SWEEP_SECONDS", 15)))
    return list(
        Message.objects.filter(status=MessageStatus.PENDING, next_attempt_at__lte=now - grace)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
