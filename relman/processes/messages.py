"""Engine answers in words: every refusal names the stage and the unmet gate, translated."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.processes.definition import INVOLVED, REQUESTER, ApprovalStep, Process, Variant, pick
from relman.processes.engine import Refusal, Unmet
from relman.processes.gates import Words, installed


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
    """One unmet gate item as a sentence, in the words of the gate that found it."""
    gate = installed().get(unmet.gate)
    if gate is None:
        return _("Stage '%(stage)s' needs the gate '%(gate)s', which is not installed.") % {
            "stage": stage_label(variant, stage),
            "gate": unmet.gate or unmet.key,
        }
    return gate.describe(unmet, Words(process, variant, stage))


def step_label(process: Process, step: ApprovalStep) -> str:
    """Who decides a step, in words: the role, narrowed to a department where the policy says."""
    role = role_label(process, step.role)
    if step.department == REQUESTER:
        return _("%(role)s of the requester's department") % {"role": role}
    if step.department == INVOLVED:
        return _("%(role)s of each department involved") % {"role": role}
    if step.department:
        return _("%(role)s of %(department)s") % {"role": role, "department": step.department}
    return role


def describe(process: Process, variant: Variant, refusal: Refusal) -> list[str]:
    """A refusal as one or more sentences."""
    stage = stage_label(variant, refusal.stage) if refusal.stage else ""
    if refusal.unmet:  # an unmet gate, or a gate's own refusal (the freeze)
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
    if refusal.code == "not_offered":
        return [_("Stage '%(stage)s' does not offer this action.") % {"stage": stage}]
    return [_("Stage '%s' is not part of this process.") % refusal.stage]
