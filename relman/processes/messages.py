"""Engine answers in words: every refusal names the stage and the unmet gate, translated."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.processes.definition import REQUESTER, ApprovalStep, Process, Variant, pick
from relman.processes.engine import Refusal, Unmet


def role_label(process: Process, code: str) -> str:
    """A role's name in the user's language: the process's own label, else the built-in one."""
    if code in process.roles:
        return pick(process.roles[code], get_language())
    try:
        return str(BuiltinRole(code).label)
    except ValueError:
        return code


def stage_label(variant: Variant, key: str) -> str:
    stage = variant.stage(key)
    return pick(stage.label, get_language()) if stage else key


def describe_unmet(process: Process, variant: Variant, stage: str, unmet: Unmet) -> str:
    """One unmet gate item as a sentence."""
    params = {"stage": stage_label(variant, stage)}
    if unmet.kind == "deliverable":
        params["item"] = pick(process.deliverables.get(unmet.key), get_language()) or unmet.key
        return _("Stage '%(stage)s' needs the deliverable '%(item)s'.") % params
    if unmet.kind == "checklist":
        params["item"] = pick(process.checklist.get(unmet.key), get_language()) or unmet.key
        return _("Stage '%(stage)s' needs the checklist item '%(item)s' done.") % params
    if unmet.kind == "schedule":
        return (
            _("Stage '%(stage)s' needs the release scheduled in an open release window.") % params
        )
    if unmet.kind == "readiness":
        return _("Stage '%(stage)s' needs a readiness review decided 'go'.") % params
    step = variant.stage(stage).step(unmet.key) if variant.stage(stage) else None
    params.update(
        role=step_label(process, step) if step else unmet.key, needed=unmet.needed, have=unmet.have
    )
    return (
        _("Stage '%(stage)s' needs %(needed)d approval(s) by '%(role)s' (has %(have)d).") % params
    )


def step_label(process: Process, step: ApprovalStep) -> str:
    """Who decides a step, in words: the role, narrowed to a department where the policy says."""
    role = role_label(process, step.role)
    if step.department == REQUESTER:
        return _("%(role)s of the requester's department") % {"role": role}
    if step.department:
        return _("%(role)s of %(department)s") % {"role": role, "department": step.department}
    return role


def describe(process: Process, variant: Variant, refusal: Refusal) -> list[str]:
    """A refusal as one or more sentences."""
    stage = stage_label(variant, refusal.stage) if refusal.stage else ""
    if refusal.code == "gate":
        return [describe_unmet(process, variant, refusal.stage, u) for u in refusal.unmet]
    if refusal.code == "closed":
        return [_("The release is closed.")]
    if refusal.code == "role":
        roles = ", ".join(role_label(process, r) for r in refusal.roles)
        return [
            _("In stage '%(stage)s' only these roles may act: %(roles)s.")
            % {"stage": stage, "roles": roles}
        ]
    if refusal.code == "reason_required":
        return [_("Give a reason.")]
    if refusal.code == "bad_target":
        return [
            _("Stage '%(stage)s' cannot return to '%(target)s'.")
            % {
                "stage": stage,
                "target": stage_label(variant, refusal.target) if refusal.target else "?",
            }
        ]
    if refusal.code == "frozen":
        return [
            _(
                "A freeze is in force for this release: '%(target)s' cannot start until it ends "
                "or an emergency override is recorded."
            )
            % {"target": stage_label(variant, refusal.target)}
        ]
    if refusal.code == "not_offered":
        return [_("Stage '%(stage)s' does not offer this action.") % {"stage": stage}]
    return [_("Stage '%s' is not part of this process.") % refusal.stage]
