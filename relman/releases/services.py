"""The lifecycle services: the only code that changes releases (DESIGN.md rule 1).

Each takes the acting user, checks permission, validates, changes rows in one transaction
and appends the audit event. Views, the API, the CLI and jobs call these.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.cmdb.models import Application, Environment
from relman.core.errors import (
    Conflict,
    GateNotMet,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    raise_if_invalid,
)
from relman.processes import engine
from relman.processes import services as processes
from relman.processes.definition import Process, Variant, pick
from relman.processes.messages import describe, describe_unmet, role_label
from relman.releases import access, storage
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
    Comment,
    Deliverable,
    DeliverableVersion,
    Release,
    ReleaseSequence,
)

User = get_user_model()

# Fields of a release that `update_release` may change, and that the audit log shows.
EDITABLE = (
    "title",
    "description",
    "version_number",
    "environment",
    "release_manager",
    "scope",
    "impact",
    "risk",
    "backout_plan",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
)


# ---------------------------------------------------------------- numbering


class _SeqPlaceholder:
    """Formats as '{seq}' so that a numbering rule without its sequence names its scope."""

    def __format__(self, spec: str) -> str:
        return "{seq}"


def _allocate_number(application: Application) -> str:
    """The next release number by the numbering rule. Runs inside the creating transaction,
    holding a lock on the scope's counter, so numbers are neither skipped nor repeated."""
    rule = settings.RELMAN_RELEASE_NUMBER_FORMAT
    fields = {"year": timezone.localdate().year, "app": application.code.upper()}
    scope = rule.format(**fields, seq=_SeqPlaceholder())
    counter, _created = ReleaseSequence.objects.select_for_update().get_or_create(scope=scope)
    counter.last += 1
    counter.save(update_fields=["last"])
    return rule.format(**fields, seq=counter.last)


def check_number_rule(rule: str) -> None:
    """Refuse a numbering rule without {seq} or with unknown fields."""
    names = {f for _t, f, _s, _c in string.Formatter().parse(rule) if f is not None}
    if "seq" not in names or names - {"seq", "year", "app"}:
        raise ValueError(
            "RELMAN_RELEASE_NUMBER_FORMAT needs {seq} and may use only {year} and {app}"
        )


# ---------------------------------------------------------------- reading state


