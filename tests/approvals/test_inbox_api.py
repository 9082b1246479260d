"""The approver's API: GET /api/v1/approvals/inbox and the delegations endpoints, for
anonymous, unpermitted and permitted callers; every answer declared in the OpenAPI document."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from relman.accounts.services import create_token, revoke_token
from relman.approvals.models import Delegation
from relman.audit.models import AuditEvent
from tests import factories
from tests.api.matrix import Endpoint, PermissionMatrix, World, call
from tests.approvals.signoff import CHECKS, away, release_in_approval, world

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/approvals/inbox"
DELEGATIONS = "/api/v1/approvals/delegations"
ONE = "/api/v1/approvals/delegations/{delegation_id}"


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def w(db, tmp_path):
    return world(tmp_path)


@pytest.fixture
def release(w):
    return release_in_approval(w)


def period(days: int = 3) -> dict[str, str]:
    now = timezone.now()
    return {
        "starts": (now + timedelta(hours=1)).isoformat(),
        "ends": (now + timedelta(days=days)).isoformat(),
    }


def revoked_client(user) -> Client:
    token, secret = create_token(None, user, name="old")
    revoke_token(None, token.prefix)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


# ---------------------------------------------------------------- the inbox


@pytest.mark.parametrize("who", ["anonymous", "revoked"])
def test_the_inbox_needs_a_login(w, release, api_client, who):
    client = api_client() if who == "anonymous" else revoked_client(w.alice)

    response = call(client, "GET", INBOX)

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("who", ["nobody", "requester", "manager", "pmo", "owner"])
def test_people_who_may_not_decide_get_an_empty_inbox(w, release, api_client, who):
    response = call(api_client(getattr(w, who)), "GET", INBOX)

    assert response.status_code == 200
    assert response.json() == []


def test_an_approver_gets_the_step_with_what_is_being_approved(w, release, api_client):
    first = call(
        api_client(w.bob),
        "POST",
        "/api/v1/releases/{ref}/approvals",
        params={"ref": release.number},
        body={"step": "review", "checks": CHECKS, "comment": "Fine by me."},
    )
    assert first.status_code == 201, first.content

    response = call(api_client(w.alice), "GET", INBOX)

    assert response.status_code == 200
    [item] = response.json()
    assert item["release"] == release.number
    assert item["title"] == "Checkout v2"
    assert item["application"] == "shop"
    assert item["risk"] == "high"
    assert item["requester"] == "rita"
    assert (item["stage"], item["stage_label"]) == ("approval", "Approval")
    assert (item["step"], item["step_label"], item["role"]) == (
        "review",
        "Project manager",
        "project_manager",
    )
    assert item["on_behalf_of"] is None
    assert item["escalated"] is False
    assert item["cab"] is False
    assert item["expires"] is not None
    assert item["checks"] == [
        {"key": "plan_checked", "label": "Plan checked"},
        {"key": "tests_passed", "label": "Tests passed"},
    ]
    [report] = item["deliverables"]
    assert report["key"] == "test_report"
    assert report["required"] is True
    assert report["version"] == 1
    assert report["filename"] == "tests.txt"
    assert report["sha256"] == hashlib.sha256(b"all green\n").hexdigest()
    assert report["download"].endswith("/deliverables/test_report/versions/1/file")
    assert item["window"] is None
    [earlier] = item["earlier"]
    assert (earlier["approver"], earlier["decision"], earlier["comment"]) == (
        "bob",
        "approved",
        "Fine by me.",
    )


def test_the_window_is_in_the_inbox_once_scheduled(w, release, api_client):
    factories.schedule(factories.calendar_admin(), release)

    [item] = call(api_client(w.alice), "GET", INBOX).json()

    assert item["window"]["window"] == "shop upgrade window"
    assert item["window"]["start"] is not None
    assert item["window"]["end"] is not None


def test_a_delegate_sees_and_decides_the_step_for_the_person_away(w, release, api_client):
    away(w.alice, w.dave)
    client = api_client(w.dave)

    [item] = call(client, "GET", INBOX).json()
    assert item["on_behalf_of"] == "alice"
    decided = call(
        client,
        "POST",
        "/api/v1/releases/{ref}/approvals",
        params={"ref": release.number},
        body={"step": "review", "checks": CHECKS, "on_behalf_of": "alice"},
    )

    assert decided.status_code == 201, decided.content
    assert decided.json()["approver"] == "dave"
    assert decided.json()["on_behalf_of"] == "alice"
    assert call(client, "GET", INBOX).json() == []


def test_the_inbox_query_count_does_not_grow_with_its_rows(
    w, api_client, django_assert_max_num_queries
):
    client = api_client(w.alice)
    for n in range(6):
        release = release_in_approval(w, f"Release {n}")
        if n % 2:
            factories.schedule(factories.calendar_admin(), release)
    away(w.bob, w.alice)

    with django_assert_max_num_queries(10):
        response = client.get(INBOX)

    assert response.status_code == 200
    assert len(response.json()) == 6


# ---------------------------------------------------------------- delegations


def test_the_delegations_need_a_login(w, api_client):
    anonymous = api_client()
    made = away(w.alice, w.dave)

    assert call(anonymous, "GET", DELEGATIONS).status_code == 401
    assert (
        call(anonymous, "POST", DELEGATIONS, body={"delegate": "dave", **period()}).status_code
        == 401
    )
    assert call(anonymous, "DELETE", ONE, params={"delegation_id": made.pk}).status_code == 401
    assert Delegation.objects.get(pk=made.pk).revoked is None


def test_a_user_lists_their_delegations(w, api_client):
    away(w.alice, w.dave)
    away(w.bob, w.alice)

    body = call(api_client(w.alice), "GET", DELEGATIONS).json()

    assert [(d["delegator"], d["delegate"], d["active"]) for d in body["given"]] == [
        ("alice", "dave", True)
    ]
    assert [(d["delegator"], d["delegate"]) for d in body["received"]] == [("bob", "alice")]
    assert call(api_client(w.nobody), "GET", DELEGATIONS).json() == {
        "given": [],
        "received": [],
    }


def test_a_user_delegates_through_the_api(w, api_client):
    response = call(
        api_client(w.alice),
        "POST",
        DELEGATIONS,
        body={"delegate": "dave", "reason": "Holiday", **period()},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["delegator"], body["delegate"], body["reason"]) == ("alice", "dave", "Holiday")
    assert body["active"] is False  # starts in an hour
    assert AuditEvent.objects.filter(action="delegation.created").count() == 1


def test_a_bad_delegation_is_refused_naming_the_field(w, api_client):
    client = api_client(w.alice)

    myself = call(client, "POST", DELEGATIONS, body={"delegate": "alice", **period()})
    backwards = call(
        client,
        "POST",
        DELEGATIONS,
        body={"delegate": "dave", "starts": period()["ends"], "ends": period()["starts"]},
    )
    missing = call(client, "POST", DELEGATIONS, body={"delegate": "dave"})

    assert myself.status_code == 400
    assert "delegate" in myself.json()["errors"]
    assert backwards.status_code == 400
    assert "ends" in backwards.json()["errors"]
    assert missing.status_code == 400
    assert "starts" in missing.json()["errors"]
    assert not Delegation.objects.exists()


def test_only_an_administrator_delegates_for_someone_else(w, api_client):
    body = {"delegate": "dave", "delegator": "bob", **period()}

    refused = call(api_client(w.alice), "POST", DELEGATIONS, body=body)
    allowed = call(api_client(factories.admin("root")), "POST", DELEGATIONS, body=body)

    assert refused.status_code == 403
    assert allowed.status_code == 201
    assert allowed.json()["delegator"] == "bob"


def test_revoking_a_delegation(w, api_client):
    made = away(w.alice, w.dave)
    params = {"delegation_id": made.pk}

    stranger = call(api_client(w.bob), "DELETE", ONE, params=params)
    revoked = call(api_client(w.alice), "DELETE", ONE, params=params)
    again = call(api_client(w.alice), "DELETE", ONE, params=params)

    assert stranger.status_code == 404
    assert revoked.status_code == 200
    assert revoked.json()["revoked"] is not None
    assert revoked.json()["active"] is False
    assert again.status_code == 409
    assert AuditEvent.objects.filter(action="delegation.revoked").count() == 1


# ---------------------------------------------------------------- the permission matrix


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test of the matrix below once per endpoint (as tests/api/conftest.py does)."""
    if "endpoint" in metafunc.fixturenames and metafunc.cls is not None:
        endpoints = metafunc.cls.endpoints
        metafunc.parametrize("endpoint", endpoints, ids=[e.name for e in endpoints])


