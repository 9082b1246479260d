"""API schemas of the CMDB: item types, items, relationships, deployed versions, impact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field, field_validator

from relman.cmdb.models import ConfigurationItem, Relationship
from relman.core.ids import Id
from relman.core.validators import DateTime, reject_nul

Status = ConfigurationItem.Status
Kind = Relationship.Kind


class CmdbInput(Schema):
    """A request body. Its text may not hold NUL characters, which the database refuses."""

    _no_nul = field_validator("*", mode="after")(reject_nul)


def _code(obj: Any, name: str) -> str | None:
    related = getattr(obj, name, None)
    return related.code if related is not None else None


# ---------------------------------------------------------------- types


class TypeOut(Schema):
    code: str
    name: str
    description: str
    is_service: bool
    schema_: dict[str, Any] = Field(..., alias="schema", description="JSON Schema of attributes")

    @staticmethod
    def resolve_schema_(obj: Any) -> dict[str, Any]:
        return obj.schema


class TypeIn(CmdbInput):
    """An item type with the JSON Schema (draft 2020-12) its items' attributes must satisfy."""

    code: str = Field(..., min_length=1, max_length=40, examples=["load_balancer"])
    name: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=10_000)
    schema_: dict[str, Any] = Field(
        default_factory=dict,
        alias="schema",
        examples=[{"type": "object", "properties": {"vip": {"type": "string"}}}],
    )
    is_service: bool = False


class TypePatch(CmdbInput):
    """Changes to a type; only the fields given change."""

    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=10_000)
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    is_service: bool | None = None


# ---------------------------------------------------------------- items


class ItemRow(Schema):
    id: int
    type: str
    name: str
    description: str
    owner_team: str | None
    environment: str | None
    application: str | None
    status: str
    attributes: dict[str, Any]
    updated: datetime

    @staticmethod
    def resolve_type(obj: Any) -> str:
        return obj.type.code

    @staticmethod
    def resolve_owner_team(obj: Any) -> str | None:
        return _code(obj, "owner_team")

    @staticmethod
    def resolve_environment(obj: Any) -> str | None:
        return _code(obj, "environment")

    @staticmethod
    def resolve_application(obj: Any) -> str | None:
        return _code(obj, "application")


class ItemPage(Schema):
    items: list[ItemRow]
    next: str | None = Field(None, description="Cursor of the next page; null on the last")


class ItemIn(CmdbInput):
    """A configuration item; its attributes must satisfy its type's schema."""

    type: str = Field(..., min_length=1, max_length=40, description="Item type code")
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    owner_team: str | None = Field(None, max_length=40, description="Team code")
    environment: str | None = Field(None, max_length=40, description="Environment code")
    application: str | None = Field(None, max_length=40, description="Application code")
    status: Status = Status.ACTIVE
    attributes: dict[str, Any] = Field(default_factory=dict)


class ItemPatch(CmdbInput):
    """Changes to an item; only the fields given change (null clears a reference)."""

    type: str | None = Field(None, min_length=1, max_length=40)
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    owner_team: str | None = Field(None, max_length=40)
    environment: str | None = Field(None, max_length=40)
    application: str | None = Field(None, max_length=40)
    status: Status | None = None
    attributes: dict[str, Any] | None = None


class RetireIn(CmdbInput):
    reason: str = Field("", max_length=2000)


class RelatedOut(Schema):
    """A relationship seen from one item: its kind and the item at the other end."""

    id: int
    kind: str
    item_id: int
    item: str
    item_type: str


class VersionOut(Schema):
    id: int
    application: str
    version: str
    release: str | None = Field(None, description="The number of the release that put it there")
    installed: datetime
    removed: datetime | None
    previous_version: str | None = Field(None, description="What was there before")
    note: str

    @staticmethod
    def resolve_application(obj: Any) -> str:
        return obj.application.code

    @staticmethod
    def resolve_release(obj: Any) -> str | None:
        return obj.release.number if obj.release_id else None

    @staticmethod
    def resolve_previous_version(obj: Any) -> str | None:
        return obj.previous.version if obj.previous_id else None


class ItemDetail(ItemRow):
    created: datetime
    is_service: bool
    depends_on_this: list[RelatedOut] = Field(
        ..., description="Relationships whose target is this item (the other end is the source)"
    )
    this_depends_on: list[RelatedOut] = Field(
        ..., description="Relationships whose source is this item (the other end is the target)"
    )
    current_versions: list[VersionOut]
    history: list[VersionOut]


class VersionIn(CmdbInput):
    """A version of an application now running on the item, recorded by hand."""

    application: str = Field(..., min_length=1, max_length=40, description="Application code")
    version: str = Field(..., min_length=1, max_length=64)
    installed: DateTime | None = Field(None, description="When; now when left out")
    note: str = Field("", max_length=300)


# ---------------------------------------------------------------- relationships and impact


class RelationshipIn(CmdbInput):
    source: Id
    kind: Kind
    target: Id


class RelationshipOut(Schema):
    id: int
    source: int
    source_name: str
    kind: str
    target: int
    target_name: str

    @staticmethod
    def resolve_source(obj: Any) -> int:
        return obj.source_id

    @staticmethod
    def resolve_target(obj: Any) -> int:
        return obj.target_id

    @staticmethod
    def resolve_source_name(obj: Any) -> str:
        return obj.source.name

    @staticmethod
    def resolve_target_name(obj: Any) -> str:
        return obj.target.name


class HopOut(Schema):
    item_id: int
    kind: str
    reverse: bool = Field(..., description="True when the kind is read from the previous item")


class AffectedOut(Schema):
    id: int
    name: str
    type: str
    is_service: bool
    owner_team: str
    depth: int
    path: list[int] = Field(..., description="Item ids from the changed item to this one")
    path_names: list[str]
    hops: list[HopOut]


class ImpactOut(Schema):
    item_id: int
    item: str
    depth: int
    affected: list[AffectedOut]


class CountsOut(Schema):
    created: int
    updated: int
    unchanged: int


class ImportOut(Schema):
    dry_run: bool
    sha256: str
    types: CountsOut
    items: CountsOut
    relationships: CountsOut
