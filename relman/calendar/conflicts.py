"""Scheduling conflicts over plain data: no Django, no database (DESIGN.md rule 2).

Four kinds of conflict, each found in near-linear time:

    overlap         two releases change the same application, or the same environment,
                    at overlapping times          (a sweep per application / environment)
    over_capacity   a window occurrence holds more releases than its capacity
                                                  (a count per occurrence)
    in_freeze       a release falls in a freeze covering it, with no override
                                                  (bisect over the freezes' boundaries)
    outside_window  a release is not inside any occurrence of a window covering it, and
                    is not an approved emergency outside one
                                                  (bisect + running maximum per scope)
    shared_item     two releases touch the same configuration item, or one touches an
                    item the other's items affect (its impact closure), at overlapping
                    times                          (a sweep per item of the closures)

Releases booked into the same window occurrence share it by design (its capacity limits
them), so they collide only when they change the same application.

    crm      |==A==|                    A and B overlap on crm
    crm          |==B==|
    window   [-----------]  capacity 1  A and B: over capacity
    freeze         ////////             B in the freeze

The service (`services/conflicts.py`) loads the rows, calls `detect`, and words each
conflict in the user's language; `resolution` suggestions are computed here.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

OVERLAP = "overlap"
OVER_CAPACITY = "over_capacity"
IN_FREEZE = "in_freeze"
OUTSIDE_WINDOW = "outside_window"
SHARED_ITEM = "shared_item"
KINDS = (OVERLAP, OVER_CAPACITY, IN_FREEZE, OUTSIDE_WINDOW, SHARED_ITEM)


@dataclass(frozen=True)
class ScheduledRelease:
    """A release with planned times, as conflict detection sees it."""

    id: int
    number: str
    start: datetime
    end: datetime
    application: str
    environment: str | None = None
    team: str = ""
    window_id: int | None = None
    occurrence_start: datetime | None = None
    outside_window_approved: bool = False  # an emergency scheduled outside a window
    overridden_freezes: frozenset[int] = frozenset()
    items: frozenset[int] = frozenset()  # the configuration items it touches
    reach: frozenset[int] = frozenset()  # those and every item they affect (impact closure)


@dataclass(frozen=True)
class WindowOpening:
    """One occurrence of a release window, with the window's scope and capacity."""

    window_id: int
    name: str
    start: datetime
    end: datetime
    application: str | None = None
    environment: str | None = None
    team: str = ""
    capacity: int | None = None
    time_zone: str = ""

    def covers(self, release: ScheduledRelease) -> bool:
        return (
            (self.application is None or self.application == release.application)
            and (self.environment is None or self.environment == release.environment)
            and (not self.team or self.team == release.team)
        )


@dataclass(frozen=True)
class FreezeSpan:
    """A freeze: nothing in its scope (None: everything) between start and end."""

    id: int
    name: str
    reason: str
    start: datetime
    end: datetime
    application: str | None = None
    environment: str | None = None

    def covers(self, release: ScheduledRelease) -> bool:
        return (self.application is None or self.application == release.application) and (
            self.environment is None or self.environment == release.environment
        )


@dataclass(frozen=True)
class Conflict:
    """What collides with what, when, and a suggested way out.

    `other` names the other release, the window or the freeze; `scope` the application or
    environment both releases change. `suggestion` is the start of a free occurrence to move
    to (None when none was found). `message` and `resolution` are filled in by the service,
    in the user's language.
    """

    kind: str
    release_numbers: tuple[str, ...]
    release_ids: tuple[int, ...]
    start: datetime
    end: datetime
    other: str = ""
    other_id: int | None = None
    scope: str = ""
    capacity: int | None = None
    reason: str = ""
    suggestion: datetime | None = None
    suggestion_window: str = ""
    time_zone: str = ""
    message: str = field(default="", compare=False)
    resolution: str = field(default="", compare=False)


# ---------------------------------------------------------------- lookups


class _Openings:
    """The occurrences covering one release scope (application, environment, team), sorted,
    with a running maximum of their ends so "is [s, e) inside one of them" is a bisect."""

    def __init__(self, openings: Sequence[WindowOpening]):
        self.openings = sorted(openings, key=lambda o: (o.start, o.window_id))
        self.starts = [o.start for o in self.openings]
        self.max_end: list[datetime] = []
        for opening in self.openings:
            last = self.max_end[-1] if self.max_end else opening.end
            self.max_end.append(max(last, opening.end))

    def holds(self, start: datetime, end: datetime) -> bool:
        """Whether some opening holds the whole of [start, end)."""
        i = bisect.bisect_right(self.starts, start)
        return i > 0 and self.max_end[i - 1] >= end

    def after(self, moment: datetime) -> Iterable[WindowOpening]:
        """Openings starting at or after `moment`, in order."""
        return self.openings[bisect.bisect_left(self.starts, moment) :]


