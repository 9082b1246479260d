"""Background delivery of the outbox. Tasks take ids and are safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from relman.notifications.services import delivery, queue

logger = logging.getLogger(__name__)


@shared_task(name="relman.notifications.tasks.deliver", ignore_result=True)
def deliver(message_id: int) -> str:
    """Send one outbox message; after a failure, queue the next attempt after its backoff.
    Does nothing when the message is gone, not due, sent, or being sent by another worker."""
    outcome = delivery.deliver(message_id)
    if outcome is None:
        return "skipped"
    if outcome.retry_in is not None:
        queue([message_id], countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="relman.notifications.tasks.sweep", ignore_result=True)
def sweep() -> dict:
    """Hand back messages stuck in `sending` (their worker died) and queue the due pending
    messages whose task was lost: what makes a killed worker lose nothing. Run by beat."""
    recovered = delivery.recover_stuck()
    again = set(recovered)
    lost = [pk for pk in delivery.lost_ids() if pk not in again]
    queue([*recovered, *lost])
    if lost:
        logger.info("sweep queued %d notification(s) again", len(lost))
    return {"recovered": len(recovered), "queued": len(recovered) + len(lost)}
