"""The change review that follows a release (MOF): for each change it carried, whether the
change achieved its aim and what side effects it had."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.changes import access
from relman.changes.choices import Achieved, Status
from relman.changes.models import ChangeReview, ReleaseChange
from relman.changes.services.common import MAX_TEXT, get_change
from relman.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from relman.releases.choices import Status as ReleaseStatus
from relman.releases.models import Release
from relman.releases.services.state import flow_of

GATE = "change_reviews"


def review_open(release: Release) -> bool:
    """Whether the changes of a release may be reviewed now: once it is closed, or while it
    is in the stage that holds it for their reviews (its process's closing stage, where the
    `change_reviews` gate stands), that is after the deployment."""
    if release.status == ReleaseStatus.CLOSED:
        return True
    _process, variant = flow_of(release)
    stage = variant.stage(release.stage)
    return bool(stage is not None and stage.option(GATE))


def _carrying_release(change: Any, ref: Any) -> Release:
    """The release whose review this is: the one named, else the open release carrying
    the change, else the last release that carried it."""
    links = ReleaseChange.objects.filter(change=change).select_related(
        "release__application", "release__process"
    )
    if ref not in (None, ""):
        key = str(ref)
        link = links.filter(release__number=key).first() or (
            links.filter(release_id=int(key)).first() if key.isascii() and key.isdigit() else None
        )
        if link is None:
            raise NotFound(
                _("Release %(release)s does not carry %(change)s.")
                % {"release": key, "change": change.number},
                field="release",
            )
        return link.release
    link = links.order_by("-is_open", "-release_id").first()
    if link is None:
        raise ValidationFailed(
            _("Change %s is in no release; it is reviewed after its release.") % change.number,
            field="release",
        )
    return link.release


def review_change(
    actor: Any,
    key: Any,
    *,
    achieved: str,
    side_effects: str = "",
    release: Any = None,
) -> ChangeReview:
    """Record the review of a change after the release that carried it: once that release
    is closed, or in its closing stage; by its release manager, or a release manager or
    change owner of its application (`access.can_review`). One review per change and
    release; an implemented change is closed by its review."""
    achieved = str(achieved or "").strip()
    if achieved not in Achieved.values:
        raise ValidationFailed(
            _("'%(value)s' is not one of: %(choices)s.")
            % {"value": achieved, "choices": ", ".join(Achieved.values)},
            field="achieved",
        )
    side_effects = (side_effects or "").strip()
    if len(side_effects) > MAX_TEXT or "\x00" in side_effects:
        raise ValidationFailed(_("At most %d characters.") % MAX_TEXT, field="side_effects")
    with transaction.atomic():
        change = get_change(key, for_update=True)
        carrier = _carrying_release(change, release)
        access.require_review(actor, change, carrier)
        if not review_open(carrier):
            raise PermissionDenied(
                _(
                    "Release %(release)s is still before its change review; review %(change)s "
                    "after the deployment."
                )
                % {"release": carrier.number, "change": change.number},
                field="release",
            )
        earlier = ChangeReview.objects.filter(change=change, release=carrier).first()
        if earlier is not None:
            raise Conflict(
                _("%(change)s was already reviewed for %(release)s by %(who)s.")
                % {
                    "change": change.number,
                    "release": carrier.number,
                    "who": earlier.reviewer.get_username(),
                },
                field="change",
            )
        try:
            with transaction.atomic():
                review = ChangeReview.objects.create(
                    change=change,
                    release=carrier,
                    achieved=achieved,
                    side_effects=side_effects,
                    reviewer=actor,
                )
        except IntegrityError as exc:
            raise Conflict(
                _("%s was reviewed by someone else meanwhile.") % change.number, field="change"
            ) from exc
        audit.record(
            actor,
            "change.reviewed",
            review,
            release=carrier,
            after={
                "change": change.number,
                "achieved": achieved,
                "side_effects": side_effects,
            },
        )
        if change.status == Status.IMPLEMENTED:
            change.status = Status.CLOSED
            change.revision += 1
            change.save(update_fields=["status", "revision", "updated"])
            audit.record(
                actor,
                "change.closed",
                change,
                release=carrier,
                before={"status": Status.IMPLEMENTED},
                after={"status": Status.CLOSED},
            )
    return review