class _Freezes:
    """Freezes cut into elementary segments so the freezes over [s, e) are a bisect away."""

    def __init__(self, freezes: Sequence[FreezeSpan]):
        points = sorted({f.start for f in freezes} | {f.end for f in freezes})
        self.points = points
        self.active: list[list[FreezeSpan]] = [[] for _ in points]
        ordered = sorted(freezes, key=lambda f: (f.start, f.id))
        for freeze in ordered:
            first = bisect.bisect_left(points, freeze.start)
            last = bisect.bisect_left(points, freeze.end)
            for i in range(first, last):
                self.active[i].append(freeze)

    def over(self, start: datetime, end: datetime) -> list[FreezeSpan]:
        """Freezes overlapping [start, end), each once, by start."""
        if not self.points:
            return []
        i = max(bisect.bisect_right(self.points, start) - 1, 0)
        found: dict[int, FreezeSpan] = {}
        while i < len(self.points) and self.points[i] < end:
            for freeze in self.active[i]:
                if freeze.start < end and freeze.end > start:
                    found.setdefault(freeze.id, freeze)
            i += 1
        return sorted(found.values(), key=lambda f: (f.start, f.id))


# ---------------------------------------------------------------- detection


def detect(
    releases: Iterable[ScheduledRelease],
    openings: Iterable[WindowOpening],
    freezes: Iterable[FreezeSpan],
    not_before: datetime | None = None,
    item_names: Mapping[int, str] | None = None,
) -> list[Conflict]:
    """Every conflict among the releases, in the order: overlaps, capacity, freezes, outside
    a window, shared configuration items (named by `item_names`); within a kind by time. Suggested moves start no earlier than `not_before` (now,
    for a conflict already in the past). `openings` should reach some weeks past the last release
    so that suggestions can be found."""
    releases = sorted(releases, key=lambda r: (r.start, r.end, r.id))
    openings = list(openings)
    freezes_index = _Freezes(list(freezes))
    opening_at = {(o.window_id, o.start): o for o in openings}
    booked: dict[tuple[int, datetime], list[ScheduledRelease]] = defaultdict(list)
    for release in releases:
        if release.window_id is not None and release.occurrence_start is not None:
            booked[(release.window_id, release.occurrence_start)].append(release)
    by_application: dict[str | None, list[WindowOpening]] = defaultdict(list)
    for opening in openings:
        by_application[opening.application].append(opening)
    scopes: dict[tuple[str, str | None, str], _Openings] = {}

    def scope_of(release: ScheduledRelease) -> _Openings:
        """The openings covering the release's scope, built once per scope."""
        key = (release.application, release.environment, release.team)
        if key not in scopes:
            candidates = by_application.get(release.application, []) + by_application.get(None, [])
            scopes[key] = _Openings([o for o in candidates if o.covers(release)])
        return scopes[key]

    def room(opening: WindowOpening) -> bool:
        return not opening.capacity or (
            len(booked.get((opening.window_id, opening.start), ())) < opening.capacity
        )

    def suggest(release: ScheduledRelease, after: datetime) -> WindowOpening | None:
        """The first covering opening from `after` with room and outside any freeze for it."""
        for opening in scope_of(release).after(after):
            if opening.start == release.occurrence_start:
                continue
            if not room(opening):
                continue
            blocked = [
                f
                for f in freezes_index.over(opening.start, opening.end)
                if f.covers(release) and f.id not in release.overridden_freezes
            ]
            if not blocked:
                return opening
        return None

    def suggestion(release: ScheduledRelease, after: datetime) -> dict:
        opening = suggest(release, max(after, not_before) if not_before else after)
        if opening is None:
            return {}
        return {
            "suggestion": opening.start,
            "suggestion_window": opening.name,
            "time_zone": opening.time_zone,
        }

    conflicts: list[Conflict] = []
    conflicts += _overlaps(releases, suggestion)
    for (window_id, start), holders in sorted(booked.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        opening = opening_at.get((window_id, start))
        if opening is None or not opening.capacity or len(holders) <= opening.capacity:
            continue
        later = holders[-1]
        conflicts.append(
            Conflict(
                OVER_CAPACITY,
                tuple(r.number for r in holders),
                tuple(r.id for r in holders),
                opening.start,
                opening.end,
                other=opening.name,
                other_id=window_id,
                capacity=opening.capacity,
                **suggestion(later, opening.end),
            )
        )
    for release in releases:
        for freeze in freezes_index.over(release.start, release.end):
            if not freeze.covers(release) or freeze.id in release.overridden_freezes:
                continue
            conflicts.append(
                Conflict(
                    IN_FREEZE,
                    (release.number,),
                    (release.id,),
                    max(release.start, freeze.start),
                    min(release.end, freeze.end),
                    other=freeze.name,
                    other_id=freeze.id,
                    reason=freeze.reason,
                    **suggestion(release, freeze.end),
                )
            )
    for release in releases:
        if release.outside_window_approved or scope_of(release).holds(release.start, release.end):
            continue
        conflicts.append(
            Conflict(
                OUTSIDE_WINDOW,
                (release.number,),
                (release.id,),
                release.start,
                release.end,
                **suggestion(release, release.start),
            )
        )
    conflicts += _shared_items(releases, suggestion, item_names or {})
    return conflicts


def _overlaps(releases: Sequence[ScheduledRelease], suggestion) -> list[Conflict]:
    """Pairs changing the same application, or the same environment (unless booked into the
    same occurrence), at overlapping times: a sweep per application and per environment over
    the releases sorted by start, keeping those still running."""
    found: dict[tuple[int, int], Conflict] = {}

    def sweep(groups: dict[str, list[ScheduledRelease]], same_app: bool) -> None:
        for scope, members in groups.items():
            running: list[ScheduledRelease] = []
            for release in members:  # sorted by start
                running = [r for r in running if r.end > release.start]
                for earlier in running:
                    if not same_app and (
                        earlier.application == release.application
                        or (
                            earlier.window_id is not None
                            and earlier.window_id == release.window_id
                            and earlier.occurrence_start == release.occurrence_start
                        )
                    ):
                        continue
                    key = (earlier.id, release.id)
                    if key in found:
                        continue
                    found[key] = Conflict(
                        OVERLAP,
                        (earlier.number, release.number),
                        (earlier.id, release.id),
                        release.start,
                        min(earlier.end, release.end),
                        other=earlier.number,
                        other_id=earlier.id,
                        scope=scope,
                        **suggestion(release, max(earlier.end, release.end)),
                    )
                running.append(release)

    by_app: dict[str, list[ScheduledRelease]] = defaultdict(list)
    by_env: dict[str, list[ScheduledRelease]] = defaultdict(list)
    for release in releases:
        by_app[release.application].append(release)
        if release.environment:
            by_env[release.environment].append(release)
    sweep(by_app, True)
    sweep(by_env, False)
    return sorted(found.values(), key=lambda c: (c.start, c.release_ids))


def _shared_items(
    releases: Sequence[ScheduledRelease], suggestion, item_names: Mapping[int, str]
) -> list[Conflict]:
    """Pairs at overlapping times where one touches an item in the other's reach (the same
    item, or one its items affect): a sweep per item over the releases reaching it, sorted
    by start. A pair is reported once, named by the first such item (by name)."""
    by_item: dict[int, list[ScheduledRelease]] = defaultdict(list)
    for release in releases:  # sorted by start
        for item in release.reach | release.items:
            by_item[item].append(release)
    found: dict[tuple[int, int], Conflict] = {}
    for item in sorted(by_item, key=lambda pk: (item_names.get(pk, ""), pk)):
        members = by_item[item]
        if len(members) < 2 or not any(item in r.items for r in members):
            continue
        running: list[ScheduledRelease] = []
        for release in members:
            running = [r for r in running if r.end > release.start]
            for earlier in running:
                key = (earlier.id, release.id)
                if key in found or (item not in earlier.items and item not in release.items):
                    continue
                found[key] = Conflict(
                    SHARED_ITEM,
                    (earlier.number, release.number),
                    (earlier.id, release.id),
                    release.start,
                    min(earlier.end, release.end),
                    other=earlier.number,
                    other_id=earlier.id,
                    scope=item_names.get(item, str(item)),
                    **suggestion(release, max(earlier.end, release.end)),
                )
            running.append(release)
    return sorted(found.values(), key=lambda c: (c.start, c.release_ids))
