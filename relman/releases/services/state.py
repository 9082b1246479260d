"""Where a release stands: its engine snapshot, and what its page and API detail show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relman.core.errors import (
    NotFound,
)
from relman.processes import engine
from relman.processes import services as processes
from relman.processes.definition import Process, Variant, pick
from relman.processes.gates import GATE, Words
from relman.processes.messages import describe, describe_unmet
from relman.releases import access
from relman.releases.choices import (
    Action,
    Outcome,
    Status,
)
from relman.releases.models import Release


def snapshot(release: Release) -> engine.Snapshot:
    """What the engine needs to know of a release: the facts each gate of its current stage
    reads (each gate reads its own, in a query or two)."""
    _process, variant = flow_of(release)
    bare = engine.Snapshot(
        kind=release.kind,
        method=release.method,
        release_class=release.release_class,
        stage=release.stage,
        is_open=release.status == Status.IN_PROGRESS,
    )
    stage = variant.stage(release.stage)
    if stage is None:
        return bare
    facts: dict[str, Any] = {}
    for gate, options in engine.stage_gates(stage, bare, variant):
        facts.update(gate.read(release, stage, options))
    return engine.Snapshot(
        bare.kind, bare.method, bare.release_class, bare.stage, bare.is_open, facts=facts
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
    decidable: list[Any]  # what the user may act on now, from the gates (approval steps)
    tickable: bool
    gate_kinds: dict[str, str] = field(default_factory=dict)  # a gate row's kind in words


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
    decidable: list[Any] = []
    kinds: dict[str, str] = {}
    if snap.is_open and current is not None:
        words = Words(process, variant, current.key)
        for kind, options, unmet in engine.evaluate(current, snap, variant):
            if kind is None:  # named by the stage, but no installed gate knows it
                unmet_list += [describe_unmet(process, variant, current.key, u) for u in unmet]
                continue
            rows = kind.items(options, snap, unmet, words)
            gate += rows
            kinds.update({row["kind"]: str(kind.kind_label) for row in rows})
            if kind.refusal == GATE:
                unmet_list += [kind.describe(u, words) for u in unmet]
            decidable += kind.actionable(user, release, current, options)
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
        gate_kinds=kinds,
        tickable=bool(current and snap.is_open and roles & set(current.roles)),
    )


# ---------------------------------------------------------------- validation helpers
