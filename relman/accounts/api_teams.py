"""Teams and departments (`/api/v1/teams`): every signed-in user reads them; administrators
change them and their members (`accounts.teams`)."""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field, field_validator

from relman.accounts import teams
from relman.accounts.models import Team, TeamMembership
from relman.core.api import ERRORS, WRITE_ERRORS
from relman.core.errors import ValidationFailed
from relman.core.validators import reject_nul

router = Router(tags=["teams"])
Kind = Literal["department", "sub_department", "team"]


class MemberOut(Schema):
    username: str
    name: str
    head: bool

    @staticmethod
    def resolve_username(obj: Any) -> str:
        return obj.user.username

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.user)

    @staticmethod
    def resolve_head(obj: Any) -> bool:
        return obj.is_head


class TeamOut(Schema):
    code: str
    name: str
    kind: Kind
    parent: str | None = Field(None, description="The code of the department it is part of")
    is_active: bool
    members: list[MemberOut]

    @staticmethod
    def resolve_parent(obj: Any) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_members(obj: Any) -> list[Any]:
        return list(obj.memberships.all())


class TeamInput(Schema):
    _no_nul = field_validator("*", mode="after")(reject_nul)


class TeamIn(TeamInput):
    code: str = Field(..., min_length=1, max_length=40, examples=["it-ops"])
    name: str = Field(..., min_length=1, max_length=150)
    kind: Kind = "department"
    parent: str | None = Field(None, max_length=40, description="Code of the parent team")


class TeamPatch(TeamInput):
    """Only the fields given change; `parent: null` makes it a team of its own."""

    name: str | None = Field(None, min_length=1, max_length=150)
    kind: Kind | None = None
    parent: str | None = Field(None, max_length=40)
    is_active: bool | None = None


class MemberIn(TeamInput):
    user: str = Field(..., min_length=1, max_length=150, description="Username")
    head: bool = Field(False, description="Whether they are one of its heads")


def _teams() -> Any:
    """Teams with their parent and members: three queries for any number of teams."""
    members = TeamMembership.objects.select_related("user").order_by("-is_head", "user__username")
    return Team.objects.select_related("parent").prefetch_related(
        Prefetch("memberships", queryset=members)
    )


def _one(code: str) -> Team:
    return _teams().get(pk=teams.get_team(code).pk)


@router.get("", response={200: list[TeamOut], **ERRORS}, summary="Teams and departments")
def list_teams(request: HttpRequest) -> Any:
    return _teams().order_by("code")


@router.post("", response={201: TeamOut, **WRITE_ERRORS}, summary="Add a team or department")
def create_team(request: HttpRequest, payload: TeamIn) -> Status:
    team = teams.create_team(request.user, **payload.model_dump())
    return Status(201, _one(team.code))


@router.get("/{code}", response={200: TeamOut, **ERRORS}, summary="A team and its members")
def show_team(request: HttpRequest, code: str) -> Any:
    return _one(code)


@router.patch("/{code}", response={200: TeamOut, **WRITE_ERRORS}, summary="Change a team")
def update_team(request: HttpRequest, code: str, payload: TeamPatch) -> Any:
    changes = payload.model_dump(exclude_unset=True)
    for name in ("name", "kind", "is_active"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(_("This field cannot be null."), field=name)
    team = teams.update_team(request.user, code, **changes)
    return _one(team.code)


@router.post(
    "/{code}/members",
    response={200: TeamOut, **WRITE_ERRORS},
    summary="Add a member, or make a member a head or not",
)
def add_member(request: HttpRequest, code: str, payload: MemberIn) -> Any:
    teams.add_member(request.user, code, payload.user, head=payload.head)
    return _one(code)


@router.delete(
    "/{code}/members/{username}",
    response={200: TeamOut, **WRITE_ERRORS},
    summary="Take a member out of a team",
)
def remove_member(request: HttpRequest, code: str, username: str) -> Any:
    teams.remove_member(request.user, code, username)
    return _one(code)
