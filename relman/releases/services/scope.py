"""What a release touches in the CMDB: its items and the departments added by hand, the
impact of its items, and the impact review (the deployed versions it records are in
`deployed.py`).

Changing the items or departments follows the rule for editing a release
(`access.require_edit`: an open release, any role for it but auditor); each change bumps
the release's revision and is audited with the names before and after. Changing the items
voids the live impact review, which saw the old ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.accounts.models import Team
from relman.audit import services as audit
from relman.cmdb import impact
from relman.cmdb.models import ConfigurationItem
from relman.core import ids
from relman.core.errors import PermissionDenied, ValidationFailed, raise_if_invalid
from relman.processes.messages import role_label
from relman.releases import access
from relman.releases.choices import Status
from relman.releases.models import ImpactReview, Release, ReleaseItem, ReleaseTeam
from relman.releases.services.common import check_revision
from relman.releases.services.state import flow_of

# The most items or departments one request may name.
MAX_REFS = 500
ADD, REMOVE, SET = "add", "remove", "set"


# ---------------------------------------------------------------- reading references


def _refs(values: Iterable[Any], field: str) -> list[str]:
    refs = [str(v).strip() for v in values or ()]
    if len(refs) > MAX_REFS:
        raise ValidationFailed(_("At most %d at a time.") % MAX_REFS, field=field)
    if any(not r for r in refs):
        raise ValidationFailed(_("An empty name names nothing."), field=field)
    if any("\x00" in r for r in refs):  # PostgreSQL cannot compare text holding NUL
        raise ValidationFailed(_("A name may not contain NUL characters."), field=field)
    return list(dict.fromkeys(refs))


def resolve_items(values: Iterable[Any], *, field: str = "items") -> list[ConfigurationItem]:
    """The configuration items named by id, by name, or as `type:name` (when a name is used
    by items of several types), in one query; unknown or ambiguous names are refused."""
    refs = _refs(values, field)
    if not refs:
        return []
    query = Q(pk__in=[n for n in (ids.as_id(r) for r in refs) if n is not None])
    for ref in refs:
        query |= Q(name=ref)
        if ":" in ref:
            type_code, name = ref.split(":", 1)
            query |= Q(type__code=type_code, name=name)
    found = list(ConfigurationItem.objects.filter(query).select_related("type", "owner_team"))
    by_id = {ci.pk: ci for ci in found}
    chosen: dict[int, ConfigurationItem] = {}
    errors: list[str] = []
    for ref in refs:
        number = ids.as_id(ref)
        if number is not None and number in by_id:
            chosen[number] = by_id[number]
            continue
        matches = [ci for ci in found if ci.name == ref]
        if not matches and ":" in ref:
            type_code, name = ref.split(":", 1)
            matches = [ci for ci in found if ci.type.code == type_code and ci.name == name]
        if len(matches) == 1:
            chosen[matches[0].pk] = matches[0]
        elif matches:
            errors.append(
                _("'%(ref)s' names several items; write it as type:name (%(choices)s).")
                % {
                    "ref": ref,
                    "choices": ", ".join(sorted(f"{ci.type.code}:{ci.name}" for ci in matches)),
                }
            )
        else:
            errors.append(_("There is no configuration item '%s'.") % ref)
    raise_if_invalid({field: errors} if errors else {})
    return list(chosen.values())


def resolve_teams(values: Iterable[Any], *, field: str = "teams") -> list[Team]:
    """Departments by code or id, in one query."""
    refs = _refs(values, field)
    if not refs:
        return []
    numbers = [n for n in (ids.as_id(r) for r in refs) if n is not None]
    found = list(Team.objects.filter(Q(code__in=refs) | Q(pk__in=numbers)))
    chosen: dict[int, Team] = {}
    errors = []
    for ref in refs:
        number = ids.as_id(ref)
        team = next((t for t in found if t.code == ref or t.pk == number), None)
        if team is None:
            errors.append(_("There is no department '%s'.") % ref)
        elif not team.is_active:
            errors.append(_("Department '%s' is inactive.") % team.code)
        else:
            chosen[team.pk] = team
    raise_if_invalid({field: errors} if errors else {})
    return list(chosen.values())


# ---------------------------------------------------------------- items and departments


def check_how(how: str) -> None:
    if how not in (ADD, REMOVE, SET):
        raise ValidationFailed(_("Add, remove or set."), field="how")


def open_for_change(actor: Any, ref: Release | str | int, revision: int | None) -> Release:
    """The release, locked, at the caller's revision, which the actor may change."""
    release = access.get_visible(actor, ref, for_update=True)
    check_revision(release, revision)
    access.require_edit(actor, release)
    return release


