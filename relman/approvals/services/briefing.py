"""What an approver sees of each step in their inbox: the release, the step's checks, the
deliverables with their latest version, the release window and the earlier decisions.

The inbox page, the API and (through the API) the CLI show the same briefs. Building them
costs a constant number of queries on top of the inbox's own, whatever the number of steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils.translation import get_language

from relman.approvals.services.inbox import InboxItem, inbox
from relman.calendar.models import ReleaseSchedule
from relman.processes.definition import pick
from relman.processes.messages import role_label, stage_label, step_label
from relman.releases.models import Approval, DeliverableVersion, Release


@dataclass
class Check:
    """An item the approver confirms, in their language."""

    key: str
    label: str


@dataclass
class DeliverableBrief:
    """A deliverable the decision rests on, and its latest version (None: not yet there)."""

    key: str
    label: str
    required: bool  # the step cannot be decided without it
    version: DeliverableVersion | None

    @property
    def download(self) -> str:
        """Where the file of the latest version is downloaded ('' for a link or no file)."""
        if self.version is None or not self.version.file:
            return ""
        release = self.version.deliverable.release
        return (
            f"/api/v1/releases/{release.number}/deliverables/{self.key}"
            f"/versions/{self.version.number}/file"
        )


@dataclass
class Brief:
    """One step the user may decide, with everything they decide on."""

    item: InboxItem
    stage_label: str
    step_label: str
    role_label: str
    checks: list[Check]
    deliverables: list[DeliverableBrief]
    schedule: ReleaseSchedule | None
    viewer_id: int

    @property
    def release(self) -> Release:
        return self.item.release

    @property
    def on_behalf_of(self) -> Any:
        """The person the user decides for by a delegation; None when for themselves."""
        principal = self.item.principal
        return None if principal is None or principal.pk == self.viewer_id else principal

    @property
    def earlier(self) -> list[Approval]:
        return self.item.earlier


def _latest_versions(release_ids: set[int]) -> dict[tuple[int, str], DeliverableVersion]:
    """The latest version of every deliverable of the releases, by (release id, key)."""
    newest = DeliverableVersion.objects.filter(deliverable=OuterRef("deliverable")).order_by(
        "-number"
    )
    versions = (
        DeliverableVersion.objects.filter(deliverable__release_id__in=release_ids)
        .filter(number=Subquery(newest.values("number")[:1]))
        .select_related("deliverable", "deliverable__release", "uploaded_by")
    )
    return {(v.deliverable.release_id, v.deliverable.key): v for v in versions}


def briefs(user: Any) -> list[Brief]:
    """The user's inbox, each step with what is being approved."""
    items = inbox(user)
    if not items:
        return []
    release_ids = {item.release.pk for item in items}
    latest = _latest_versions(release_ids)
    schedules = {
        s.release_id: s
        for s in ReleaseSchedule.objects.filter(release_id__in=release_ids).select_related("window")
    }
    language = get_language()
    found = []
    for item in items:
        process, step = item.process, item.step
        keys = list(dict.fromkeys([*step.deliverables, *item.stage.deliverables]))
        found.append(
            Brief(
                item=item,
                stage_label=stage_label(item.variant, item.stage.key),
                step_label=step_label(process, step),
                role_label=role_label(process, step.role),
                checks=[
                    Check(c, pick(process.checklist.get(c), language) or c) for c in step.checks
                ],
                deliverables=[
                    DeliverableBrief(
                        key=key,
                        label=pick(process.deliverables.get(key), language) or key,
                        required=key in step.deliverables,
                        version=latest.get((item.release.pk, key)),
                    )
                    for key in keys
                ],
                schedule=schedules.get(item.release.pk),
                viewer_id=user.pk,
            )
        )
    return found
