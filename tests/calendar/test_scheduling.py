"""Scheduling releases into windows: the open-window rule, emergencies, capacity, freezes and
their overrides, moves and cancellations, each with its audit event and refusal message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from relman.audit.models import AuditEvent
from relman.calendar.models import FreezeOverride, ReleaseSchedule
from relman.calendar.services import freezes, scheduling, windows
from relman.core.errors import Conflict, GateNotMet, NotFound, PermissionDenied, ValidationFailed
from relman.releases import services as releases
from tests import factories
from tests.calendar.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def upgrade(requester, feh):
    """A planned upgrade of crm (feh's upgrade_planned flow)."""
    return factories.release(requester, feh, title="CRM 5.2")


@pytest.fixture
def emergency(requester, feh):
    return factories.release(requester, feh, title="Hotfix", method="emergency")


def approve_emergency(crew, release):
    """Walk an emergency release past its department head's approval (seed 002)."""
    return factories.walk_to(crew, release, "approval_project_department")


def test_a_planned_upgrade_is_scheduled_into_a_window_occurrence(crew, upgrade, upgrade_window):
    schedule = scheduling.schedule_release(crew, upgrade, start=at("2027-01-14"))
    upgrade.refresh_from_db()
    assert schedule.window == upgrade_window
    assert schedule.occurrence_start == at("2027-01-14")
    assert (upgrade.planned_start, upgrade.planned_end) == (at("2027-01-14"), at("2027-01-14", 23))
    assert upgrade.revision == 2
    event = AuditEvent.objects.get(action="release.scheduled")
    assert event.release == upgrade and event.actor == crew
    assert event.before is None
    assert event.after["window"] == upgrade_window.pk
    assert event.after["start"].startswith("2027-01-14T11:00:00")  # stored in UTC


def test_a_part_of_an_occurrence_may_be_booked(crew, upgrade, upgrade_window):
    scheduling.schedule_release(crew, upgrade, start=at("2027-01-14", 20), end=at("2027-01-14", 21))
    upgrade.refresh_from_db()
    assert (upgrade.planned_start, upgrade.planned_end) == (
        at("2027-01-14", 20),
        at("2027-01-14", 21),
    )
    with pytest.raises(ValidationFailed) as refused:
        scheduling.schedule_release(
            crew, upgrade, start=at("2027-01-14", 22), end=at("2027-01-15", 1)
        )
    assert "No release window" in refused.value.message


def test_a_planned_upgrade_is_refused_outside_every_window(crew, upgrade, upgrade_window):
    with pytest.raises(ValidationFailed) as refused:
        scheduling.schedule_release(
            crew,
            upgrade,
            start=at("2027-01-15"),
            end=at("2027-01-15", 21),
            outside_window_reason="Business wants it on Friday",
        )
    message = refused.value.message
    assert "No release window covering REL-" in message
    assert "The next one is 'CRM upgrade window' on 2027-01-28 19:00." in message
    assert "Only an emergency release with its approval" in message
    assert refused.value.errors["start"]
    assert not ReleaseSchedule.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="release.sched").exists()


def test_an_emergency_goes_outside_a_window_with_a_reason_and_its_approval(
    crew, emergency, upgrade_window
):
    with pytest.raises(ValidationFailed) as refused:
        scheduling.schedule_release(
            crew, emergency, start=at("2027-01-15"), end=at("2027-01-15", 20)
        )
    assert "outside_window_reason" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        scheduling.schedule_release(
            crew,
            emergency,
            start=at("2027-01-15"),
            end=at("2027-01-15", 20),
            outside_window_reason="Payment outage",
        )
    assert "needs the emergency approval of a Department approver" in refused.value.message
    emergency = approve_emergency(crew, emergency)
    with pytest.raises(ValidationFailed) as refused:
        scheduling.schedule_release(
            crew, emergency, start=at("2027-01-15"), outside_window_reason="Payment outage"
        )
    assert "end" in refused.value.errors
    schedule = scheduling.schedule_release(
        crew,
        emergency,
        start=at("2027-01-15"),
        end=at("2027-01-15", 20),
        outside_window_reason="Payment outage",
    )
    assert schedule.window is None and schedule.outside_window_reason == "Payment outage"
    event = AuditEvent.objects.get(action="release.scheduled")
    assert event.reason == "Payment outage"
    assert event.after["outside_window_reason"] == "Payment outage"