def snapshot(release: Release) -> engine.Snapshot:
    """What the engine needs to know of a release (three small queries)."""
    approvals = dict(
        Approval.objects.filter(release=release, stage=release.stage, voided__isnull=True)
        .values_list("role_id")
        .annotate(n=Count("id"))
        .values_list("role_id", "n")
    )
    ticks = ChecklistTick.objects.filter(release=release, stage=release.stage, voided__isnull=True)
    from relman.calendar.status import schedule_state  # the calendar builds on releases

    scheduled, frozen = schedule_state(release)
    return engine.Snapshot(
        kind=release.kind,
        method=release.method,
        release_class=release.release_class,
        stage=release.stage,
        is_open=release.status == Status.IN_PROGRESS,
        deliverables=frozenset(release.deliverables.values_list("key", flat=True)),
        approvals=approvals,
        checklist=frozenset(ticks.values_list("item", flat=True)),
        scheduled=scheduled,
        frozen=frozen,
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
    approvable_roles: list[tuple[str, str]]
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
        for rule in current.approvals:
            gate.append(
                {
                    "kind": "approval",
                    "key": rule.role,
                    "label": role_label(process, rule.role),
                    "needed": rule.count,
                    "have": snap.approvals.get(rule.role, 0),
                    "met": ("approval", rule.role) not in missing,
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
    approvable = []
    already_approved = Approval.objects.filter(
        release=release, stage=release.stage, approver_id=user.pk, voided__isnull=True
    ).exists()
    if current is not None and snap.is_open and not already_approved:
        needed = {rule.role for rule in current.approvals}
        approvable = [
            (role, role_label(process, role))
            for role in sorted(needed)
            if access.approval_refusal(user, release, role, needed) is None
        ]
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
        approvable_roles=approvable,
        tickable=bool(current and snap.is_open and roles & set(current.roles)),
    )


# ---------------------------------------------------------------- validation helpers


def _choice(errors: dict, field_name: str, value: Any, choices: type) -> None:
    if value not in choices.values:
        errors.setdefault(field_name, []).append(
            _("'%(value)s' is not one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(choices.values)}
        )


def _resolve(model: type, errors: dict, field_name: str, value: Any, lookup: str) -> Any:
    """An object by id or key, or None with an error noted for the field."""
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    key = str(value)
    found = model.objects.filter(**({"pk": int(key)} if key.isdigit() else {lookup: key})).first()
    if found is None:
        errors.setdefault(field_name, []).append(_("'%s' does not exist.") % key)
    return found


def _check_fields(errors: dict, values: dict[str, Any]) -> None:
    """Checks shared by creating and editing a release."""
    for name in ("description", "version_number", "scope", "impact", "backout_plan"):
        if name in values and values[name] is None:
            values[name] = ""  # a cleared text field is empty, never NULL
    if "title" in values:
        title = (values["title"] or "").strip()
        if not title:
            errors.setdefault("title", []).append(_("A title is required."))
        elif len(title) > 200:
            errors.setdefault("title", []).append(_("At most 200 characters."))
        values["title"] = title
    if "version_number" in values and len(values["version_number"] or "") > 64:
        errors.setdefault("version_number", []).append(_("At most 64 characters."))
    if "risk" in values:
        _choice(errors, "risk", values["risk"], Risk)
    for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
        for name in (start, end):
            if values.get(name) is not None and not isinstance(values[name], datetime):
                errors.setdefault(name, []).append(_("Not a date and time."))
        s, e = values.get(start), values.get(end)
        if isinstance(s, datetime) and isinstance(e, datetime) and e < s:
            errors.setdefault(end, []).append(_("The end is before the start."))
    if values.get("release_manager") is not None:
        manager = _resolve(User, errors, "release_manager", values["release_manager"], "username")
        if manager is not None and not manager.is_active:
            errors.setdefault("release_manager", []).append(_("This user is inactive."))
        values["release_manager"] = manager
    if values.get("environment") is not None:
        values["environment"] = _resolve(
            Environment, errors, "environment", values["environment"], "code"
        )


def _visible_for_update(actor: Any, ref: Release | str | int) -> Release:
    return access.get_visible(actor, ref.pk if isinstance(ref, Release) else ref, for_update=True)


def _check_revision(release: Release, revision: int | None) -> None:
    if revision is not None and revision != release.revision:
        raise Conflict(
            _(
                "Release %(number)s was changed by someone else (your revision %(yours)d, now "
                "%(now)d). Reload it and try again."
            )
            % {"number": release.number, "yours": revision, "now": release.revision}
        )


def _fields(release: Release, names: tuple[str, ...]) -> dict[str, Any]:
    """Field values for the audit log (foreign keys as their id)."""
    return {
        n: getattr(release, f"{n}_id" if n in ("environment", "release_manager") else n)
        for n in names
    }


# ---------------------------------------------------------------- services


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
    app = _resolve(Application, errors, "application", application, "code")
    if app is None and "application" not in errors:
        errors["application"] = [_("An application is required.")]
    _choice(errors, "kind", kind, Kind)
    _choice(errors, "method", method, Method)
    _choice(errors, "release_class", release_class, ReleaseClass)
    _check_fields(errors, values)
    raise_if_invalid(errors)
    if not app.is_active:
        raise ValidationFailed(_("Application %s is retired.") % app.code, field="application")
    access.require_create(actor, app.pk)
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
        release.number = _allocate_number(app)
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
                **_fields(release, EDITABLE),
            },
        )
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
    _check_fields(errors, changes)
    raise_if_invalid(errors)
    with transaction.atomic():
        release = _visible_for_update(actor, ref)
        _check_revision(release, revision)
        access.require_edit(actor, release)
        merged = {
            **_fields(release, ("planned_start", "planned_end", "actual_start", "actual_end")),
            **changes,
        }
        errors = {}
        _check_fields(
            errors,
            {k: merged[k] for k in ("planned_start", "planned_end", "actual_start", "actual_end")},
        )
        raise_if_invalid(errors)
        before = _fields(release, tuple(changes))
        for name, value in changes.items():
            setattr(release, name, value)
        after = _fields(release, tuple(changes))
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
        release = _visible_for_update(actor, ref)
        _check_revision(release, revision)
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
        if move.is_open and action in (Action.RETURN, Action.ROLLBACK):
            keys = [s.key for s in engine.active_stages(variant, snap)]
            later = keys[keys.index(move.stage) :]
            Approval.objects.filter(release=release, stage__in=later, voided__isnull=True).update(
                voided=now
            )
            ChecklistTick.objects.filter(
                release=release, stage__in=later, voided__isnull=True
            ).update(voided=now)
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
    return release


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


def add_deliverable(
    actor: Any,
    ref: Release | str | int,
    *,
    key: str,
    upload: Any = None,
    filename: str = "",
    url: str = "",
    note: str = "",
) -> DeliverableVersion:
    """Add a version of a deliverable: an uploaded file (checked and checksummed) or a link.

    An earlier version is kept; the file is refused whole when it is too large or not what
    its name says.
    """
    release = access.get_visible(actor, ref.pk if isinstance(ref, Release) else ref)
    access.require_edit(actor, release)
    process, _variant = flow_of(release)
    if key not in process.deliverables:
        raise ValidationFailed(
            _("'%(key)s' is not a deliverable of process '%(process)s'. Choose one of: %(keys)s.")
            % {"key": key, "process": process.name, "keys": ", ".join(process.deliverables)},
            field="key",
        )
    if bool(upload) == bool(url):
        raise ValidationFailed(
            _("Give either a file or a link, not both and not neither."), field="file"
        )
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as exc:
            raise ValidationFailed(
                _("'%s' is not a valid http(s) link.") % url, field="url"
            ) from exc
    if len(note) > 500:
        raise ValidationFailed(_("At most 500 characters."), field="note")
    if "\x00" in note:
        raise ValidationFailed(_("A note cannot contain NUL characters."), field="note")
    name = (filename or getattr(upload, "name", "") or "").rsplit("/", 1)[-1][:255]
    stored = storage.store(upload, name) if upload else None
    with transaction.atomic():
        release = _visible_for_update(actor, release)
        access.require_edit(actor, release)
        deliverable, _created = Deliverable.objects.get_or_create(
            release=release,
            key=key,
            defaults={"title": pick(process.deliverables[key], "en")},
        )
        last = (
            deliverable.versions.order_by("-number").values_list("number", flat=True).first() or 0
        )
        version = DeliverableVersion.objects.create(
            deliverable=deliverable,
            number=last + 1,
            file=stored.path if stored else "",
            filename=name if stored else "",
            sha256=stored.sha256 if stored else "",
            size=stored.size if stored else None,
            content_type=stored.content_type if stored else "",
            url=url,
            note=note,
            uploaded_by=actor,
        )
        audit.record(
            actor,
            "deliverable.added",
            version,
            release=release,
            after={
                "deliverable": key,
                "version": version.number,
                "filename": version.filename,
                "sha256": version.sha256,
                "size": version.size,
                "content_type": version.content_type,
                "url": url,
            },
            reason=note,
        )
    return version


def complete_checklist_item(
    actor: Any, ref: Release | str | int, *, item: str, note: str = ""
) -> ChecklistTick:
    """Mark an item of the current stage's checklist done."""
    with transaction.atomic():
        release = _visible_for_update(actor, ref)
        access.require_edit(actor, release)
        process, variant = flow_of(release)
        stage = variant.stage(release.stage)
        if item not in stage.checklist:
            raise ValidationFailed(
                _("'%(item)s' is not on the checklist of this stage. Its items: %(items)s.")
                % {"item": item, "items": ", ".join(stage.checklist) or "-"},
                field="item",
            )
        if not access.release_roles(actor, release) & set(stage.roles):
            roles = ", ".join(role_label(process, r) for r in stage.roles)
            raise PermissionDenied(
                _("Only these roles may tick this stage's checklist: %s.") % roles
            )
        if ChecklistTick.objects.filter(
            release=release, stage=stage.key, item=item, voided__isnull=True
        ).exists():
            raise Conflict(_("This checklist item is already done."))
        tick = ChecklistTick.objects.create(
            release=release, stage=stage.key, item=item, done_by=actor, note=note[:500]
        )
        audit.record(
            actor,
            "checklist.done",
            tick,
            release=release,
            after={"stage": stage.key, "item": item},
            reason=note,
        )
    return tick


def approve(actor: Any, ref: Release | str | int, *, role: str, comment: str = "") -> Approval:
    """Record an approval of the current stage by a holder of `role`.

    Refused to the release's requester, to someone without the role, and to a second
    approval of the same stage by the same person.
    """
    with transaction.atomic():
        release = _visible_for_update(actor, ref)
        _process, variant = flow_of(release)
        stage = variant.stage(release.stage)
        needed = {rule.role for rule in stage.approvals} if stage else set()
        refusal = access.approval_refusal(actor, release, role, needed)
        if refusal:
            raise PermissionDenied(refusal)
        if Approval.objects.filter(
            release=release, stage=stage.key, approver=actor, voided__isnull=True
        ).exists():
            raise Conflict(_("You already approved this stage; one person fills one place."))
        approval = Approval.objects.create(
            release=release, stage=stage.key, role_id=role, approver=actor, comment=comment
        )
        audit.record(
            actor,
            "release.approved",
            approval,
            release=release,
            after={"stage": stage.key, "role": role},
            reason=comment,
        )
    return approval


def add_comment(actor: Any, ref: Release | str | int, *, body: str) -> Comment:
    """Add a comment to a release."""
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(_("A comment cannot be empty."), field="body")
    if len(body) > 10000:
        raise ValidationFailed(_("At most 10000 characters."), field="body")
    with transaction.atomic():
        release = access.get_visible(actor, ref.pk if isinstance(ref, Release) else ref)
        if not access.can_comment(actor, release):
            raise PermissionDenied(_("You may not comment on release %s.") % release.number)
        comment = Comment.objects.create(release=release, author=actor, body=body)
        audit.record(actor, "comment.added", comment, release=release, after={"body": body})
    return comment
