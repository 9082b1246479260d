"""Readiness review endpoints: where a release stands against its release criteria, and the
go / no-go decision. Mounted under /api/v1/releases."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from relman.approvals.services import readiness
from relman.core.api import ERRORS, WRITE_ERRORS
from relman.releases import access

router = Router(tags=["readiness"])


class EvidenceOut(Schema):
    """Evidence the process suggests for a criterion, and whether the release has it."""

    kind: str
    key: str
    label: str
    present: bool
    version: int | None = None


class CriterionOut(Schema):
    """A release criterion of the process."""

    key: str
    label: str
    deliverable: EvidenceOut | None
    checklist: EvidenceOut | None


class JudgedOut(Schema):
    """A criterion as a review judged it, with the evidence it rested on."""

    key: str
    label: str
    met: bool
    deliverable: str | None
    deliverable_label: str
    version: int | None
    checklist: str | None
    checklist_label: str
    note: str


class ReviewOut(Schema):
    """A recorded review. `current`: the live one of the release's stage (the gate reads it)."""

    id: int
    stage: str
    stage_label: str
    decision: str
    decided_by: str
    note: str
    created: datetime
    voided: datetime | None
    superseded: bool
    current: bool
    criteria: list[JudgedOut]


class ReadinessOut(Schema):
    """The release's readiness: criteria, the latest review, every review, and what the
    caller may do."""

    release: str
    stage: str
    stage_label: str
    applies: bool = Field(description="The current stage holds a readiness review.")
    ready: bool = Field(description="The latest live review of the current stage decided go.")
    can_decide: bool
    why_not: str = Field(description="Why the caller may not decide now (empty when they may).")
    criteria: list[CriterionOut]
    latest: ReviewOut | None
    history: list[ReviewOut]


class JudgementIn(Schema):
    """One criterion judged: met or not, with evidence. With no deliverable and no checklist
    item, the ones the process suggests are taken where the release has them."""

    met: bool
    deliverable: str | None = Field(None, description="A deliverable key; its latest version.")
    checklist: str | None = Field(None, description="A checklist item ticked on the release.")
    note: str = Field("", max_length=1000)


class ReviewIn(Schema):
    """A go / no-go decision with every release criterion of the process judged."""

    decision: Literal["go", "no_go"]
    criteria: dict[str, JudgementIn]
    note: str = Field("", max_length=5000)


def readiness_payload(user: Any, release: Any) -> dict[str, Any]:
    """The readiness state as the API answers it."""
    state = readiness.readiness_state(user, release)
    reviews = [asdict(r) for r in state.history]
    return {
        "release": release.number,
        "stage": state.stage,
        "stage_label": state.stage_label,
        "applies": state.applies,
        "ready": state.ready,
        "can_decide": state.can_decide,
        "why_not": state.why_not,
        "criteria": [asdict(c) for c in state.criteria],
        "latest": next((r for r in reviews if r["current"]), None),
        "history": reviews,
    }


@router.get(
    "/{ref}/readiness",
    response={200: ReadinessOut, **ERRORS},
    summary="The readiness review of a release: criteria, evidence, decisions",
)
def get_readiness(request: HttpRequest, ref: str) -> dict[str, Any]:
    return readiness_payload(request.user, access.get_visible(request.user, ref))


@router.post(
    "/{ref}/readiness",
    response={201: ReadinessOut, **WRITE_ERRORS},
    summary="Record a go / no-go readiness review of the current stage",
)
def record_readiness(request: HttpRequest, ref: str, payload: ReviewIn) -> Status:
    """Every criterion of the process must be judged; a met one needs evidence; go needs
    every criterion met. 403 for the requester and for roles outside the stage; 409 when
    the current stage holds no readiness review."""
    review = readiness.record_review(
        request.user,
        ref,
        decision=payload.decision,
        criteria={key: j.model_dump() for key, j in payload.criteria.items()},
        note=payload.note,
    )
    return Status(
        201, readiness_payload(request.user, access.get_visible(request.user, review.release_id))
    )
