"""Teams and departments, and who belongs to them: created and changed only here, audited.

Belonging to a department is part of what lets a person approve for it (with the role the
approval step names, see `approvals.services.policy`), so only administrators change
teams and their members (`_require_admin`), like roles.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext as _

from relman.accounts.models import Team, TeamMembership
from relman.audit import services as audit
from relman.core import ids
from relman.core.errors import NotFound, PermissionDenied, ValidationFailed, raise_if_invalid

MAX_CODE = 40
MAX_NAME = 150
CODE = re.compile(r"[-\w]+")
FIELDS = ("name", "kind", "parent", "is_active")


def _require_admin(actor: Any) -> None:
    """Only administrators change teams and their members; the server (None) may too."""
    if actor is not None and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("Only administrators may change teams and their members."))


def department_code(name: str, taken: Callable[[str], bool]) -> str:
    """A free code for a department known by its name: the name as a slug (Chinese letters
    kept), shortened, with -2, -3, ... when it is taken. Used by the data migration too."""
    base = (slugify(name, allow_unicode=True) or "department")[: MAX_CODE - 4]
    code, n = base, 1
    while taken(code):
        n += 1
        code = f"{base}-{n}"
    return code


def get_team(ref: Any) -> Team:
    """A team by code or id (a team stands for itself)."""
    if isinstance(ref, Team):
        return ref
    key = str(ref or "").strip()
    number = ids.as_id(key)
    team = Team.objects.filter(Q(code=key) | Q(pk=number or 0)).select_related("parent").first()
    if team is None:
        raise NotFound(_("There is no team '%s'.") % key)
    return team


def _check(values: dict[str, Any], team: Team | None) -> dict[str, list[str]]:
    """The problems of a team's fields, by field (code only when creating)."""
    errors: dict[str, list[str]] = {}
    if team is None:
        code = values["code"]
        if not code or len(code) > MAX_CODE or not CODE.fullmatch(code):
            errors["code"] = [
                _("A code of 1 to %d letters, digits, '-' or '_' is required.") % MAX_CODE
            ]
        elif Team.objects.filter(code=code).exists():
            errors["code"] = [_("There is already a team '%s'.") % code]
    name = values.get("name")
    if name is not None:
        if not name or len(name) > MAX_NAME or "\x00" in name:
            errors["name"] = [_("A name of 1 to %d characters is required.") % MAX_NAME]
        elif Team.objects.filter(name=name).exclude(pk=getattr(team, "pk", None)).exists():
            errors["name"] = [_("There is already a team named '%s'.") % name]
    kind = values.get("kind")
    if kind is not None and kind not in Team.Kind.values:
        errors["kind"] = [
            _("'%(value)s' is not a kind of team; use one of: %(choices)s.")
            % {"value": kind, "choices": ", ".join(Team.Kind.values)}
        ]
    parent = values.get("parent")
    if isinstance(parent, Team) and team is not None:
        seen, up = set(), parent
        while up is not None and up.pk not in seen:
            if up.pk == team.pk:
                errors["parent"] = [_("A team cannot be part of itself or of its own parts.")]
                break
            seen.add(up.pk)
            up = up.parent
    kind = kind or getattr(team, "kind", Team.Kind.DEPARTMENT)
    parent = values["parent"] if "parent" in values else getattr(team, "parent", None)
    if kind == Team.Kind.SUB_DEPARTMENT and parent is None and "parent" not in errors:
        errors["parent"] = [_("A sub-department needs the department it is part of.")]
    return errors


def _parent(ref: Any) -> Team | None:
    if ref in (None, ""):
        return None
    try:
        return get_team(ref)
    except NotFound as exc:
        raise ValidationFailed(str(exc), field="parent") from None


def _snapshot(team: Team) -> dict[str, Any]:
    return {
        "code": team.code,
        "name": team.name,
        "kind": team.kind,
        "parent": team.parent.code if team.parent_id else None,
        "is_active": team.is_active,
    }


