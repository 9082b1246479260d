"""The CAB API (/api/v1/cab/...): every endpoint as anonymous, unpermitted and permitted
users (tests/api/matrix.py), and the refusals a client must be able to read."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property

import pytest
from django.utils import timezone

from relman.approvals.models import CabAgendaItem
from relman.approvals.services import cab
from tests.api.matrix import API, Endpoint, PermissionMatrix, World, call
from tests.approvals.cab_setup import CabWorld, pdf_text

MEETINGS = f"{API}/cab/meetings"
MEETING = f"{MEETINGS}/{{meeting_id}}"


class CabApiWorld(CabWorld):
    """The CAB people, each with a bearer token: chris chairs, mia is a member, max is a
    release manager (may run the CAB), rita requests releases, nina holds no role."""

    client = World.client
    revoked_client = World.revoked_client

    def __init__(self) -> None:
        super().__init__()
        self._clients = {}
        self.users = {
            "chair": self.chris,
            "member": self.mia,
            "manager": self.max,
            "requester": self.rita,
            "nobody": self.nina,
        }

    @cached_property
    def planned(self):
        """A planned meeting with the waiting release on its agenda."""
        self.waiting  # noqa: B018 - made before the meeting, so it is on its agenda
        return self.meeting()

    @cached_property
    def quorate_meeting(self):
        meeting = self.planned
        self.quorate(meeting)
        return meeting


def meeting_id(w: CabApiWorld) -> dict:
    return {"meeting_id": w.planned.pk}


def quorate_item(w: CabApiWorld) -> dict:
    return {"meeting_id": w.quorate_meeting.pk, "ref": w.waiting.number}


def empty(response, w) -> None:
    assert response.json() == []


def listed(response, w) -> None:
    assert [m["title"] for m in response.json()] == ["Weekly CAB"]


def waiting_listed(response, w) -> None:
    rows = [(x["release"], x["meeting_id"]) for x in response.json()]
    assert rows == [(w.waiting.number, w.planned.pk)]


def scheduled(response, w) -> None:
    body = response.json()
    assert [i["release"] for i in body["agenda"]] == [w.waiting.number]
    assert [a["username"] for a in body["attendance"]] == ["chris", "max", "mia"]


def shown(response, w) -> None:
    body = response.json()
    assert (body["chair"], body["quorum"], body["can_decide"]) == ("chris", False, False)
    assert body["quorum_problem"] == "Record the meeting's attendance before deciding."


def quorate(response, w) -> None:
    assert response.json()["quorum"] is True


def approved(response, w) -> None:
    body = response.json()
    assert (body["release"], body["decision"]) == (w.waiting.number, "approve")
    assert body["approval_id"]


def status_is(status: str):
    def check(response, w) -> None:
        assert response.json()["status"] == status

    return check


def pdf(response, w) -> None:
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def world(db) -> CabApiWorld:
    return CabApiWorld()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each matrix test once per endpoint (as tests/api/conftest.py does for tests/api)."""
    if "endpoint" not in metafunc.fixturenames or metafunc.cls is None:
        return
    endpoints = metafunc.cls.endpoints
    if metafunc.function.__name__ == "test_unpermitted_is_refused":
        endpoints = tuple(e for e in endpoints if e.refused)
    metafunc.parametrize("endpoint", endpoints, ids=[e.name for e in endpoints])


