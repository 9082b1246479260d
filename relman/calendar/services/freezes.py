"""Freezes (blackouts) and the emergency overrides that let a release through one.

Inside a freeze nothing in its scope is scheduled (`scheduling`) or deployed (the freeze
gate, `calendar.gates.FreezeGate`, refuses the advance into a `deployment: true` stage),
unless the
release is an emergency with its process's emergency approval and an override recording who
allowed it and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.audit import services as audit
from relman.calendar.models import Freeze, FreezeOverride
from relman.calendar.services.access import require_calendar_admin
from relman.calendar.services.windows import aware, resolve
from relman.calendar.status import in_scope
from relman.cmdb.models import Application, Environment
from relman.core import ids
from relman.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    raise_if_invalid,
)
from relman.processes.messages import role_label
from relman.releases import access
from relman.releases.choices import Method
from relman.releases.models import Approval, Release

FREEZE_FIELDS = ("name", "reason", "starts", "ends", "application", "environment")


def _fields(freeze: Freeze, names: tuple[str, ...] = FREEZE_FIELDS) -> dict[str, Any]:
    return {
        n: getattr(freeze, f"{n}_id" if n in ("application", "environment") else n) for n in names
    }


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out = dict(values)
    for name, most in (("name", 200), ("reason", 5000)):
        if name in out:
            out[name] = (out[name] or "").strip()
            if not out[name]:
                errors[name] = [_("This field is required.")]
            elif len(out[name]) > most:
                errors[name] = [_("At most %d characters.") % most]
    for name in ("starts", "ends"):
        if name in out:
            if isinstance(out[name], str):
                try:
                    out[name] = datetime.fromisoformat(out[name])
                except ValueError:
                    out[name] = None
            if not isinstance(out[name], datetime):
                errors[name] = [_("Not a date and time.")]
            else:
                out[name] = aware(out[name])
    if "application" in out:
        out["application"] = resolve(Application, out["application"], "code", errors, "application")
    if "environment" in out:
        out["environment"] = resolve(Environment, out["environment"], "code", errors, "environment")
    raise_if_invalid(errors)
    return out


def _check_span(freeze: Freeze) -> None:
    if freeze.ends <= freeze.starts:
        raise ValidationFailed(_("The end must be after the start."), field="ends")


def create_freeze(
    actor: Any,
    *,
    name: str,
    reason: str,
    starts: datetime,
    ends: datetime,
    application: Application | int | str | None = None,
    environment: Environment | int | str | None = None,
) -> Freeze:
    """Declare a freeze over an application, an environment, both, or (neither) everything."""
    require_calendar_admin(actor)
    values = _clean(
        {
            "name": name,
            "reason": reason,
            "starts": starts,
            "ends": ends,
            "application": application,
            "environment": environment,
        }
    )
    freeze = Freeze(**values)
    _check_span(freeze)
    with transaction.atomic():
        freeze.save()
        audit.record(actor, "freeze.created", freeze, after=_fields(freeze), reason=freeze.reason)
    return freeze


def get_freeze(freeze_id: int | str) -> Freeze:
    """The freeze by id; NotFound naming it otherwise."""
    key = str(freeze_id)
    freeze = (
        Freeze.objects.select_related("application", "environment")
        .filter(pk=ids.pk_or_none(key))
        .first()
    )
    if freeze is None:
        raise NotFound(_("Freeze %s was not found.") % key)
    return freeze


def update_freeze(actor: Any, freeze_id: int | str, **changes: Any) -> Freeze:
    """Change a freeze (e.g. extend it); the audit event shows each changed field."""
    require_calendar_admin(actor)
    unknown = set(changes) - set(FREEZE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed: %s.") % ", ".join(sorted(unknown))
        )
    values = _clean(changes)
    with transaction.atomic():
        freeze = Freeze.objects.select_for_update().get(pk=get_freeze(freeze_id).pk)
        names = tuple(values)
        before = _fields(freeze, names)
        for name, value in values.items():
            setattr(freeze, name, value)
        _check_span(freeze)
        after = _fields(freeze, names)
        changed = [k for k in names if before[k] != after[k]]
        if not changed:
            return freeze
        freeze.save()
        audit.record(
            actor,
            "freeze.updated",
            freeze,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return freeze


def delete_freeze(actor: Any, freeze_id: int | str, *, reason: str) -> None:
    """Lift a freeze altogether (its overrides go with it); the reason is recorded."""
    require_calendar_admin(actor)
    if not (reason or "").strip():
        raise ValidationFailed(_("Say why the freeze is lifted."), field="reason")
    with transaction.atomic():
        freeze = Freeze.objects.select_for_update().get(pk=get_freeze(freeze_id).pk)
        audit.record(actor, "freeze.deleted", freeze, before=_fields(freeze), reason=reason)
        freeze.delete()


def freezes_between(
    start: datetime,
    end: datetime,
    *,
    application: Application | int | None = None,
    environment: Environment | int | None = None,
) -> QuerySet[Freeze]:
    """Freezes overlapping [start, end) whose scope touches the filter (a freeze without an
    application covers every application); a filter left out does not narrow the list."""
    queryset = Freeze.objects.select_related("application", "environment").filter(
        starts__lt=aware(end), ends__gt=aware(start)
    )
    if application is not None:
        app_id = application.pk if isinstance(application, Application) else application
        queryset = queryset.filter(Q(application__isnull=True) | Q(application_id=app_id))
    if environment is not None:
        env_id = environment.pk if isinstance(environment, Environment) else environment
        queryset = queryset.filter(Q(environment__isnull=True) | Q(environment_id=env_id))
    return queryset.order_by("starts", "pk")


def freezes_blocking(release: Release, start: datetime, end: datetime) -> list[Freeze]:
    """Freezes covering the release that overlap [start, end) and have no override for it."""
    return list(
        Freeze.objects.filter(in_scope(release), starts__lt=end, ends__gt=start)
        .exclude(overrides__release=release)
        .order_by("starts", "pk")
    )


def emergency_refusal(release: Release) -> str | None:
    """Why the release may not act as an emergency (outside a window, inside a freeze); None
    when it may: it is an emergency release and, when its process names an emergency
    approval role, a holder of that role has approved it (a live approval)."""
    from relman.processes import services as processes

    if release.method != Method.EMERGENCY:
        return _("Release %s is not an emergency release.") % release.number
    process = processes.definition(release.process_id)
    role = process.emergency_approval_role
    if (
        role
        and not Approval.objects.filter(release=release, role_id=role, voided__isnull=True).exists()
    ):
        return _("Release %(number)s needs the emergency approval of a %(role)s first.") % {
            "number": release.number,
            "role": role_label(process, role),
        }
    return None


def override_freeze(
    actor: Any, release_ref: Release | int | str, freeze_id: int | str, *, reason: str
) -> FreezeOverride:
    """Let an approved emergency release through a freeze, recording who allowed it and why.

    A user may override when they are the release's manager or owner (or hold the process's
    emergency approval role) and the release is an emergency approved by that role.
    """
    from relman.processes import services as processes

    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the release must go through the freeze."), field="reason")
    with transaction.atomic():
        release = access.get_visible(actor, release_ref, for_update=True)
        freeze = get_freeze(freeze_id)
        process = processes.definition(release.process_id)
        allowed = {BuiltinRole.RELEASE_MANAGER, BuiltinRole.RELEASE_OWNER}
        if process.emergency_approval_role:
            allowed.add(process.emergency_approval_role)
        if release.status != "in_progress":
            raise PermissionDenied(
                _("Release %s is closed; it can no longer change.") % release.number
            )
        if not access.release_roles(actor, release) & allowed:
            raise PermissionDenied(
                _("Only the release manager or owner of %s may override a freeze for it.")
                % release.number
            )
        if not Freeze.objects.filter(in_scope(release), pk=freeze.pk).exists():
            raise ValidationFailed(
                _("The freeze '%(freeze)s' does not cover release %(number)s.")
                % {"freeze": freeze.name, "number": release.number},
                field="freeze",
            )
        refusal = emergency_refusal(release)
        if refusal:
            raise PermissionDenied(refusal)
        try:
            with transaction.atomic():
                override = FreezeOverride.objects.create(
                    release=release, freeze=freeze, approved_by=actor, reason=reason
                )
        except IntegrityError as exc:
            raise Conflict(
                _("Release %(number)s already has an override for the freeze '%(freeze)s'.")
                % {"number": release.number, "freeze": freeze.name}
            ) from exc
        audit.record(
            actor,
            "freeze.overridden",
            override,
            release=release,
            after={"freeze": freeze.pk, "freeze_name": freeze.name, "approved_by": actor.pk},
            reason=reason,
        )
    return override
