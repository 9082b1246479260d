"""Conflict detection over the database: each kind found, said and resolved in words."""

from __future__ import annotations

import pytest
from django.utils import translation

from relman.calendar.services import conflicts, freezes, scheduling, windows
from relman.releases import services as releases
from tests import factories
from tests.calendar.conftest import at

pytestmark = pytest.mark.django_db

JANUARY = (at("2027-01-01", 0), at("2027-02-01", 0))


@pytest.fixture
def two_booked(requester, crew, feh, upgrade_window):
    """Two crm upgrades in the evening of 2027-01-14 (the window holds two)."""
    first = factories.release(requester, feh, title="One")
    second = factories.release(requester, feh, title="Two")
    scheduling.schedule_release(crew, first, start=at("2027-01-14"), end=at("2027-01-14", 21))
    scheduling.schedule_release(crew, second, start=at("2027-01-14", 20), end=at("2027-01-14", 22))
    return first, second


def test_two_releases_of_one_application_overlap(two_booked):
    first, second = two_booked
    (found,) = conflicts.find_conflicts(*JANUARY)
    assert found.kind == "overlap"
    assert found.release_numbers == (first.number, second.number)
    assert found.message == (
        f"{first.number} and {second.number} both change crm between 20:00 and 21:00 on 2027-01-14."
    )
    assert found.resolution == (
        "Move one of them to another window, e.g. 2027-01-28 19:00 (CRM upgrade window)."
    )


def test_releases_of_two_applications_overlap_in_one_environment(
    manager, requester, crew, feh, prod, upgrade_window
):
    hr = factories.application("hr", process="feh")
    windows.create_window(
        manager, name="Prod evenings", rrule="FREQ=DAILY", first_date="2027-01-01",
        start_time="18:00", duration_minutes=300, environment=prod,
    )  # fmt: skip
    crm_release = factories.release(requester, feh, title="CRM", environment="prod")
    hr_release = factories.release(factories.crew(hr), hr, title="HR", environment="prod")
    scheduling.schedule_release(crew, crm_release, start=at("2027-01-14"))
    scheduling.schedule_release(
        factories.crew(hr), hr_release, start=at("2027-01-14", 18), end=at("2027-01-14", 20)
    )
    (found,) = conflicts.find_conflicts(*JANUARY)
    assert found.kind == "overlap"
    assert found.message == (
        f"{hr_release.number} and {crm_release.number} both change prod between 19:00 and "
        "20:00 on 2027-01-14."
    )
    assert conflicts.find_conflicts(*JANUARY, application="hr") == [found]
    factories.environment("test")
    assert conflicts.find_conflicts(*JANUARY, environment="test") == []


def test_a_window_over_capacity(manager, two_booked, upgrade_window):
    first, second = two_booked
    windows.update_window(manager, upgrade_window.pk, capacity=1)
    found = [c for c in conflicts.find_conflicts(*JANUARY) if c.kind == "over_capacity"]
    assert len(found) == 1
    assert found[0].message == (
        "The window 'CRM upgrade window' on 2027-01-14 at 19:00 holds 2 releases, more than its "
        f"capacity of 1: {first.number}, {second.number}."
    )
    assert found[0].resolution == (
        "Move the extra releases to another occurrence, e.g. 2027-01-28 19:00 (CRM upgrade window)."
    )


def test_a_release_in_a_freeze(manager, crew, two_booked):
    first, _second = two_booked
    freezes.create_freeze(
        manager,
        name="Audit week",
        reason="External audit",
        starts=at("2027-01-14", 0),
        ends=at("2027-01-21", 0),
        application="crm",
    )
    found = [c for c in conflicts.find_conflicts(*JANUARY) if c.kind == "in_freeze"]
    assert [c.release_numbers for c in found] == [(first.number,), (two_booked[1].number,)]
    assert found[0].message == (
        f"{first.number} falls in the freeze 'Audit week' (External audit) between 19:00 and "
        "21:00 on 2027-01-14."
    )
    assert found[0].resolution == (
        "Move it after the freeze, e.g. to 2027-01-28 19:00 (CRM upgrade window), or record an "
        "emergency override for an approved emergency release."
    )


def test_a_release_outside_any_window(requester, crew, feh, upgrade_window):
    release = factories.release(
        requester,
        feh,
        title="Friday",
        planned_start=at("2027-01-15"),
        planned_end=at("2027-01-15", 20),
    )
    (found,) = conflicts.find_conflicts(*JANUARY)
    assert found.kind == "outside_window"
    assert found.message == (
        f"{release.number} is planned outside any release window covering it, between 19:00 "
        "and 20:00 on 2027-01-15."
    )
    assert found.resolution == (
        "Schedule it into a release window, e.g. 2027-01-28 19:00 (CRM upgrade window)."
    )
    assert conflicts.conflicts_for_release(release) == [found]


def test_a_booked_release_falls_outside_when_its_evening_becomes_a_holiday(
    manager, two_booked, upgrade_window
):
    windows.update_window(manager, upgrade_window.pk, excluded_dates=["2027-01-14"])
    found = {c.kind for c in conflicts.find_conflicts(*JANUARY)}
    assert found == {"overlap", "outside_window"}


def test_closed_releases_and_approved_emergencies_are_left_out(
    requester, crew, feh, upgrade_window, two_booked
):
    _first, second = two_booked
    releases.cancel(crew, second.number, reason="Dropped", revision=None)
    assert conflicts.find_conflicts(*JANUARY) == []
    emergency = factories.release(requester, feh, title="Hotfix", method="emergency")
    emergency = factories.walk_to(crew, emergency, "approval_project_department")
    scheduling.schedule_release(
        crew,
        emergency,
        start=at("2027-01-15"),
        end=at("2027-01-15", 20),
        outside_window_reason="Outage",
    )
    assert conflicts.find_conflicts(*JANUARY) == []


def test_conflicts_are_said_in_chinese(two_booked):
    with translation.override("zh-hans"):
        (found,) = conflicts.find_conflicts(*JANUARY)
    assert found.message and found.resolution


def test_no_conflicts_in_an_empty_month(upgrade_window):
    assert conflicts.find_conflicts(*JANUARY) == []
