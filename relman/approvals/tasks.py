"""Background work of approvals: reminders and escalation of open steps."""

from __future__ import annotations

from celery import shared_task

from relman.approvals.services import deadlines


@shared_task(name="relman.approvals.tasks.run_deadlines")
def run_deadlines() -> dict[str, int]:
    """Remind and escalate the open approval steps that are due. Safe to run twice, and on
    several workers at once (see `deadlines.run_deadlines`)."""
    return deadlines.run_deadlines().as_dict()
