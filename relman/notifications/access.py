"""Who may administer notifications: the outbox and the subscriptions of roles and channels.

Rules read from `core.permissions` like every other permission in relman (DESIGN.md rule 4).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.core import permissions
from relman.core.errors import PermissionDenied


def can_administer(user: Any) -> bool:
    """A user may see the outbox, send a message again, and manage the subscriptions of roles
    and channels when they are a superuser or hold the release administrator role for every
    application."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    # roles_of(user, None): the roles held for every application.
    return user.is_superuser or BuiltinRole.RELEASE_ADMINISTRATOR in permissions.roles_of(
        user, None
    )


def require_admin(user: Any) -> None:
    """Raise PermissionDenied unless the user administers notifications. No user (None) is
    the server itself: its command line and jobs."""
    if user is not None and not can_administer(user):
        raise PermissionDenied(
            _(
                "Only administrators and release administrators for every application may "
                "manage the notification outbox and shared subscriptions."
            )
        )
