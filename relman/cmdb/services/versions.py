"""Deployed versions: which version of an application runs on an item, and its history.

Recording a version closes the current row for that item and application (its `removed` is
the new one's `installed`) and links the new row to it as `previous`. The release services
record the versions their releases deploy through the same function."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.cmdb import access
from relman.cmdb.models import Application, DeployedVersion
from relman.cmdb.services.items import get_item
from relman.core.errors import raise_if_invalid

MAX_VERSION = 64
MAX_NOTE = 300


def record_deployed_version(
    actor: Any,
    ci: Any,
    *,
    application: Any,
    version: str,
    release: Any = None,
    installed: datetime | None = None,
    note: str = "",
) -> DeployedVersion:
    """Record that `version` of `application` now runs on the item `ci` (by hand, or for
    `release` when a release put it there)."""
    access.require_change(actor)
    errors: dict[str, list[str]] = {}
    version = str(version or "").strip()
    if not version or len(version) > MAX_VERSION or "\x00" in version:
        errors["version"] = [_("A version of 1 to %d characters is required.") % MAX_VERSION]
    note = str(note or "")
    if len(note) > MAX_NOTE:
        errors["note"] = [_("At most %d characters.") % MAX_NOTE]
    app = application if isinstance(application, Application) else None
    if app is None:
        app = Application.objects.filter(code=str(application or "").strip()).first()
        if app is None:
            errors["application"] = [_("There is no application '%s'.") % application]
    installed = installed or timezone.now()
    if timezone.is_naive(installed):
        installed = timezone.make_aware(installed)
    if installed > timezone.now() + timedelta(minutes=5):
        errors["installed"] = [_("A version cannot be installed in the future.")]
    raise_if_invalid(errors)
    with transaction.atomic():
        item = get_item(ci, for_update=True)
        current = (
            DeployedVersion.objects.select_for_update()
            .filter(ci=item, application=app, removed__isnull=True)
            .first()
        )
        if current is not None and installed < current.installed:
            raise_if_invalid(
                {
                    "installed": [
                        _("Version %(version)s was installed later (%(when)s).")
                        % {"version": current.version, "when": current.installed.isoformat()}
                    ]
                }
            )
        if current is not None:
            current.removed = installed
            current.save(update_fields=["removed"])
        row = DeployedVersion.objects.create(
            ci=item,
            application=app,
            version=version,
            release=release,
            installed=installed,
            previous=current,
            note=note,
        )
        audit.record(
            actor,
            "deployed_version.recorded",
            item,
            release=release,
            before={"version": current.version} if current else None,
            after={
                "application": app.code,
                "version": version,
                "installed": installed.isoformat(),
                "release": getattr(release, "number", None),
            },
        )
    return row
