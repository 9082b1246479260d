"""API schemas of requests for change, the changes a release carries, reviews, webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field, field_validator

from relman.changes.choices import Achieved, Approval, ChangeType, ExternalSystem, Risk, Status
from relman.core.validators import DateTime, Integer, reject_nul


class ChangeInput(Schema):
    """A request body. Its text may not hold NUL characters, which the database refuses."""

    _no_nul = field_validator("*", mode="after")(reject_nul)


def _code(obj: Any, name: str) -> str | None:
    related = getattr(obj, name, None)
    return related.code if related is not None else None


def _username(obj: Any, name: str) -> str | None:
    related = getattr(obj, name, None)
    return related.get_username() if related is not None else None


class ChangeRow(Schema):
    number: str
    title: str
    type: ChangeType
    status: Status
    approval: Approval
    risk: Risk
    application: str | None
    requester: str
    planned_start: datetime | None
    planned_end: datetime | None
    external_system: str
    external_key: str
    external_state: str
    revision: int
    updated: datetime

    @staticmethod
    def resolve_application(obj: Any) -> str | None:
        return _code(obj, "application")

    @staticmethod
    def resolve_requester(obj: Any) -> str:
        return obj.requester.get_username()


class ChangePage(Schema):
    items: list[ChangeRow]
    next: str | None = Field(None, description="Cursor of the next page; null on the last")


class ChangeItemOut(Schema):
    id: int
    name: str
    type: str


class ChangeCarrierOut(Schema):
    """A release that carries (or carried) the change."""

    number: str
    title: str
    open: bool


class ChangeReviewOut(Schema):
    change: str
    release: str
    achieved: Achieved
    side_effects: str
    reviewer: str
    created: datetime


class ChangeDetail(ChangeRow):
    description: str
    decided_by: str | None
    decided: datetime | None
    decision_note: str
    external_url: str
    external_updated: datetime | None
    created: datetime
    items: list[ChangeItemOut]
    releases: list[ChangeCarrierOut]
    reviews: list[ChangeReviewOut]

    @staticmethod
    def resolve_decided_by(obj: Any) -> str | None:
        return _username(obj, "decided_by")

    # Read by `changes.api.change_detail`, which puts them on the change.
    @staticmethod
    def resolve_items(obj: Any) -> list[dict[str, Any]]:
        return obj.items_rows

    @staticmethod
    def resolve_releases(obj: Any) -> list[dict[str, Any]]:
        return obj.carriers

    @staticmethod
    def resolve_reviews(obj: Any) -> list[dict[str, Any]]:
        return obj.review_rows


class ChangeIn(ChangeInput):
    """A request for change; `submit` sends it to change management at once."""

    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    type: ChangeType = ChangeType.NORMAL
    risk: Risk = Risk.MEDIUM
    application: str | None = Field(None, max_length=40, description="Application code")
    planned_start: DateTime | None = None
    planned_end: DateTime | None = None
    items: list[str] = Field(
        default_factory=list, max_length=500, description="Items by id, name or type:name"
    )
    external_system: ExternalSystem | None = None
    external_key: str = Field("", max_length=100)
    external_url: str = Field("", max_length=500, description="http:// or https:// only")
    external_state: str = Field("", max_length=100)
    submit: bool = False


class ChangePatch(ChangeInput):
    """Changes to a draft, submitted or rejected change; only the fields given change.
    `revision` must be the one you read."""

    revision: Integer | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    type: ChangeType | None = None
    risk: Risk | None = None
    application: str | None = Field(None, max_length=40)
    planned_start: DateTime | None = None
    planned_end: DateTime | None = None
    items: list[str] | None = Field(None, max_length=500)
    external_system: ExternalSystem | None = None
    external_key: str | None = Field(None, max_length=100)
    external_url: str | None = Field(None, max_length=500)


class ChangeDecisionIn(ChangeInput):
    """A decision of change management; a rejection says why in `note`."""

    revision: Integer | None = None
    note: str = Field("", max_length=10_000)


class ChangeRevisionIn(ChangeInput):
    revision: Integer | None = None
    reason: str = Field("", max_length=10_000)


class ChangeExternalIn(ChangeInput):
    """The change's state in its external tracker, as a user saw it."""

    revision: Integer | None = None
    state: str = Field(..., max_length=100)
    url: str | None = Field(None, max_length=500, description="http:// or https:// only")
    updated: DateTime | None = Field(None, description="When the tracker changed it")


class ChangeReviewIn(ChangeInput):
    """The change review after its release: aim achieved (yes, partly, no), side effects."""

    achieved: Achieved
    side_effects: str = Field("", max_length=10_000)
    release: str | None = Field(
        None, max_length=64, description="The release reviewed (default: the last one)"
    )


class ReleaseChangesIn(ChangeInput):
    """Changes by number (or id); `revision` must be the release's, as you read it."""

    revision: Integer
    changes: list[str] = Field(..., max_length=200)


class ReleaseChangeOut(Schema):
    """A change a release carries, with its approval and its review for the release."""

    number: str
    title: str
    type: ChangeType
    status: Status
    approval: Approval
    risk: Risk
    requester: str
    added_by: str
    added: datetime
    reviews: list[ChangeReviewOut]


class WebhookIn(Schema):
    """What a tracker sends: its issue's key, state, link and time of change."""

    key: str = Field(..., min_length=1, max_length=100)
    state: str = Field(..., max_length=100)
    url: str | None = Field(None, max_length=500)
    updated: DateTime | None = None

    _no_nul = field_validator("*", mode="after")(reject_nul)


class WebhookOut(Schema):
    change: str
    external_state: str
    external_updated: datetime | None