def scope_diff(
    how: str,
    present: set[int],
    chosen: dict[int, str],
    refusal: Callable[[str], str],
    field: str,
) -> tuple[set[int], set[int]]:
    """The ids an add, remove or set adds and drops among those a release names (`present`;
    `chosen`: id -> name). Removing what it does not name is refused: `refusal` words the
    names, joined."""
    wanted = set(chosen)
    if how == ADD:
        return wanted - present, set()
    if how == REMOVE:
        missing = sorted(name for pk, name in chosen.items() if pk not in present)
        if missing:
            raise ValidationFailed(refusal(", ".join(missing)), field=field)
        return set(), wanted
    return wanted - present, present - wanted


def _touched_names(release: Release) -> list[str]:
    return list(
        ReleaseItem.objects.filter(release=release)
        .order_by("ci__name", "ci_id")
        .values_list("ci__name", flat=True)
    )


def change_items(
    actor: Any,
    ref: Release | str | int,
    how: str,
    items: Iterable[Any],
    *,
    revision: int | None = None,
) -> Release:
    """Add, remove or set (replace all of) the configuration items a release touches.

    The release's revision grows and the audit event lists the items' names before and
    after; the live impact review is voided, since the impact it saw is no longer the one."""
    check_how(how)
    chosen = resolve_items(items)
    with transaction.atomic():
        release = open_for_change(actor, ref, revision)
        present = set(ReleaseItem.objects.filter(release=release).values_list("ci_id", flat=True))
        adding, dropping = scope_diff(
            how,
            present,
            {ci.pk: ci.name for ci in chosen},
            lambda names: (
                _("Release %(number)s does not touch: %(names)s.")
                % {"number": release.number, "names": names}
            ),
            "items",
        )
        if not adding and not dropping:
            return release
        before = _touched_names(release)
        ReleaseItem.objects.filter(release=release, ci_id__in=dropping).delete()
        ReleaseItem.objects.bulk_create(
            [ReleaseItem(release=release, ci_id=pk, added_by=actor) for pk in sorted(adding)]
        )
        release.revision += 1
        release.save(update_fields=["revision", "updated"])
        audit.record(
            actor,
            "release.items_changed",
            release,
            release=release,
            before={"items": before},
            after={"items": _touched_names(release)},
        )
        ImpactReview.objects.filter(release=release, voided__isnull=True).update(
            voided=timezone.now(),
            void_reason=_("The configuration items the release touches changed."),
        )
    return release


def change_teams(
    actor: Any,
    ref: Release | str | int,
    how: str,
    teams: Iterable[Any],
    *,
    revision: int | None = None,
) -> Release:
    """Add or remove departments involved in a release by hand (or set the whole list)."""
    check_how(how)
    chosen = resolve_teams(teams)
    with transaction.atomic():
        release = open_for_change(actor, ref, revision)
        present = set(ReleaseTeam.objects.filter(release=release).values_list("team_id", flat=True))
        adding, dropping = scope_diff(
            how,
            present,
            {t.pk: t.code for t in chosen},
            lambda codes: (
                _("These departments were not added to release %(number)s: %(codes)s.")
                % {"number": release.number, "codes": codes}
            ),
            "teams",
        )
        if not adding and not dropping:
            return release

        def codes() -> list[str]:
            return list(
                ReleaseTeam.objects.filter(release=release)
                .order_by("team__code")
                .values_list("team__code", flat=True)
            )

        before = codes()
        ReleaseTeam.objects.filter(release=release, team_id__in=dropping).delete()
        ReleaseTeam.objects.bulk_create(
            [ReleaseTeam(release=release, team_id=pk, added_by=actor) for pk in sorted(adding)]
        )
        release.revision += 1
        release.save(update_fields=["revision", "updated"])
        audit.record(
            actor,
            "release.teams_changed",
            release,
            release=release,
            before={"teams": before},
            after={"teams": codes()},
        )
    return release