def create_team(
    actor: Any, *, code: str, name: str, kind: str = Team.Kind.DEPARTMENT, parent: Any = None
) -> Team:
    """Create a department, a sub-department (part of `parent`) or a team."""
    _require_admin(actor)
    values = {"code": (code or "").strip(), "name": (name or "").strip(), "kind": kind}
    values["parent"] = _parent(parent)
    raise_if_invalid(_check(values, None))
    with transaction.atomic():
        team = Team.objects.create(**values)
        audit.record(actor, "team.created", team, after=_snapshot(team))
    return team


def update_team(actor: Any, ref: Any, **changes: Any) -> Team:
    """Change a team's name, kind, parent or whether it is active (only the fields given)."""
    _require_admin(actor)
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ValidationFailed(_("Unknown field(s): %s.") % ", ".join(unknown), field=unknown[0])
    with transaction.atomic():
        team = get_team(ref)
        team = Team.objects.select_for_update(of=("self",)).select_related("parent").get(pk=team.pk)
        values = dict(changes)
        if "name" in values:
            values["name"] = str(values["name"] or "").strip()
        if "parent" in values:
            values["parent"] = _parent(values["parent"])
        if "is_active" in values and not isinstance(values["is_active"], bool):
            raise ValidationFailed(_("true or false is expected."), field="is_active")
        raise_if_invalid(_check(values, team))
        before = _snapshot(team)
        for field, value in values.items():
            setattr(team, field, value)
        team.save()
        audit.record(actor, "team.changed", team, before=before, after=_snapshot(team))
    return team


def _user(ref: Any) -> Any:
    key = str(ref or "").strip()
    user = get_user_model().objects.filter(username=key).first()
    if user is None:
        raise ValidationFailed(_("There is no user '%s'.") % key, field="user")
    return user


def add_member(actor: Any, ref: Any, user: Any, *, head: bool = False) -> TeamMembership:
    """Make `user` (a user or a username) a member of the team, or change whether they
    are one of its heads."""
    _require_admin(actor)
    with transaction.atomic():
        team = get_team(ref)
        person = user if hasattr(user, "pk") else _user(user)
        membership, created = TeamMembership.objects.select_for_update().get_or_create(
            team=team, user=person, defaults={"is_head": head}
        )
        if created or membership.is_head != head:
            before = None if created else {"user": person.username, "head": membership.is_head}
            membership.is_head = head
            membership.save(update_fields=["is_head"])
            audit.record(
                actor,
                "team.member_added" if created else "team.member_changed",
                team,
                before=before,
                after={"user": person.username, "head": head},
            )
    return membership


def remove_member(actor: Any, ref: Any, user: Any) -> None:
    """Take `user` out of the team."""
    _require_admin(actor)
    with transaction.atomic():
        team = get_team(ref)
        person = user if hasattr(user, "pk") else _user(user)
        deleted, _rows = TeamMembership.objects.filter(team=team, user=person).delete()
        if not deleted:
            raise ValidationFailed(
                _("%(user)s is not a member of %(team)s.") % {"user": person, "team": team},
                field="user",
            )
        audit.record(actor, "team.member_removed", team, before={"user": person.username})


def join_department(actor: Any, user: Any, name: str) -> TeamMembership:
    """Put a user in the department known by that name or code, creating the department
    when there is none (what a user's department given when they are created means)."""
    name = name.strip()
    team = Team.objects.filter(Q(name=name) | Q(code=name)).order_by("pk").first()
    if team is None:
        code = department_code(name, lambda c: Team.objects.filter(code=c).exists())
        team = create_team(actor, code=code, name=name[:MAX_NAME])
    return add_member(actor, team, user)


def teams_of(user: Any) -> list[Team]:
    """The active teams a user belongs to, by code."""
    return list(Team.objects.filter(memberships__user=user, is_active=True).order_by("code"))
