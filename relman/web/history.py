"""A release's audit history in words, for its page: labels instead of keys and ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relman.cmdb.models import Environment
from relman.processes.definition import Process, pick
from relman.releases.choices import Kind, Method, Outcome, ReleaseClass, Risk, Status
from relman.releases.models import Release

# Audit actions in words. The log stores codes; an unknown code is shown as it is.
AUDIT_ACTIONS = {
    "release.created": _("Requested"),
    "release.updated": _("Details edited"),
    "release.advance": _("Advanced"),
    "release.return": _("Returned"),
    "release.rollback": _("Rolled back"),
    "release.cancel": _("Cancelled"),
    "release.close": _("Closed"),
    "release.approved": _("Approved"),
    "approval.approved": _("Approved"),
    "approval.rejected": _("Rejected"),
    "approval.voided": _("Approval voided"),
    "approval.escalated": _("Approval escalated"),
    "release.rejected": _("Sent back after a rejection"),
    "readiness.go": _("Readiness: go"),
    "cab.item_added": _("Put on a CAB agenda"),
    "cab.decided": _("CAB decision"),
    "readiness.no_go": _("Readiness: no-go"),
    "deliverable.added": _("Deliverable added"),
    "checklist.done": _("Checklist item done"),
    "comment.added": _("Comment added"),
    "release.scheduled": _("Scheduled"),
    "release.rescheduled": _("Rescheduled"),
    "release.unscheduled": _("Unscheduled"),
    "freeze.overridden": _("Freeze overridden"),
    "release.items_changed": _("Configuration items changed"),
    "release.teams_changed": _("Involved departments changed"),
    "release.impact_reviewed": _("Impact confirmed"),
    "release.cmdb_updated": _("CMDB updated"),
    "release.cmdb_restored": _("CMDB versions restored"),
    "release.changes_changed": _("Changes carried changed"),
    "change.reviewed": _("Change reviewed"),
    "change.implemented": _("Change implemented"),
    "change.closed": _("Change closed"),
}
# Names of values that audit events carry and that are not fields of a release.
AUDIT_FIELDS = {
    "deliverable": _("deliverable"),
    "version": _("version"),
    "filename": _("file name"),
    "sha256": "SHA-256",
    "size": _("size"),
    "content_type": _("content type"),
    "url": _("link"),
    "item": _("checklist item"),
    "role": _("role"),
    "body": _("comment"),
    "variant": _("flow"),
    "window_name": _("release window"),
    "occurrence_start": _("window occurrence"),
    "start": _("start"),
    "end": _("end"),
    "outside_window_reason": _("why outside a window"),
    "freeze_name": _("freeze"),
    "step": _("approval step"),
    "decision": _("decision"),
    "on_behalf_of": _("on behalf of"),
    "checks": _("items checked"),
    "basis": _("deliverable versions seen"),
    "criteria": _("release criteria"),
    "meeting_title": _("CAB meeting"),
    "starts": _("meeting starts"),
    "items": _("configuration items"),
    "teams": _("involved departments"),
    "changes": _("changes"),
    "achieved": _("aim achieved"),
    "side_effects": _("side effects"),
    "touched": _("touched items"),
    "affected": _("affected items"),
    "roles": _("roles"),
    "versions": _("deployed versions"),
    "application": _("application"),
    "on": _("when"),
    "note": _("note"),
}
# Ids shown beside their names (window_name, freeze_name): left out of the history.
HIDDEN = {
    "window",
    "freeze",
    "approved_by",
    "review",
    "cab_meeting",
    "meeting",
    "approval",
    "position",
}
# Values that are times, stored in UTC ISO form: shown in local time.
TIMES = {
    "starts",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "occurrence_start",
    "start",
    "end",
}
CHOICES = {
    "status": Status,
    "outcome": Outcome,
    "kind": Kind,
    "method": Method,
    "release_class": ReleaseClass,
    "risk": Risk,
}
LONG_VALUE = 80
SHOWN_AT_ONCE = 4


@dataclass
class Change:
    """One value an event changed or set."""

    field: str
    before: str | None  # None when the event has no "before" for it
    after: str


def field_name(key: str) -> str:
    """The name of a value in an audit event."""
    if key in AUDIT_FIELDS:
        return str(AUDIT_FIELDS[key])
    try:
        field = Release._meta.get_field(key)
    except FieldDoesNotExist:
        return key
    return str(getattr(field, "verbose_name", key))  # a reverse relation has none


def shown(key: str, value: Any, names: dict[str, dict[Any, str]]) -> str:
    """A value in words: keys and ids as their labels, long text shortened."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str | int) and value in names.get(key, {}):
        return names[key][value]
    if key in CHOICES and value in CHOICES[key].values:
        return str(CHOICES[key](value).label)
    text = str(value)
    if key == "sha256":
        return text[:12] + "…"
    if key in TIMES:
        try:
            return timezone.localtime(datetime.fromisoformat(text)).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return text
    return text if len(text) <= LONG_VALUE else text[: LONG_VALUE - 1] + "…"


def changes(event: Any, names: dict[str, dict[Any, str]]) -> list[Change]:
    """What an event changed (or set), leaving out empty values and unchanged ones."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    found = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if key in HIDDEN or (old in (None, "") and new in (None, "")):
            continue
        if key in before and old == new:
            continue
        found.append(
            Change(
                field_name(key),
                shown(key, old, names) if key in before else None,
                shown(key, new, names),
            )
        )
    return found


def vocabulary(
    events: list[Any], process: Process, stages: dict[str, str], language: str | None
) -> dict[str, dict[Any, str]]:
    """Labels for the keys and ids the events hold (two small queries at most)."""
    referenced: dict[str, set[Any]] = {"release_manager": set(), "environment": set()}
    for event in events:
        for values in (event.before, event.after):
            if isinstance(values, dict):
                for key, ids in referenced.items():
                    if isinstance(values.get(key), int):
                        ids.add(values[key])
    names: dict[str, dict[Any, str]] = {
        "stage": stages,
        "item": {key: pick(label, language) for key, label in process.checklist.items()},
        "deliverable": {key: pick(label, language) for key, label in process.deliverables.items()},
        "role": {key: pick(label, language) for key, label in process.roles.items()},
        "release_manager": {},
        "environment": {},
    }
    if referenced["release_manager"]:
        users = get_user_model().objects.filter(pk__in=referenced["release_manager"])
        names["release_manager"] = {user.pk: str(user) for user in users}
    if referenced["environment"]:
        environments = Environment.objects.filter(pk__in=referenced["environment"])
        names["environment"] = {env.pk: str(env) for env in environments}
    return names


def history(
    release: Release, process: Process, stages: dict[str, str], language: str | None
) -> list[Any]:
    """The release's audit events in order, each with `changes` in words (the first few
    in `changes_shown`, the rest in `changes_more`)."""
    events = list(release.audit_events.order_by("seq"))
    names = vocabulary(events, process, stages, language)
    for event in events:
        found = changes(event, names)
        event.changes_shown = found[:SHOWN_AT_ONCE]
        event.changes_more = found[SHOWN_AT_ONCE:]
    return events
