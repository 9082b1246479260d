"""Requests for change: requested, edited, submitted, approved or rejected, cancelled; only
here, each audited (DESIGN.md rule 1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.changes import access
from relman.changes.choices import CLOSED, ChangeType, Risk, Status
from relman.changes.choices import Approval as ApprovalState
from relman.changes.models import Change, ReleaseChange
from relman.changes.services.common import (
    MAX_TEXT,
    allocate_number,
    check_revision,
    clean_change,
    get_change,
    snapshot,
)
from relman.core.errors import Conflict, PermissionDenied, ValidationFailed, raise_if_invalid
from relman.releases.services.scope import resolve_items

# Fields `update_change` may change, and that the audit log shows.
EDITABLE = (
    "title",
    "description",
    "type",
    "risk",
    "application",
    "planned_start",
    "planned_end",
    "external_system",
    "external_key",
    "external_url",
)


def _item_names(change: Change) -> list[str]:
    return sorted(change.items.values_list("name", flat=True))


def _taken(message_field: str, change: Change | None, values: dict[str, Any]) -> None:
    system = values.get("external_system", getattr(change, "external_system", ""))
    key = values.get("external_key", getattr(change, "external_key", ""))
    if not key:
        return
    others = Change.objects.filter(external_system=system, external_key=key)
    if change is not None:
        others = others.exclude(pk=change.pk)
    found = others.values_list("number", flat=True).first()
    if found:
        raise Conflict(
            _("%(system)s %(key)s is already change %(number)s.")
            % {"system": system, "key": key, "number": found},
            field=message_field,
        )


def create_change(
    actor: Any,
    *,
    title: str,
    description: str = "",
    type: str = ChangeType.NORMAL,
    risk: str = Risk.MEDIUM,
    application: Any = None,
    planned_start: Any = None,
    planned_end: Any = None,
    items: Iterable[Any] = (),
    external_system: str = "",
    external_key: str = "",
    external_url: str = "",
    external_state: str = "",
    submit: bool = False,
) -> Change:
    """Request a change, numbered by `RELMAN_CHANGE_NUMBER_FORMAT`; a draft unless `submit`
    sends it to change management at once."""
    errors: dict[str, list[str]] = {}
    values = clean_change(
        {
            "title": title,
            "description": description,
            "type": type,
            "risk": risk,
            "application": application,
            "planned_start": planned_start,
            "planned_end": planned_end,
            "external_system": external_system,
            "external_key": external_key,
            "external_url": external_url,
            "external_state": external_state,
        },
        errors,
    )
    raise_if_invalid(errors)
    app = values.get("application")
    access.require_request(actor, app.pk if app is not None else None)
    chosen = resolve_items(items)
    _taken("external_key", None, values)
    if values.get("external_state"):
        values["external_updated"] = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                change = Change.objects.create(
                    number=allocate_number(),
                    requester=actor,
                    status=Status.SUBMITTED if submit else Status.DRAFT,
                    approval=ApprovalState.PENDING if submit else ApprovalState.NOT_REQUESTED,
                    **values,
                )
        except IntegrityError as exc:  # another request took the external key meanwhile
            raise Conflict(
                _("%(system)s %(key)s is already a change.")
                % {"system": external_system, "key": external_key},
                field="external_key",
            ) from exc
        change.items.set(chosen)
        audit.record(
            actor,
            "change.created",
            change,
            after={
                **snapshot(change, (*EDITABLE, "status")),
                "number": change.number,
                "items": _item_names(change),
            },
        )
    return change


def update_change(
    actor: Any,
    key: Any,
    *,
    revision: int | None = None,
    items: Iterable[Any] | None = None,
    **changes: Any,
) -> Change:
    """Change a draft, submitted or rejected change's details (only those given) and, with
    `items`, the configuration items it affects; at the caller's revision."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"update_change() got unexpected fields {sorted(unknown)}")
    chosen = resolve_items(items) if items is not None else None
    with transaction.atomic():
        change = get_change(key, for_update=True)
        check_revision(change, revision)
        access.require_edit(actor, change)
        errors: dict[str, list[str]] = {}
        values = clean_change(changes, errors, current=change)
        raise_if_invalid(errors)
        if "application" in values and values["application"] != change.application:
            app = values["application"]
            access.require_request(actor, app.pk if app is not None else None)
        if "external_system" in values or "external_key" in values:
            _taken("external_key", change, values)
        fields = tuple(n for n in values if getattr(change, n) != values[n])
        before = snapshot(change, fields)
        items_before = _item_names(change)
        for name in fields:
            setattr(change, name, values[name])
        if chosen is not None:
            change.items.set(chosen)
        items_after = _item_names(change)
        if not fields and items_before == items_after:
            return change
        change.revision += 1
        change.save()
        if items_before != items_after:
            before["items"], after_items = items_before, {"items": items_after}
        else:
            after_items = {}
        audit.record(
            actor,
            "change.updated",
            change,
            before=before,
            after={**snapshot(change, fields), **after_items},
        )
    return change


