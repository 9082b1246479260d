"""API schemas of releases and what hangs off them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field, field_validator

from relman.core.validators import DateTime, Integer, reject_nul
from relman.releases.choices import Kind, Method, Outcome, ReleaseClass, Risk


class Input(Schema):
    """A request body. Its text may not hold NUL characters, which the database refuses."""

    _no_nul = field_validator("*", mode="after")(reject_nul)


class ReleaseFields(Schema):
    """The fields a release shows in a list and in its detail."""

    id: int
    number: str
    title: str
    application: str
    kind: str
    method: str
    release_class: str
    stage: str
    status: str
    outcome: str
    risk: str
    version_number: str
    requester: str
    planned_start: datetime | None
    created: datetime
    revision: int


class ReleaseRow(ReleaseFields):
    """A release in a list, read from the plain rows of `ROW_COLUMNS`."""

    application: str = Field(validation_alias="application_code")
    requester: str = Field(validation_alias="requester_username")


# The columns a list row is built from: plain values, no model objects, for speed.
ROW_COLUMNS = tuple(
    name for name in ReleaseFields.model_fields if name not in ("application", "requester")
)


class ReleasePage(Schema):
    items: list[ReleaseRow]
    next: str | None = Field(None, description="Cursor of the next page, or null on the last page")


class ReleaseIn(Input):
    """What a requester gives to request a release."""

    application: str = Field(..., description="Application code")
    title: str = Field(..., min_length=1, max_length=200)
    kind: Kind
    method: Method = Method.PLANNED
    release_class: ReleaseClass = ReleaseClass.STANDARD
    description: str = ""
    version_number: str = Field("", max_length=64)
    environment: str | None = Field(None, description="Environment code")
    release_manager: str | None = Field(None, description="Username")
    scope: str = ""
    impact: str = ""
    risk: Risk = Risk.MEDIUM
    backout_plan: str = ""
    planned_start: DateTime | None = None
    planned_end: DateTime | None = None


class ReleasePatch(Input):
    """Changes to a release's details; `revision` must be the one you read."""

    revision: Integer
    title: str | None = Field(None, max_length=200)
    description: str | None = None
    version_number: str | None = Field(None, max_length=64)
    environment: str | None = None
    release_manager: str | None = None
    scope: str | None = None
    impact: str | None = None
    risk: Risk | None = None
    backout_plan: str | None = None
    planned_start: DateTime | None = None
    planned_end: DateTime | None = None
    actual_start: DateTime | None = None
    actual_end: DateTime | None = None


class ActionIn(Input):
    """A lifecycle action. `revision` must be the one you read, or you get 409."""

    revision: Integer
    target: str = Field("", description="Stage key, for `return`")
    reason: str = Field("", max_length=2000)
    outcome: Outcome = Field(Outcome.SUCCEEDED, description="For `close`: succeeded or failed")


class StageOut(Schema):
    key: str
    label: str
    state: str


class GateEvidenceOut(Schema):
    key: str
    label: str


class GateItemOut(Schema):
    """One item of the current stage's gate. Approval steps also say whether they are open
    (earlier steps of the chain decided), optional, decided at a CAB meeting, and which
    checks and deliverables they need."""

    kind: str
    key: str
    label: str
    met: bool
    needed: int | None = None
    have: int | None = None
    open: bool | None = None
    optional: bool | None = None
    cab: bool | None = None
    checks: list[GateEvidenceOut] = []
    deliverables: list[GateEvidenceOut] = []


class ActionOut(Schema):
    action: str
    label: str
    allowed: bool
    reasons: list[str]
    targets: list[str] = []


class DecidableStepOut(Schema):
    step: str
    on_behalf_of: str | None


class ReleaseDetail(ReleaseFields):
    """A release with where it stands: stages, gate, and the actions open to the caller."""

    description: str
    environment: str | None
    release_manager: str | None
    scope: str
    impact: str
    backout_plan: str
    process: str
    process_version: int
    variant: str
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    updated: datetime
    stages: list[StageOut]
    gate: list[GateItemOut]
    unmet: list[str]
    actions: list[ActionOut]
    decidable_steps: list[DecidableStepOut] = Field(
        [],
        description="The approval steps the caller may decide now (for themselves or by delegation).",
    )


class ApprovalIn(Input):
    """A decision on an approval step of the current stage."""

    step: str = Field(
        "", description="The step to decide; may be left out when one is open to you."
    )
    comment: str = Field("", max_length=5000, description="Required to reject.")
    checks: list[str] = Field([], description="The step's items you confirm (all, to approve).")
    on_behalf_of: str = Field("", description="The user you stand in for by a delegation.")


