"""How the changes app reacts to release events (`releases.signals`), connected in
`ChangesConfig.ready()`. Each runs inside the release service's transaction."""

from __future__ import annotations

from typing import Any

from relman.audit import services as audit
from relman.changes.choices import Status
from relman.changes.models import Change, ChangeReview, ReleaseChange
from relman.releases.choices import Outcome
from relman.releases.choices import Status as ReleaseStatus
from relman.releases.models import Release


def follow_move(sender: type, *, release: Release, actor: Any = None, **kwargs: Any) -> None:
    """A closed release (closed, rolled back or cancelled) frees the changes it carried for
    another release. One that succeeded implemented its approved changes: those already
    reviewed are closed, the others wait for their review."""
    if release.status != ReleaseStatus.CLOSED:
        return
    links = ReleaseChange.objects.filter(release=release, is_open=True)
    change_ids = list(links.values_list("change_id", flat=True))
    if not change_ids:
        return
    links.update(is_open=False)
    if release.outcome != Outcome.SUCCEEDED:
        return
    reviewed = set(
        ChangeReview.objects.filter(release=release, change_id__in=change_ids).values_list(
            "change_id", flat=True
        )
    )
    for change in Change.objects.select_for_update().filter(
        pk__in=change_ids, status=Status.APPROVED
    ):
        status = Status.CLOSED if change.pk in reviewed else Status.IMPLEMENTED
        change.status = status
        change.revision += 1
        change.save(update_fields=["status", "revision", "updated"])
        audit.record(
            actor,
            "change.implemented" if status == Status.IMPLEMENTED else "change.closed",
            change,
            release=release,
            before={"status": Status.APPROVED},
            after={"status": status},
        )
