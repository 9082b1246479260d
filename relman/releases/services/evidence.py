"""What releases gather on their way: deliverables, checklist ticks, approvals, comments."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.core.errors import (
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from relman.processes.definition import pick
from relman.processes.messages import role_label
from relman.releases import access, signals, storage
from relman.releases.models import (
    ChecklistTick,
    Comment,
    Deliverable,
    DeliverableVersion,
    Release,
)
from relman.releases.services.state import flow_of


def add_deliverable(
    actor: Any,
    ref: Release | str | int,
    *,
    key: str,
    upload: Any = None,
    filename: str = "",
    url: str = "",
    note: str = "",
) -> DeliverableVersion:
    """Add a version of a deliverable: an uploaded file (checked and checksummed) or a link.

    An earlier version is kept; the file is refused whole when it is too large or not what
    its name says.
    """
    release = access.get_visible(actor, ref)
    access.require_edit(actor, release)
    process, _variant = flow_of(release)
    if key not in process.deliverables:
        raise ValidationFailed(
            _("'%(key)s' is not a deliverable of process '%(process)s'. Choose one of: %(keys)s.")
            % {"key": key, "process": process.name, "keys": ", ".join(process.deliverables)},
            field="key",
        )
    if bool(upload) == bool(url):
        raise ValidationFailed(
            _("Give either a file or a link, not both and not neither."), field="file"
        )
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as exc:
            raise ValidationFailed(
                _("'%s' is not a valid http(s) link.") % url, field="url"
            ) from exc
    if len(note) > 500:
        raise ValidationFailed(_("At most 500 characters."), field="note")
    if "\x00" in note:
        raise ValidationFailed(_("A note cannot contain NUL characters."), field="note")
    name = (filename or getattr(upload, "name", "") or "").rsplit("/", 1)[-1][:255]
    stored = storage.store(upload, name) if upload else None
    with transaction.atomic():
        release = access.get_visible(actor, release, for_update=True)
        access.require_edit(actor, release)
        deliverable, _created = Deliverable.objects.get_or_create(
            release=release,
            key=key,
            defaults={"title": pick(process.deliverables[key], "en")},
        )
        last = (
            deliverable.versions.order_by("-number").values_list("number", flat=True).first() or 0
        )
        version = DeliverableVersion.objects.create(
            deliverable=deliverable,
            number=last + 1,
            file=stored.path if stored else "",
            filename=name if stored else "",
            sha256=stored.sha256 if stored else "",
            size=stored.size if stored else None,
            content_type=stored.content_type if stored else "",
            url=url,
            note=note,
            uploaded_by=actor,
        )
        audit.record(
            actor,
            "deliverable.added",
            version,
            release=release,
            after={
                "deliverable": key,
                "version": version.number,
                "filename": version.filename,
                "sha256": version.sha256,
                "size": version.size,
                "content_type": version.content_type,
                "url": url,
            },
            reason=note,
        )
        signals.deliverable_added.send(
            Release, release=release, actor=actor, key=key, version=version.number
        )
    return version


def complete_checklist_item(
    actor: Any, ref: Release | str | int, *, item: str, note: str = ""
) -> ChecklistTick:
    """Mark an item of the current stage's checklist done."""
    with transaction.atomic():
        release = access.get_visible(actor, ref, for_update=True)
        access.require_edit(actor, release)
        process, variant = flow_of(release)
        stage = variant.stage(release.stage)
        if item not in stage.checklist:
            raise ValidationFailed(
                _("'%(item)s' is not on the checklist of this stage. Its items: %(items)s.")
                % {"item": item, "items": ", ".join(stage.checklist) or "-"},
                field="item",
            )
        if not access.release_roles(actor, release) & set(stage.roles):
            roles = ", ".join(role_label(process, r) for r in stage.roles)
            raise PermissionDenied(
                _("Only these roles may tick this stage's checklist: %s.") % roles
            )
        if ChecklistTick.objects.filter(
            release=release, stage=stage.key, item=item, voided__isnull=True
        ).exists():
            raise Conflict(_("This checklist item is already done."))
        tick = ChecklistTick.objects.create(
            release=release, stage=stage.key, item=item, done_by=actor, note=note[:500]
        )
        audit.record(
            actor,
            "checklist.done",
            tick,
            release=release,
            after={"stage": stage.key, "item": item},
            reason=note,
        )
    return tick


def add_comment(actor: Any, ref: Release | str | int, *, body: str) -> Comment:
    """Add a comment to a release."""
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(_("A comment cannot be empty."), field="body")
    if len(body) > 10000:
        raise ValidationFailed(_("At most 10000 characters."), field="body")
    with transaction.atomic():
        release = access.get_visible(actor, ref)
        if not access.can_comment(actor, release):
            raise PermissionDenied(_("You may not comment on release %s.") % release.number)
        comment = Comment.objects.create(release=release, author=actor, body=body)
        audit.record(actor, "comment.added", comment, release=release, after={"body": body})
    return comment