def test_a_full_occurrence_names_the_window_and_its_next_free_one(
    requester, crew, feh, upgrade_window
):
    for title in ("One", "Two"):
        release = factories.release(requester, feh, title=title)
        scheduling.schedule_release(crew, release, start=at("2027-01-14"))
    third = factories.release(requester, feh, title="Three")
    with pytest.raises(Conflict) as refused:
        scheduling.schedule_release(crew, third, start=at("2027-01-14"))
    assert refused.value.message == (
        "The window 'CRM upgrade window' on 2027-01-14 19:00 is full (capacity 2). "
        "Its next free occurrence is 2027-01-28 19:00."
    )
    scheduling.schedule_release(crew, third, start=at("2027-01-28"))


def test_a_cancelled_release_gives_its_place_back(requester, crew, feh, manager, upgrade_window):
    windows.update_window(manager, upgrade_window.pk, capacity=1)
    first = factories.release(requester, feh, title="One")
    scheduling.schedule_release(crew, first, start=at("2027-01-14"))
    second = factories.release(requester, feh, title="Two")
    with pytest.raises(Conflict):
        scheduling.schedule_release(crew, second, start=at("2027-01-14"))
    releases.cancel(crew, first, reason="Dropped", revision=first.revision + 1)
    scheduling.schedule_release(crew, second, start=at("2027-01-14"))
    second.refresh_from_db()
    assert second.schedule.occurrence_start == at("2027-01-14")


def test_a_move_is_audited_with_the_times_before_and_after(crew, upgrade, upgrade_window):
    scheduling.schedule_release(crew, upgrade, start=at("2027-01-14"))
    upgrade.refresh_from_db()
    with pytest.raises(Conflict):
        scheduling.schedule_release(crew, upgrade, start=at("2027-01-28"), revision=1)
    scheduling.schedule_release(crew, upgrade, start=at("2027-01-28"), revision=upgrade.revision)
    event = AuditEvent.objects.get(action="release.rescheduled")
    assert event.before["start"].startswith("2027-01-14T11:00")
    assert event.after["start"].startswith("2027-01-28T11:00")
    assert ReleaseSchedule.objects.get().occurrence_start == at("2027-01-28")
    # The same schedule again changes nothing and records nothing.
    scheduling.schedule_release(crew, upgrade, start=at("2027-01-28"))
    assert AuditEvent.objects.filter(action="release.rescheduled").count() == 1


def test_a_schedule_change_is_written_to_the_outbox_with_the_change(
    crew, upgrade, upgrade_window, monkeypatch
):
    told = []
    monkeypatch.setattr(scheduling, "_notify_schedule_change", lambda *args: told.append(args[1]))
    scheduling.schedule_release(crew, upgrade, start=at("2027-01-14"))
    scheduling.schedule_release(crew, upgrade, start=at("2027-01-28"))
    scheduling.unschedule(crew, upgrade, reason="Postponed")
    assert told == ["release.scheduled", "release.rescheduled", "release.unscheduled"]


def test_unscheduling_clears_the_times_and_records_why(crew, upgrade, upgrade_window):
    scheduling.schedule_release(crew, upgrade, start=at("2027-01-14"))
    with pytest.raises(ValidationFailed):
        scheduling.unschedule(crew, upgrade, reason=" ")
    release = scheduling.unschedule(crew, upgrade, reason="Waiting for the vendor")
    assert release.planned_start is None and release.planned_end is None
    assert not ReleaseSchedule.objects.exists()
    event = AuditEvent.objects.get(action="release.unscheduled")
    assert event.reason == "Waiting for the vendor"
    assert event.before["window_name"] == "CRM upgrade window"
    with pytest.raises(NotFound):
        scheduling.unschedule(crew, upgrade, reason="Again")


def test_a_window_that_does_not_apply_is_refused(manager, crew, upgrade, upgrade_window):
    other = windows.create_window(
        manager,
        name="HR window",
        rrule="FREQ=WEEKLY;BYDAY=TH",
        first_date="2027-01-01",
        start_time="19:00",
        duration_minutes=60,
        application=factories.application("hr", process="feh"),
    )
    with pytest.raises(ValidationFailed) as refused:
        scheduling.schedule_release(crew, upgrade, start=at("2027-01-14"), window_id=other.pk)
    assert "does not apply" in refused.value.message
    with pytest.raises(ValidationFailed) as refused:
        scheduling.schedule_release(
            crew, upgrade, start=at("2027-01-21"), window_id=upgrade_window.pk
        )
    assert "is not open" in refused.value.message


