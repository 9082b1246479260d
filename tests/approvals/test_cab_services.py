"""The CAB services: scheduling with an agenda built from the releases waiting for the
board, attendance, the chair's decisions, closing and cancelling; each audited, each
refusal clear and leaving nothing behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from relman.accounts.services import assign_role
from relman.approvals.models import CabAgendaItem, CabMeeting
from relman.approvals.services import cab
from relman.audit.models import AuditEvent
from relman.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from relman.notifications.models import Message
from relman.releases.models import Approval
from tests import factories
from tests.approvals.cab_setup import CabWorld


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def world(db) -> CabWorld:
    return CabWorld()


def refused(call, error, *words: str):
    """Run a service call expected to be refused: the error names the problem and the
    audit log did not grow."""
    events = AuditEvent.objects.count()
    with pytest.raises(error) as caught:
        call()
    for word in words:
        assert word in caught.value.message, caught.value.message
    assert AuditEvent.objects.count() == events
    return caught.value


def numbers(meeting) -> list[str]:
    return [i.release.number for i in meeting.agenda.select_related("release")]


# ---------------------------------------------------------------- scheduling


def test_scheduling_builds_the_agenda_from_the_releases_waiting_for_the_cab(world):
    waiting = world.release("ERP 2.0")
    world.fresh()  # still planning: not waiting for the CAB

    meeting = world.meeting()

    assert meeting.status == CabMeeting.PLANNED
    assert numbers(meeting) == [waiting.number]
    item = meeting.agenda.get()
    assert (item.stage, item.step, item.position) == ("readiness_review", "cab", 1)
    assert sorted(a.member.username for a in meeting.attendance.select_related("member")) == [
        "chris",
        "mia",
    ]
    event = AuditEvent.objects.get(action="cab.scheduled")
    assert event.actor_name == "chris"
    assert event.after["agenda"] == [waiting.number]
    assert event.after["members"] == ["chris", "mia"]
    added = AuditEvent.objects.get(action="cab.item_added")
    assert added.release_number == waiting.number
    assert added.after["meeting_title"] == "Weekly CAB"


def test_members_hear_of_the_meeting(world):
    world.meeting()

    told = Message.objects.filter(event="cab.scheduled")
    # The scheduler (chris, the chair here) is never told of their own action.
    assert sorted(told.values_list("target", flat=True)) == ["mia@example.com"]
    assert told.get().release is None
    assert told.get().data["title"] == "Weekly CAB"


def test_only_cab_members_and_release_managers_run_the_cab(world):
    starts = timezone.now() + timedelta(days=1)
    for person in (world.nina, world.rita):
        refused(
            lambda p=person: cab.schedule_meeting(p, "CAB", starts, "", "chris", ["mia"]),
            PermissionDenied,
            "Only CAB members and release managers",
        )
    # A release manager may run it, with a CAB member in the chair.
    meeting = cab.schedule_meeting(world.max, "CAB", starts, "", "chris", ["mia"])
    assert meeting.chair == world.chris


def test_scheduling_names_every_wrong_field(world):
    error = refused(
        lambda: cab.schedule_meeting(world.chris, " ", None, "x" * 201, "max", ["ghost"]),
        ValidationFailed,
    )
    assert set(error.errors) == {"title", "starts", "location", "chair", "members"}
    assert "may not chair the CAB" in error.errors["chair"][0]
    assert "There is no active user 'ghost'" in error.errors["members"][0]


def test_a_meeting_needs_a_member_besides_the_chair(world):
    error = refused(
        lambda: cab.schedule_meeting(world.chris, "CAB", timezone.now(), "", "chris", ["chris"]),
        ValidationFailed,
    )
    assert "at least one member besides the chair" in error.errors["members"][0]


def test_a_release_is_on_one_planned_agenda_at_a_time(world):
    waiting = world.release()
    first = world.meeting("First")

    second = world.meeting("Second", days=2)

    assert numbers(first) == [waiting.number]
    assert numbers(second) == []
    assert cab.waiting(world.chris)[0].meeting == first


def test_a_cancelled_meetings_releases_come_back(world):
    waiting = world.release()
    first = world.meeting("First")
    cab.cancel_meeting(world.chris, first, "The chair is ill.")

    second = world.meeting("Second")

    assert numbers(second) == [waiting.number]
    event = AuditEvent.objects.get(action="cab.cancelled")
    assert event.reason == "The chair is ill."


def test_build_agenda_adds_the_releases_that_came_to_wait_since(world):
    meeting = world.meeting()
    assert numbers(meeting) == []
    later = world.release("Came later")

    added = cab.build_agenda(world.max, meeting.pk)

    assert [i.release.number for i in added] == [later.number]
    assert AuditEvent.objects.get(action="cab.agenda_built").after == {"added": [later.number]}
    assert cab.build_agenda(world.max, meeting.pk) == []  # nothing twice
    refused(lambda: cab.build_agenda(world.nina, meeting.pk), PermissionDenied)


# ---------------------------------------------------------------- attendance


def test_attendance_is_recorded_and_audited(world):
    meeting = world.meeting()

    cab.record_attendance(world.chris, meeting, {"chris": True, "mia": False})

    rows = {a.member.username: a.present for a in meeting.attendance.select_related("member")}
    assert rows == {"chris": True, "mia": False}
    event = AuditEvent.objects.get(action="cab.attendance")
    assert event.before == {"chris": None, "mia": None}
    assert event.after == {"chris": True, "mia": False}


def test_attendance_refusals(world):
    meeting = world.meeting()
    refused(
        lambda: cab.record_attendance(world.chris, meeting, {"carol": True}),
        ValidationFailed,
        "carol is not a member of this meeting",
    )
    refused(lambda: cab.record_attendance(world.chris, meeting, {}), ValidationFailed)
    refused(lambda: cab.record_attendance(world.nina, meeting, {"mia": True}), PermissionDenied)


# ---------------------------------------------------------------- decisions


def test_the_chair_approves_and_the_cab_step_is_met(world):
    release = world.waiting
    meeting = world.meeting()
    world.quorate(meeting)

    item = cab.decide_item(world.chris, meeting, release.number, "approve", "Low risk, go.")

    assert item.decision == CabAgendaItem.APPROVE
    assert item.decided_at is not None
    approval = item.approval
    assert (approval.step, approval.decision, approval.approver) == (
        "cab",
        Approval.APPROVED,
        world.chris,
    )
    assert approval.comment == "Low risk, go."
    decided = AuditEvent.objects.get(action="cab.decided")
    assert decided.release_number == release.number
    assert decided.after["decision"] == "approve"
    assert decided.after["approval"] == approval.pk
    approved = AuditEvent.objects.get(action="approval.approved")
    assert approved.after["cab_meeting"] == meeting.pk
    assert cab.waiting(world.chris) == []


def test_the_chair_rejects_with_a_reason_and_the_release_goes_back(world):
    release = world.waiting
    meeting = world.meeting()
    world.quorate(meeting)
    refused(
        lambda: cab.decide_item(world.chris, meeting, release.number, "reject"),
        ValidationFailed,
        "A rejection needs a reason",
    )

    item = cab.decide_item(world.chris, meeting, release.number, "reject", "No backout test.")

    assert item.approval.decision == Approval.REJECTED
    release.refresh_from_db()
    assert release.stage == "preparation"  # the policy's reject_to


def test_only_the_chair_decides(world):
    release = world.waiting
    meeting = world.meeting()
    world.quorate(meeting)

    refused(
        lambda: cab.decide_item(world.mia, meeting, release.number, "approve"),
        PermissionDenied,
        "Only the chair, Chris Chair, records",
    )
    refused(lambda: cab.decide_item(world.nina, meeting, release.number, "approve"), NotFound)


def test_no_decision_without_attendance_and_a_quorum(world):
    release = world.waiting
    meeting = world.meeting()
    decide = lambda: cab.decide_item(world.chris, meeting, release.number, "approve")  # noqa: E731

    refused(decide, ValidationFailed, "Record the meeting's attendance")
    cab.record_attendance(world.chris, meeting, {"chris": False, "mia": True})
    refused(decide, ValidationFailed, "The chair, Chris Chair, is not recorded as present")
    cab.record_attendance(world.chris, meeting, {"chris": True, "mia": False})
    refused(decide, ValidationFailed, "No quorum")
    cab.record_attendance(world.chris, meeting, {"mia": True})
    assert decide().decision == "approve"


def test_the_requester_may_not_chair_the_decision_on_their_release(world):
    release = world.release("Rob's release", requester=world.rob)
    meeting = world.meeting(chair=world.rob)
    world.quorate(meeting)

    for decision in ("approve", "defer"):
        refused(
            lambda d=decision: cab.decide_item(world.rob, meeting, release.number, d, "Later."),
            PermissionDenied,
            "requested release",
        )
    assert not Approval.objects.filter(release=release).exists()


def test_the_release_manager_may_not_chair_the_decision_on_their_release(world):
    assign_role(None, world.chris, "release_manager", application=world.app.code)
    release = world.release("Managed", release_manager=world.chris)
    meeting = world.meeting()
    world.quorate(meeting)

    refused(
        lambda: cab.decide_item(world.chris, meeting, release.number, "approve"),
        PermissionDenied,
        "manages release",
    )


def test_a_deferral_needs_a_reason_and_leaves_the_step_open(world):
    release = world.waiting
    meeting = world.meeting()
    world.quorate(meeting)
    refused(
        lambda: cab.decide_item(world.chris, meeting, release.number, "defer", "  "),
        ValidationFailed,
        "A deferral needs a reason",
    )

    item = cab.decide_item(world.chris, meeting, release.number, "defer", "Wait for the audit.")

    assert item.approval is None
    assert not Approval.objects.filter(release=release).exists()
    assert [w.release for w in cab.waiting(world.chris)] == [release]
    assert AuditEvent.objects.get(action="cab.decided").reason == "Wait for the audit."
    # ...and the next meeting takes it up again.
    assert numbers(world.meeting("Next week", days=7)) == [release.number]


def test_an_item_is_decided_once(world):
    release = world.waiting
    meeting = world.meeting()
    world.quorate(meeting)
    cab.decide_item(world.chris, meeting, release.number, "defer", "Later.")

    refused(
        lambda: cab.decide_item(world.chris, meeting, release.number, "approve"),
        Conflict,
        "already decided",
    )


def test_decisions_refused_at_a_cancelled_or_held_meeting(world):
    release = world.waiting
    cancelled = world.meeting("Cancelled")
    world.quorate(cancelled)
    cab.cancel_meeting(world.chris, cancelled, "No room.")
    refused(
        lambda: cab.decide_item(world.chris, cancelled, release.number, "approve"),
        Conflict,
        "was cancelled",
    )
    held = world.meeting("Held")
    world.quorate(held)
    cab.close_meeting(world.chris, held, "Nothing decided.")
    refused(
        lambda: cab.decide_item(world.chris, held, release.number, "approve"),
        Conflict,
        "was held",
    )


def test_unknown_decisions_and_releases_off_the_agenda(world):
    release = world.waiting
    meeting = world.meeting()
    world.quorate(meeting)
    other = world.fresh()

    refused(
        lambda: cab.decide_item(world.chris, meeting, other.number, "approve"),
        NotFound,
        "is not on the agenda",
    )
    error = refused(
        lambda: cab.decide_item(world.chris, meeting, release.number, "maybe"),
        ValidationFailed,
    )
    assert error.field == "decision"


# ---------------------------------------------------------------- closing and cancelling


def test_closing_records_the_minutes_and_undecided_releases_come_back(world):
    release = world.waiting
    meeting = world.meeting()
    refused(
        lambda: cab.close_meeting(world.chris, meeting, "Minutes."),
        ValidationFailed,
        "attendance",
    )
    world.quorate(meeting)
    refused(lambda: cab.close_meeting(world.chris, meeting, " "), ValidationFailed)
    refused(lambda: cab.close_meeting(world.nina, meeting, "Minutes."), PermissionDenied)

    cab.close_meeting(world.chris, meeting, "Ran out of time.")

    meeting.refresh_from_db()
    assert (meeting.status, meeting.minutes) == (CabMeeting.HELD, "Ran out of time.")
    event = AuditEvent.objects.get(action="cab.held")
    assert event.after["undecided"] == [release.number]
    assert numbers(world.meeting("Next")) == [release.number]
    refused(lambda: cab.close_meeting(world.chris, meeting, "Again."), Conflict)


def test_a_meeting_that_decided_cannot_be_cancelled(world):
    release = world.waiting
    meeting = world.meeting()
    world.quorate(meeting)
    cab.decide_item(world.chris, meeting, release.number, "defer", "Later.")

    refused(lambda: cab.cancel_meeting(world.chris, meeting, "Oops."), Conflict, "close it")
    refused(lambda: cab.cancel_meeting(world.chris, meeting, ""), ValidationFailed)


def test_members_see_their_meetings_and_others_see_none(world):
    meeting = world.meeting()
    other = factories.user("paula", "requester", app=world.app)

    assert list(cab.visible_meetings(world.mia)) == [meeting]
    assert list(cab.visible_meetings(world.max)) == [meeting]  # may run the CAB
    assert list(cab.visible_meetings(other)) == []
    with pytest.raises(NotFound):
        cab.get_meeting(other, meeting.pk)
