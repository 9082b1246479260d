"""The CAB pages: /cab/ (meetings, the releases waiting, the schedule form) and /cab/<id>/
(agenda with the chair's decision forms, attendance, minutes, PDF)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from relman.approvals.models import CabAgendaItem, CabMeeting
from relman.approvals.services import cab
from tests.approvals.cab_setup import CabWorld
from tests.web.helpers import text


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def world(db) -> CabWorld:
    return CabWorld()


def login(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---------------------------------------------------------------- the list


def test_anonymous_users_are_sent_to_log_in(world):
    meeting = world.meeting()
    for url in ("/cab/", f"/cab/{meeting.pk}/", f"/cab/{meeting.pk}/minutes.pdf"):
        response = login().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_the_list_shows_waiting_releases_and_meetings(world):
    release = world.waiting
    meeting = world.meeting()

    page = text(login(world.chris).get("/cab/"))

    assert "Waiting for the CAB" in page
    assert release.number in page and "ERP 2.0" in page
    assert f'href="/cab/{meeting.pk}/"' in page
    assert "Weekly CAB" in page and "Room 5" in page
    assert "Schedule a meeting" in page


def test_people_without_a_cab_role_see_nothing_and_schedule_nothing(world):
    world.release()
    world.meeting()
    client = login(world.nina)

    page = text(client.get("/cab/"))
    assert "Weekly CAB" not in page
    assert "No release waits for the CAB." in page
    assert 'id="schedule"' not in page
    response = client.post("/cab/", {"title": "Mine"})
    assert response.status_code == 403
    assert not CabMeeting.objects.filter(title="Mine").exists()


def test_scheduling_from_the_page(world):
    release = world.waiting
    client = login(world.max)

    response = client.post(
        "/cab/",
        {
            "title": "Friday CAB",
            "starts": "2030-05-03T15:00",
            "location": "Room 2",
            "chair": "chris",
            "members": ["mia"],
            "others": "carl, max",
        },
        follow=True,
    )

    meeting = CabMeeting.objects.get(title="Friday CAB")
    assert response.redirect_chain[-1][0] == f"/cab/{meeting.pk}/"
    assert "is scheduled with 1 release(s) on its agenda" in messages_of(response)[0]
    assert list(meeting.agenda.values_list("release__number", flat=True)) == [release.number]
    assert sorted(meeting.attendance.values_list("member__username", flat=True)) == [
        "carl",
        "chris",
        "max",
        "mia",
    ]


def test_the_schedule_form_shows_the_services_refusal(world):
    response = login(world.chris).post(
        "/cab/",
        {"title": "CAB", "starts": "2030-05-03T15:00", "chair": "chris", "others": "ghost"},
    )

    assert response.status_code == 400
    assert "There is no active user &#x27;ghost&#x27;" in response.content.decode()
    assert not CabMeeting.objects.exists()


def test_the_list_costs_the_same_queries_whatever_its_length(world, django_assert_max_num_queries):
    world.release()
    world.meeting()
    client = login(world.chris)
    queries(client, "/cab/")  # warm the process definition cache
    few = queries(client, "/cab/")
    for n in range(3):
        world.release(f"More {n}")
        world.meeting(f"Meeting {n}", days=n + 2)
    world.release("Waiting, on no agenda")

    with django_assert_max_num_queries(few):
        page = text(client.get("/cab/"))
    assert "Meeting 2" in page and "Waiting, on no agenda" in page


# ---------------------------------------------------------------- one meeting


def test_the_chair_sees_the_decision_forms(world):
    release = world.waiting
    meeting = world.meeting()

    page = text(login(world.chris).get(f"/cab/{meeting.pk}/"))

    assert release.number in page
    assert f'action="/cab/{meeting.pk}/decide/"' in page
    assert "Record the meeting's attendance before deciding." in page
    assert f'href="/cab/{meeting.pk}/minutes.pdf"' in page


def test_a_member_sees_the_agenda_but_no_decision_forms(world):
    world.release()
    meeting = world.meeting()

    page = text(login(world.mia).get(f"/cab/{meeting.pk}/"))

    assert "The chair, Chris Chair, records the board's decisions." in page
    assert f'action="/cab/{meeting.pk}/decide/"' not in page
    assert f'action="/cab/{meeting.pk}/attendance/"' in page  # mia may run the CAB


def test_others_do_not_find_the_meeting(world):
    meeting = world.meeting()
    for person in (world.nina, world.rita):
        assert login(person).get(f"/cab/{meeting.pk}/").status_code == 404
        assert login(person).get(f"/cab/{meeting.pk}/minutes.pdf").status_code == 404


def test_a_meeting_decided_from_its_page(world):
    approved, deferred = world.waiting, world.release("Reports")
    meeting = world.meeting()
    chair = login(world.chris)

    response = chair.post(
        f"/cab/{meeting.pk}/attendance/", {"present": ["chris", "mia"]}, follow=True
    )
    assert messages_of(response) == ["Attendance recorded."]
    response = chair.post(
        f"/cab/{meeting.pk}/decide/",
        {"release": approved.number, "decision": "approve", "reason": ""},
        follow=True,
    )
    assert messages_of(response) == [
        f"The CAB's decision on {approved.number} is recorded: approved."
    ]
    response = chair.post(
        f"/cab/{meeting.pk}/decide/",
        {"release": deferred.number, "decision": "defer", "reason": ""},
        follow=True,
    )
    assert messages_of(response) == ["A deferral needs a reason."]
    response = login(world.mia).post(
        f"/cab/{meeting.pk}/decide/",
        {"release": deferred.number, "decision": "defer", "reason": "Later."},
        follow=True,
    )
    assert messages_of(response) == ["Only the chair, Chris Chair, records the CAB's decisions."]
    response = chair.post(f"/cab/{meeting.pk}/close/", {"minutes": "Ledger approved."}, follow=True)
    assert messages_of(response) == ["The meeting is closed and its minutes are recorded."]

    decisions = dict(CabAgendaItem.objects.values_list("release__number", "decision"))
    assert decisions == {approved.number: "approve", deferred.number: ""}
    page = text(chair.get(f"/cab/{meeting.pk}/"))
    assert "Ledger approved." in page
    assert f'action="/cab/{meeting.pk}/decide/"' not in page
    pdf = chair.get(f"/cab/{meeting.pk}/minutes.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_cancelling_from_the_page(world):
    meeting = world.meeting()

    response = login(world.max).post(
        f"/cab/{meeting.pk}/cancel/", {"reason": "Holiday."}, follow=True
    )

    assert messages_of(response) == [
        "The meeting is cancelled; its releases wait for the next one."
    ]
    meeting.refresh_from_db()
    assert meeting.status == CabMeeting.CANCELLED


def test_the_agenda_can_take_releases_that_came_to_wait_later(world):
    meeting = world.meeting()
    later = world.release("Later")

    response = login(world.chris).post(f"/cab/{meeting.pk}/agenda/", follow=True)

    assert messages_of(response) == [f"Added to the agenda: {later.number}."]


def test_a_meeting_page_costs_the_same_queries_whatever_its_agenda(
    world, django_assert_max_num_queries
):
    first = world.waiting
    meeting = world.meeting()
    client = login(world.chris)
    queries(client, f"/cab/{meeting.pk}/")
    few = queries(client, f"/cab/{meeting.pk}/")
    for n in range(3):
        world.release(f"More {n}")
    cab.build_agenda(world.chris, meeting)
    world.quorate(meeting)
    cab.decide_item(world.chris, meeting, first.number, "approve")

    with django_assert_max_num_queries(few):
        page = text(client.get(f"/cab/{meeting.pk}/"))
    assert "More 2" in page