def test_who_may_schedule(feh, upgrade, upgrade_window):
    outsider = factories.user("otto", "release_manager", app=factories.application("hr"))
    auditor = factories.user("audrey", "auditor")
    with pytest.raises(NotFound):
        scheduling.schedule_release(outsider, upgrade, start=at("2027-01-14"))
    with pytest.raises(PermissionDenied):
        scheduling.schedule_release(auditor, upgrade, start=at("2027-01-14"))
    with pytest.raises(PermissionDenied):
        scheduling.unschedule(auditor, upgrade, reason="No")


# ---------------------------------------------------------------- freezes


@pytest.fixture
def spring_freeze(manager):
    return freezes.create_freeze(
        manager,
        name="Spring Festival",
        reason="Year-end closing",
        starts=at("2027-01-20", 0),
        ends=at("2027-02-20", 0),
    )


def test_a_freeze_blocks_scheduling_in_its_scope(crew, upgrade, upgrade_window, spring_freeze):
    with pytest.raises(Conflict) as refused:
        scheduling.schedule_release(crew, upgrade, start=at("2027-01-28"))
    assert refused.value.message == (
        f"Release {upgrade.number} would fall in the freeze 'Spring Festival' (Year-end "
        "closing) from 2027-01-20 00:00 to 2027-02-20 00:00. Choose a time after 2027-02-20 "
        "00:00, or record an emergency override for an approved emergency release."
    )
    scheduling.schedule_release(crew, upgrade, start=at("2027-01-14"))


def test_a_freeze_elsewhere_does_not_block(manager, crew, upgrade, upgrade_window, prod):
    freezes.create_freeze(
        manager,
        name="HR freeze",
        reason="Payroll",
        starts=at("2027-01-20", 0),
        ends=at("2027-02-20", 0),
        application=factories.application("hr"),
    )
    freezes.create_freeze(
        manager,
        name="Prod freeze",
        reason="Audit",
        starts=at("2027-01-20", 0),
        ends=at("2027-02-20", 0),
        environment=prod,
    )
    scheduling.schedule_release(crew, upgrade, start=at("2027-01-28"))  # no environment
    releases.update_release(crew, upgrade, environment="prod")
    with pytest.raises(Conflict):
        scheduling.schedule_release(crew, upgrade, start=at("2027-02-11"))


def test_an_approved_emergency_goes_through_a_freeze_with_the_reason_audited(
    crew, emergency, upgrade_window, spring_freeze
):
    emergency = approve_emergency(crew, emergency)
    with pytest.raises(Conflict):
        scheduling.schedule_release(crew, emergency, start=at("2027-01-28"))
    override = freezes.override_freeze(
        crew, emergency.number, spring_freeze.pk, reason="Card payments are down"
    )
    assert override.approved_by == crew
    event = AuditEvent.objects.get(action="freeze.overridden")
    assert (event.actor, event.release, event.reason) == (crew, emergency, "Card payments are down")
    assert event.after["freeze_name"] == "Spring Festival"
    scheduling.schedule_release(crew, emergency, start=at("2027-01-28"))
    with pytest.raises(Conflict):
        freezes.override_freeze(crew, emergency, spring_freeze.pk, reason="Again")


def test_override_refusals(requester, crew, feh, upgrade, emergency, manager, spring_freeze):
    with pytest.raises(ValidationFailed):
        freezes.override_freeze(crew, emergency, spring_freeze.pk, reason="")
    with pytest.raises(PermissionDenied) as refused:
        freezes.override_freeze(crew, upgrade, spring_freeze.pk, reason="Urgent")
    assert "is not an emergency release" in refused.value.message
    with pytest.raises(PermissionDenied) as refused:
        freezes.override_freeze(crew, emergency, spring_freeze.pk, reason="Urgent")
    assert "Department approver" in refused.value.message
    tester = factories.user("tess", "tester", app=feh)
    with pytest.raises(PermissionDenied) as refused:
        freezes.override_freeze(tester, emergency, spring_freeze.pk, reason="Urgent")
    assert "release manager or owner" in refused.value.message
    elsewhere = freezes.create_freeze(
        manager,
        name="HR",
        reason="Payroll",
        starts=at("2027-01-20", 0),
        ends=at("2027-02-20", 0),
        application=factories.application("hr"),
    )
    with pytest.raises(ValidationFailed) as refused:
        freezes.override_freeze(crew, emergency, elsewhere.pk, reason="Urgent")
    assert "does not cover" in refused.value.message
    with pytest.raises(NotFound):
        freezes.override_freeze(crew, emergency, 999, reason="Urgent")
    assert not FreezeOverride.objects.exists()
    assert not AuditEvent.objects.filter(action="freeze.overridden").exists()


