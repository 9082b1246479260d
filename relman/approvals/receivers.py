"""How the approvals app reacts to release events (`releases.signals`), connected in
`ApprovalsConfig.ready()`. Each runs inside the release service's transaction."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from relman.approvals.models import ReadinessReview
from relman.approvals.services.decisions import refresh_steps, void_for_deliverable
from relman.releases.models import Release


def open_first_steps(sender: type, *, release: Release, **kwargs: Any) -> None:
    """A new release's first stage may wait for approvals already: open its steps."""
    refresh_steps(release)


def follow_move(sender: type, *, release: Release, voided: list[str] = (), **kwargs: Any) -> None:
    """After a move: void the readiness reviews of the stages voided by a return or
    rollback, then open the approval steps of the stage the release is in now."""
    if voided:
        ReadinessReview.objects.filter(
            release=release, stage__in=voided, voided__isnull=True
        ).update(voided=timezone.now())
    refresh_steps(release)


def void_stale_decisions(
    sender: type, *, release: Release, actor: Any, key: str, version: int, **kwargs: Any
) -> None:
    """A new version of a deliverable voids the decisions that saw an older one."""
    void_for_deliverable(actor, release, key, version)