@pytest.fixture
def matrix_world(db) -> World:
    return World()


def olive_away(world: World) -> Delegation:
    """Olive (release owner of crm) has carl stand in for her (made once per world)."""
    if not hasattr(world, "olive_away"):
        world.olive_away = away(world.users["owner"], world.users["crew"])
    return world.olive_away


def lists_the_review(response, world: World) -> None:
    """Olive (release owner) decides the last step of the plan review."""
    assert world.in_review.number in [i["release"] for i in response.json()]


def hides_the_review(response, world: World) -> None:
    assert world.in_review.number not in [i["release"] for i in response.json()]


def lists_olive_away(response, world: World) -> None:
    assert [d["delegator"] for d in response.json()["received"]] == ["olive"]


def hides_olive_away(response, world: World) -> None:
    assert response.json() == {"given": [], "received": []}


def delegated_for_olive(response, world: World) -> None:
    assert (response.json()["delegator"], response.json()["delegate"]) == ("olive", "audrey")


def revoked_now(response, world: World) -> None:
    assert response.json()["revoked"] is not None
    assert Delegation.objects.get(pk=world.olive_away.pk).revoked is not None


class TestApprovalEndpoints(PermissionMatrix):
    """The approvals router in the API's permission matrix (World: application crm, tfdl)."""

    endpoints = (
        Endpoint(
            "inbox",
            "GET",
            INBOX,
            permitted="owner",
            refused=(("requester", 200), ("nobody", 200)),
            setup=lambda w: w.in_review,
            check=lists_the_review,
            hides=hides_the_review,
        ),
        Endpoint(
            "delegations",
            "GET",
            DELEGATIONS,
            permitted="crew",
            refused=(("requester", 200),),
            setup=olive_away,
            check=lists_olive_away,
            hides=hides_olive_away,
        ),
        Endpoint(
            "delegate",
            "POST",
            DELEGATIONS,
            permitted="owner",
            status=201,
            refused=(("requester", 403), ("nobody", 403)),
            body=lambda w: {"delegate": "audrey", "delegator": "olive", **period()},
            check=delegated_for_olive,
        ),
        Endpoint(
            "revoke_delegation",
            "DELETE",
            ONE,
            permitted="owner",
            refused=(("requester", 404), ("nobody", 404)),
            params=lambda w: {"delegation_id": olive_away(w).pk},
            check=revoked_now,
        ),
    )

    @pytest.fixture
    def world(self, matrix_world: World) -> World:
        return matrix_world