class TestCabApi(PermissionMatrix):
    endpoints = (
        Endpoint(
            "list meetings",
            "GET",
            MEETINGS,
            permitted="member",
            refused=(("nobody", 200),),
            setup=lambda w: w.planned,
            check=listed,
            hides=empty,
        ),
        Endpoint(
            "waiting",
            "GET",
            f"{API}/cab/waiting",
            permitted="chair",
            refused=(("nobody", 200),),
            setup=lambda w: w.planned,
            check=waiting_listed,
            hides=empty,
        ),
        Endpoint(
            "schedule",
            "POST",
            MEETINGS,
            permitted="manager",
            status=201,
            refused=(("nobody", 403), ("requester", 403)),
            setup=lambda w: w.waiting,
            body=lambda w: {
                "title": "Emergency CAB",
                "starts": (timezone.now() + timedelta(hours=2)).isoformat(),
                "location": "Call",
                "chair": "chris",
                "members": ["mia", "max"],
            },
            check=scheduled,
        ),
        Endpoint(
            "detail",
            "GET",
            MEETING,
            permitted="member",
            refused=(("nobody", 404), ("requester", 404)),
            params=meeting_id,
            check=shown,
        ),
        Endpoint(
            "refresh agenda",
            "POST",
            f"{MEETING}/agenda",
            permitted="manager",
            refused=(("nobody", 403),),
            params=meeting_id,
        ),
        Endpoint(
            "attendance",
            "POST",
            f"{MEETING}/attendance",
            permitted="chair",
            refused=(("nobody", 403),),
            params=meeting_id,
            body=lambda w: {"attendance": {"chris": True, "mia": True}},
            check=quorate,
        ),
        Endpoint(
            "decide",
            "POST",
            f"{MEETING}/agenda/{{ref}}/decision",
            permitted="chair",
            refused=(("member", 403), ("manager", 403), ("nobody", 404)),
            params=quorate_item,
            body=lambda w: {"decision": "approve", "reason": "Fine."},
            check=approved,
        ),
        Endpoint(
            "close",
            "POST",
            f"{MEETING}/close",
            permitted="chair",
            refused=(("nobody", 403), ("requester", 403)),
            params=lambda w: {"meeting_id": w.quorate_meeting.pk},
            body=lambda w: {"minutes": "Short meeting."},
            check=status_is("held"),
        ),
        Endpoint(
            "cancel",
            "POST",
            f"{MEETING}/cancel",
            permitted="manager",
            refused=(("nobody", 403),),
            params=meeting_id,
            body=lambda w: {"reason": "No quorum this week."},
            check=status_is("cancelled"),
        ),
        Endpoint(
            "minutes pdf",
            "GET",
            f"{MEETING}/minutes.pdf",
            permitted="member",
            refused=(("nobody", 404),),
            params=meeting_id,
            check=pdf,
        ),
    )


# ---------------------------------------------------------------- refusals a client reads


def decide(world, body, who="chair"):
    return call(
        world.client(who),
        "POST",
        f"{MEETING}/agenda/{{ref}}/decision",
        params={"meeting_id": world.planned.pk, "ref": world.waiting.number},
        body=body,
    )


def test_deciding_without_a_quorum_names_the_attendance(world):
    response = decide(world, {"decision": "approve"})

    assert response.status_code == 400
    assert response.json()["errors"]["attendance"] == [
        "Record the meeting's attendance before deciding."
    ]


def test_a_deferral_without_a_reason_names_the_reason(world):
    world.quorate(world.planned)

    response = decide(world, {"decision": "defer"})

    assert response.status_code == 400
    assert "reason" in response.json()["errors"]


def test_deciding_twice_is_a_conflict(world):
    world.quorate(world.planned)
    assert decide(world, {"decision": "defer", "reason": "Later."}).status_code == 200

    response = decide(world, {"decision": "approve"})

    assert response.status_code == 409
    assert "already decided" in response.json()["detail"]
    item = CabAgendaItem.objects.get()
    assert (item.decision, item.approval_id) == ("defer", None)


def test_scheduling_names_each_wrong_field(world):
    response = call(
        world.client("chair"),
        "POST",
        MEETINGS,
        body={"title": "", "starts": timezone.now().isoformat(), "chair": "max"},
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"title", "chair", "members"}


def test_the_minutes_follow_the_requests_language(world):
    meeting = world.planned
    cab.record_attendance(world.chris, meeting, {"chris": True, "mia": True})
    client = world.client("chair")

    chinese = client.get(
        f"{API}/cab/meetings/{meeting.pk}/minutes.pdf", HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    asked = client.get(f"{API}/cab/meetings/{meeting.pk}/minutes.pdf", {"language": "zh-hans"})
    english = client.get(f"{API}/cab/meetings/{meeting.pk}/minutes.pdf")

    for response in (chinese, asked):
        assert "风险" in pdf_text(response.content)
    assert "Risk" in pdf_text(english.content)  # chris's profile language: English
