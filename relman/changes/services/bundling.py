"""The changes a release carries: added, removed or set at the release's revision, like its
configuration items (`releases.services.scope`), audited with the numbers before and after.

A change is in at most one open release. The service locks the release and the changes it
adds before it looks for other open releases carrying them, and the partial unique
constraint `change_in_one_open_release` holds even against a writer that skipped the lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.changes.choices import CLOSED, Status
from relman.changes.models import Change, ChangeReview, ReleaseChange
from relman.core import ids
from relman.core.errors import Conflict, ValidationFailed, raise_if_invalid
from relman.releases.choices import Outcome
from relman.releases.models import Release
from relman.releases.services.scope import check_how, open_for_change, scope_diff

MAX_REFS = 200
# A change in these statuses cannot join a release.
UNCARRIABLE = {*CLOSED, Status.IMPLEMENTED}


def _refs(values: Iterable[Any]) -> list[str]:
    refs = [str(v).strip() for v in values or ()]
    if len(refs) > MAX_REFS:
        raise ValidationFailed(_("At most %d at a time.") % MAX_REFS, field="changes")
    if any(not r for r in refs):
        raise ValidationFailed(_("An empty name names nothing."), field="changes")
    if any("\x00" in r for r in refs):
        raise ValidationFailed(_("A name may not contain NUL characters."), field="changes")
    return list(dict.fromkeys(refs))


def resolve_changes(values: Iterable[Any], *, for_update: bool = False) -> list[Change]:
    """The changes named by number or id, in one query (locked with `for_update`, in id
    order so two writers never wait for each other in a circle); unknown ones are refused."""
    refs = _refs(values)
    if not refs:
        return []
    numbers = [n for n in (ids.as_id(r) for r in refs) if n is not None]
    rows = Change.objects.filter(Q(number__in=refs) | Q(pk__in=numbers)).order_by("pk")
    if for_update:
        rows = rows.select_for_update(of=("self",))
    found = list(rows)
    chosen: dict[int, Change] = {}
    errors = []
    for ref in refs:
        number = ids.as_id(ref)
        match = next((c for c in found if c.number == ref or c.pk == number), None)
        if match is None:
            errors.append(_("There is no change '%s'.") % ref)
        else:
            chosen[match.pk] = match
    raise_if_invalid({"changes": errors} if errors else {})
    return list(chosen.values())


def carried_numbers(release: Release) -> list[str]:
    return list(
        ReleaseChange.objects.filter(release=release)
        .order_by("change__number")
        .values_list("change__number", flat=True)
    )


def change_release_changes(
    actor: Any,
    ref: Release | str | int,
    how: str,
    changes: Iterable[Any],
    *,
    revision: int | None = None,
) -> Release:
    """Add, remove or set (replace all of) the changes a release carries.

    Follows the rule for editing a release (`releases.access.require_edit`); a change
    already in another open release, or closed, cancelled or implemented, is refused."""
    check_how(how)
    refs = _refs(changes)
    with transaction.atomic():
        release = open_for_change(actor, ref, revision)
        chosen = resolve_changes(refs, for_update=True)
        present = set(
            ReleaseChange.objects.filter(release=release).values_list("change_id", flat=True)
        )
        adding, dropping = scope_diff(
            how,
            present,
            {c.pk: c.number for c in chosen},
            lambda numbers: (
                _("Release %(number)s does not carry: %(changes)s.")
                % {"number": release.number, "changes": numbers}
            ),
            "changes",
        )
        if not adding and not dropping:
            return release
        _check_carriable(release, [c for c in chosen if c.pk in adding])
        before = carried_numbers(release)
        ReleaseChange.objects.filter(release=release, change_id__in=dropping).delete()
        try:
            with transaction.atomic():
                ReleaseChange.objects.bulk_create(
                    [
                        ReleaseChange(release=release, change_id=pk, added_by=actor)
                        for pk in sorted(adding)
                    ]
                )
        except IntegrityError as exc:
            raise Conflict(
                _("A change was added to another open release meanwhile; reload and try again."),
                field="changes",
            ) from exc
        release.revision += 1
        release.save(update_fields=["revision", "updated"])
        audit.record(
            actor,
            "release.changes_changed",
            release,
            release=release,
            before={"changes": before},
            after={"changes": carried_numbers(release)},
        )
    return release


def release_closed(actor: Any, release: Release) -> None:
    """A closed release (closed, rolled back or cancelled) frees the changes it carried for
    another release. One that succeeded implemented its approved changes: those already
    reviewed are closed, the others wait for their review. Runs in the closing service's
    transaction (the release event)."""
    links = ReleaseChange.objects.filter(release=release, is_open=True)
    change_ids = list(links.values_list("change_id", flat=True))
    if not change_ids:
        return
    links.update(is_open=False)
    if release.outcome != Outcome.SUCCEEDED:
        return
    reviewed = set(
        ChangeReview.objects.filter(release=release, change_id__in=change_ids).values_list(
            "change_id", flat=True
        )
    )
    for change in Change.objects.select_for_update().filter(
        pk__in=change_ids, status=Status.APPROVED
    ):
        status = Status.CLOSED if change.pk in reviewed else Status.IMPLEMENTED
        change.status = status
        change.revision += 1
        change.save(update_fields=["status", "revision", "updated"])
        audit.record(
            actor,
            "change.implemented" if status == Status.IMPLEMENTED else "change.closed",
            change,
            release=release,
            before={"status": Status.APPROVED},
            after={"status": status},
        )


def _check_carriable(release: Release, adding: list[Change]) -> None:
    """Refuse changes that are closed, cancelled or implemented, or in another open release."""
    if not adding:
        return
    errors = [
        _("Change %(number)s is %(status)s; it cannot join a release.")
        % {"number": c.number, "status": Status(c.status).label.lower()}
        for c in adding
        if c.status in UNCARRIABLE
    ]
    raise_if_invalid({"changes": errors} if errors else {})
    elsewhere = (
        ReleaseChange.objects.filter(change__in=adding, is_open=True)
        .exclude(release=release)
        .order_by("change__number")
        .values_list("change__number", "release__number")
    )
    taken = [
        _("Change %(change)s is already in open release %(release)s.")
        % {"change": change, "release": other}
        for change, other in elsewhere
    ]
    if taken:
        raise Conflict(" ".join(taken), field="changes", errors={"changes": taken})


def release_changes(release: Release) -> list[ReleaseChange]:
    """The links of the changes a release carries, each with its change, the change's
    requester, and the change's reviews for this release: three queries."""
    return list(
        ReleaseChange.objects.filter(release=release)
        .select_related("change__requester", "change__decided_by", "added_by")
        .prefetch_related(
            Prefetch(
                "change__reviews",
                queryset=ChangeReview.objects.filter(release=release).select_related("reviewer"),
                to_attr="release_reviews",
            )
        )
        .order_by("change__number")
    )
