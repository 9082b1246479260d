"""A change's state in the tracker it came from (Jira, ServiceNow, ...): recorded by a user
who looks after the change, or by the tracker itself through the signed webhook
(`changes.webhook`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.changes import access
from relman.changes.choices import ExternalSystem
from relman.changes.models import Change
from relman.changes.services.common import check_revision, clean_external, get_change
from relman.core.errors import NotFound, ValidationFailed, raise_if_invalid

FIELDS = ("external_state", "external_url", "external_updated")


def _apply(actor: Any, change: Change, values: dict[str, Any], via: str) -> Change:
    fields = tuple(n for n in FIELDS if n in values and getattr(change, n) != values[n])
    if not fields:
        return change
    before = {n: getattr(change, n) for n in fields}
    for name in fields:
        setattr(change, name, values[name])
    change.revision += 1
    change.save()
    audit.record(
        actor,
        "change.external_refreshed",
        change,
        before=before,
        after={n: getattr(change, n) for n in fields},
        reason=via,
    )
    return change


def refresh_external(
    actor: Any,
    key: Any,
    *,
    state: str,
    url: str | None = None,
    updated: datetime | None = None,
    revision: int | None = None,
) -> Change:
    """Record the change's state in its tracker (and its link there), as a user saw it."""
    errors: dict[str, list[str]] = {}
    raw: dict[str, Any] = {"external_state": state, "external_updated": updated}
    if url is not None:
        raw["external_url"] = url
    values = clean_external(raw, errors)
    raise_if_invalid(errors)
    values["external_updated"] = values.get("external_updated") or timezone.now()
    with transaction.atomic():
        change = get_change(key, for_update=True)
        check_revision(change, revision)
        access.require_refresh_external(actor, change)
        if not change.external_system:
            raise ValidationFailed(
                _("Change %s comes from no external tracker.") % change.number,
                field="external_system",
            )
        return _apply(actor, change, values, "api")


def refresh_from_tracker(
    system: str, key: str, *, state: str, url: str | None = None, updated: datetime | None = None
) -> Change:
    """What the tracker's webhook tells: the state of its issue `key`. Called by the server
    (no user) after the call's signature was checked; a call older than the state already
    recorded (by `updated`) changes nothing, so replays and late deliveries are harmless."""
    if system not in ExternalSystem.values:
        raise NotFound(_("There is no external tracker '%s'.") % system, field="system")
    errors: dict[str, list[str]] = {}
    raw: dict[str, Any] = {"external_state": state, "external_updated": updated}
    if url is not None:
        raw["external_url"] = url
    values = clean_external(raw, errors)
    raise_if_invalid(errors)
    values["external_updated"] = values.get("external_updated") or timezone.now()
    key = str(key or "").strip()
    with transaction.atomic():
        change = (
            Change.objects.select_for_update()
            .filter(external_system=system, external_key=key)
            .first()
            if key
            else None
        )
        if change is None:
            raise NotFound(
                _("No change comes from %(system)s %(key)s.") % {"system": system, "key": key},
                field="key",
            )
        if change.external_updated and values["external_updated"] < change.external_updated:
            return change
        return _apply(None, change, values, f"webhook:{system}")
