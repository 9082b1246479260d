"""How the notifications app reacts to release events (`releases.signals`), connected in
`NotificationsConfig.ready()`. `emit` queues the messages on commit."""

from __future__ import annotations

from typing import Any

from relman.notifications.services import emit
from relman.releases.choices import Action, Outcome
from relman.releases.models import Release


def announce_move(
    sender: type,
    *,
    release: Release,
    actor: Any,
    action: str,
    variant: Any,
    reason: str = "",
    **kwargs: Any,
) -> None:
    """Tell the people concerned that a release went into deployment, was rolled back, or
    was closed (succeeded, failed or cancelled)."""
    stage = variant.stage(release.stage)
    data = {"stage": release.stage, "reason": reason}
    if action == Action.ADVANCE and stage is not None and stage.deployment:
        emit("release.deployed", release, actor=actor, data=data)
    elif action == Action.ROLLBACK:
        emit("release.rolled_back", release, actor=actor, data=data)
    elif action in (Action.CLOSE, Action.CANCEL):  # a cancelled release is closed too
        event = "release.failed" if release.outcome == Outcome.FAILED else "release.closed"
        emit(event, release, actor=actor, data={**data, "outcome": release.outcome})