# ---------------------------------------------------------------- impact


@dataclass(frozen=True)
class ImpactRow:
    """A touched or affected item, with the path that explains it as names and kinds."""

    ci: ConfigurationItem | None
    id: int
    name: str
    type_code: str
    type_name: str
    is_service: bool
    owner_team: str
    depth: int
    path: tuple[str, ...]  # names from the touched item to this one
    via: tuple[str, ...]  # the relationship kind of each hop
    path_ids: tuple[int, ...] = ()  # the ids of `path`


@dataclass(frozen=True)
class ReleaseImpact:
    """What a release touches, and every item and service depending on those."""

    release: Release
    touched: list[ImpactRow]
    affected: list[ImpactRow]
    review: ImpactReview | None
    departments: list[Team]

    @property
    def touched_ids(self) -> list[int]:
        return sorted(row.id for row in self.touched)

    @property
    def affected_ids(self) -> list[int]:
        return sorted(row.id for row in self.affected)

    @property
    def owner_teams(self) -> list[str]:
        """The owner teams of the touched and affected items, each once, in order."""
        return list(
            dict.fromkeys(r.owner_team for r in self.touched + self.affected if r.owner_team)
        )


DEPARTMENT_KINDS = (Team.Kind.DEPARTMENT, Team.Kind.SUB_DEPARTMENT)


def _departments_of(release: Release) -> Any:
    """The departments (and sub-departments) the requester belongs to, by code."""
    return Team.objects.filter(
        memberships__user_id=release.requester_id, kind__in=DEPARTMENT_KINDS
    ).order_by("code")


def requester_departments(release: Release) -> list[Team]:
    """The active departments (and sub-departments) the requester belongs to."""
    return list(_departments_of(release).filter(is_active=True))


def involved_departments(
    release: Release,
    known: tuple[list[ConfigurationItem], list[impact.Affected]] | None = None,
) -> list[Team]:
    """The departments a release involves, each once, in this order: the requester's, the
    owner teams of the items it touches, of the items those affect, and the departments
    added by hand. Inactive teams are left out. Five queries (three given `known`, the
    release's `impact_of`), whatever the graph."""
    touched, found = known or impact_of(release)
    order = [
        *_departments_of(release).values_list("pk", flat=True),
        *(ci.owner_team_id for ci in touched),
        *(a.owner_team_id for a in found),
        *release.added_teams.values_list("team_id", flat=True),
    ]
    order = list(dict.fromkeys(pk for pk in order if pk))
    teams = Team.objects.in_bulk(order)
    return [teams[pk] for pk in order if pk in teams and teams[pk].is_active]


def touched_items(release: Release) -> list[ConfigurationItem]:
    """The items a release touches, with their type and owner team (one query)."""
    return list(
        ConfigurationItem.objects.filter(release_items__release=release)
        .select_related("type", "owner_team")
        .order_by("name", "id")
    )


def impact_of(release: Release) -> tuple[list[ConfigurationItem], list[impact.Affected]]:
    """The touched items and what they affect: two queries, whatever the graph's size."""
    touched = touched_items(release)
    return touched, impact.affected([ci.pk for ci in touched])


