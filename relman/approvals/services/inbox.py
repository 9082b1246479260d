"""The approval inbox: the steps a user may decide now, in person or as a delegate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from relman.approvals.models import PendingStep
from relman.approvals.services import policy
from relman.core import permissions
from relman.processes import services as processes
from relman.processes.definition import ApprovalStep, Process, Stage, Variant
from relman.releases import access
from relman.releases.choices import Status
from relman.releases.models import Approval, Release


@dataclass
class InboxItem:
    """One step the user may decide; `principal` is whom they decide for."""

    pending: PendingStep
    release: Release
    process: Process
    variant: Variant
    stage: Stage
    step: ApprovalStep
    principal: Any
    escalated: bool = False
    earlier: list[Approval] = field(default_factory=list)


def _role_codes(person: Any) -> set[str]:
    if person.is_superuser:
        return permissions.all_role_codes(person)
    return {role for role, _app in permissions.assignments(person)}


def inbox(user: Any, releases: QuerySet[Release] | None = None) -> list[InboxItem]:
    """The open steps `user` may decide now, oldest first, with the release's earlier
    decisions. A constant number of queries, whatever the number of steps."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    people = [user, *policy.active_delegators(user)]
    codes = set().union(*(_role_codes(p) for p in people))
    if not codes:
        return []
    pending = (
        PendingStep.objects.filter(closed__isnull=True, release__status=Status.IN_PROGRESS)
        .filter(Q(role__in=codes) | Q(escalated__isnull=False, escalate_role__in=codes))
        .filter(release__in=access.visible_releases(user) if releases is None else releases)
        .select_related("release", "release__application", "release__requester")
        .order_by("opened", "id")
    )
    pending = [p for p in pending if p.stage == p.release.stage]
    decisions: dict[int, list[Approval]] = {}
    for approval in Approval.objects.filter(
        release_id__in={p.release_id for p in pending}, voided__isnull=True
    ).select_related("approver", "on_behalf_of"):
        decisions.setdefault(approval.release_id, []).append(approval)
    items = []
    for p in pending:
        process = processes.definition(p.release.process_id)
        variant = process.variant(p.release.variant)
        stage = variant.stage(p.stage) if variant else None
        step = stage.step(p.step) if stage else None
        if step is None:
            continue
        here = [a for a in decisions.get(p.release_id, []) if a.stage == p.stage]
        filled = {pk for a in here for pk in (a.approver_id, a.on_behalf_of_id) if pk}
        for principal in people:
            why = policy.refusal(
                process,
                p.release,
                step,
                user,
                principal,
                escalated=p.escalated is not None,
                filled=filled,
            )
            if why is None:
                items.append(
                    InboxItem(
                        pending=p,
                        release=p.release,
                        process=process,
                        variant=variant,
                        stage=stage,
                        step=step,
                        principal=principal,
                        escalated=p.escalated is not None,
                        earlier=decisions.get(p.release_id, []),
                    )
                )
                break
    return items
