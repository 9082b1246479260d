"""Requests for change (`/api/v1/changes`), their reviews, the tracker webhook, and the
changes a release carries (`/api/v1/releases/{ref}/changes`). Every signed-in user may
read; writes go through the change services, which follow `changes.access`."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import ValidationError

from relman.changes import services, webhook
from relman.changes.filters import ChangeFilters
from relman.changes.models import Change, ChangeReview
from relman.changes.schemas import (
    ChangeDecisionIn,
    ChangeDetail,
    ChangeExternalIn,
    ChangeIn,
    ChangePage,
    ChangePatch,
    ChangeReviewIn,
    ChangeReviewOut,
    ChangeRevisionIn,
    ReleaseChangeOut,
    ReleaseChangesIn,
    WebhookIn,
    WebhookOut,
)
from relman.core.api import ERRORS, WRITE_ERRORS, ErrorOut
from relman.core.errors import ValidationFailed
from relman.releases import access as release_access

router = Router(tags=["changes"])
release_router = Router(tags=["changes"])


def _review(review: ChangeReview) -> dict[str, Any]:
    return {
        "change": review.change.number,
        "release": review.release.number,
        "achieved": review.achieved,
        "side_effects": review.side_effects,
        "reviewer": review.reviewer.get_username(),
        "created": review.created,
    }


def _reviews(change: Change) -> list[dict[str, Any]]:
    rows = ChangeReview.objects.filter(change=change).select_related(
        "change", "release", "reviewer"
    )
    return [_review(r) for r in rows]


def change_detail(key: Any) -> Change:
    """A change with its items, the releases carrying it and its reviews (five queries)."""
    change = services.get_change(key)
    change.items_rows = [
        {"id": ci.pk, "name": ci.name, "type": ci.type.code}
        for ci in change.items.select_related("type").order_by("name", "id")
    ]
    links = change.release_links.select_related("release").order_by("-release_id")
    change.carriers = [
        {"number": link.release.number, "title": link.release.title, "open": link.is_open}
        for link in links
    ]
    change.review_rows = _reviews(change)
    return change


def _detail(key: Any) -> Change:
    return change_detail(key)


# ---------------------------------------------------------------- the tracker webhook


@router.post(
    "/webhook/{system}",
    auth=None,
    response={200: WebhookOut, **WRITE_ERRORS, 503: ErrorOut},
    summary="Refresh a change's external state from its tracker (signed, no token)",
    openapi_extra={
        "parameters": [
            {
                "in": "header",
                "name": webhook.SIGNATURE_HEADER,
                "required": True,
                "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
                "description": "HMAC-SHA256 of the raw body (or `<timestamp>.<body>`) under "
                "RELMAN_CHANGE_WEBHOOK_SECRET, in hex",
            },
            {
                "in": "header",
                "name": webhook.TIMESTAMP_HEADER,
                "required": False,
                "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
                "description": "Unix time of the call; signed with the body, and refused when "
                "older than RELMAN_CHANGE_WEBHOOK_MAX_AGE_SECONDS",
            },
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": WebhookIn.model_json_schema()}},
        },
    },
)
def tracker_webhook(request: HttpRequest, system: str) -> Any:
    """The tracker tells the state of one of its issues; the signature is checked on the
    raw body before anything is read. A call older than the state recorded changes nothing."""
    webhook.check_size(request.META.get("CONTENT_LENGTH"))
    body = request.body
    webhook.verify(
        body,
        request.headers.get(webhook.SIGNATURE_HEADER),
        request.headers.get(webhook.TIMESTAMP_HEADER),
    )
    try:
        data = json.loads(body)
        payload = WebhookIn.model_validate(data)
    except (ValueError, UnicodeDecodeError, ValidationError) as exc:
        raise ValidationFailed(
            _("The body is not a JSON object with key and state: %s") % str(exc)[:300],
            field="request",
        ) from exc
    change = services.refresh_from_tracker(
        system, payload.key, state=payload.state, url=payload.url, updated=payload.updated
    )
    return {
        "change": change.number,
        "external_state": change.external_state,
        "external_updated": change.external_updated,
    }


# ---------------------------------------------------------------- changes


@router.get("", response={200: ChangePage, **ERRORS}, summary="List requests for change")
def list_changes(request: HttpRequest, filters: Query[ChangeFilters]) -> dict[str, Any]:
    """Changes filtered by status, type, approval, risk, application, requester, tracker,
    carrying release and text, one keyset page at a time (newest first)."""
    rows, next_cursor = filters.page(Change.objects.select_related("application", "requester"))
    return {"items": rows, "next": next_cursor}


@router.post("", response={201: ChangeDetail, **WRITE_ERRORS}, summary="Request a change")
def create_change(request: HttpRequest, payload: ChangeIn) -> Status:
    data = payload.model_dump()
    data["external_system"] = data["external_system"] or ""
    change = services.create_change(request.user, **data)
    return Status(201, _detail(change))


@router.get("/{number}", response={200: ChangeDetail, **ERRORS}, summary="A change")
def get_change(request: HttpRequest, number: str) -> Any:
    return _detail(number)


@router.patch("/{number}", response={200: ChangeDetail, **WRITE_ERRORS}, summary="Edit a change")
def update_change(request: HttpRequest, number: str, payload: ChangePatch) -> Any:
    changes = payload.model_dump(exclude_unset=True)
    revision = changes.pop("revision", None)
    for name in ("title", "type", "risk"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(_("This field cannot be null."), field=name)
    for name in ("description", "external_key", "external_url", "external_system"):
        if name in changes and changes[name] is None:
            changes[name] = ""
    services.update_change(request.user, number, revision=revision, **changes)
    return _detail(number)


@router.post(
    "/{number}/submit",
    response={200: ChangeDetail, **WRITE_ERRORS},
    summary="Send a change to change management",
)
def submit_change(request: HttpRequest, number: str, payload: ChangeRevisionIn) -> Any:
    services.submit_change(request.user, number, revision=payload.revision)
    return _detail(number)


@router.post(
    "/{number}/approve",
    response={200: ChangeDetail, **WRITE_ERRORS},
    summary="Approve a submitted change (a CAB member who did not request it)",
)
def approve_change(request: HttpRequest, number: str, payload: ChangeDecisionIn) -> Any:
    services.approve_change(request.user, number, revision=payload.revision, note=payload.note)
    return _detail(number)


@router.post(
    "/{number}/reject",
    response={200: ChangeDetail, **WRITE_ERRORS},
    summary="Reject a submitted change, saying why",
)
def reject_change(request: HttpRequest, number: str, payload: ChangeDecisionIn) -> Any:
    services.reject_change(request.user, number, revision=payload.revision, note=payload.note)
    return _detail(number)


@router.post(
    "/{number}/cancel",
    response={200: ChangeDetail, **WRITE_ERRORS},
    summary="Withdraw a change not yet implemented",
)
def cancel_change(request: HttpRequest, number: str, payload: ChangeRevisionIn) -> Any:
    services.cancel_change(request.user, number, revision=payload.revision, reason=payload.reason)
    return _detail(number)


@router.put(
    "/{number}/external",
    response={200: ChangeDetail, **WRITE_ERRORS},
    summary="Record a change's state in its external tracker",
)
def refresh_external(request: HttpRequest, number: str, payload: ChangeExternalIn) -> Any:
    services.refresh_external(
        request.user,
        number,
        state=payload.state,
        url=payload.url,
        updated=payload.updated,
        revision=payload.revision,
    )
    return _detail(number)


@router.get(
    "/{number}/review",
    response={200: list[ChangeReviewOut], **ERRORS},
    summary="The reviews of a change, one per release that carried it",
)
def list_reviews(request: HttpRequest, number: str) -> Any:
    return _reviews(services.get_change(number))


@router.post(
    "/{number}/review",
    response={201: ChangeReviewOut, **WRITE_ERRORS},
    summary="Review a change after its release",
)
def review_change(request: HttpRequest, number: str, payload: ChangeReviewIn) -> Status:
    """Once its release is closed, or in the release's closing stage; by the release's
    manager, or a release manager or change owner of its application."""
    review = services.review_change(
        request.user,
        number,
        achieved=payload.achieved,
        side_effects=payload.side_effects,
        release=payload.release,
    )
    return Status(201, _review(review))


# ---------------------------------------------------------------- the changes of a release


def _carried(release: Any) -> list[dict[str, Any]]:
    return [
        {
            "number": link.change.number,
            "title": link.change.title,
            "type": link.change.type,
            "status": link.change.status,
            "approval": link.change.approval,
            "risk": link.change.risk,
            "requester": link.change.requester.get_username(),
            "added_by": link.added_by.get_username(),
            "added": link.created,
            "reviews": [
                {
                    "change": link.change.number,
                    "release": release.number,
                    "achieved": r.achieved,
                    "side_effects": r.side_effects,
                    "reviewer": r.reviewer.get_username(),
                    "created": r.created,
                }
                for r in link.change.release_reviews
            ],
        }
        for link in services.release_changes(release)
    ]


@release_router.get(
    "/{ref}/changes",
    response={200: list[ReleaseChangeOut], **ERRORS},
    summary="The changes a release carries",
)
def list_release_changes(request: HttpRequest, ref: str) -> Any:
    return _carried(release_access.get_visible(request.user, ref))


def _change(request: HttpRequest, ref: str, how: str, payload: ReleaseChangesIn) -> Any:
    release = services.change_release_changes(
        request.user, ref, how, payload.changes, revision=payload.revision
    )
    return _carried(release)


@release_router.put(
    "/{ref}/changes",
    response={200: list[ReleaseChangeOut], **WRITE_ERRORS},
    summary="Set the changes a release carries",
)
def set_release_changes(request: HttpRequest, ref: str, payload: ReleaseChangesIn) -> Any:
    return _change(request, ref, services.SET, payload)


@release_router.post(
    "/{ref}/changes",
    response={200: list[ReleaseChangeOut], **WRITE_ERRORS},
    summary="Add changes to a release",
)
def add_release_changes(request: HttpRequest, ref: str, payload: ReleaseChangesIn) -> Any:
    return _change(request, ref, services.ADD, payload)


@release_router.delete(
    "/{ref}/changes",
    response={200: list[ReleaseChangeOut], **WRITE_ERRORS},
    summary="Remove changes from a release",
)
def remove_release_changes(request: HttpRequest, ref: str, payload: ReleaseChangesIn) -> Any:
    return _change(request, ref, services.REMOVE, payload)
