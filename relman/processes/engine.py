"""The lifecycle engine: which transitions a release may take, and why the others are refused.

Pure Python over plain data (DESIGN.md rule 2). Services build a `Snapshot` of a release
(the facts each gate of its stage read), ask `refusals()` and, when nothing is refused,
apply `move()`. Every gate is evaluated the same way, through the interface and the
catalogue of `processes/gates.py`; the approval-policy helpers below (`steps_of`,
`needed`, `open_steps`) are the chain semantics the approvals gate and app share.

    planning --advance--> build --advance--> test --advance--> deploy --close--> (closed)
       ^                    |                                    |
       +------return--------+              rollback (rollback_to or ends rolled back)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from relman.processes.definition import (
    ADVANCE,
    CANCEL,
    CLOSE,
    RETURN,
    ROLLBACK,
    ApprovalStep,
    Stage,
    Variant,
)
from relman.processes.gates import GATE, Catalogue, Gate, Snapshot, Unmet, installed

__all__ = ["Snapshot", "Unmet"]  # defined with the gate interface, used through the engine

SUCCEEDED, FAILED, ROLLED_BACK, CANCELLED = "succeeded", "failed", "rolled_back", "cancelled"


@dataclass(frozen=True)
class Refusal:
    """Why a transition is not allowed. `code` picks the message; `unmet` lists the gate."""

    code: str
    stage: str = ""
    unmet: tuple[Unmet, ...] = ()
    roles: tuple[str, ...] = ()
    target: str = ""


@dataclass(frozen=True)
class Move:
    """Where a transition leaves the release."""

    stage: str
    is_open: bool
    outcome: str | None = None


def active_stages(variant: Variant, snap: Snapshot) -> list[Stage]:
    """The stages of the flow that apply to this release, in order."""
    return [s for s in variant.stages if s.applies_to(snap.kind, snap.method, snap.release_class)]


def steps_of(stage: Stage, snap: Snapshot) -> list[ApprovalStep]:
    """The approval steps of the stage that apply to this release, in policy order."""
    return [s for s in stage.approvals if s.applies_to(snap.kind, snap.method, snap.release_class)]


def needed(step: ApprovalStep, snap: Snapshot) -> int:
    """How many approvals the step needs: its count, or every eligible approver for "all"."""
    if step.count is not None:
        return step.count
    return max(1, snap.fact("eligible", {}).get(step.key, 0))


def have(step: ApprovalStep, snap: Snapshot) -> int:
    """How many live approvals the step has."""
    return snap.fact("approvals", {}).get(step.key, 0)


def step_done(step: ApprovalStep, snap: Snapshot) -> bool:
    return have(step, snap) >= needed(step, snap)


def open_steps(stage: Stage, snap: Snapshot) -> list[ApprovalStep]:
    """The steps waiting for a decision now: not done, and every required step of the
    earlier groups of the chain done. Optional steps never hold up the chain."""
    steps = steps_of(stage, snap)
    blocked = {
        s.group for s in steps if not s.optional and not step_done(s, snap)
    }  # groups with required work left
    first_blocked = min(blocked, default=None)
    return [
        s
        for s in steps
        if not step_done(s, snap) and (first_blocked is None or s.group <= first_blocked)
    ]


def following_stage(variant: Variant | None, stage: Stage, snap: Snapshot) -> Stage | None:
    """The stage an advance from `stage` leads to, for this release (None from the last)."""
    if variant is None:
        return None
    keys = [s.key for s in active_stages(variant, snap)]
    if stage.key not in keys or keys.index(stage.key) + 1 >= len(keys):
        return None
    return variant.stage(keys[keys.index(stage.key) + 1])


def stage_gates(
    stage: Stage,
    snap: Snapshot,
    variant: Variant | None = None,
    gates: Catalogue | None = None,
) -> list[tuple[Gate, Any]]:
    """The gates on `stage` for this release, with their options, in catalogue order: those
    the stage names, and those a gate implies (the freeze, before a deployment stage).
    A gate set to false, null or an empty list is off."""
    gates = installed() if gates is None else gates
    following = following_stage(variant, stage, snap)
    found = []
    for key, gate in gates.items():
        options = stage.gates[key] if key in stage.gates else gate.implied(stage, following)
        if options:
            found.append((gate, options))
    return found


def evaluate(
    stage: Stage,
    snap: Snapshot,
    variant: Variant | None = None,
    gates: Catalogue | None = None,
) -> list[tuple[Gate | None, Any, list[Unmet]]]:
    """Each gate of the stage with its options and its unmet parts (each stamped with the
    gate's key). A gate the stage names but no installed gate knows (None) is never met."""
    gates = installed() if gates is None else gates
    results = [
        (gate, options, [replace(u, gate=gate.key) for u in gate.evaluate(options, snap)])
        for gate, options in stage_gates(stage, snap, variant, gates)
    ]
    for key in stage.gates:
        if key not in gates and stage.gates[key]:
            results.append((None, stage.gates[key], [Unmet("gate", key, gate=key)]))
    return results


def unmet_gate(
    stage: Stage,
    snap: Snapshot,
    variant: Variant | None = None,
    gates: Catalogue | None = None,
) -> list[Unmet]:
    """Everything the stage's exit gate still needs (the gates refused as "gate")."""
    return [
        u
        for gate, _options, unmet in evaluate(stage, snap, variant, gates)
        if gate is None or gate.refusal == GATE
        for u in unmet
    ]


def transitions_of(variant: Variant, stage: Stage, snap: Snapshot) -> tuple[str, ...]:
    """The transitions a stage offers: as declared, or the defaults for its place."""
    stages = active_stages(variant, snap)
    is_last = stages and stages[-1].key == stage.key
    is_first = stages and stages[0].key == stage.key
    declared = stage.transitions or (
        (CLOSE, RETURN, CANCEL) if is_last else (ADVANCE, RETURN, CANCEL)
    )
    allowed = []
    for t in declared:
        if (t == ADVANCE and is_last) or (t == CLOSE and not is_last) or (t == RETURN and is_first):
            continue
        allowed.append(t)
    return tuple(allowed)


def return_targets(variant: Variant, stage: Stage, snap: Snapshot) -> list[str]:
    """The earlier stages `return` may go to."""
    keys = [s.key for s in active_stages(variant, snap)]
    earlier = keys[: keys.index(stage.key)] if stage.key in keys else []
    if stage.return_to is not None:
        earlier = [k for k in earlier if k in stage.return_to]
    return earlier


def refusals(
    variant: Variant,
    snap: Snapshot,
    action: str,
    roles: Collection[str],
    *,
    target: str = "",
    reason: str = "",
    outcome: str = SUCCEEDED,
    gates: Catalogue | None = None,
) -> list[Refusal]:
    """Why `action` may not be taken by someone holding `roles`; empty when it may."""
    if not snap.is_open:
        return [Refusal("closed")]
    stage = variant.stage(snap.stage)
    if stage is None:
        return [Refusal("unknown_stage", stage=snap.stage)]
    found: list[Refusal] = []
    if action not in transitions_of(variant, stage, snap):
        return [Refusal("not_offered", stage=stage.key)]
    if not set(roles) & set(stage.roles):
        found.append(Refusal("role", stage=stage.key, roles=stage.roles))
    needs_reason = action in (RETURN, ROLLBACK, CANCEL) or (action == CLOSE and outcome == FAILED)
    if needs_reason and not reason.strip():
        found.append(Refusal("reason_required", stage=stage.key))
    if action == RETURN and target not in return_targets(variant, stage, snap):
        found.append(Refusal("bad_target", stage=stage.key, target=target))
    if action in (ADVANCE, CLOSE) and not (action == CLOSE and outcome == FAILED):
        unmet: list[Unmet] = []
        for gate, _options, parts in evaluate(stage, snap, variant, gates):
            if gate is None or gate.refusal == GATE:
                unmet += parts
            else:  # a gate with its own refusal: one per unmet part, naming its target
                found += [
                    Refusal(gate.refusal, stage=stage.key, unmet=(u,), target=u.key) for u in parts
                ]
        if unmet:
            found.append(Refusal("gate", stage=stage.key, unmet=tuple(unmet)))
    return found


def move(
    variant: Variant, snap: Snapshot, action: str, *, target: str = "", outcome: str = SUCCEEDED
) -> Move:
    """Where an allowed transition takes the release."""
    keys = [s.key for s in active_stages(variant, snap)]
    here = keys.index(snap.stage)
    if action == ADVANCE:
        return Move(keys[here + 1], True)
    if action == RETURN:
        return Move(target, True)
    if action == ROLLBACK:
        stage = variant.stage(snap.stage)
        if stage and stage.rollback_to and stage.rollback_to in keys:
            return Move(stage.rollback_to, True)
        return Move(snap.stage, False, ROLLED_BACK)
    if action == CANCEL:
        return Move(snap.stage, False, CANCELLED)
    if action == CLOSE:
        return Move(snap.stage, False, outcome)
    raise ValueError(f"unknown action {action!r}")


def allowed_actions(
    variant: Variant, snap: Snapshot, roles: Collection[str]
) -> dict[str, list[Refusal]]:
    """Each transition the stage offers, with its refusals (empty = allowed) for these roles.

    Reasons and targets are supplied at the time of acting, so they are not checked here.
    """
    if not snap.is_open:
        return {}
    stage = variant.stage(snap.stage)
    if stage is None:
        return {}
    result = {}
    for action in transitions_of(variant, stage, snap):
        targets = return_targets(variant, stage, snap)
        found = refusals(
            variant, snap, action, roles, target=targets[0] if targets else "", reason="-"
        )
        result[action] = found
    return result


def first_stage(variant: Variant, snap_kind: str, method: str, release_class: str) -> str:
    """The stage a new release starts in."""
    for stage in variant.stages:
        if stage.applies_to(snap_kind, method, release_class):
            return stage.key
    raise ValueError(f"variant {variant.key!r} has no stage for this release")
