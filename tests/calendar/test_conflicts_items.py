"""Conflicts over configuration items: two releases at overlapping times touching the same
item, or one touching an item the other's items affect.

    db  <- app (runs on)         A touches db, B touches app: B's app is in A's reach
    A  |====|
    B     |====|                 A and B share an item (named 'app')
    C            |====|          C touches db too, but later: no conflict
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relman.calendar.conflicts import SHARED_ITEM, detect
from relman.calendar.services import conflicts, scheduling, windows
from relman.releases import services as releases
from tests import factories
from tests.calendar.conftest import at
from tests.calendar.test_conflicts_pure import rel

JANUARY = (at("2027-01-01", 0), at("2027-02-01", 0))
DB, APP, OTHER = 1, 2, 3


def shared(found):
    return [(c.release_numbers, c.scope) for c in found if c.kind == SHARED_ITEM]


def test_a_touched_item_in_the_others_reach_is_a_conflict_named_by_it():
    a = rel(1, 0, 4, app="crm", items=frozenset({DB}), reach=frozenset({DB, APP}))
    b = rel(2, 2, 6, app="hr", items=frozenset({APP}), reach=frozenset({APP}))
    c = rel(3, 7, 9, app="fin", items=frozenset({DB}), reach=frozenset({DB, APP}))
    found = detect([a, b, c], [], [], item_names={DB: "db", APP: "app"})
    assert shared(found) == [(("REL-1", "REL-2"), "app")]


def test_items_reached_by_both_but_touched_by_neither_are_no_conflict():
    a = rel(1, 0, 4, app="crm", items=frozenset({DB}), reach=frozenset({DB, OTHER}))
    b = rel(2, 2, 6, app="hr", items=frozenset({APP}), reach=frozenset({APP, OTHER}))
    assert shared(detect([a, b], [], [], item_names={})) == []


def test_the_same_item_is_named_once_per_pair():
    a = rel(1, 0, 4, app="crm", items=frozenset({DB, APP}), reach=frozenset({DB, APP}))
    b = rel(2, 1, 3, app="hr", items=frozenset({DB, APP}), reach=frozenset({DB, APP}))
    assert shared(detect([a, b], [], [], item_names={DB: "db", APP: "app"})) == [
        (("REL-1", "REL-2"), "app")
    ]


@pytest.mark.django_db
def test_releases_of_two_applications_sharing_an_item_conflict_in_words(
    manager, requester, crew, feh, prod
):
    hr = factories.application("hr", process="feh")
    hr_crew = factories.crew(hr)
    windows.create_window(
        manager, name="Prod evenings", rrule="FREQ=DAILY", first_date="2027-01-01",
        start_time="18:00", duration_minutes=300, environment=prod,
    )  # fmt: skip
    db = factories.ci("db-01", "database")
    factories.depends(factories.ci("app-01", "server"), db, "runs_on")

    def planned(actor, app, title, item, start, end):
        release = factories.release(actor, app, title=title, environment="prod")
        releases.change_items(actor, release, "set", [item])
        scheduling.schedule_release(actor, release, start=start, end=end)
        return release

    crm_release = planned(crew, feh, "CRM", "db-01", at("2027-01-14", 19), at("2027-01-14", 21))
    hr_release = planned(hr_crew, hr, "HR", "app-01", at("2027-01-14", 20), at("2027-01-14", 22))

    found = [c for c in conflicts.find_conflicts(*JANUARY) if c.kind == SHARED_ITEM]
    assert [c.message for c in found] == [
        f"{crm_release.number} and {hr_release.number} both affect the configuration item "
        "app-01 (one changes it or what it depends on) between 20:00 and 21:00 on 2027-01-14."
    ]
    hr_release.refresh_from_db()
    assert found[0] in conflicts.conflicts_for_release(hr_release)

    # One walk per release touching items, never one per pair.
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            conflicts.find_conflicts(*JANUARY)
        return len(queries)

    before = count()
    planned(crew, feh, "CRM 2", "db-01", at("2027-01-15", 19), at("2027-01-15", 20))
    planned(hr_crew, hr, "HR 2", "app-01", at("2027-01-15", 19), at("2027-01-15", 20))
    assert count() == before + 2
