"""Relationships between items: added and removed only here, audited. An item is never
related to itself and a relationship is never there twice; cycles are allowed (a service
and its portal may depend on each other) and impact analysis ends them."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.cmdb import access
from relman.cmdb.models import ConfigurationItem, Relationship
from relman.core import ids
from relman.core.errors import NotFound, raise_if_invalid

Kind = Relationship.Kind


def kind_error(kind: Any) -> str | None:
    """The refusal of a relationship kind, or None when it is one."""
    if kind in Kind.values:
        return None
    return _("'%(value)s' is not a relationship kind; use one of: %(choices)s.") % {
        "value": kind,
        "choices": ", ".join(Kind.values),
    }


def _item(key: Any, field: str, errors: dict[str, list[str]]) -> ConfigurationItem | None:
    pk = key.pk if isinstance(key, ConfigurationItem) else ids.pk_or_none(key)
    found = ConfigurationItem.objects.filter(pk=pk).first()
    if found is None:
        errors.setdefault(field, []).append(_("There is no configuration item %s.") % key)
    return found


def describe(rel: Relationship) -> dict[str, Any]:
    return {
        "source": rel.source_id,
        "source_name": rel.source.name,
        "kind": rel.kind,
        "target": rel.target_id,
        "target_name": rel.target.name,
    }


def add_relationship(actor: Any, source: Any, kind: str, target: Any) -> Relationship:
    """Record that `source` depends on / runs on / is part of / connects to `target`."""
    access.require_change(actor)
    errors: dict[str, list[str]] = {}
    problem = kind_error(kind)
    if problem:
        errors["kind"] = [problem]
    source_item = _item(source, "source", errors)
    target_item = _item(target, "target", errors)
    if source_item and target_item and source_item.pk == target_item.pk:
        errors.setdefault("target", []).append(_("An item cannot be related to itself."))
    if (
        not errors
        and Relationship.objects.filter(source=source_item, target=target_item, kind=kind).exists()
    ):
        errors["target"] = [
            _("'%(source)s' already %(kind)s '%(target)s'.")
            % {"source": source_item.name, "kind": Kind(kind).label, "target": target_item.name}
        ]
    raise_if_invalid(errors)
    try:
        with transaction.atomic():
            rel = Relationship.objects.create(source=source_item, target=target_item, kind=kind)
            audit.record(actor, "relationship.added", rel, after=describe(rel))
    except IntegrityError as exc:  # the same relationship, added meanwhile by someone else
        raise_if_invalid({"target": [_("This relationship exists already.")]})
        raise exc
    return rel


def remove_relationship(actor: Any, relationship_id: Any) -> None:
    """Remove a relationship."""
    access.require_change(actor)
    with transaction.atomic():
        rel = (
            Relationship.objects.select_related("source", "target")
            .select_for_update(of=("self",))
            .filter(pk=ids.pk_or_none(relationship_id))
            .first()
        )
        if rel is None:
            raise NotFound(
                _("There is no relationship %s.") % relationship_id, field="relationship"
            )
        before = describe(rel)
        audit.record(actor, "relationship.removed", rel, before=before)
        rel.delete()
