"""A release's approval decisions: list them, approve and reject. Mounted under
/api/v1/releases, next to the release endpoints, so a release's approvals are one path."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from relman.approvals.services import decisions
from relman.core.api import ERRORS, WRITE_ERRORS
from relman.releases import access
from relman.releases.models import Approval
from relman.releases.schemas import ApprovalIn, ApprovalOut

router = Router(tags=["releases"])


@router.get("/{ref}/approvals", response={200: list[ApprovalOut], **ERRORS})
def list_approvals(request: HttpRequest, ref: str) -> Any:
    """Every decision on the release, voided ones included (with why)."""
    release = access.get_visible(request.user, ref)
    return Approval.objects.filter(release=release).select_related("approver", "on_behalf_of")


@router.post(
    "/{ref}/approvals",
    response={201: ApprovalOut, **WRITE_ERRORS},
    summary="Approve a step of the current stage",
)
def approve(request: HttpRequest, ref: str, payload: ApprovalIn) -> Status:
    """Approve an open step (for yourself, or for whom you stand in)."""
    return Status(201, decisions.approve(request.user, ref, **payload.dict()))


@router.post(
    "/{ref}/rejections",
    response={201: ApprovalOut, **WRITE_ERRORS},
    summary="Reject a step of the current stage (the release goes back)",
)
def reject(request: HttpRequest, ref: str, payload: ApprovalIn) -> Status:
    """Reject an open step, with a reason: the release goes back as the policy says."""
    return Status(201, decisions.reject(request.user, ref, **payload.dict()))
