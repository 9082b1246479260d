"""Which roles a user holds where. Every permission rule in relman starts here (DESIGN.md rule 4).

A user holds a role for an application when they were given it for that application or for
every application. Superusers hold every role, but segregation of duties still applies to them.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

_CACHE_ATTR = "_relman_role_assignments"
_DELEGATED_ATTR = "_relman_delegated_assignments"
EVERY_ROLE = "*"  # a delegated row standing for a superuser's every role


def assignments(user: Any) -> list[tuple[str, int | None]]:
    """The user's (role, application id or None) pairs, read once per user object."""
    if not getattr(user, "is_authenticated", False):
        return []
    if getattr(user, _CACHE_ATTR, None) is None:
        _read_assignments(user)
    return getattr(user, _CACHE_ATTR)


def delegated_assignments(user: Any) -> list[tuple[str, int | None]]:
    """The (role, application id or None) pairs of the people `user` stands in for now by an
    active delegation (`EVERY_ROLE` for a superuser). Read with the user's own assignments,
    in the same query."""
    if not getattr(user, "is_authenticated", False):
        return []
    if getattr(user, _DELEGATED_ATTR, None) is None:
        _read_assignments(user)
    return getattr(user, _DELEGATED_ATTR)


def _read_assignments(user: Any) -> None:
    """One query for the user's own role assignments and their delegators'."""
    from django.db.models import BooleanField, CharField, IntegerField, Value
    from django.utils import timezone

    RoleAssignment = apps.get_model("accounts", "RoleAssignment")
    Delegation = apps.get_model("approvals", "Delegation")
    User = apps.get_model("accounts", "User")
    now = timezone.now()
    delegators = Delegation.objects.filter(
        delegate=user,
        starts__lte=now,
        ends__gt=now,
        revoked__isnull=True,
        delegator__is_active=True,
    ).values("delegator_id")
    own = RoleAssignment.objects.filter(user=user).values_list(
        "role_id", "application_id", Value(False, output_field=BooleanField())
    )
    theirs = RoleAssignment.objects.filter(user_id__in=delegators).values_list(
        "role_id", "application_id", Value(True, output_field=BooleanField())
    )
    superusers = User.objects.filter(pk__in=delegators, is_superuser=True).values_list(
        Value(EVERY_ROLE, output_field=CharField()),
        Value(None, output_field=IntegerField()),
        Value(True, output_field=BooleanField()),
    )
    rows = list(own.union(theirs, superusers, all=True))
    setattr(user, _CACHE_ATTR, [(r, a) for r, a, delegated in rows if not delegated])
    setattr(user, _DELEGATED_ATTR, [(r, a) for r, a, delegated in rows if delegated])


def forget(user: Any) -> None:
    """Drop the cached assignments after they changed."""
    for attr in (_CACHE_ATTR, _DELEGATED_ATTR, "_relman_all_roles"):
        if hasattr(user, attr):
            delattr(user, attr)


def all_role_codes(user: Any) -> set[str]:
    """Every role there is (what a superuser holds), read once per user object."""
    cached = getattr(user, "_relman_all_roles", None)
    if cached is None:
        Role = apps.get_model("accounts", "Role")
        cached = frozenset(Role.objects.values_list("code", flat=True))
        user._relman_all_roles = cached
    return set(cached)


def roles_of(user: Any, application_id: int | None) -> set[str]:
    """The roles the user holds for an application (global ones included)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    if user.is_superuser:
        return all_role_codes(user)
    return {role for role, app in assignments(user) if app is None or app == application_id}


def holds_anywhere(user: Any, role: str) -> bool:
    """Whether the user holds the role globally or for any application."""
    return bool(getattr(user, "is_superuser", False)) or any(
        r == role for r, _a in assignments(user)
    )


def has_global_role(user: Any) -> bool:
    """Whether the user holds some role for every application."""
    return any(app is None for _r, app in assignments(user))


def application_ids(user: Any) -> set[int]:
    """The applications the user holds some role for."""
    return {app for _r, app in assignments(user) if app is not None}
