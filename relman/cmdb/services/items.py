"""Configuration items: created, changed and retired only here, audited, checked against
their type's attribute schema on every write."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.cmdb import access
from relman.cmdb.attributes import attribute_errors
from relman.cmdb.models import CIType, ConfigurationItem
from relman.cmdb.services.refs import Refs, missing
from relman.core import ids
from relman.core.errors import NotFound, raise_if_invalid

Status = ConfigurationItem.Status
ITEM_FIELDS = (
    "type",
    "name",
    "description",
    "owner_team",
    "environment",
    "application",
    "status",
    "attributes",
)
REFERENCES = ("type", "owner_team", "environment", "application")
MAX_NAME = 200
MAX_DESCRIPTION = 10_000


def clean_item(
    values: dict[str, Any],
    refs: Refs,
    errors: dict[str, list[str]],
    prefix: str = "",
    *,
    current: ConfigurationItem | None = None,
) -> dict[str, Any]:
    """Check the item fields given and turn codes into objects; each problem goes to
    `errors` under `prefix` + its field ("line 734, owner_team"). The attributes are checked
    against the (new or current) type's schema whenever either changes."""
    out: dict[str, Any] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(f"{prefix}{field}", []).append(message)

    for field in REFERENCES:
        if field not in values:
            continue
        value = values[field]
        if value is None or (isinstance(value, str) and not value.strip()):
            if field == "type":
                refuse(field, _("An item type is required."))
            out[field] = None
            continue
        if hasattr(value, "_meta"):
            out[field] = value
            continue
        key = str(value).strip()
        found = refs.get(field, key)
        if found is None:
            refuse(field, missing(field, key))
        out[field] = found
    if "name" in values:
        name = str(values["name"] or "").strip()
        if not name or len(name) > MAX_NAME:
            refuse("name", _("A name of 1 to %d characters is required.") % MAX_NAME)
        elif "\x00" in name:
            refuse("name", _("must not contain NUL characters"))
        out["name"] = name
    if "description" in values:
        text = str(values["description"] or "")
        if len(text) > MAX_DESCRIPTION:
            refuse("description", _("At most %d characters.") % MAX_DESCRIPTION)
        out["description"] = text
    if "status" in values:
        status = str(values["status"] or "").strip() or Status.ACTIVE
        if status not in Status.values:
            refuse(
                "status",
                _("'%(value)s' is not a status; use one of: %(choices)s.")
                % {"value": status, "choices": ", ".join(Status.values)},
            )
        out["status"] = status
    if "attributes" in values:
        out["attributes"] = {} if values["attributes"] is None else values["attributes"]
    if "attributes" in out or "type" in out:
        kind = out.get("type") if "type" in out else getattr(current, "type", None)
        attributes = out.get("attributes", getattr(current, "attributes", {}))
        if isinstance(kind, CIType):
            for field, messages in attribute_errors(kind.schema, attributes).items():
                for message in messages:
                    refuse(field, message)
    return out


def snapshot(item: ConfigurationItem, fields: tuple[str, ...] = ITEM_FIELDS) -> dict[str, Any]:
    """The item's fields for the audit log, references as their codes."""
    out: dict[str, Any] = {}
    for field in fields:
        value = getattr(item, field)
        out[field] = value.code if field in REFERENCES and value is not None else value
    return out


def get_item(key: Any, *, for_update: bool = False) -> ConfigurationItem:
    """An item by id, or NotFound."""
    rows = ConfigurationItem.objects.select_related(
        "type", "owner_team", "environment", "application"
    )
    if for_update:
        rows = rows.select_for_update(of=("self",))
    found = (
        rows.filter(pk=ids.pk_or_none(key)).first()
        if not isinstance(key, ConfigurationItem)
        else rows.filter(pk=key.pk).first()
    )
    if found is None:
        raise NotFound(_("There is no configuration item %s.") % key, field="item")
    return found


def _taken(errors: dict[str, list[str]], kind: Any, name: str, exclude: int | None) -> None:
    if not isinstance(kind, CIType) or not name or "name" in errors:
        return
    others = ConfigurationItem.objects.filter(type=kind, name=name)
    if exclude:
        others = others.exclude(pk=exclude)
    if others.exists():
        errors.setdefault("name", []).append(
            _("There is already a %(type)s named '%(name)s'.") % {"type": kind.code, "name": name}
        )


def create_item(
    actor: Any,
    *,
    type: Any,
    name: str,
    description: str = "",
    owner_team: Any = None,
    environment: Any = None,
    application: Any = None,
    status: str = Status.ACTIVE,
    attributes: dict | None = None,
) -> ConfigurationItem:
    """Add a configuration item; its name is unique among the items of its type."""
    access.require_change(actor)
    errors: dict[str, list[str]] = {}
    values = clean_item(
        {
            "type": type,
            "name": name,
            "description": description,
            "owner_team": owner_team,
            "environment": environment,
            "application": application,
            "status": status,
            "attributes": attributes,
        },
        Refs(),
        errors,
    )
    _taken(errors, values.get("type"), values.get("name", ""), None)
    raise_if_invalid(errors)
    with transaction.atomic():
        item = ConfigurationItem.objects.create(**values)
        audit.record(actor, "ci.created", item, after=snapshot(item))
    return item


def update_item(actor: Any, key: Any, **changes: Any) -> ConfigurationItem:
    """Change an item's fields (only those given); the row is locked while it changes."""
    access.require_change(actor)
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(f"update_item() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        item = get_item(key, for_update=True)
        errors: dict[str, list[str]] = {}
        values = clean_item(changes, Refs(), errors, current=item)
        if "type" in values or "name" in values:
            _taken(errors, values.get("type", item.type), values.get("name", item.name), item.pk)
        raise_if_invalid(errors)
        fields = tuple(values)
        before = snapshot(item, fields)
        for field, value in values.items():
            setattr(item, field, value)
        item.save()
        audit.record(actor, "ci.changed", item, before=before, after=snapshot(item, fields))
    return item


def retire_item(actor: Any, key: Any, *, reason: str = "") -> ConfigurationItem:
    """Mark an item retired. Its relationships and history stay, for the record."""
    access.require_change(actor)
    with transaction.atomic():
        item = get_item(key, for_update=True)
        if item.status == Status.RETIRED:
            return item
        before = item.status
        item.status = Status.RETIRED
        item.save(update_fields=["status", "updated"])
        audit.record(
            actor,
            "ci.retired",
            item,
            before={"status": before},
            after={"status": item.status},
            reason=reason,
        )
    return item
