"""Requesting, editing and moving releases through their process."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.cmdb.models import Application
from relman.core.errors import (
    Conflict,
    GateNotMet,
    PermissionDenied,
    ValidationFailed,
    raise_if_invalid,
)
from relman.processes import engine
from relman.processes import services as processes
from relman.processes.definition import Process, Variant
from relman.processes.messages import describe
from relman.releases import access, signals
from relman.releases.choices import (
    CLOSING_OUTCOMES,
    Action,
    Kind,
    Method,
    Outcome,
    ReleaseClass,
    Risk,
    Status,
)
from relman.releases.models import (
    Approval,
    ChecklistTick,
    Release,
)
from relman.releases.services.common import (
    EDITABLE,
    allocate_number,
    audit_fields,
    check_choice,
    check_fields,
    check_revision,
    resolve,
)
from relman.releases.services.deployed import install_on_close, restore_on_rollback
from relman.releases.services.state import flow_of, snapshot


def create_release(
    actor: Any,
    *,
    application: Application | int | str,
    title: str,
    kind: str,
    method: str = Method.PLANNED,
    release_class: str = ReleaseClass.STANDARD,
    **details: Any,
) -> Release:
    """Request a release: number it, choose its process flow, and place it in the first stage."""
    errors: dict[str, list[str]] = {}
    unknown = set(details) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(_("Unknown fields: %s.") % ", ".join(sorted(unknown)))
    values = {"title": title, **details}
    values.setdefault("risk", Risk.MEDIUM)
    app = resolve(Application, errors, "application", application, "code")
    if app is None and "application" not in errors:
        errors["application"] = [_("An application is required.")]
    check_choice(errors, "kind", kind, Kind)
    check_choice(errors, "method", method, Method)
    check_choice(errors, "release_class", release_class, ReleaseClass)
    check_fields(errors, values)
    raise_if_invalid(errors)
    if not app.is_active:
        raise ValidationFailed(_("Application %s is retired.") % app.code, field="application")
    access.require_create(actor, app.pk)
    access.check_manager(actor, app.pk, values.get("release_manager"))
    version = processes.current_version(app.process_name)
    process = processes.definition(version)
    variant = process.choose_variant(kind, method, release_class)
    if variant is None:
        raise ValidationFailed(
            _("Process '%(process)s' has no flow for a %(kind)s, %(method)s, %(cls)s release.")
            % {"process": version.name, "kind": kind, "method": method, "cls": release_class},
            field="kind",
        )
    with transaction.atomic():
        release = Release(
            application=app,
            kind=kind,
            method=method,
            release_class=release_class,
            requester=actor,
            process=version,
            variant=variant.key,
            stage=engine.first_stage(variant, kind, method, release_class),
            **values,
        )
        release.number = allocate_number(app)
        try:
            with transaction.atomic():
                release.save()
        except IntegrityError as exc:
            raise Conflict(
                _("Release number %s is taken; check the numbering rule.") % release.number
            ) from exc
        audit.record(
            actor,
            "release.created",
            release,
            release=release,
            after={
                "number": release.number,
                "application": app.code,
                "kind": kind,
                "method": method,
                "release_class": release_class,
                "process": f"{version.name} v{version.version}",
                "variant": variant.key,
                "stage": release.stage,
                **audit_fields(release, EDITABLE),
            },
        )
        signals.release_created.send(Release, release=release, actor=actor)
    return release


def update_release(
    actor: Any, ref: Release | str | int, *, revision: int | None = None, **changes: Any
) -> Release:
    """Edit an open release's details; the audit event shows each changed field before and after."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed: %s.") % ", ".join(sorted(unknown))
        )
    errors: dict[str, list[str]] = {}
    check_fields(errors, changes)
    raise_if_invalid(errors)
    with transaction.atomic():
        release = access.get_visible(actor, ref, for_update=True)
        check_revision(release, revision)
        access.require_edit(actor, release)
        if "release_manager" in changes:
            access.check_manager(
                actor, release.application_id, changes["release_manager"], current=release
            )
        merged = {
            **audit_fields(release, ("planned_start", "planned_end", "actual_start", "actual_end")),
            **changes,
        }
        errors = {}
        check_fields(
            errors,
            {k: merged[k] for k in ("planned_start", "planned_end", "actual_start", "actual_end")},
        )
        raise_if_invalid(errors)
        before = audit_fields(release, tuple(changes))
        for name, value in changes.items():
            setattr(release, name, value)
        after = audit_fields(release, tuple(changes))
        changed = {k for k in changes if before[k] != after[k]}
        if not changed:
            return release
        release.revision += 1
        release.save()
        audit.record(
            actor,
            "release.updated",
            release,
            release=release,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return release


def transition(
    actor: Any,
    ref: Release | str | int,
    action: str,
    *,
    revision: int | None,
    target: str = "",
    reason: str = "",
    outcome: str = Outcome.SUCCEEDED,
) -> Release:
    """Move a release along its process: advance, return, roll back, cancel or close.

    The release row is locked and its revision compared, so of two people acting at once
    exactly one wins; the other gets a Conflict.
    """
    if action not in Action.values:
        raise ValidationFailed(_("Unknown action '%s'.") % action, field="action")
    if action == Action.CLOSE and outcome not in CLOSING_OUTCOMES:
        raise ValidationFailed(
            _("A release is closed as succeeded or failed, not '%s'.") % outcome, field="outcome"
        )
    with transaction.atomic():
        release = access.get_visible(actor, ref, for_update=True)
        check_revision(release, revision)
        process, variant = flow_of(release)
        snap = snapshot(release)
        roles = access.release_roles(actor, release)
        found = engine.refusals(
            variant, snap, action, roles, target=target, reason=reason, outcome=outcome
        )
        if found:
            _refuse(process, variant, found)
        move = engine.move(variant, snap, action, target=target, outcome=outcome)
        before = {"stage": release.stage, "status": release.status, "outcome": release.outcome}
        now = timezone.now()
        voided: list[str] = []
        if move.is_open and action in (Action.RETURN, Action.ROLLBACK):
            voided = _void_from(release, variant, snap, move.stage, now)
        release.stage = move.stage
        if not move.is_open:
            release.status = Status.CLOSED
            release.outcome = move.outcome
            release.actual_end = release.actual_end or now
        release.revision += 1
        release.save()
        audit.record(
            actor,
            f"release.{action}",
            release,
            release=release,
            before=before,
            after={"stage": release.stage, "status": release.status, "outcome": release.outcome},
            reason=reason,
        )
        # The CMDB follows the release: a success installs its version on the items it
        # touches, a rollback puts back what it replaced.
        if not move.is_open and move.outcome == Outcome.SUCCEEDED:
            install_on_close(actor, release, now)
        elif action == Action.ROLLBACK:
            restore_on_rollback(actor, release, now)
        signals.release_moved.send(
            Release,
            release=release,
            actor=actor,
            action=action,
            variant=variant,
            before=before["stage"],
            reason=reason,
            voided=voided,
        )
    return release


def _void_from(
    release: Release, variant: Variant, snap: engine.Snapshot, stage: str, now: Any
) -> list[str]:
    """Void the approvals and checklist ticks of `stage` and the stages after it; return
    those stages (the apps that keep decisions of their own void theirs on `release_moved`)."""
    keys = [s.key for s in engine.active_stages(variant, snap)]
    later = keys[keys.index(stage) :]
    Approval.objects.filter(release=release, stage__in=later, voided__isnull=True).update(
        voided=now, void_reason=_("The release returned to an earlier stage.")
    )
    ChecklistTick.objects.filter(release=release, stage__in=later, voided__isnull=True).update(
        voided=now
    )
    return later


def move_back(
    actor: Any, release: Release, variant: Variant, target: str, *, reason: str, action: str
) -> None:
    """Send a locked release back to an earlier stage (after a rejection), voiding what was
    decided from there on. Runs inside the caller's transaction."""
    snap = snapshot(release)
    before = {"stage": release.stage}
    voided = _void_from(release, variant, snap, target, timezone.now())
    release.stage = target
    release.revision += 1
    release.save()
    audit.record(
        actor,
        action,
        release,
        release=release,
        before=before,
        after={"stage": target},
        reason=reason,
    )
    signals.release_moved.send(
        Release,
        release=release,
        actor=actor,
        action=Action.RETURN,
        variant=variant,
        before=before["stage"],
        reason=reason,
        voided=voided,
    )


def _refuse(process: Process, variant: Variant, found: list[engine.Refusal]) -> None:
    """Raise the domain error of the most fundamental refusal, with its messages only: a
    closed release before a missing role, before a missing reason, before an unmet gate."""

    def said(code: str) -> list[str]:
        return [line for r in found if r.code == code for line in describe(process, variant, r)]

    if said("closed"):
        raise Conflict(said("closed")[0])
    if said("role"):
        raise PermissionDenied(" ".join(said("role")))
    if said("reason_required"):
        raise ValidationFailed(said("reason_required")[0], field="reason")
    if said("bad_target"):
        raise ValidationFailed(" ".join(said("bad_target")), field="target")
    if said("gate"):
        raise GateNotMet(" ".join(said("gate")), unmet=said("gate"))
    messages = [line for r in found for line in describe(process, variant, r)]
    raise ValidationFailed(" ".join(messages), field="action")


def advance(actor: Any, ref: Release | str | int, *, revision: int | None) -> Release:
    """Move a release to its next stage, if the current stage's gate is met."""
    return transition(actor, ref, Action.ADVANCE, revision=revision)


def return_to_stage(
    actor: Any, ref: Release | str | int, *, stage: str, reason: str, revision: int | None
) -> Release:
    """Send a release back to an earlier stage, voiding approvals and ticks from there on."""
    return transition(actor, ref, Action.RETURN, revision=revision, target=stage, reason=reason)


def roll_back(
    actor: Any, ref: Release | str | int, *, reason: str, revision: int | None
) -> Release:
    """Record that a deployment failed and was backed out."""
    return transition(actor, ref, Action.ROLLBACK, revision=revision, reason=reason)


def cancel(actor: Any, ref: Release | str | int, *, reason: str, revision: int | None) -> Release:
    """End a release without deploying it."""
    return transition(actor, ref, Action.CANCEL, revision=revision, reason=reason)


def close(
    actor: Any,
    ref: Release | str | int,
    *,
    outcome: str = Outcome.SUCCEEDED,
    reason: str = "",
    revision: int | None,
) -> Release:
    """Close a release from its last stage as succeeded (gate met) or failed (with a reason)."""
    return transition(actor, ref, Action.CLOSE, revision=revision, outcome=outcome, reason=reason)