def _move(
    actor: Any,
    change: Change,
    action: str,
    status: str,
    approval: str,
    *,
    note: str = "",
    decided: bool = False,
) -> Change:
    before = {"status": change.status, "approval": change.approval}
    change.status, change.approval = status, approval
    if decided:
        change.decided_by, change.decided, change.decision_note = actor, timezone.now(), note
    change.revision += 1
    change.save()
    audit.record(
        actor,
        action,
        change,
        before=before,
        after={"status": change.status, "approval": change.approval},
        reason=note,
    )
    return change


def _note(note: str, *, required: bool = False) -> str:
    note = (note or "").strip()
    if len(note) > MAX_TEXT:
        raise ValidationFailed(_("At most %d characters.") % MAX_TEXT, field="note")
    if "\x00" in note:
        raise ValidationFailed(_("must not contain NUL characters"), field="note")
    if required and not note:
        raise ValidationFailed(_("Say why the change is rejected."), field="note")
    return note


def submit_change(actor: Any, key: Any, *, revision: int | None = None) -> Change:
    """Send a draft (or a rejected change, reworked) to change management for approval."""
    with transaction.atomic():
        change = get_change(key, for_update=True)
        check_revision(change, revision)
        access.require_edit(actor, change)
        if change.status == Status.SUBMITTED:
            return change
        return _move(actor, change, "change.submitted", Status.SUBMITTED, ApprovalState.PENDING)


def _decide(actor: Any, key: Any, revision: int | None, approve: bool, note: str) -> Change:
    note = _note(note, required=not approve)
    with transaction.atomic():
        change = get_change(key, for_update=True)
        check_revision(change, revision)
        access.require_decide(actor, change)
        if change.status != Status.SUBMITTED:
            raise PermissionDenied(
                _("Change %(number)s is %(status)s; only a submitted change is decided.")
                % {"number": change.number, "status": Status(change.status).label.lower()},
                field="status",
            )
        if approve:
            return _move(
                actor,
                change,
                "change.approved",
                Status.APPROVED,
                ApprovalState.APPROVED,
                note=note,
                decided=True,
            )
        return _move(
            actor,
            change,
            "change.rejected",
            Status.REJECTED,
            ApprovalState.REJECTED,
            note=note,
            decided=True,
        )


def approve_change(actor: Any, key: Any, *, revision: int | None = None, note: str = "") -> Change:
    """Change management approves a submitted change: a CAB member of its application who
    did not request it (`access.can_decide`)."""
    return _decide(actor, key, revision, True, note)


def reject_change(actor: Any, key: Any, *, revision: int | None = None, note: str = "") -> Change:
    """Change management rejects a submitted change, saying why."""
    return _decide(actor, key, revision, False, note)


def cancel_change(actor: Any, key: Any, *, revision: int | None = None, reason: str = "") -> Change:
    """Withdraw a change that is not yet implemented; it must first leave any open release."""
    reason = _note(reason)
    with transaction.atomic():
        change = get_change(key, for_update=True)
        check_revision(change, revision)
        if change.status in CLOSED or change.status == Status.IMPLEMENTED:
            raise PermissionDenied(
                _("Change %(number)s is %(status)s; it can no longer be cancelled.")
                % {"number": change.number, "status": Status(change.status).label.lower()},
                field="status",
            )
        if not (access.can_refresh_external(actor, change) or access.can_decide(actor, change)):
            raise PermissionDenied(_("You may not cancel %s.") % change.number)
        carrying = (
            ReleaseChange.objects.filter(change=change, is_open=True)
            .values_list("release__number", flat=True)
            .first()
        )
        if carrying:
            raise Conflict(
                _("Change %(number)s is carried by release %(release)s; remove it there first.")
                % {"number": change.number, "release": carrying},
                field="change",
            )
        return _move(
            actor,
            change,
            "change.cancelled",
            Status.CANCELLED,
            change.approval,
            note=reason,
        )
