"""The calendar's gates: `scheduled` (in a window, or at the project team's time) and the
freeze before a deployment stage. Their evaluation is pure; their facts take one query each.

Seed 002 section 6.2: a new system goes live when its project team says; regular upgrades
go out in the release windows (2nd and 4th Thursday evenings); emergencies as before.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from relman.calendar.gates import FreezeGate, ScheduledGate, Scheduling
from relman.calendar.services import scheduling
from relman.core.errors import ValidationFailed
from relman.processes.definition import Stage
from relman.processes.gates import Snapshot, Unmet
from relman.releases import services as releases
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY_MORNING = datetime(2027, 3, 2, 10, 0, tzinfo=SHANGHAI)  # in no window


def snap(**facts) -> Snapshot:
    return Snapshot("new_system", "planned", "major", "pmo_review", **facts)


def test_scheduled_takes_true_or_by_window_or_by_project():
    gate = ScheduledGate()
    assert gate.options(True) == Scheduling("window")
    assert gate.options({"by": "window"}) == Scheduling("window")
    assert gate.options({"by": "project"}) == Scheduling("project")
    assert gate.options(False) is None


@pytest.mark.parametrize(
    ("by", "basis", "unmet"),
    [
        ("window", None, [Unmet("schedule", "window")]),
        ("window", "window", []),
        ("window", "emergency", []),
        ("window", "project", [Unmet("schedule", "window")]),
        ("project", None, [Unmet("schedule", "project")]),
        ("project", "project", []),
        ("project", "window", []),
    ],
)
def test_what_counts_as_scheduled(by, basis, unmet):
    assert ScheduledGate().evaluate(Scheduling(by), snap(schedule=basis)) == unmet


def test_the_freeze_is_implied_only_before_a_deployment_stage():
    here = Stage("pmo_review", {"en": "PMO review"}, ("pmo",))
    deploy = Stage("implementation", {"en": "Go-live"}, ("ops",), deployment=True)
    assert FreezeGate().implied(here, deploy) == "implementation"
    assert FreezeGate().implied(here, Stage("x", {"en": "X"}, ("ops",))) is None
    assert FreezeGate().implied(here, None) is None
    assert FreezeGate().evaluate("implementation", snap(frozen=False)) == []
    assert FreezeGate().evaluate("implementation", snap(frozen=True)) == [
        Unmet("freeze", "implementation")
    ]


@pytest.mark.django_db
def test_a_new_system_goes_live_at_the_time_its_project_team_sets(requester, crew, feh):
    release = factories.release(requester, feh, kind="new_system", release_class="major")
    release = factories.walk_to(crew, release, "pmo_review")
    state = releases.release_state(crew, release)
    assert state.gate[-1] == {
        "kind": "schedule",
        "key": "project",
        "label": "Scheduled in a window or at the project team's time",
        "met": False,
    }
    schedule = scheduling.schedule_release(
        crew, release, start=TUESDAY_MORNING, end=TUESDAY_MORNING + timedelta(hours=3)
    )
    assert (schedule.window, schedule.set_by_project) == (None, True)
    release.refresh_from_db()
    for kind, key, count in factories.gate_items(release):
        if kind != "schedule":
            factories.meet(crew, release, kind, key, count)
    release.refresh_from_db()
    release = releases.advance(crew, release, revision=release.revision)
    assert release.stage == "implementation"


@pytest.mark.django_db
def test_a_planned_upgrade_still_needs_a_window(requester, crew, feh, upgrade_window):
    release = factories.walk_to(crew, factories.release(requester, feh), "pmo_review")
    with pytest.raises(ValidationFailed) as refused:
        scheduling.schedule_release(
            crew, release, start=TUESDAY_MORNING, end=TUESDAY_MORNING + timedelta(hours=3)
        )
    assert "No release window covering" in refused.value.message


@pytest.mark.django_db
def test_the_calendar_gates_read_their_facts_in_one_query_each(
    requester, crew, feh, upgrade_window, django_assert_num_queries
):
    release = factories.walk_to(crew, factories.release(requester, feh), "pmo_review")
    stage = releases.flow_of(release)[1].stage("pmo_review")
    with django_assert_num_queries(1):
        assert ScheduledGate().read(release, stage, Scheduling()) == {"schedule": None}
    with django_assert_num_queries(1):
        assert FreezeGate().read(release, stage, "implementation") == {"frozen": False}


@pytest.mark.django_db
def test_the_schedule_panel_and_api_say_the_project_team_set_the_time(requester, crew, feh):
    from django.test import Client

    release = factories.release(requester, feh, kind="new_system", release_class="major")
    release = factories.walk_to(crew, release, "pmo_review")
    client = Client()
    client.force_login(crew)
    page = client.get(f"/releases/{release.number}/").content.decode()
    assert "Set the go-live time" in page
    scheduling.schedule_release(
        crew, release, start=TUESDAY_MORNING, end=TUESDAY_MORNING + timedelta(hours=3)
    )
    page = client.get(f"/releases/{release.number}/").content.decode()
    assert "At the go-live time the project team set." in page
    body = client.get(f"/api/v1/calendar/releases/{release.number}/schedule").json()
    assert (body["window_id"], body["set_by_project"]) == (None, True)
