"""Release endpoints: list, create, detail, edit, lifecycle actions, deliverables, comments, audit."""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import F
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from relman.audit.exports import to_csv, to_json
from relman.core.api import ERRORS, WRITE_ERRORS
from relman.core.errors import NotFound
from relman.core.ids import Id
from relman.releases import access, services, storage
from relman.releases.choices import Action
from relman.releases.filters import SORT_COLUMNS, ReleaseFilters
from relman.releases.models import (
    ChecklistTick,
    Comment,
    Deliverable,
    DeliverableVersion,
    Release,
)
from relman.releases.schemas import (
    ROW_COLUMNS,
    ActionIn,
    AuditEventOut,
    AuditExportRow,
    ChecklistIn,
    ChecklistOut,
    CommentIn,
    CommentOut,
    DeliverableOut,
    DeliverableVersionOut,
    ReleaseDetail,
    ReleaseIn,
    ReleasePage,
    ReleasePatch,
)

router = Router(tags=["releases"])


def detail(user: Any, release: Release) -> dict[str, Any]:
    """A release's detail payload, with its state for this user."""
    state = services.release_state(user, release)
    return {
        **{f: getattr(release, f) for f in ReleaseDetail.model_fields if hasattr(release, f)},
        "application": release.application.code,
        "requester": release.requester.username,
        "environment": release.environment.code if release.environment_id else None,
        "release_manager": release.release_manager.username if release.release_manager_id else None,
        "process": release.process.name,
        "process_version": release.process.version,
        "stages": [vars(s) for s in state.stages],
        "gate": state.gate,
        "unmet": state.unmet,
        "actions": [
            {
                "action": a.action,
                "label": a.label,
                "allowed": a.allowed,
                "reasons": a.reasons,
                "targets": [k for k, _l in a.targets],
            }
            for a in state.actions
        ],
        "decidable_steps": [
            {
                "step": d.step.key,
                "on_behalf_of": d.principal.username if d.principal.pk != user.pk else None,
            }
            for d in state.decidable
        ],
    }


@router.get("", response={200: ReleasePage, **ERRORS}, summary="List releases")
def list_releases(request: HttpRequest, filters: Query[ReleaseFilters]) -> dict[str, Any]:
    """Releases the caller may see, filtered and ordered, one keyset page at a time."""
    queryset = access.visible_releases(request.user).values(
        *ROW_COLUMNS,
        *SORT_COLUMNS,
        application_code=F("application__code"),
        requester_username=F("requester__username"),
    )
    rows, next_cursor = filters.page(queryset)
    return {"items": rows, "next": next_cursor}


@router.post("", response={201: ReleaseDetail, **WRITE_ERRORS}, summary="Request a release")
def create_release(request: HttpRequest, payload: ReleaseIn) -> Status:
    data = payload.model_dump(exclude_unset=True)
    release = services.create_release(
        request.user,
        application=data.pop("application"),
        title=data.pop("title"),
        kind=data.pop("kind"),
        method=data.pop("method", "planned"),
        release_class=data.pop("release_class", "standard"),
        **data,
    )
    return Status(201, detail(request.user, access.get_visible(request.user, release.pk)))


@router.get(
    "/{ref}",
    response={200: ReleaseDetail, **ERRORS},
    summary="A release, with its gate and allowed actions",
)
def get_release(request: HttpRequest, ref: str) -> dict[str, Any]:
    return detail(request.user, access.get_visible(request.user, ref))


@router.patch(
    "/{ref}", response={200: ReleaseDetail, **WRITE_ERRORS}, summary="Edit a release's details"
)
def update_release(request: HttpRequest, ref: str, payload: ReleasePatch) -> dict[str, Any]:
    changes = payload.model_dump(exclude_unset=True)
    revision = changes.pop("revision")
    release = services.update_release(request.user, ref, revision=revision, **changes)
    return detail(request.user, access.get_visible(request.user, release.pk))


@router.post(
    "/{ref}/actions/{action}",
    response={200: ReleaseDetail, **WRITE_ERRORS},
    summary="Advance, return, roll back, cancel or close",
)
def act(request: HttpRequest, ref: str, action: Action, payload: ActionIn) -> dict[str, Any]:
    """Take a lifecycle action. 422 names every unmet gate; 409 means someone acted first."""
    release = services.transition(
        request.user,
        ref,
        action,
        revision=payload.revision,
        target=payload.target,
        reason=payload.reason,
        outcome=payload.outcome,
    )
    return detail(request.user, access.get_visible(request.user, release.pk))


