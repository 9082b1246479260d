"""How the changes app reacts to release events (`releases.signals`), connected in
`ChangesConfig.ready()`. Each runs inside the release service's transaction."""

from __future__ import annotations

from typing import Any

from relman.changes import services
from relman.releases.choices import Status as ReleaseStatus
from relman.releases.models import Release


def follow_move(sender: type, *, release: Release, actor: Any = None, **kwargs: Any) -> None:
    """A release that closed (succeeded, failed, rolled back or cancelled) frees its changes
    and, when it succeeded, implements them (`services.release_closed`)."""
    if release.status == ReleaseStatus.CLOSED:
        services.release_closed(actor, release)
