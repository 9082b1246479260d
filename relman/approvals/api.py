"""Approval endpoints under /api/v1/approvals: the caller's inbox and their delegations.

Decisions themselves are posted to the release: POST /api/v1/releases/{ref}/approvals and
/rejections.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from relman.approvals.models import Delegation
from relman.approvals.services import delegation as delegations
from relman.approvals.services.briefing import Brief, briefs
from relman.core.api import ERRORS, WRITE_ERRORS
from relman.core.ids import Id
from relman.core.validators import DateTime
from relman.releases.models import Approval

router = Router(tags=["approvals"])


# ---------------------------------------------------------------- schemas


class CheckOut(Schema):
    key: str
    label: str


class InboxDeliverableOut(Schema):
    """A deliverable the decision rests on, with its latest version (null: none yet)."""

    key: str
    label: str
    required: bool = Field(description="The step cannot be decided without it.")
    version: int | None
    filename: str
    sha256: str
    size: int | None
    url: str
    uploaded: datetime | None
    download: str = Field(description="Where to download the latest file ('' for a link).")


class ScheduledSlotOut(Schema):
    """Where the release is scheduled: a window's occurrence, or outside any window."""

    window: str | None
    start: datetime | None
    end: datetime | None
    outside_window_reason: str


class DecisionOut(Schema):
    stage: str
    step: str
    decision: str
    approver: str
    on_behalf_of: str | None
    comment: str
    created: datetime


class InboxItemOut(Schema):
    """An approval step the caller may decide now, with what is being approved."""

    release: str = Field(description="The release's number.")
    title: str
    application: str
    risk: str
    requester: str
    stage: str
    stage_label: str
    step: str
    step_label: str
    role: str
    role_label: str
    on_behalf_of: str | None = Field(
        description="The user the caller decides for by a delegation; null for themselves."
    )
    opened: datetime
    expires: datetime | None
    escalated: bool = Field(description="The step expired and escalated.")
    cab: bool = Field(description="Decided at a CAB meeting, not in person.")
    checks: list[CheckOut] = Field(description="The items to confirm when approving.")
    deliverables: list[InboxDeliverableOut]
    window: ScheduledSlotOut | None = Field(description="Null while the release is not scheduled.")
    earlier: list[DecisionOut] = Field(description="The release's live decisions so far.")


class DelegationIn(Schema):
    delegate: str = Field(description="Username of who stands in.")
    starts: DateTime = Field(description="From (ISO date-time).")
    ends: DateTime = Field(description="Until (ISO date-time), after the start and not past.")
    reason: str = Field("", max_length=300)
    delegator: str = Field(
        "", description="Username of who is away (administrators only; default: you)."
    )


class DelegationOut(Schema):
    id: int
    delegator: str
    delegate: str
    starts: datetime
    ends: datetime
    reason: str
    revoked: datetime | None
    active: bool = Field(description="In force now.")
    created: datetime


class DelegationsOut(Schema):
    given: list[DelegationOut] = Field(description="People standing in for you.")
    received: list[DelegationOut] = Field(description="People you stand in for.")


class DelegationFilters(Schema):
    all: bool = Field(False, description="Include revoked and ended delegations.")


# ---------------------------------------------------------------- payloads


def _decision(approval: Approval) -> dict[str, Any]:
    return {
        "stage": approval.stage,
        "step": approval.step,
        "decision": approval.decision,
        "approver": approval.approver.username,
        "on_behalf_of": approval.on_behalf_of.username if approval.on_behalf_of_id else None,
        "comment": approval.comment,
        "created": approval.created,
    }


def inbox_item(brief: Brief) -> dict[str, Any]:
    """A brief as the API gives it."""
    release, pending, step = brief.release, brief.item.pending, brief.item.step
    schedule = brief.schedule
    return {
        "release": release.number,
        "title": release.title,
        "application": release.application.code,
        "risk": release.risk,
        "requester": release.requester.username,
        "stage": pending.stage,
        "stage_label": brief.stage_label,
        "step": step.key,
        "step_label": brief.step_label,
        "role": step.role,
        "role_label": brief.role_label,
        "on_behalf_of": brief.on_behalf_of.username if brief.on_behalf_of else None,
        "opened": pending.opened,
        "expires": pending.expires_at,
        "escalated": brief.item.escalated,
        "cab": step.cab,
        "checks": [vars(c) for c in brief.checks],
        "deliverables": [
            {
                "key": d.key,
                "label": d.label,
                "required": d.required,
                "version": d.version.number if d.version else None,
                "filename": d.version.filename if d.version else "",
                "sha256": d.version.sha256 if d.version else "",
                "size": d.version.size if d.version else None,
                "url": d.version.url if d.version else "",
                "uploaded": d.version.created if d.version else None,
                "download": d.download,
            }
            for d in brief.deliverables
        ],
        "window": None
        if schedule is None
        else {
            "window": schedule.window.name if schedule.window_id else None,
            "start": release.planned_start,
            "end": release.planned_end,
            "outside_window_reason": schedule.outside_window_reason,
        },
        "earlier": [_decision(a) for a in brief.earlier],
    }


def delegation_out(delegation: Delegation) -> dict[str, Any]:
    return {
        "id": delegation.pk,
        "delegator": delegation.delegator.username,
        "delegate": delegation.delegate.username,
        "starts": delegation.starts,
        "ends": delegation.ends,
        "reason": delegation.reason,
        "revoked": delegation.revoked,
        "active": delegations.is_active(delegation),
        "created": delegation.created,
    }


# ---------------------------------------------------------------- endpoints


@router.get(
    "/inbox",
    response={200: list[InboxItemOut], **ERRORS},
    summary="The approval steps you may decide now",
)
def get_inbox(request: HttpRequest) -> list[dict[str, Any]]:
    """Your pending steps, oldest first, in person or for someone you stand in for; each with
    the deliverables, risk, window and the earlier decisions. Decide one with
    POST /api/v1/releases/{ref}/approvals or /rejections."""
    return [inbox_item(b) for b in briefs(request.user)]


@router.get(
    "/delegations",
    response={200: DelegationsOut, **ERRORS},
    summary="Your delegations, given and received",
)
def list_delegations(request: HttpRequest, filters: Query[DelegationFilters]) -> dict[str, Any]:
    """The delegations in force or to come (all of them with `all=true`)."""
    found = delegations.delegations_of(request.user, include_ended=filters.all)
    return {
        "given": [delegation_out(d) for d in found.given],
        "received": [delegation_out(d) for d in found.received],
    }


@router.post(
    "/delegations",
    response={201: DelegationOut, **WRITE_ERRORS},
    summary="Have someone stand in for you while away",
)
def create_delegation(request: HttpRequest, payload: DelegationIn) -> Status:
    made = delegations.create_delegation(
        request.user,
        delegate=payload.delegate,
        starts=payload.starts,
        ends=payload.ends,
        reason=payload.reason,
        delegator=payload.delegator or None,
    )
    return Status(201, delegation_out(made))


@router.delete(
    "/delegations/{delegation_id}",
    response={200: DelegationOut, **WRITE_ERRORS},
    summary="Revoke a delegation",
)
def revoke_delegation(request: HttpRequest, delegation_id: Id) -> dict[str, Any]:
    """End a delegation now, or cancel it before it starts: the person away, the delegate or
    an administrator may."""
    return delegation_out(delegations.revoke_delegation(request.user, delegation_id))
