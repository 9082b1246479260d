"""Deciding approval steps: approve or reject, in person or as a delegate."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relman.approvals.models import PendingStep
from relman.approvals.services import policy
from relman.audit import services as audit
from relman.core.errors import Conflict, PermissionDenied, ValidationFailed
from relman.notifications.services import emit
from relman.processes import engine
from relman.processes.definition import ApprovalStep, Process, Variant, pick
from relman.processes.messages import stage_label, step_label
from relman.releases import access
from relman.releases.choices import Status
from relman.releases.models import Approval, Release
from relman.releases.services.lifecycle import move_back
from relman.releases.services.state import flow_of, snapshot

APPROVE, REJECT = "approve", "reject"


def approve(actor: Any, ref: Any, **kwargs: Any) -> Approval:
    """Approve an open step of the release's current stage."""
    return decide(actor, ref, APPROVE, **kwargs)


def reject(actor: Any, ref: Any, **kwargs: Any) -> Approval:
    """Reject an open step: the release goes back to the stage the policy names."""
    return decide(actor, ref, REJECT, **kwargs)


def decide(
    actor: Any,
    ref: Release | str | int,
    decision: str,
    *,
    step: str = "",
    comment: str = "",
    checks: list[str] | None = None,
    on_behalf_of: Any = None,
    cab_meeting: Any = None,
) -> Approval:
    """Record a decision on a step of the release's current stage.

    The step must be open (earlier steps of the chain decided), the actor (or the person
    they stand in for, by an active delegation) eligible under the policy, the step's
    deliverables present and, to approve, its checks confirmed. A step marked `cab` is
    decided only through a CAB meeting (`cab_meeting`).
    """
    if decision not in (APPROVE, REJECT):
        raise ValidationFailed(_("Decide 'approve' or 'reject'."), field="decision")
    comment = (comment or "").strip()
    if decision == REJECT and not comment:
        raise ValidationFailed(_("A rejection needs a reason."), field="comment")
    if len(comment) > 5000:
        raise ValidationFailed(_("At most 5000 characters."), field="comment")
    with transaction.atomic():
        release = access.get_visible(actor, ref, for_update=True)
        if release.status != Status.IN_PROGRESS:
            raise Conflict(_("Release %s is closed.") % release.number)
        process, variant = flow_of(release)
        stage = variant.stage(release.stage)
        snap = snapshot(release)
        chosen, principal = _choose(process, variant, release, snap, actor, step, on_behalf_of)
        if chosen.cab and cab_meeting is None:
            raise PermissionDenied(
                _("Step '%s' is decided by the CAB at a meeting, not by one member.")
                % step_label(process, chosen)
            )
        present = set(
            release.deliverables.filter(key__in=chosen.deliverables).values_list("key", flat=True)
        )
        missing = [d for d in chosen.deliverables if d not in present]
        if missing:
            names = ", ".join(
                pick(process.deliverables.get(d), get_language()) or d for d in missing
            )
            raise ValidationFailed(
                _("Step '%(step)s' cannot be decided before these deliverables: %(names)s.")
                % {"step": step_label(process, chosen), "names": names},
                field="step",
            )
        confirmed = _confirmed_checks(process, chosen, checks, decision)
        basis = dict(
            release.deliverables.filter(key__in={*chosen.deliverables, *stage.deliverables})
            .order_by()
            .values_list("key")
            .annotate(n=Max("versions__number"))
            .values_list("key", "n")
        )
        approval = Approval.objects.create(
            release=release,
            stage=stage.key,
            step=chosen.key,
            decision=Approval.APPROVED if decision == APPROVE else Approval.REJECTED,
            role_id=chosen.role,
            approver=actor,
            on_behalf_of=principal if principal.pk != actor.pk else None,
            comment=comment,
            checks=confirmed,
            basis=basis,
        )
        after = {
            "stage": stage.key,
            "step": chosen.key,
            "role": chosen.role,
            "decision": approval.decision,
            "on_behalf_of": principal.username if principal.pk != actor.pk else None,
            "checks": confirmed,
            "basis": basis,
        }
        if cab_meeting is not None:
            after["cab_meeting"] = cab_meeting.pk
        audit.record(
            actor,
            f"approval.{approval.decision}",
            approval,
            release=release,
            after=after,
            reason=comment,
        )
        data = {"stage": stage.key, "step": chosen.key, "comment": comment}
        if principal.pk != actor.pk:
            data["on_behalf_of"] = str(principal)
        if decision == REJECT:
            emit("approval.rejected", release, actor=actor, data=data)
            target = chosen.reject_to or _previous_stage(variant, snap)
            if target:
                move_back(
                    actor,
                    release,
                    variant,
                    target,
                    reason=_rejection_reason(process, chosen, comment),
                    action="release.rejected",
                )
            else:
                refresh_steps(release)
        else:
            emit("approval.approved", release, actor=actor, data=data)
            refresh_steps(release)
    return approval


def _rejection_reason(process: Process, step: ApprovalStep, comment: str) -> str:
    return _("Rejected at step '%(step)s': %(comment)s") % {
        "step": step_label(process, step),
        "comment": comment,
    }


def _previous_stage(variant: Variant, snap: engine.Snapshot) -> str:
    keys = [s.key for s in engine.active_stages(variant, snap)]
    here = keys.index(snap.stage)
    return keys[here - 1] if here > 0 else ""