@router.get("/{ref}/checklist", response={200: list[ChecklistOut], **ERRORS})
def list_checklist(request: HttpRequest, ref: str) -> Any:
    release = access.get_visible(request.user, ref)
    return ChecklistTick.objects.filter(release=release, voided__isnull=True).select_related(
        "done_by"
    )


@router.post(
    "/{ref}/checklist",
    response={201: ChecklistOut, **WRITE_ERRORS},
    summary="Tick a checklist item",
)
def tick(request: HttpRequest, ref: str, payload: ChecklistIn) -> Status:
    return Status(
        201,
        services.complete_checklist_item(request.user, ref, item=payload.item, note=payload.note),
    )


@router.get("/{ref}/deliverables", response={200: list[DeliverableOut], **ERRORS})
def list_deliverables(request: HttpRequest, ref: str) -> Any:
    release = access.get_visible(request.user, ref)
    return Deliverable.objects.filter(release=release).prefetch_related(
        "versions__uploaded_by", "versions__deliverable__release"
    )


@router.post(
    "/{ref}/deliverables",
    response={201: DeliverableVersionOut, **WRITE_ERRORS},
    summary="Upload a deliverable file or add a link",
)
def add_deliverable(
    request: HttpRequest,
    ref: str,
    key: Form[str],
    url: Form[str] = "",
    note: Form[str] = "",
    file: UploadedFile | None = File(None),
) -> Status:
    """Multipart form: `key` (a deliverable of the release's process), and `file` or `url`."""
    version = services.add_deliverable(request.user, ref, key=key, upload=file, url=url, note=note)
    return Status(201, version)


@router.get(
    "/{ref}/deliverables/{key}/versions/{number}/file",
    response={200: None, **ERRORS},
    summary="Download a file",
)
def download(request: HttpRequest, ref: str, key: str, number: Id) -> HttpResponse:
    release = access.get_visible(request.user, ref)
    version = (
        DeliverableVersion.objects.filter(
            deliverable__release=release, deliverable__key=key, number=number
        )
        .exclude(file="")
        .first()
    )
    if version is None:
        raise NotFound(_("That deliverable version has no file."))
    try:
        handle = storage.open_stored(version.file)
    except FileNotFoundError as exc:
        raise NotFound(
            _("The stored file of this version is missing; tell an administrator.")
        ) from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=version.filename,
        content_type=version.content_type,
    )
    response["ETag"] = f'"{version.sha256}"'
    response["X-Checksum-SHA256"] = version.sha256
    return response


@router.get("/{ref}/comments", response={200: list[CommentOut], **ERRORS})
def list_comments(request: HttpRequest, ref: str) -> Any:
    release = access.get_visible(request.user, ref)
    return Comment.objects.filter(release=release).select_related("author")


@router.post("/{ref}/comments", response={201: CommentOut, **WRITE_ERRORS})
def add_comment(request: HttpRequest, ref: str, payload: CommentIn) -> Status:
    return Status(201, services.add_comment(request.user, ref, body=payload.body))


@router.get(
    "/{ref}/audit",
    # `?format=json` answers the export file (its columns as in CSV), else the event list
    response={200: list[AuditEventOut] | list[AuditExportRow], **ERRORS},
    summary="A release's audit history",
    # and `?format=csv` answers CSV. The key is the integer 200, as Ninja's own: a string
    # "200" made the served document name the status twice, which Swagger UI refuses.
    openapi_extra={"responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}},
)
def release_audit(
    request: HttpRequest, ref: str, format: Literal["json", "csv"] | None = None
) -> Any:
    """The release's events in order. `?format=csv` or `?format=json` downloads a file."""
    release = access.get_visible(request.user, ref)
    events = release.audit_events.order_by("seq")
    if format == "csv":
        response = HttpResponse(to_csv(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{release.number}-audit.csv"'
        return response
    if format == "json":
        response = HttpResponse(to_json(events), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{release.number}-audit.json"'
        return response
    return list(events)
