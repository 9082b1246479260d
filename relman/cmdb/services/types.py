"""Configuration item types and their attribute schemas: created and changed only here."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.cmdb import access
from relman.cmdb.attributes import attribute_errors, schema_problems
from relman.cmdb.models import CIType
from relman.core.errors import NotFound, raise_if_invalid

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TYPE_FIELDS = ("code", "name", "description", "schema", "is_service")
# How many items that the new schema refuses a schema change names.
NAMED_ITEMS = 5


def clean_type(values: dict[str, Any], errors: dict[str, list[str]], prefix: str = "") -> dict:
    """Check and normalise type fields (those given); problems go to `errors`, keyed by field
    (after `prefix`, e.g. "line 3, ")."""
    out = dict(values)
    if "code" in out:
        out["code"] = str(out["code"] or "").strip().lower()
        if not CODE.match(out["code"]):
            errors.setdefault(f"{prefix}code", []).append(
                _("Use 1 to 40 lower-case letters, digits, '-' or '_'.")
            )
    if "name" in out:
        out["name"] = str(out["name"] or "").strip()
        if not out["name"] or len(out["name"]) > 100:
            errors.setdefault(f"{prefix}name", []).append(
                _("A name of 1 to 100 characters is required.")
            )
    if "description" in out:
        out["description"] = str(out["description"] or "")
        if len(out["description"]) > 10_000:
            errors.setdefault(f"{prefix}description", []).append(_("At most 10,000 characters."))
    if "schema" in out:
        out["schema"] = {} if out["schema"] is None else out["schema"]
        for problem in schema_problems(out["schema"]):
            errors.setdefault(f"{prefix}schema", []).append(problem)
    if "is_service" in out and not isinstance(out["is_service"], bool):
        errors.setdefault(f"{prefix}is_service", []).append(_("true or false is expected."))
    return out


def get_type(key: Any) -> CIType:
    """A type by code (or id), or NotFound."""
    from relman.core import ids

    found = CIType.objects.filter(**ids.lookup(key, "code")).first()
    if found is None:
        raise NotFound(_("There is no item type '%s'.") % key, field="type")
    return found


def create_type(
    actor: Any,
    *,
    code: str,
    name: str,
    description: str = "",
    schema: dict | None = None,
    is_service: bool = False,
) -> CIType:
    """Add an item type with the JSON Schema its items' attributes must satisfy."""
    access.require_change(actor)
    errors: dict[str, list[str]] = {}
    values = clean_type(
        {
            "code": code,
            "name": name,
            "description": description,
            "schema": schema,
            "is_service": is_service,
        },
        errors,
    )
    if "code" not in errors and CIType.objects.filter(code=values["code"]).exists():
        errors["code"] = [_("The code '%s' is taken.") % values["code"]]
    raise_if_invalid(errors)
    with transaction.atomic():
        made = CIType.objects.create(**values)
        audit.record(actor, "citype.created", made, after=values)
    return made


def update_type(actor: Any, key: Any, **changes: Any) -> CIType:
    """Change a type's name, description, service flag or schema. A new schema must accept
    the attributes of the type's items as they are: the refusal names the first that fail."""
    access.require_change(actor)
    unknown = set(changes) - set(TYPE_FIELDS[1:])
    if unknown:
        raise TypeError(f"update_type() got unexpected fields {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    values = clean_type(changes, errors)
    raise_if_invalid(errors)
    with transaction.atomic():
        found = get_type(key)
        kind = CIType.objects.select_for_update().get(pk=found.pk)
        if "schema" in values and values["schema"] != kind.schema:
            failing = []
            for name, attributes in kind.items.values_list("name", "attributes").iterator(
                chunk_size=2000
            ):
                problems = attribute_errors(values["schema"], attributes)
                if problems:
                    field, messages = next(iter(problems.items()))
                    failing.append(f"'{name}' ({field}: {messages[0]})")
                    if len(failing) >= NAMED_ITEMS:
                        break
            if failing:
                raise_if_invalid(
                    {
                        "schema": [
                            _("Items of this type do not satisfy the new schema: %s.")
                            % "; ".join(failing)
                        ]
                    }
                )
        before = {name: getattr(kind, name) for name in values}
        for name, value in values.items():
            setattr(kind, name, value)
        kind.save()
        audit.record(actor, "citype.changed", kind, before=before, after=values)
    return kind