def _choose(
    process: Process,
    variant: Variant,
    release: Release,
    snap: engine.Snapshot,
    actor: Any,
    step_key: str,
    on_behalf_of: Any,
) -> tuple[ApprovalStep, Any]:
    """The step to decide and the person it is decided for, or the reason why not."""
    stage = variant.stage(release.stage)
    steps = engine.steps_of(stage, snap) if stage else []
    if not steps:
        raise ValidationFailed(
            _("Stage '%s' has no approval steps.") % stage_label(variant, release.stage),
            field="step",
        )
    open_keys = {s.key for s in engine.open_steps(stage, snap)}
    escalated = policy.escalated_steps(release)
    filled = policy.filled_by(release)
    principals = _principals(actor, on_behalf_of)
    if step_key:
        step = stage.step(step_key)
        if step is None or step not in steps:
            raise ValidationFailed(
                _("'%(key)s' is not a step of this stage. Its steps: %(keys)s.")
                % {"key": step_key, "keys": ", ".join(s.key for s in steps)},
                field="step",
            )
        candidates = [step]
    else:
        candidates = [s for s in steps if s.key in open_keys]
    if actor.pk in filled:
        raise Conflict(
            _("You already decided in this stage of %s; one person fills one place.")
            % release.number
        )
    reasons: list[str] = []
    for step in candidates:
        principal = None
        for person in principals:
            why = policy.refusal(
                process,
                release,
                step,
                actor,
                person,
                escalated=step.key in escalated,
                filled=filled,
            )
            if why is None:
                principal = person
                break
            reasons.append(why)
        if principal is None:
            continue
        if step.key not in open_keys:
            if engine.step_done(step, snap):
                raise Conflict(_("Step '%s' is already decided.") % step_label(process, step))
            waiting = [s for s in engine.open_steps(stage, snap) if s.group < step.group]
            raise Conflict(
                _("Step '%(step)s' waits for %(before)s first.")
                % {
                    "step": step_label(process, step),
                    "before": ", ".join(step_label(process, s) for s in waiting),
                }
            )
        return step, principal
    if not candidates:
        raise Conflict(_("No approval step of release %s is open.") % release.number)
    raise PermissionDenied(reasons[0] if reasons else _("You may not decide this step."))


def _principals(actor: Any, on_behalf_of: Any) -> list[Any]:
    """Whom the actor may decide for: themselves first, then those they stand in for."""
    delegators = policy.active_delegators(actor)
    if on_behalf_of in (None, ""):
        return [actor, *delegators]
    username = getattr(on_behalf_of, "username", on_behalf_of)
    match = [d for d in delegators if d.username == username]
    if not match:
        if not get_user_model().objects.filter(username=username).exists():
            raise ValidationFailed(_("There is no user '%s'.") % username, field="on_behalf_of")
        raise PermissionDenied(
            _("You do not stand in for %s now: there is no active delegation.") % username
        )
    return match


def _confirmed_checks(
    process: Process, step: ApprovalStep, checks: list[str] | None, decision: str
) -> list[str]:
    """The step's items the approver confirms: to approve, every one of them."""
    given = list(dict.fromkeys(checks or ()))
    unknown = [c for c in given if c not in step.checks]
    if unknown:
        raise ValidationFailed(
            _("'%(items)s' is not checked at this step. Its items: %(keys)s.")
            % {"items": ", ".join(unknown), "keys": ", ".join(step.checks) or "-"},
            field="checks",
        )
    missing = [c for c in step.checks if c not in given]
    if decision == APPROVE and missing:
        names = "; ".join(pick(process.checklist.get(c), get_language()) or c for c in missing)
        raise ValidationFailed(
            _("Confirm every item of this step before approving. Not confirmed: %s.") % names,
            field="checks",
        )
    return given


def refresh_steps(release: Release) -> None:
    """Open and close the release's pending steps, and tell the approvers of new ones."""
    _process, variant = flow_of(release)
    stage = variant.stage(release.stage)
    snap = snapshot(release)
    for _pending, step in policy.sync_steps(release, stage, snap):
        emit(
            "approval.requested",
            release,
            data={"stage": release.stage, "step": step.key},
            users=policy.with_delegates(policy.eligible_users(release, step)),
        )


def void_for_deliverable(actor: Any, release: Release, key: str, number: int) -> list[Approval]:
    """A new version of a deliverable voids the live decisions of the current stage that saw
    an older one; their steps open again. Runs inside the caller's transaction."""
    now = timezone.now()
    voided = [
        a
        for a in Approval.objects.filter(release=release, stage=release.stage, voided__isnull=True)
        if key in a.basis and a.basis[key] != number
    ]
    for approval in voided:
        approval.voided = now
        approval.void_reason = _("Deliverable '%(key)s' changed to version %(number)d.") % {
            "key": key,
            "number": number,
        }
        approval.save(update_fields=["voided", "void_reason"])
        audit.record(
            actor,
            "approval.voided",
            approval,
            release=release,
            before={"step": approval.step, "decision": approval.decision},
            after={"deliverable": key, "version": number},
            reason=approval.void_reason,
        )
        emit(
            "approval.voided",
            release,
            actor=actor,
            data={
                "stage": approval.stage,
                "step": approval.step,
                "deliverable": key,
                "version": number,
            },
            users=[approval.approver],
        )
    if voided:
        refresh_steps(release)
    return voided


def open_waiting_steps() -> int:
    """Open the pending steps of every open release that has none (releases from before
    approval policies, or loaded without the services). Idempotent; returns how many
    steps it opened. Approvers are not notified of these."""
    opened = 0
    for release in Release.objects.filter(status=Status.IN_PROGRESS).exclude(
        pk__in=PendingStep.objects.filter(closed__isnull=True).values("release_id")
    ):
        with transaction.atomic():
            _process, variant = flow_of(release)
            stage = variant.stage(release.stage)
            opened += len(policy.sync_steps(release, stage, snapshot(release)))
    return opened
