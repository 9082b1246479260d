"""Background checks of the audit log."""

from __future__ import annotations

import logging

from celery import shared_task

from relman.audit.services import verify_chain as _verify

logger = logging.getLogger(__name__)


@shared_task(name="relman.audit.tasks.verify_chain")
def verify_chain() -> dict:
    """Verify the whole chain; log an error naming the first broken event. Safe to repeat."""
    result = _verify()
    if result.ok:
        logger.info("audit chain verified: %d events", result.checked)
    else:
        logger.error("audit chain broken: %s", result.problem)
    return {"ok": result.ok, "checked": result.checked, "problem": result.problem}


@shared_task(name="relman.audit.tasks.ping")
def ping() -> str:
    """Answer 'pong': lets `relman check` see that a worker runs."""
    return "pong"
