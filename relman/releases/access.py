"""Who may see and do what with releases, in one place (DESIGN.md rule 4).

The UI, the API and the CLI all ask these functions; list views filter with `visible_releases`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from relman.accounts.choices import CREATORS, BuiltinRole
from relman.core import ids, permissions
from relman.core.errors import NotFound, PermissionDenied, raise_if_invalid
from relman.releases.models import Release


def release_roles(user: Any, release: Release) -> set[str]:
    """The roles a user holds for a release: assigned ones, plus requester and release manager
    when they are that release's requester or manager."""
    roles = permissions.roles_of(user, release.application_id)
    if user.is_authenticated and release.requester_id == user.pk:
        roles.add(BuiltinRole.REQUESTER)
    if user.is_authenticated and release.release_manager_id == user.pk:
        roles.add(BuiltinRole.RELEASE_MANAGER)
    return roles


def visible_releases(user: Any, queryset: QuerySet[Release] | None = None) -> QuerySet[Release]:
    """A user may see a release when: they are a superuser, they hold any role for every
    application, they hold a role for its application, they requested or manage it, or they
    stand in for someone who may see it (by an active delegation)."""
    queryset = queryset if queryset is not None else Release.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.is_superuser or permissions.has_global_role(user):
        return queryset
    delegated = permissions.delegated_assignments(user)
    if any(app is None for _role, app in delegated):
        return queryset  # they stand in for someone who sees every release
    return queryset.filter(
        Q(application_id__in=permissions.application_ids(user) | {a for _r, a in delegated})
        | Q(requester=user)
        | Q(release_manager=user)
    )


def can_view(user: Any, release: Release) -> bool:
    return visible_releases(user, Release.objects.filter(pk=release.pk)).exists()


def get_visible(user: Any, ref: Release | str | int, *, for_update: bool = False) -> Release:
    """The release (given itself, by number or by id), read afresh if the user may see it
    (locked with `for_update`); else NotFound, never a hint that it exists."""
    queryset = visible_releases(user).select_related(
        "application", "process", "requester", "release_manager", "environment"
    )
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    key = str(ref.pk if isinstance(ref, Release) else ref)
    release = queryset.filter(**ids.lookup(key, "number")).first()
    if release is None:
        raise NotFound(_("Release %s was not found.") % key)
    return release


def can_create(user: Any, application_id: int) -> bool:
    """A user may request a release for an application when they hold a creating role for it
    (requester, release manager, release owner, release administrator or project manager)."""
    return bool(permissions.roles_of(user, application_id) & CREATORS)


def require_create(user: Any, application_id: int) -> None:
    if not can_create(user, application_id):
        raise PermissionDenied(_("You may not request releases for this application."))


def can_edit(user: Any, release: Release) -> bool:
    """A user may edit an open release's details, add deliverables and tick checklist items
    when they hold any role for it other than auditor (requester and manager included)."""
    if release.status != "in_progress":
        return False
    return bool(release_roles(user, release) - {BuiltinRole.AUDITOR})


def require_edit(user: Any, release: Release) -> None:
    if release.status != "in_progress":
        raise PermissionDenied(_("Release %s is closed; it can no longer change.") % release.number)
    if not can_edit(user, release):
        raise PermissionDenied(_("You may not change release %s.") % release.number)


# Roles whose holders may hand a release to another release manager.
MANAGER_ASSIGNERS = {BuiltinRole.RELEASE_MANAGER, BuiltinRole.RELEASE_ADMINISTRATOR}


def check_manager(
    actor: Any, application_id: int, manager: Any, *, current: Release | None = None
) -> None:
    """Who may name a release's release manager, since the field grants that person the
    release manager's rights over the release:

    - the person named must hold the release_manager role for the release's application
      (being some other release's manager does not count);
    - when a release is requested, its requester may propose any such person;
    - afterwards, only someone who holds release_manager or release_administrator for the
      application may change or clear it, the current manager included.

    The page, the API and the CLI all reach this through the release services."""
    if current is not None and manager == current.release_manager:
        return
    if current is not None and not permissions.roles_of(actor, application_id) & MANAGER_ASSIGNERS:
        raise PermissionDenied(
            _(
                "Only a release manager or release administrator of the application may "
                "change who manages release %s."
            )
            % current.number,
            field="release_manager",
        )
    if manager is not None and BuiltinRole.RELEASE_MANAGER not in permissions.roles_of(
        manager, application_id
    ):
        message = _("%s does not hold the release manager role for this application.")
        raise_if_invalid({"release_manager": [message % manager.get_username()]})


def can_comment(user: Any, release: Release) -> bool:
    """Anyone who may see a release, except read-only auditors, may comment on it."""
    roles = release_roles(user, release)
    return bool(roles - {BuiltinRole.AUDITOR})
