"""The pure conflict detection, without a database: each kind on a small drawing, and a
property test against a naive O(n^2) reference on random small calendars.

    crm  |==A==|                 A and B overlap on crm
    crm      |==B==|
    win  [-----------]  cap 1    A and B booked: over capacity
    frz          /////////       B in the freeze
    crm                  |==C==| C outside any window
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from relman.calendar.conflicts import (
    IN_FREEZE,
    OUTSIDE_WINDOW,
    OVER_CAPACITY,
    OVERLAP,
    FreezeSpan,
    ScheduledRelease,
    WindowOpening,
    detect,
)

T0 = datetime(2027, 1, 14, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def rel(id: int, start: float, end: float, app: str = "crm", **extra) -> ScheduledRelease:
    return ScheduledRelease(
        id=id, number=f"REL-{id}", start=h(start), end=h(end), application=app, **extra
    )


def window(start: float, end: float, id: int = 1, **extra) -> WindowOpening:
    return WindowOpening(window_id=id, name=f"W{id}", start=h(start), end=h(end), **extra)


def kinds(found) -> list[tuple[str, tuple[str, ...]]]:
    return [(c.kind, c.release_numbers) for c in found]


def test_the_drawing():
    opening = window(19, 23, capacity=1)
    later = window(19 + 14 * 24, 23 + 14 * 24)  # a fortnight later, the suggestion
    a = rel(1, 19, 21, window_id=1, occurrence_start=h(19))
    b = rel(2, 20, 22, window_id=1, occurrence_start=h(19))
    c = rel(3, 24, 25)
    freeze = FreezeSpan(7, "Closing", "Year end", h(21.5), h(23.5))
    found = detect([c, b, a], [later, opening], [freeze])
    assert kinds(found) == [
        (OVERLAP, ("REL-1", "REL-2")),
        (OVER_CAPACITY, ("REL-1", "REL-2")),
        (IN_FREEZE, ("REL-2",)),
        (OUTSIDE_WINDOW, ("REL-3",)),
    ]
    overlap, capacity, frozen, outside = found
    assert (overlap.scope, overlap.start, overlap.end) == ("crm", h(20), h(21))
    assert overlap.suggestion == later.start and overlap.suggestion_window == "W1"
    assert (capacity.other, capacity.other_id, capacity.capacity) == ("W1", 1, 1)
    assert capacity.suggestion == later.start
    assert (frozen.other, frozen.reason, frozen.start, frozen.end) == (
        "Closing",
        "Year end",
        h(21.5),
        h(22),
    )
    assert frozen.suggestion == later.start
    assert (outside.start, outside.end, outside.suggestion) == (h(24), h(25), later.start)


def test_releases_of_one_occurrence_share_an_environment_but_not_an_application():
    opening = window(19, 23)
    shared = {"window_id": 1, "occurrence_start": h(19), "environment": "prod"}
    a = rel(1, 19, 21, app="crm", **shared)
    b = rel(2, 19, 21, app="hr", **shared)
    c = rel(3, 20, 22, app="erp", environment="prod")  # not booked into the window
    found = detect([a, b, c], [opening], [])
    assert kinds(found) == [
        (OVERLAP, ("REL-1", "REL-3")),
        (OVERLAP, ("REL-2", "REL-3")),
    ]
    assert {x.scope for x in found} == {"prod"}


def test_a_past_conflict_is_never_told_to_move_into_the_past():
    past, sooner, later = (
        window(19, 23),
        window(19 + 7 * 24, 23 + 7 * 24),
        window(19 + 14 * 24, 23 + 14 * 24),
    )
    a = rel(1, 19, 21, window_id=1, occurrence_start=h(19))
    b = rel(2, 20, 22, window_id=1, occurrence_start=h(19))
    now = h(10 * 24)  # between the two later openings
    (overlap,) = detect([a, b], [past, sooner, later], [], not_before=now)
    assert overlap.suggestion == later.start
    (overlap,) = detect([a, b], [past, sooner, later], [])
    assert overlap.suggestion == sooner.start


def test_touching_releases_do_not_overlap():
    assert detect([rel(1, 19, 20), rel(2, 20, 21)], [window(19, 23)], []) == []


def test_an_override_lets_a_release_through_and_scope_limits_a_freeze():
    freezes = [
        FreezeSpan(1, "All", "x", h(0), h(48)),
        FreezeSpan(2, "HR only", "x", h(0), h(48), application="hr"),
        FreezeSpan(3, "Test env", "x", h(0), h(48), environment="test"),
    ]
    overridden = rel(1, 19, 20, overridden_freezes=frozenset({1}), environment="prod")
    plain = rel(2, 21, 22, app="erp", environment="test")
    found = detect([overridden, plain], [window(19, 23)], freezes)
    assert [(c.kind, c.release_numbers, c.other) for c in found] == [
        (IN_FREEZE, ("REL-2",), "All"),
        (IN_FREEZE, ("REL-2",), "Test env"),
    ]
    assert all(c.suggestion is None for c in found)  # the only window is frozen


def test_an_approved_emergency_outside_a_window_is_no_conflict():
    approved = rel(1, 2, 3, outside_window_approved=True)
    assert detect([approved], [window(19, 23)], []) == []


def test_a_window_covers_only_its_scope():
    opening = window(19, 23, application="crm", environment="prod", team="Finance")
    inside = rel(1, 19, 20, environment="prod", team="Finance")
    other_team = rel(2, 20, 21, app="crm", environment="prod", team="Sales")
    other_env = rel(3, 21, 22, app="crm", environment="test", team="Finance")
    found = detect([inside, other_team, other_env], [opening], [])
    assert kinds(found) == [
        (OUTSIDE_WINDOW, ("REL-2",)),
        (OUTSIDE_WINDOW, ("REL-3",)),
    ]


def test_two_overlapping_windows_together_do_not_hold_a_release():
    openings = [window(19, 24, id=1), window(20, 22, id=2), window(21, 25, id=3)]
    assert kinds(detect([rel(1, 21.5, 24.5)], openings, [])) == []  # window 3 holds it
    assert kinds(detect([rel(1, 20, 22)], openings, [])) == []  # windows 1 and 2 hold it
    # 20:00 to 25:00 is covered by windows 1 and 3 together, but neither holds it alone.
    assert kinds(detect([rel(1, 20, 25)], openings, [])) == [(OUTSIDE_WINDOW, ("REL-1",))]


def test_a_full_occurrence_is_not_suggested():
    full = window(19, 23, capacity=1)
    booked = rel(1, 19, 20, window_id=1, occurrence_start=h(19))
    free = window(43, 47, capacity=1)
    late = rel(2, 5, 6)  # outside: the suggestion skips the full evening
    found = detect([booked, late], [full, free], [])
    assert kinds(found) == [(OUTSIDE_WINDOW, ("REL-2",))]
    assert found[0].suggestion == h(43)


# ---------------------------------------------------------------- against a naive reference


def naive(releases, openings, freezes) -> set[tuple]:
    """Every conflict by brute force, as comparable tuples."""
    found: set[tuple] = set()
    for i, a in enumerate(releases):
        for b in releases[i + 1 :]:
            if not (a.start < b.end and b.start < a.end):
                continue
            same_occurrence = a.window_id is not None and (a.window_id, a.occurrence_start) == (
                b.window_id,
                b.occurrence_start,
            )
            same_environment = bool(a.environment) and a.environment == b.environment
            if a.application == b.application or (same_environment and not same_occurrence):
                found.add((OVERLAP, frozenset({a.id, b.id})))
    booked = defaultdict(set)
    for r in releases:
        if r.window_id is not None:
            booked[(r.window_id, r.occurrence_start)].add(r.id)
    for o in openings:
        holders = booked.get((o.window_id, o.start), set())
        if o.capacity and len(holders) > o.capacity:
            found.add((OVER_CAPACITY, frozenset(holders), o.window_id))
    for r in releases:
        for f in freezes:
            covers = (f.application in (None, r.application)) and (
                f.environment in (None, r.environment)
            )
            if covers and f.start < r.end and r.start < f.end and f.id not in r.overridden_freezes:
                found.add((IN_FREEZE, frozenset({r.id}), f.id))
        held = any(o.covers(r) and o.start <= r.start and r.end <= o.end for o in openings)
        if not held and not r.outside_window_approved:
            found.add((OUTSIDE_WINDOW, frozenset({r.id})))
    return found


def comparable(conflict) -> tuple:
    ids = frozenset(conflict.release_ids)
    if conflict.kind in (OVER_CAPACITY, IN_FREEZE):
        return (conflict.kind, ids, conflict.other_id)
    return (conflict.kind, ids)


WINDOW_SCOPES = {
    1: {"application": None, "environment": None, "team": "", "capacity": 2},
    2: {"application": "crm", "environment": None, "team": "", "capacity": 1},
    3: {"application": None, "environment": "prod", "team": "ops", "capacity": None},
}


@st.composite
def calendars(draw):
    openings: dict[tuple[int, datetime], WindowOpening] = {}
    for _ in range(draw(st.integers(0, 8))):
        window_id = draw(st.sampled_from(sorted(WINDOW_SCOPES)))
        start = draw(st.integers(0, 60))
        length = draw(st.integers(1, 8))
        opening = window(start, start + length, id=window_id, **WINDOW_SCOPES[window_id])
        openings[(window_id, opening.start)] = opening
    openings_list = list(openings.values())
    freezes = [
        FreezeSpan(
            i,
            f"F{i}",
            "r",
            h(s := draw(st.integers(0, 60))),
            h(s + draw(st.integers(1, 12))),
            application=draw(st.sampled_from([None, "crm", "hr"])),
            environment=draw(st.sampled_from([None, "prod", "test"])),
        )
        for i in range(1, draw(st.integers(0, 4)) + 1)
    ]
    releases = []
    for i in range(1, draw(st.integers(0, 14)) + 1):
        booked = draw(st.none() | st.sampled_from(openings_list)) if openings_list else None
        if booked is not None:
            start = (booked.start - T0).total_seconds() / 3600 + draw(st.integers(0, 2))
        else:
            start = draw(st.integers(0, 60))
        releases.append(
            rel(
                i,
                start,
                start + draw(st.integers(1, 5)),
                app=draw(st.sampled_from(["crm", "hr", "erp"])),
                environment=draw(st.sampled_from([None, "prod", "test"])),
                team=draw(st.sampled_from(["", "ops"])),
                window_id=booked.window_id if booked else None,
                occurrence_start=booked.start if booked else None,
                outside_window_approved=draw(st.booleans()) if booked is None else False,
                overridden_freezes=frozenset(
                    draw(st.sets(st.sampled_from([f.id for f in freezes]))) if freezes else ()
                ),
            )
        )
    return releases, openings_list, freezes


@settings(max_examples=300, deadline=None)
@given(calendars())
def test_detection_matches_the_naive_reference(calendar):
    releases, openings, freezes = calendar
    found = detect(releases, openings, freezes)
    as_tuples = [comparable(c) for c in found]
    assert len(as_tuples) == len(set(as_tuples)), "each conflict once"
    assert set(as_tuples) == naive(releases, openings, freezes)
    by_id = {r.id: r for r in releases}
    for conflict in found:
        if conflict.suggestion is None:
            continue
        # A suggestion is a real opening that covers the (last) release it is meant for.
        target = by_id[conflict.release_ids[-1]]
        assert any(o.start == conflict.suggestion and o.covers(target) for o in openings)


def test_the_order_of_the_input_does_not_matter():
    releases = [rel(i, i % 5, i % 5 + 2, app=("crm", "hr")[i % 2]) for i in range(1, 12)]
    openings = [window(0, 10)]
    forwards = detect(releases, openings, [])
    backwards = detect(list(reversed(releases)), openings, [])
    assert forwards == backwards
