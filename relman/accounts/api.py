"""The current user."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from relman.core import permissions
from relman.core.api import ERRORS

router = Router(tags=["accounts"])


class RoleOut(Schema):
    role: str
    application: str | None


class MeOut(Schema):
    username: str
    display_name: str
    email: str
    department: str
    language: str
    time_zone: str
    is_superuser: bool
    roles: list[RoleOut]


@router.get("/me", response={200: MeOut, **ERRORS}, summary="Who am I, with my roles")
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    from relman.cmdb.models import Application

    codes = dict(Application.objects.values_list("id", "code"))
    return {
        "username": user.username,
        "display_name": str(user),
        "email": user.email,
        "department": user.department,
        "language": user.language,
        "time_zone": user.zone,
        "is_superuser": user.is_superuser,
        "roles": [
            {"role": r, "application": codes.get(a) if a else None}
            for r, a in permissions.assignments(user)
        ],
    }