def affected_rows(roots: dict[int, str], found: list[impact.Affected]) -> list[ImpactRow]:
    """The walk's answer as rows with their paths in names (`roots`: id -> name)."""
    names = roots | {a.id: a.name for a in found}
    return [
        ImpactRow(
            None,
            a.id,
            a.name,
            a.type_code,
            a.type_name,
            a.is_service,
            a.owner_team,
            a.depth,
            tuple(names.get(pk, str(pk)) for pk in a.path),
            tuple(("^" if h.reverse else "") + h.kind for h in a.hops),
            a.path,
        )
        for a in found
    ]


def item_impact(ci: ConfigurationItem) -> list[ImpactRow]:
    """What a change to one item affects, for its page: one query."""
    return affected_rows({ci.pk: ci.name}, impact.affected([ci.pk]))


def release_impact(user: Any, ref: Release | str | int) -> ReleaseImpact:
    """The impact of a release the user may see, and the departments it involves: seven
    queries (the release, its items, the recursive walk, the departments, the live review),
    whatever the number of items and paths."""
    release = ref if isinstance(ref, Release) else access.get_visible(user, ref)
    touched, found = impact_of(release)
    departments = involved_departments(release, (touched, found))
    rows = [
        ImpactRow(
            ci,
            ci.pk,
            ci.name,
            ci.type.code,
            ci.type.name,
            ci.type.is_service,
            ci.owner_team.name if ci.owner_team_id else "",
            0,
            (ci.name,),
            (),
            (ci.pk,),
        )
        for ci in touched
    ]
    affected = affected_rows({ci.pk: ci.name for ci in touched}, found)
    review = (
        ImpactReview.objects.filter(release=release, voided__isnull=True)
        .select_related("reviewer")
        .order_by("-created", "-id")
        .first()
    )
    return ReleaseImpact(release, rows, affected, review, departments)


def reviewer_roles(release: Release) -> tuple[str, ...]:
    """The roles the impact_reviewed gates of the release's current stage ask for."""
    _process, variant = flow_of(release)
    stage = variant.stage(release.stage)
    if stage is None:
        return ()
    options = stage.option("impact_reviewed")
    role = getattr(options, "role", "")
    return (role,) if role else ()


def review_impact(actor: Any, ref: Release | str | int, *, note: str = "") -> ImpactReview:
    """Confirm the impact of a release as it stands now (items touched and affected).

    The reviewer must hold the role the current stage's `impact_reviewed` gate names (when
    it names none: any role for the release but auditor), and may not be its requester,
    as nobody approves their own release. A new review replaces the live one."""
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationFailed(_("At most 500 characters."), field="note")
    with transaction.atomic():
        release = access.get_visible(actor, ref, for_update=True)
        if release.status != Status.IN_PROGRESS:
            raise PermissionDenied(
                _("Release %s is closed; it can no longer change.") % release.number
            )
        if release.requester_id == actor.pk:
            raise PermissionDenied(
                _("You requested release %s; someone else must review its impact.") % release.number
            )
        roles = access.release_roles(actor, release)
        needed = reviewer_roles(release)
        if needed and not set(needed) & roles:
            process, _variant = flow_of(release)
            raise PermissionDenied(
                _("Only a holder of the role '%(role)s' may review the impact of %(number)s.")
                % {
                    "role": ", ".join(role_label(process, r) for r in needed),
                    "number": release.number,
                }
            )
        if not roles - {BuiltinRole.AUDITOR}:
            raise PermissionDenied(_("You may not review the impact of %s.") % release.number)
        touched, found = impact_of(release)
        now = timezone.now()
        ImpactReview.objects.filter(release=release, voided__isnull=True).update(
            voided=now, void_reason=_("A newer impact review replaced it.")
        )
        review = ImpactReview.objects.create(
            release=release,
            reviewer=actor,
            roles=sorted(roles),
            touched=sorted(ci.pk for ci in touched),
            affected=sorted(a.id for a in found),
            note=note,
        )
        audit.record(
            actor,
            "release.impact_reviewed",
            review,
            release=release,
            after={
                "touched": sorted(ci.name for ci in touched),
                "affected": [a.name for a in found],
                "roles": sorted(roles),
            },
            reason=note,
        )
    return review
