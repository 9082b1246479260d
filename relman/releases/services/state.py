"""Where a release stands: its engine snapshot, and what its page and API detail show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relman.core.errors import (
    NotFound,
)
from relman.processes import engine
from relman.processes import services as processes
from relman.processes.definition import Process, Variant, pick
from relman.processes.messages import describe, describe_unmet, step_label
from relman.releases import access
from relman.releases.choices import (
    Action,
    Outcome,
    Status,
)
from relman.releases.models import (
    Approval,
    ChecklistTick,
    Release,
)


def snapshot(release: Release) -> engine.Snapshot:
    """What the engine needs to know of a release (a handful of small queries)."""
    from relman.approvals.services.policy import eligible_counts  # approvals build on releases
    from relman.approvals.services.readiness import is_ready
    from relman.calendar.status import schedule_state

    approvals = dict(
        Approval.objects.filter(
            release=release,
            stage=release.stage,
            decision=Approval.APPROVED,
            voided__isnull=True,
        )
        .values_list("step")
        .annotate(n=Count("id"))
        .values_list("step", "n")
    )
    ticks = ChecklistTick.objects.filter(release=release, stage=release.stage, voided__isnull=True)
    scheduled, frozen = schedule_state(release)
    _process, variant = flow_of(release)
    stage = variant.stage(release.stage)
    return engine.Snapshot(
        kind=release.kind,
        method=release.method,
        release_class=release.release_class,
        stage=release.stage,
        is_open=release.status == Status.IN_PROGRESS,
        deliverables=frozenset(release.deliverables.values_list("key", flat=True)),
        approvals=approvals,
        eligible=eligible_counts(release, stage) if stage else {},
        checklist=frozenset(ticks.values_list("item", flat=True)),
        scheduled=scheduled,
        frozen=frozen,
        ready=bool(stage and stage.readiness and is_ready(release)),
    )


def flow_of(release: Release) -> tuple[Process, Variant]:
    """The process definition and the flow a release follows."""
    process = processes.definition(release.process_id)
    variant = process.variant(release.variant)
    if variant is None:
        raise NotFound(_("The flow '%s' is missing from the process.") % release.variant)
    return process, variant


@dataclass
class StageView:
    key: str
    label: str
    state: str  # done | current | upcoming | skipped


@dataclass
class ActionView:
    action: str
    label: str
    allowed: bool
    reasons: list[str]
    targets: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ReleaseState:
    """A release as its page and API detail show it: stages, gate, allowed actions."""

    release: Release
    process: Process
    variant: Variant
    stages: list[StageView]
    unmet: list[str]
    gate: list[dict[str, Any]]
    actions: list[ActionView]
    roles: set[str]
    can_edit: bool
    can_comment: bool
    decidable: list[Any]  # approvals.services.inbox.InboxItem: the steps the user may decide
    tickable: bool


def release_state(user: Any, release: Release) -> ReleaseState:
    """Everything a user needs to see about where a release stands and what they may do."""
    process, variant = flow_of(release)
    snap = snapshot(release)
    language = get_language()
    active = {s.key for s in engine.active_stages(variant, snap)}
    stage_views, seen_current = [], False
    for stage in variant.stages:
        if stage.key not in active:
            state = "skipped"
        elif stage.key == release.stage:
            state = "done" if release.outcome == Outcome.SUCCEEDED else "current"
            seen_current = True
        else:
            state = "upcoming" if seen_current else "done"
        stage_views.append(StageView(stage.key, pick(stage.label, language), state))
    roles = access.release_roles(user, release)
    current = variant.stage(release.stage)
    actions = []
    gate: list[dict[str, Any]] = []
    unmet_list: list[str] = []
    if snap.is_open and current is not None:
        unmet = engine.unmet_gate(current, snap)
        unmet_list = [describe_unmet(process, variant, current.key, u) for u in unmet]
        missing = {(u.kind, u.key) for u in unmet}
        for key in current.deliverables:
            label = pick(process.deliverables.get(key), language) or key
            gate.append(
                {
                    "kind": "deliverable",
                    "key": key,
                    "label": label,
                    "met": ("deliverable", key) not in missing,
                }
            )
        open_keys = {s.key for s in engine.open_steps(current, snap)}
        for step in engine.steps_of(current, snap):
            gate.append(
                {
                    "kind": "approval",
                    "key": step.key,
                    "label": step_label(process, step),
                    "needed": engine.needed(step, snap),
                    "have": snap.approvals.get(step.key, 0),
                    "met": engine.step_done(step, snap),
                    "optional": step.optional,
                    "open": step.key in open_keys,
                    "group": step.group,
                    "cab": step.cab,
                    "checks": [
                        {"key": c, "label": pick(process.checklist.get(c), language) or c}
                        for c in step.checks
                    ],
                    "deliverables": [
                        {"key": d, "label": pick(process.deliverables.get(d), language) or d}
                        for d in step.deliverables
                    ],
                }
            )
        for key in current.checklist:
            label = pick(process.checklist.get(key), language) or key
            gate.append(
                {
                    "kind": "checklist",
                    "key": key,
                    "label": label,
                    "met": ("checklist", key) not in missing,
                }
            )
        if current.readiness:
            gate.append(
                {
                    "kind": "readiness",
                    "key": "review",
                    "label": _("Readiness review decided 'go'"),
                    "met": ("readiness", "review") not in missing,
                }
            )
        if current.scheduled:
            gate.append(
                {
                    "kind": "schedule",
                    "key": "window",
                    "label": _("Scheduled in an open release window"),
                    "met": ("schedule", "window") not in missing,
                }
            )
        for action, found in engine.allowed_actions(variant, snap, roles).items():
            targets = []
            if action == Action.RETURN:
                targets = [
                    (k, pick(variant.stage(k).label, language))
                    for k in engine.return_targets(variant, current, snap)
                ]
            reasons = [line for r in found for line in describe(process, variant, r)]
            actions.append(
                ActionView(action, str(Action(action).label), not found, reasons, targets)
            )
    decidable = []
    if current is not None and snap.is_open and current.approvals:
        from relman.approvals.services.inbox import inbox  # approvals build on releases

        decidable = inbox(user, Release.objects.filter(pk=release.pk))
    return ReleaseState(
        release=release,
        process=process,
        variant=variant,
        stages=stage_views,
        unmet=unmet_list,
        gate=gate,
        actions=actions,
        roles=roles,
        can_edit=access.can_edit(user, release),
        can_comment=access.can_comment(user, release),
        decidable=decidable,
        tickable=bool(current and snap.is_open and roles & set(current.roles)),
    )


# ---------------------------------------------------------------- validation helpers
