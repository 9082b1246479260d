"""Every calendar endpoint through the permission matrix (tests/api/matrix.py): anonymous,
unpermitted and permitted callers, each answer checked against the OpenAPI document."""

from __future__ import annotations

from functools import cached_property

import pytest

from relman.calendar.models import Freeze, FreezeOverride, ReleaseSchedule, ReleaseWindow
from relman.calendar.services import freezes, plan, scheduling, windows
from tests import factories
from tests.api.conftest import pytest_generate_tests  # noqa: F401  (parametrizes the matrix)
from tests.api.matrix import API, Endpoint, PermissionMatrix, World
from tests.calendar.conftest import at

pytestmark = pytest.mark.django_db

CAL = f"{API}/calendar"
JANUARY = {"start": "2027-01-01T00:00:00+08:00", "end": "2027-02-01T00:00:00+08:00"}


class CalendarWorld(World):
    """The matrix's world, plus `planner` (release manager for every application, who
    manages the calendar) and crm's seed-002 window, a freeze, a schedule and a plan."""

    def __init__(self) -> None:
        super().__init__()
        self.users["planner"] = factories.user("paula", "release_manager")

    @cached_property
    def window(self) -> ReleaseWindow:
        return windows.create_window(
            self.users["planner"],
            name="CRM upgrade window",
            rrule=factories.SEED_002_RULE,
            first_date="2027-01-01",
            start_time="19:00",
            duration_minutes=240,
            application=self.app,
            capacity=3,
        )

    @cached_property
    def freeze(self) -> Freeze:
        return freezes.create_freeze(
            self.users["planner"],
            name="Year end",
            reason="Closing",
            starts=at("2027-01-20", 0),
            ends=at("2027-02-20", 0),
        )

    @cached_property
    def scheduled(self):
        """crm's release, in the window on 2027-01-14."""
        _ = self.window
        scheduling.schedule_release(self.users["crew"], self.release, start=at("2027-01-14"))
        return self.release

    @cached_property
    def outside(self):
        """A crm release planned on a Friday evening, outside every window."""
        _ = self.window
        return factories.release(
            self.users["requester"],
            self.app,
            title="Friday",
            planned_start=at("2027-01-15"),
            planned_end=at("2027-01-15", 20),
        )

    @cached_property
    def emergency(self):
        return factories.release(
            self.users["requester"], self.app, title="Hotfix", method="emergency"
        )

    @cached_property
    def plan(self):
        _ = self.window
        return plan.generate_plan(self.users["planner"], 2027)

    @cached_property
    def planned_occurrence(self):
        return plan.plan_occurrences(self.plan)[0]


@pytest.fixture
def world(db) -> CalendarWorld:
    return CalendarWorld()


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


WINDOW = {
    "name": "HR evenings",
    "rrule": "FREQ=WEEKLY;BYDAY=TU",
    "first_date": "2027-01-01",
    "start_time": "20:00",
    "duration_minutes": 120,
    "application": "hr",
}
FREEZE = {
    "name": "Audit",
    "reason": "External audit",
    "starts": "2027-03-01T00:00:00+08:00",
    "ends": "2027-03-08T00:00:00+08:00",
    "environment": None,
}


def window_made(response, world) -> None:
    body = response.json()
    assert (body["name"], body["application"], body["rrule"]) == (
        "HR evenings",
        "hr",
        "FREQ=WEEKLY;BYDAY=TU",
    )
    assert ReleaseWindow.objects.filter(name="HR evenings").exists()


def lists_the_window(response, world) -> None:
    assert [w["name"] for w in response.json()] == ["CRM upgrade window"]


def occurrences(response, world) -> None:
    body = response.json()
    assert [o["start"][:16] for o in body] == ["2027-01-14T19:00", "2027-01-28T19:00"]
    assert body[0]["booked"] == 1 and body[0]["capacity"] == 3


def lists_the_freeze(response, world) -> None:
    assert [f["name"] for f in response.json()] == ["Year end"]


def freeze_made(response, world) -> None:
    assert response.json()["name"] == "Audit"
    assert Freeze.objects.filter(name="Audit").exists()


def freeze_lifted(response, world) -> None:
    assert not Freeze.objects.exists()


def overridden(response, world) -> None:
    body = response.json()
    assert (body["release"], body["approved_by"], body["reason"]) == (
        world.emergency.number,
        "carl",
        "Outage",
    )
    assert FreezeOverride.objects.count() == 1


def lists_the_schedule(response, world) -> None:
    assert [s["release"] for s in response.json()] == [world.scheduled.number]
    assert response.json()[0]["window_id"] == world.window.pk


def hides_the_schedule(response, world) -> None:
    assert response.json() == []


def shows_the_schedule(response, world) -> None:
    body = response.json()
    assert (body["release"], body["window"]) == (world.scheduled.number, "CRM upgrade window")
    assert body["start"].startswith("2027-01-14T")


