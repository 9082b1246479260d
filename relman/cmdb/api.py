"""Applications and environments (reference data, `/api/v1/applications`), and the CMDB
itself (`/api/v1/cmdb/...`): item types, items, relationships, deployed versions, impact,
import and export. Every signed-in user may read; writes follow `cmdb.access`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import BeforeValidator, Field

from relman.cmdb import impact, services, transfer
from relman.cmdb.filters import ItemFilters
from relman.cmdb.models import Application, CIType, Environment
from relman.cmdb.schemas import (
    ImpactOut,
    ImportOut,
    ItemDetail,
    ItemIn,
    ItemPage,
    ItemPatch,
    RelationshipIn,
    RelationshipOut,
    RetireIn,
    TypeIn,
    TypeOut,
    TypePatch,
    VersionIn,
    VersionOut,
)
from relman.cmdb.services import reads
from relman.core.api import ERRORS, WRITE_ERRORS
from relman.core.errors import ValidationFailed
from relman.core.ids import Id
from relman.core.validators import whole_number

router = Router(tags=["reference data"])


class ApplicationOut(Schema):
    code: str
    name: str
    process: str
    is_active: bool

    @staticmethod
    def resolve_process(obj: Any) -> str:
        return obj.process_name


class EnvironmentOut(Schema):
    code: str
    name: str
    is_production: bool


@router.get(
    "", response={200: list[ApplicationOut], **ERRORS}, summary="Applications and their processes"
)
def list_applications(request: HttpRequest) -> Any:
    return Application.objects.filter(is_active=True)


@router.get("/environments", response={200: list[EnvironmentOut], **ERRORS}, summary="Environments")
def list_environments(request: HttpRequest) -> Any:
    return Environment.objects.all()


# ---------------------------------------------------------------- the CMDB: /api/v1/cmdb/...

cmdb_router = Router(tags=["cmdb"])

# How many hops an impact question may walk.
Depth = Annotated[int, Field(ge=1, le=impact.MAX_DEPTH), BeforeValidator(whole_number)]


def _related(rel: Any, other: Any) -> dict[str, Any]:
    return {
        "id": rel.pk,
        "kind": rel.kind,
        "item_id": other.pk,
        "item": other.name,
        "item_type": other.type.code,
    }


def item_detail(key: Any) -> Any:
    """An item for its detail payload: its fields, relationships both ways, versions."""
    item = reads.item_detail(key)
    history = list(item.versions.all())
    item.is_service = item.type.is_service
    item.depends_on_this = [_related(rel, rel.source) for rel in item.incoming.all()]
    item.this_depends_on = [_related(rel, rel.target) for rel in item.outgoing.all()]
    item.current_versions = [v for v in history if v.removed is None]
    item.history = history
    return item


@cmdb_router.get(
    "/types", response={200: list[TypeOut], **ERRORS}, summary="Item types", by_alias=True
)
def list_types(request: HttpRequest) -> Any:
    return CIType.objects.order_by("code")


@cmdb_router.post(
    "/types",
    response={201: TypeOut, **WRITE_ERRORS},
    summary="Add an item type with its attribute schema",
    by_alias=True,
)
def create_type(request: HttpRequest, payload: TypeIn) -> Status:
    data = payload.model_dump()
    data["schema"] = data.pop("schema_")
    return Status(201, services.create_type(request.user, **data))


@cmdb_router.patch(
    "/types/{code}",
    response={200: TypeOut, **WRITE_ERRORS},
    summary="Change an item type or its schema",
    by_alias=True,
)
def update_type(request: HttpRequest, code: str, payload: TypePatch) -> Any:
    changes = payload.model_dump(exclude_unset=True)
    if "schema_" in changes:
        changes["schema"] = changes.pop("schema_") or {}
    for name in ("name", "description", "is_service"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(_("This field cannot be null."), field=name)
    return services.update_type(request.user, code, **changes)


@cmdb_router.get("/items", response={200: ItemPage, **ERRORS}, summary="List configuration items")
def list_items(request: HttpRequest, filters: Query[ItemFilters]) -> dict[str, Any]:
    """Items filtered by type, owner team, environment, status, application and name, one
    keyset page at a time (ordered by name)."""
    rows, next_cursor = filters.page(reads.items())
    return {"items": rows, "next": next_cursor}


@cmdb_router.post(
    "/items", response={201: ItemDetail, **WRITE_ERRORS}, summary="Add a configuration item"
)
def create_item(request: HttpRequest, payload: ItemIn) -> Status:
    item = services.create_item(request.user, **payload.model_dump())
    return Status(201, item_detail(item.pk))


@cmdb_router.get(
    "/items/{item_id}",
    response={200: ItemDetail, **ERRORS},
    summary="An item with its relationships and deployed versions",
)
def get_item(request: HttpRequest, item_id: Id) -> Any:
    return item_detail(item_id)


@cmdb_router.patch(
    "/items/{item_id}", response={200: ItemDetail, **WRITE_ERRORS}, summary="Change an item"
)
def update_item(request: HttpRequest, item_id: Id, payload: ItemPatch) -> dict[str, Any]:
    changes = payload.model_dump(exclude_unset=True)
    for name in ("type", "name", "description", "status", "attributes"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(_("This field cannot be null."), field=name)
    services.update_item(request.user, item_id, **changes)
    return item_detail(item_id)


@cmdb_router.post(
    "/items/{item_id}/retire",
    response={200: ItemDetail, **WRITE_ERRORS},
    summary="Retire an item",
)
def retire_item(request: HttpRequest, item_id: Id, payload: RetireIn) -> dict[str, Any]:
    services.retire_item(request.user, item_id, reason=payload.reason)
    return item_detail(item_id)


@cmdb_router.get(
    "/items/{item_id}/versions",
    response={200: list[VersionOut], **ERRORS},
    summary="The versions deployed on an item, newest first",
)
def version_history(request: HttpRequest, item_id: Id) -> Any:
    return reads.version_history(item_id)


@cmdb_router.post(
    "/items/{item_id}/versions",
    response={201: VersionOut, **WRITE_ERRORS},
    summary="Record the version now deployed on an item",
)
def record_version(request: HttpRequest, item_id: Id, payload: VersionIn) -> Status:
    row = services.record_deployed_version(request.user, item_id, **payload.model_dump())
    return Status(201, reads.versions().get(pk=row.pk))


@cmdb_router.get(
    "/items/{item_id}/impact",
    response={200: ImpactOut, **ERRORS},
    summary="What a change to an item affects, with the paths that explain it",
)
def item_impact(request: HttpRequest, item_id: Id, depth: Depth = impact.DEFAULT_DEPTH) -> Any:
    """Items that depend on, run on, contain or connect to the item, up to `depth` hops,
    nearest first; each with its shortest path from the item."""
    item, rows = reads.impact_of(item_id, depth)
    return {
        "item_id": item.pk,
        "item": item.name,
        "depth": depth,
        "affected": [
            {
                "id": row.affected.id,
                "name": row.affected.name,
                "type": row.affected.type_code,
                "is_service": row.affected.is_service,
                "owner_team": row.affected.owner_team,
                "depth": row.affected.depth,
                "path": list(row.affected.path),
                "path_names": list(row.path_names),
                "hops": [
                    {"item_id": hop.ci, "kind": hop.kind, "reverse": hop.reverse}
                    for hop in row.affected.hops
                ],
            }
            for row in rows
        ],
    }


@cmdb_router.post(
    "/relationships",
    response={201: RelationshipOut, **WRITE_ERRORS},
    summary="Relate two items",
)
def add_relationship(request: HttpRequest, payload: RelationshipIn) -> Status:
    rel = services.add_relationship(request.user, payload.source, payload.kind, payload.target)
    return Status(201, rel)


@cmdb_router.delete(
    "/relationships/{relationship_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a relationship",
)
def remove_relationship(request: HttpRequest, relationship_id: Id) -> Status:
    services.remove_relationship(request.user, relationship_id)
    return Status(204, None)


@cmdb_router.post(
    "/import",
    response={200: ImportOut, **WRITE_ERRORS},
    summary="Import types, items or relationships from a CSV or JSON file",
)
def import_file(
    request: HttpRequest,
    file: UploadedFile = File(...),
    what: Form[Literal["types", "items", "relationships"] | None] = None,
    dry_run: Form[bool] = False,
) -> Any:
    """Multipart form: `file` (CSV or JSON, by its name or first character), `what` the CSV
    file holds, and `dry_run` to check without writing. Any bad row refuses the whole file
    with every problem by line and field; nothing is half-imported."""
    report = transfer.import_file(
        request.user, file, filename=file.name or "", what=what, dry_run=dry_run
    )
    return {"dry_run": report.dry_run, "sha256": report.sha256, **report.counts()}


@cmdb_router.get(
    "/export",
    response={200: None, **ERRORS},
    summary="Export types, items or relationships as CSV or JSON",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        }
    },
)
def export(
    request: HttpRequest,
    format: Literal["csv", "json"] = "csv",
    what: Literal["items", "relationships", "types", "all"] = "items",
) -> HttpResponse:
    """A file to download; `what=all` (JSON only) holds the whole CMDB, ready to import."""
    text, content_type, filename = transfer.export(what, format)
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