class ApprovalOut(Schema):
    id: int
    stage: str
    step: str
    decision: str
    role: str
    approver: str
    on_behalf_of: str | None
    comment: str
    checks: list[str]
    basis: dict[str, int]
    created: datetime
    voided: datetime | None
    void_reason: str

    @staticmethod
    def resolve_role(obj: Any) -> str:
        return obj.role_id

    @staticmethod
    def resolve_approver(obj: Any) -> str:
        return obj.approver.username

    @staticmethod
    def resolve_on_behalf_of(obj: Any) -> str | None:
        return obj.on_behalf_of.username if obj.on_behalf_of_id else None


class ChecklistIn(Input):
    item: str
    note: str = Field("", max_length=500)


class ChecklistOut(Schema):
    id: int
    stage: str
    item: str
    done_by: str
    note: str
    created: datetime

    @staticmethod
    def resolve_done_by(obj: Any) -> str:
        return obj.done_by.username


class DeliverableVersionOut(Schema):
    number: int
    filename: str
    sha256: str
    size: int | None
    content_type: str
    url: str
    note: str
    uploaded_by: str
    created: datetime
    download: str | None

    @staticmethod
    def resolve_uploaded_by(obj: Any) -> str:
        return obj.uploaded_by.username

    @staticmethod
    def resolve_download(obj: Any) -> str | None:
        if not obj.file:
            return None
        release = obj.deliverable.release
        return f"/api/v1/releases/{release.number}/deliverables/{obj.deliverable.key}/versions/{obj.number}/file"


class DeliverableOut(Schema):
    key: str
    title: str
    versions: list[DeliverableVersionOut]


class CommentIn(Input):
    body: str = Field(..., max_length=10000)


class CommentOut(Schema):
    id: int
    author: str
    body: str
    created: datetime

    @staticmethod
    def resolve_author(obj: Any) -> str:
        return obj.author.username


class AuditEventOut(Schema):
    seq: int
    created: datetime
    actor: str
    channel: str
    action: str
    object_type: str
    object_id: str
    release: str
    before: Any
    after: Any
    reason: str
    request_id: str
    hash: str

    @staticmethod
    def resolve_actor(obj: Any) -> str:
        return obj.actor_name

    @staticmethod
    def resolve_release(obj: Any) -> str:
        return obj.release_number


class AuditExportRow(Schema):
    """A row of the audit export file (`?format=json`), the columns of its CSV."""

    seq: int
    created: datetime
    actor_name: str
    channel: str
    action: str
    object_type: str
    object_id: str
    release_number: str
    before: Any
    after: Any
    reason: str
    request_id: str
    prev_hash: str
    hash: str


# ---------------------------------------------------------------- scope and impact


class ItemsIn(Input):
    """Configuration items by id, name or `type:name`; `revision` must be the one you read."""

    revision: Integer
    items: list[str] = Field(..., max_length=500)


class TeamsIn(Input):
    """Departments by code or id; `revision` must be the one you read."""

    revision: Integer
    teams: list[str] = Field(..., max_length=500)


class TouchedItemOut(Schema):
    id: int
    name: str
    type: str
    type_name: str
    is_service: bool
    owner_team: str | None
    added_by: str
    created: datetime


class InvolvedTeamOut(Schema):
    code: str
    name: str
    added_by: str
    created: datetime


class ImpactItemOut(Schema):
    """An item the release touches (depth 0) or affects, with the path that explains it."""

    id: int
    name: str
    type: str
    type_name: str
    is_service: bool
    owner_team: str
    depth: int
    path: list[str] = Field(..., description="Names from the touched item to this one")
    via: list[str] = Field(
        ..., description="Relationship kind of each hop ('^part_of': the part, read upwards)"
    )


class ImpactReviewIn(Input):
    note: str = Field("", max_length=500)


class ImpactReviewOut(Schema):
    reviewer: str
    roles: list[str]
    touched: list[int]
    affected: list[int]
    note: str
    created: datetime
    current: bool = Field(..., description="It saw the impact as it is now")


class DepartmentOut(Schema):
    code: str
    name: str


class ReleaseImpactOut(Schema):
    release: str
    revision: int
    touched: list[ImpactItemOut]
    affected: list[ImpactItemOut]
    owner_teams: list[str]
    departments: list[DepartmentOut] = Field(
        ...,
        description="The departments involved: the requester's, the owner teams of the "
        "touched and affected items, those added by hand. A step for the involved departments "
        "needs an approver of each.",
    )
    review: ImpactReviewOut | None


class DeployedIn(Input):
    """Record the release's version on the items it touches (all, or those named)."""

    items: list[str] | None = Field(None, max_length=500)
    version: str = Field("", max_length=64, description="By default the release's version")
    note: str = Field("", max_length=300)


class DeployedVersionOut(Schema):
    ci: str
    application: str
    version: str
    release: str | None
    installed: datetime
    removed: datetime | None
    note: str