def unscheduled(response, world) -> None:
    assert response.json()["start"] is None
    assert not ReleaseSchedule.objects.exists()


def lists_the_conflict(response, world) -> None:
    (found,) = response.json()
    assert found["kind"] == "outside_window"
    assert found["release_numbers"] == [world.outside.number]
    assert "outside any release window" in found["message"]
    assert "2027-01-28 19:00" in found["resolution"]


def hides_the_conflict(response, world) -> None:
    assert response.json() == []


def shows_the_plan(response, world) -> None:
    body = response.json()
    assert (body["year"], body["status"]) == (2027, "draft")
    assert len(body["occurrences"]) == 24


def published(response, world) -> None:
    assert response.json()["status"] == "published"
    assert response.json()["published_by"] == "paula"


def struck(response, world) -> None:
    assert response.json()["struck_reason"] == "Anniversary"


def restored(response, world) -> None:
    assert response.json()["struck_reason"] == ""


def strike_first(world) -> None:
    plan.strike_occurrence(world.users["planner"], world.planned_occurrence.pk, reason="x")


class TestWindowEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "list",
            "GET",
            f"{CAL}/windows",
            "nobody",
            setup=lambda w: w.window,
            query={"application": "crm"},
            check=lists_the_window,
        ),
        Endpoint(
            "create",
            "POST",
            f"{CAL}/windows",
            "planner",
            201,
            refused=(("owner", 403), ("requester", 403), ("nobody", 403)),
            body=lambda w: WINDOW,
            check=window_made,
        ),
        Endpoint(
            "detail",
            "GET",
            f"{CAL}/windows/{{window_id}}",
            "nobody",
            params=lambda w: {"window_id": w.window.pk},
            check=lambda r, w: r.json()["capacity"] == 3 or pytest.fail(r.content),
        ),
        Endpoint(
            "change",
            "PATCH",
            f"{CAL}/windows/{{window_id}}",
            "planner",
            refused=(("owner", 403), ("crew", 403)),
            params=lambda w: {"window_id": w.window.pk},
            body=lambda w: {"capacity": 5, "excluded_dates": ["2027-01-28"]},
            check=lambda r, w: r.json()["excluded_dates"] == ["2027-01-28"] or pytest.fail(),
        ),
        Endpoint(
            "occurrences",
            "GET",
            f"{CAL}/occurrences",
            "nobody",
            setup=lambda w: w.scheduled,
            query=JANUARY,
            check=occurrences,
        ),
    )


class TestFreezeEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "list",
            "GET",
            f"{CAL}/freezes",
            "nobody",
            setup=lambda w: w.freeze,
            query=JANUARY,
            check=lists_the_freeze,
        ),
        Endpoint(
            "create",
            "POST",
            f"{CAL}/freezes",
            "planner",
            201,
            refused=(("owner", 403), ("auditor", 403)),
            body=lambda w: FREEZE,
            check=freeze_made,
        ),
        Endpoint(
            "detail",
            "GET",
            f"{CAL}/freezes/{{freeze_id}}",
            "nobody",
            params=lambda w: {"freeze_id": w.freeze.pk},
            check=lambda r, w: r.json()["reason"] == "Closing" or pytest.fail(),
        ),
        Endpoint(
            "change",
            "PATCH",
            f"{CAL}/freezes/{{freeze_id}}",
            "planner",
            refused=(("owner", 403),),
            params=lambda w: {"freeze_id": w.freeze.pk},
            body=lambda w: {"reason": "Closing, extended"},
            check=lambda r, w: r.json()["reason"] == "Closing, extended" or pytest.fail(),
        ),
        Endpoint(
            "lift",
            "POST",
            f"{CAL}/freezes/{{freeze_id}}/lift",
            "planner",
            204,
            refused=(("owner", 403),),
            params=lambda w: {"freeze_id": w.freeze.pk},
            body=lambda w: {"reason": "Closing done early"},
            check=freeze_lifted,
        ),
        Endpoint(
            "override",
            "POST",
            f"{CAL}/freezes/{{freeze_id}}/overrides",
            "crew",
            201,
            refused=(("requester", 403), ("auditor", 403), ("outsider", 404), ("nobody", 404)),
            setup=lambda w: w.emergency,
            params=lambda w: {"freeze_id": w.freeze.pk},
            body=lambda w: {"release": w.emergency.number, "reason": "Outage"},
            check=overridden,
        ),
    )


class TestScheduleEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "list",
            "GET",
            f"{CAL}/schedules",
            "requester",
            refused=(("nobody", 200), ("outsider", 200)),
            setup=lambda w: w.scheduled,
            query=JANUARY,
            check=lists_the_schedule,
            hides=hides_the_schedule,
        ),
        Endpoint(
            "detail",
            "GET",
            f"{CAL}/releases/{{ref}}/schedule",
            "requester",
            refused=(("outsider", 404), ("nobody", 404)),
            params=lambda w: {"ref": w.scheduled.number},
            check=shows_the_schedule,
        ),
        Endpoint(
            "schedule",
            "PUT",
            f"{CAL}/releases/{{ref}}/schedule",
            "crew",
            refused=(("auditor", 403), ("outsider", 404), ("nobody", 404)),
            setup=lambda w: (w.window, w.freeze),
            params=lambda w: {"ref": w.release.number},
            body=lambda w: {"start": "2027-01-14T19:00:00+08:00", "window_id": w.window.pk},
            check=lambda r, w: r.json()["window_id"] == w.window.pk or pytest.fail(),
        ),
        Endpoint(
            "cancel",
            "POST",
            f"{CAL}/releases/{{ref}}/schedule/cancel",
            "crew",
            refused=(("auditor", 403), ("outsider", 404), ("nobody", 404)),
            params=lambda w: {"ref": w.scheduled.number},
            body=lambda w: {"reason": "Vendor late"},
            check=unscheduled,
        ),
        Endpoint(
            "conflicts",
            "GET",
            f"{CAL}/conflicts",
            "requester",
            refused=(("nobody", 200), ("outsider", 200)),
            setup=lambda w: w.outside,
            query=JANUARY,
            check=lists_the_conflict,
            hides=hides_the_conflict,
        ),
    )


class TestPlanEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "show",
            "GET",
            f"{CAL}/plans/{{year}}",
            "nobody",
            setup=lambda w: w.plan,
            params=lambda w: {"year": 2027},
            check=shows_the_plan,
        ),
        Endpoint(
            "generate",
            "POST",
            f"{CAL}/plans/{{year}}/generate",
            "planner",
            refused=(("owner", 403), ("nobody", 403)),
            setup=lambda w: w.window,
            params=lambda w: {"year": 2027},
            check=shows_the_plan,
        ),
        Endpoint(
            "publish",
            "POST",
            f"{CAL}/plans/{{year}}/publish",
            "planner",
            refused=(("owner", 403),),
            setup=lambda w: w.plan,
            params=lambda w: {"year": 2027},
            check=published,
        ),
        Endpoint(
            "strike",
            "POST",
            f"{CAL}/plans/occurrences/{{occurrence_id}}/strike",
            "planner",
            refused=(("owner", 403),),
            params=lambda w: {"occurrence_id": w.planned_occurrence.pk},
            body=lambda w: {"reason": "Anniversary"},
            check=struck,
        ),
        Endpoint(
            "restore",
            "POST",
            f"{CAL}/plans/occurrences/{{occurrence_id}}/restore",
            "planner",
            refused=(("owner", 403),),
            setup=strike_first,
            params=lambda w: {"occurrence_id": w.planned_occurrence.pk},
            check=restored,
        ),
    )


# ---------------------------------------------------------------- errors in words


def test_a_refused_schedule_says_why(world: CalendarWorld) -> None:
    _ = world.window
    response = world.client("crew").put(
        f"{CAL}/releases/{world.release.number}/schedule",
        {"start": "2027-01-15T19:00:00+08:00", "end": "2027-01-15T20:00:00+08:00"},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "No release window covering" in body["detail"]
    assert "start" in body["errors"]


def test_a_full_window_is_409(world: CalendarWorld) -> None:
    windows.update_window(world.users["planner"], world.window.pk, capacity=1)
    _ = world.scheduled
    other = factories.release(world.users["requester"], world.app, title="Other")
    response = world.client("crew").put(
        f"{CAL}/releases/{other.number}/schedule",
        {"start": "2027-01-14T19:00:00+08:00"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert "Its next free occurrence is 2027-01-28 19:00." in response.json()["detail"]


def test_a_bad_window_names_its_field(world: CalendarWorld) -> None:
    response = world.client("planner").post(
        f"{CAL}/windows", {**WINDOW, "rrule": "weekly"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "rrule" in response.json()["errors"]


def test_a_span_too_long_is_refused(world: CalendarWorld) -> None:
    response = world.client("nobody").get(
        f"{CAL}/conflicts", {"start": "2027-01-01T00:00:00Z", "end": "2029-01-01T00:00:00Z"}
    )
    assert response.status_code == 400
    assert "end" in response.json()["errors"]


def test_the_occurrence_list_keeps_its_query_count_flat(
    world: CalendarWorld, django_assert_max_num_queries
) -> None:
    _ = world.scheduled
    client = world.client("nobody")
    client.get(f"{CAL}/occurrences", JANUARY)  # warm the token's user
    with django_assert_max_num_queries(12):
        response = client.get(
            f"{CAL}/occurrences",
            {"start": "2027-01-01T00:00:00+08:00", "end": "2028-01-01T00:00:00+08:00"},
        )
    assert len(response.json()) == 24
