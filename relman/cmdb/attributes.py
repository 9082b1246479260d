"""Attribute schemas of item types: JSON Schemas checked with `jsonschema`.

A type's schema is checked as a JSON Schema (draft 2020-12) when it is saved; an item's
attributes are checked against its type's schema on every write, with errors that name the
attribute (`attributes.cpu: 'x' is not of type 'integer'`)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema
from django.utils.translation import gettext as _
from referencing.exceptions import Unresolvable

# A schema is reference data, not a document: its JSON text has at most this many bytes.
MAX_SCHEMA_BYTES = 64 * 1024
# Attributes of one item, as JSON text.
MAX_ATTRIBUTES_BYTES = 64 * 1024
# The most problems reported for one value.
MAX_PROBLEMS = 20

Validator = jsonschema.Draft202012Validator


def _json_text(value: Any) -> str | None:
    """The value as JSON text, or None when the database could not store it: NaN and
    Infinity are not JSON, and PostgreSQL refuses the NUL character in text."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None
    return None if "\\u0000" in text else text


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for value in node.values():
            found.extend(_refs(value))
        return found
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def schema_problems(schema: Any) -> list[str]:
    """What is wrong with a type's attribute schema (empty when it is usable)."""
    if not isinstance(schema, dict):
        return [_("The schema must be a JSON object.")]
    text = _json_text(schema)
    if text is None:
        return [_("The schema must be JSON, without NaN, Infinity or NUL characters.")]
    size = len(text.encode())
    if size > MAX_SCHEMA_BYTES:
        return [
            _("The schema has %(size)d bytes; at most %(max)d are allowed.")
            % {"size": size, "max": MAX_SCHEMA_BYTES}
        ]
    if schema.get("type", "object") != "object":
        return [_('The schema must describe an object ("type": "object").')]
    outside = [ref for ref in _refs(schema) if not ref.startswith("#")]
    if outside:
        return [_("The schema may refer only to its own parts ('#/...'), not '%s'.") % outside[0]]
    problems = []
    for error in sorted(Validator(Validator.META_SCHEMA).iter_errors(schema), key=str):
        where = "/".join(str(part) for part in error.absolute_path) or _("the top")
        problems.append(_("At %(where)s: %(message)s") % {"where": where, "message": error.message})
        if len(problems) >= MAX_PROBLEMS:
            break
    if not problems:
        try:
            Validator(schema).is_valid({})
        except Unresolvable as exc:
            problems.append(_("A reference of the schema cannot be resolved: %s.") % exc)
    return problems


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    return Validator(json.loads(schema_json))


def validator_for(schema: dict[str, Any]) -> Any:
    """A compiled validator of the schema (cached by its text: imports check many rows)."""
    return _validator(json.dumps(schema or {}, sort_keys=True))


def attribute_errors(schema: dict[str, Any], attributes: Any) -> dict[str, list[str]]:
    """The attributes' problems against the schema, keyed `attributes.<path>`."""
    if not isinstance(attributes, dict):
        return {"attributes": [_("The attributes must be a JSON object.")]}
    text = _json_text(attributes)
    if text is None:
        return {
            "attributes": [
                _("The attributes must be JSON, without NaN, Infinity or NUL characters.")
            ]
        }
    size = len(text.encode())
    if size > MAX_ATTRIBUTES_BYTES:
        return {
            "attributes": [
                _("The attributes have %(size)d bytes; at most %(max)d are allowed.")
                % {"size": size, "max": MAX_ATTRIBUTES_BYTES}
            ]
        }
    errors: dict[str, list[str]] = {}
    try:
        found = sorted(
            validator_for(schema).iter_errors(attributes),
            key=lambda e: list(map(str, e.absolute_path)),
        )
        for count, error in enumerate(found):
            if count >= MAX_PROBLEMS:
                break
            path = "".join(f".{part}" for part in error.absolute_path)
            errors.setdefault(f"attributes{path}", []).append(error.message)
    except (Unresolvable, jsonschema.exceptions.SchemaError) as exc:
        errors["attributes"] = [_("The type's schema cannot be applied: %s.") % exc]
    return errors
