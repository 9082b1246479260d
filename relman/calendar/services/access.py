"""Who may manage the release calendar (windows, freezes, the yearly plan, holidays).

Rules read from `core.permissions` like every other permission in relman (DESIGN.md rule 4).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.core import permissions
from relman.core.errors import PermissionDenied

# Roles that manage the calendar when held for every application.
CALENDAR_MANAGERS = {BuiltinRole.RELEASE_MANAGER, BuiltinRole.RELEASE_OWNER}


def can_manage_calendar(user: Any) -> bool:
    """A user may manage windows, freezes, holidays and the yearly plan when they are a
    superuser, or hold the release manager or release owner role for every application."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(
        app is None and role in CALENDAR_MANAGERS for role, app in permissions.assignments(user)
    )


def require_calendar_admin(user: Any) -> None:
    """Raise PermissionDenied unless the user may manage the calendar. No user (None) is the
    server itself: its command line and jobs, run by whoever administers the machine."""
    if user is not None and not can_manage_calendar(user):
        raise PermissionDenied(
            _(
                "Only administrators and release managers or owners for every application "
                "may manage the release calendar."
            )
        )
