"""Who may read and change the CMDB.

Rules read from `core.permissions` like every other permission in relman (DESIGN.md rule 4).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.core import permissions
from relman.core.errors import PermissionDenied

LIBRARIAN = BuiltinRole.CONFIGURATION_LIBRARIAN


def can_read(user: Any) -> bool:
    """Every signed-in, active user may read the CMDB: its items are what releases change."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_change(user: Any) -> bool:
    """A user may change the CMDB (item types and their schemas, items, relationships,
    deployed versions, imports) when they are an administrator, or hold the configuration
    librarian role for every application (a global assignment, not one for one application)."""
    if not can_read(user):
        return False
    if user.is_superuser:
        return True
    return any(app is None and role == LIBRARIAN for role, app in permissions.assignments(user))


def require_change(user: Any) -> None:
    """Raise PermissionDenied unless the user may change the CMDB. No user (None) is the
    server itself: its command line, data migrations and jobs."""
    if user is not None and not can_change(user):
        raise PermissionDenied(
            _(
                "Only administrators and configuration librarians (for every application) "
                "may change the CMDB."
            )
        )
