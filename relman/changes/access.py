"""Who may read, request, edit, decide, review and refresh requests for change.

Rules read from `core.permissions` like every other permission in relman (DESIGN.md rule 4);
the services, and through them the pages, the API and the command line, ask these.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.changes.choices import EDITABLE, Status
from relman.changes.models import Change
from relman.core import permissions
from relman.core.errors import PermissionDenied

# Who decides a change: the change advisory board of its application.
DECIDERS = {BuiltinRole.CAB_MEMBER}
# Who looks after a change besides its requester: its owner and the board.
KEEPERS = {BuiltinRole.CHANGE_OWNER, BuiltinRole.CAB_MEMBER}
# Who reviews a change after its release: the release manager, or the change owner.
REVIEWERS = {BuiltinRole.RELEASE_MANAGER, BuiltinRole.CHANGE_OWNER}


def can_read(user: Any) -> bool:
    """Every signed-in, active user may read changes: what is about to change in production
    is the whole organisation's business, as the CAB is."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _roles(user: Any, application_id: int | None) -> set[str]:
    """The user's roles for the application (for a change without one: global roles only)."""
    return permissions.roles_of(user, application_id)


def can_request(user: Any, application_id: int | None) -> bool:
    """A user may request a change when they hold a role other than auditor for its
    application (for a change that names none: a role other than auditor anywhere)."""
    if not can_read(user):
        return False
    if user.is_superuser:
        return True
    if application_id is not None:
        return bool(_roles(user, application_id) - {BuiltinRole.AUDITOR})
    return any(role != BuiltinRole.AUDITOR for role, _app in permissions.assignments(user))


def require_request(user: Any, application_id: int | None) -> None:
    if not can_request(user, application_id):
        raise PermissionDenied(
            _("You may not request changes for this application."), field="application"
        )


def can_edit(user: Any, change: Change) -> bool:
    """A user may edit a change's details while it is a draft, submitted or rejected, when
    they requested it or hold change owner or CAB member for its application."""
    if change.status not in EDITABLE or not can_read(user):
        return False
    return change.requester_id == user.pk or bool(_roles(user, change.application_id) & KEEPERS)


def require_edit(user: Any, change: Change) -> None:
    if change.status not in EDITABLE:
        raise PermissionDenied(
            _("Change %(number)s is %(status)s; its details can no longer change.")
            % {"number": change.number, "status": Status(change.status).label.lower()},
            field="status",
        )
    if not can_edit(user, change):
        raise PermissionDenied(_("You may not change %s.") % change.number)


def can_decide(user: Any, change: Change) -> bool:
    """A user may approve or reject a change when they hold CAB member for its application
    (for a change that names none: for every application), and did not request it: nobody
    approves their own change."""
    return (
        can_read(user)
        and change.requester_id != user.pk
        and bool(_roles(user, change.application_id) & DECIDERS)
    )


def require_decide(user: Any, change: Change) -> None:
    if can_read(user) and change.requester_id == user.pk:
        raise PermissionDenied(_("You requested %s; someone else must decide it.") % change.number)
    if not can_decide(user, change):
        raise PermissionDenied(
            _("Only a CAB member of its application may approve or reject %s.") % change.number
        )


def can_review(user: Any, change: Change, release: Any) -> bool:
    """A user may review a change carried by a release when they manage that release, or
    hold release manager or change owner for the release's application."""
    if not can_read(user):
        return False
    if release.release_manager_id == user.pk:
        return True
    return bool(_roles(user, release.application_id) & REVIEWERS)


def require_review(user: Any, change: Change, release: Any) -> None:
    if not can_review(user, change, release):
        raise PermissionDenied(
            _(
                "Only the release manager of %(release)s, or a release manager or change owner "
                "of its application, may review %(change)s."
            )
            % {"release": release.number, "change": change.number}
        )


def can_refresh_external(user: Any, change: Change) -> bool:
    """A user may record a change's state in its external tracker when they requested it,
    or hold change owner or CAB member for its application."""
    return can_read(user) and (
        change.requester_id == user.pk or bool(_roles(user, change.application_id) & KEEPERS)
    )


def require_refresh_external(user: Any, change: Change) -> None:
    """No user (None) is the server itself: the signed webhook."""
    if user is not None and not can_refresh_external(user, change):
        raise PermissionDenied(_("You may not record the external state of %s.") % change.number)