def test_freeze_services_are_audited_and_checked(manager, feh):
    with pytest.raises(ValidationFailed) as refused:
        freezes.create_freeze(
            manager, name="F", reason="R", starts=at("2027-01-02"), ends=at("2027-01-01")
        )
    assert "ends" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        freezes.create_freeze(
            manager, name="F", reason="", starts=at("2027-01-01"), ends=at("2027-01-02")
        )
    assert "reason" in refused.value.errors
    with pytest.raises(PermissionDenied):
        freezes.create_freeze(
            factories.user("rita", "requester", app=feh),
            name="F",
            reason="R",
            starts=at("2027-01-01"),
            ends=at("2027-01-02"),
        )
    freeze = freezes.create_freeze(
        manager,
        name="F",
        reason="R",
        starts=at("2027-01-01"),
        ends=at("2027-01-02"),
        application="crm",
    )
    assert AuditEvent.objects.get(action="freeze.created").reason == "R"
    freezes.update_freeze(manager, freeze.pk, ends=at("2027-01-03"))
    event = AuditEvent.objects.get(action="freeze.updated")
    assert list(event.after) == ["ends"]
    freezes.delete_freeze(manager, freeze.pk, reason="Closing moved")
    assert AuditEvent.objects.get(action="freeze.deleted").reason == "Closing moved"


# ---------------------------------------------------------------- deployment in a freeze


def freeze_now(manager, **scope):
    now = timezone.now()
    return freezes.create_freeze(
        manager,
        name="Incident freeze",
        reason="Major incident",
        starts=now - timedelta(hours=1),
        ends=now + timedelta(days=1),
        **scope,
    )


def test_a_freeze_blocks_the_advance_into_deployment(manager, requester, crew, feh):
    release = factories.release(requester, feh, title="Upgrade")
    release = factories.walk_to(crew, release, "pmo_review")
    freeze_now(manager, application=feh)
    factories.meet_gate(crew, release)  # scheduled into the next window after the freeze
    with pytest.raises(ValidationFailed) as refused:
        releases.advance(crew, release, revision=release.revision)
    assert "A freeze is in force for this release" in refused.value.message
    assert "Go-live implementation" in refused.value.message
    release.refresh_from_db()
    assert release.stage == "pmo_review"


def test_the_scheduled_gate_holds_a_planned_release_until_it_is_in_a_window(
    requester, crew, feh, upgrade_window
):
    release = factories.walk_to(crew, factories.release(requester, feh), "pmo_review")
    for kind, key, count in factories.gate_items(release):
        if kind != "schedule":
            factories.meet(crew, release, kind, key, count)
    release.refresh_from_db()
    with pytest.raises(GateNotMet) as refused:
        releases.advance(crew, release, revision=release.revision)
    assert refused.value.unmet == [
        "Stage 'PMO review' needs the release scheduled in an open release window."
    ]
    state = releases.release_state(crew, release)
    assert state.gate[-1] == {
        "kind": "schedule",
        "key": "window",
        "label": "Scheduled in an open release window",
        "met": False,
    }
    factories.meet(crew, release, "schedule", "window")
    assert releases.release_state(crew, release).gate[-1]["met"] is True
    release.refresh_from_db()
    release = releases.advance(crew, release, revision=release.revision)
    assert release.stage == "implementation"


def test_an_approved_emergency_deploys_through_a_freeze_with_an_override(
    manager, requester, crew, feh
):
    release = factories.release(requester, feh, title="Hotfix", method="emergency")
    release = factories.walk_to(crew, release, "pmo_review")
    freeze = freeze_now(manager)
    factories.meet_gate(crew, release)
    with pytest.raises(ValidationFailed):
        releases.advance(crew, release, revision=release.revision)
    freezes.override_freeze(crew, release, freeze.pk, reason="Fixes the outage")
    release.refresh_from_db()
    release = releases.advance(crew, release, revision=release.revision)
    assert release.stage == "implementation"
    event = AuditEvent.objects.get(action="freeze.overridden")
    assert event.reason == "Fixes the outage" and event.actor == crew
