"""The deployed versions a release leaves in the CMDB: recorded by hand (`record_deployed`),
installed when it closes as succeeded, put back when it is rolled back. The history keeps
every row: a replaced version gets `removed`, and the new one links it as `previous`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.cmdb.models import ConfigurationItem, DeployedVersion
from relman.core.errors import Conflict, ValidationFailed
from relman.releases import access
from relman.releases.models import Release
from relman.releases.services.scope import resolve_items, touched_items


def _install(
    release: Release, items: Sequence[ConfigurationItem], version: str, now: Any, note: str = ""
) -> list[ConfigurationItem]:
    """Make `version` of the release's application current on each item, unless this release
    already put it there; return the items changed. The row it replaces gets `removed`."""
    current = {
        dv.ci_id: dv
        for dv in DeployedVersion.objects.filter(
            ci__in=items, application_id=release.application_id, removed__isnull=True
        )
    }
    changed = []
    created = []
    for ci in items:
        old = current.get(ci.pk)
        if old is not None and old.release_id == release.pk:
            continue
        if old is not None:
            old.removed = now
            old.save(update_fields=["removed"])
        created.append(
            DeployedVersion(
                ci=ci,
                application_id=release.application_id,
                version=version,
                release=release,
                installed=now,
                previous=old,
                note=note,
            )
        )
        changed.append(ci)
    try:
        with transaction.atomic():
            DeployedVersion.objects.bulk_create(created)
    except IntegrityError as exc:  # another release recorded a version there meanwhile
        raise Conflict(
            _("Someone recorded a version on these items at the same time; try again.")
        ) from exc
    return changed


def record_deployed(
    actor: Any,
    ref: Release | str | int,
    *,
    items: Iterable[Any] | None = None,
    version: str = "",
    note: str = "",
) -> list[ConfigurationItem]:
    """Record in the CMDB that the release's application now runs at `version` (by default
    the release's version number) on the items it touches (all, or those named). An item
    this release already updated is left as it is. Returns the items changed."""
    version, note = (version or "").strip(), (note or "").strip()
    if len(version) > 64:
        raise ValidationFailed(_("At most 64 characters."), field="version")
    if len(note) > 300:
        raise ValidationFailed(_("At most 300 characters."), field="note")
    named = resolve_items(items) if items is not None else None
    with transaction.atomic():
        release = access.get_visible(actor, ref, for_update=True)
        access.require_edit(actor, release)
        version = version or release.version_number
        if not version:
            raise ValidationFailed(
                _("Give the version, or set the release's version number first."),
                field="version",
            )
        touched = touched_items(release)
        if named is not None:
            touched_ids = {ci.pk for ci in touched}
            outside = sorted(ci.name for ci in named if ci.pk not in touched_ids)
            if outside:
                raise ValidationFailed(
                    _("Release %(number)s does not touch: %(names)s.")
                    % {"number": release.number, "names": ", ".join(outside)},
                    field="items",
                )
            chosen = {ci.pk for ci in named}
            touched = [ci for ci in touched if ci.pk in chosen]
        changed = _install(release, touched, version, timezone.now(), note)
        if changed:
            audit.record(
                actor,
                "release.cmdb_updated",
                release,
                release=release,
                after={
                    "application": release.application.code,
                    "versions": {ci.name: version for ci in changed},
                },
                reason=note,
            )
    return changed


def install_on_close(actor: Any, release: Release, now: Any) -> None:
    """A release closed as succeeded: its application at its version number becomes current
    on every item it touches (those this release updated already are left). Runs in the
    closing transaction."""
    if not release.version_number:
        return
    changed = _install(release, touched_items(release), release.version_number, now)
    if changed:
        audit.record(
            actor,
            "release.cmdb_updated",
            release,
            release=release,
            after={
                "application": release.application.code,
                "versions": {ci.name: release.version_number for ci in changed},
                "on": "close",
            },
        )


def restore_on_rollback(actor: Any, release: Release, now: Any) -> None:
    """A release rolled back: the versions it installed are removed and the ones they
    replaced become current again (as new rows, so the history keeps everything). Runs in
    the rollback's transaction."""
    installed = list(
        DeployedVersion.objects.filter(release=release, removed__isnull=True)
        .select_related("ci", "previous")
        .order_by("ci__name", "id")
    )
    if not installed:
        return
    note = _("restored by rollback of %s") % release.number
    restored, removed = [], {}
    for row in installed:
        row.removed = now
        row.save(update_fields=["removed"])
        removed[row.ci.name] = row.version
        if row.previous is not None:
            restored.append(
                DeployedVersion(
                    ci_id=row.ci_id,
                    application_id=row.previous.application_id,
                    version=row.previous.version,
                    release_id=row.previous.release_id,
                    installed=now,
                    previous=row,
                    note=note,
                )
            )
    DeployedVersion.objects.bulk_create(restored)
    names = {row.ci_id: row.ci.name for row in installed}
    audit.record(
        actor,
        "release.cmdb_restored",
        release,
        release=release,
        before={"versions": removed},
        after={"versions": {names[r.ci_id]: r.version for r in restored}},
    )
