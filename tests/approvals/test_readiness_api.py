"""GET and POST /api/v1/releases/{ref}/readiness, as anonymous, unpermitted and permitted users."""

from __future__ import annotations

from functools import cached_property

import pytest

from relman.approvals.models import ReadinessReview
from relman.audit.models import AuditEvent
from tests import factories
from tests.api.conftest import pytest_generate_tests  # noqa: F401  (runs the matrix)
from tests.api.matrix import API, Endpoint, PermissionMatrix, World, call
from tests.approvals.test_readiness import MOF_CRITERIA

PATH = f"{API}/releases/{{ref}}/readiness"


class ReadinessWorld(World):
    """The matrix's world plus a mof application, shop: rosa requests its releases (and is a
    change owner), cora runs the review stage, tom only tests."""

    def __init__(self) -> None:
        super().__init__()
        self.shop = factories.application("shop", process="mof")
        self.users["shop_requester"] = factories.user(
            "rosa", "requester", "change_owner", app=self.shop
        )
        self.users["shop_crew"] = factories.crew(self.shop, "cora")
        self.users["shop_tester"] = factories.user("tom", "tester", app=self.shop)

    @cached_property
    def at_review(self):
        release = factories.release(self.users["shop_requester"], self.shop, title="Payroll 3.0")
        release = factories.walk_to(self.users["shop_crew"], release, "readiness_review")
        factories.carry_approved_change(self.users["shop_crew"], release)  # changes_approved
        return release


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def world(db) -> ReadinessWorld:
    return ReadinessWorld()


def go_body(world: World) -> dict:
    return {
        "decision": "go",
        "criteria": {key: {"met": True} for key in MOF_CRITERIA},
        "note": "Ready.",
    }


def check_state(response, world: ReadinessWorld) -> None:
    body = response.json()
    assert body["release"] == world.at_review.number
    assert body["applies"] is True and body["can_decide"] is True and body["why_not"] == ""
    assert {c["key"] for c in body["criteria"]} == set(MOF_CRITERIA)
    quality = next(c for c in body["criteria"] if c["key"] == "release_quality")
    assert quality["label"] == "Quality of the release"
    assert quality["deliverable"] == {
        "kind": "deliverable",
        "key": "release_package",
        "label": "Release package (built and tested)",
        "present": True,
        "version": 1,
    }


def check_recorded(response, world: ReadinessWorld) -> None:
    body = response.json()
    assert body["ready"] is True
    assert body["latest"]["decision"] == "go"
    assert body["latest"]["decided_by"] == "cora"
    assert body["latest"]["note"] == "Ready."
    judged = {c["key"]: c for c in body["latest"]["criteria"]}
    assert judged["release_quality"]["deliverable"] == "release_package"
    assert judged["package_readiness"]["checklist"] == "package_in_definitive_store"
    assert [r["id"] for r in body["history"]] == [body["latest"]["id"]]
    assert AuditEvent.objects.filter(action="readiness.go").count() == 1


class TestReadinessMatrix(PermissionMatrix):
    """Its own world travels with the class, so tests/api/test_openapi.py may list it."""

    @pytest.fixture
    def world(self, db, fast_passwords) -> ReadinessWorld:
        return ReadinessWorld()

    endpoints = (
        Endpoint(
            "get readiness",
            "GET",
            PATH,
            permitted="shop_crew",
            refused=(("outsider", 404), ("nobody", 404)),
            params=lambda w: {"ref": w.at_review.number},
            check=check_state,
        ),
        Endpoint(
            "record readiness",
            "POST",
            PATH,
            permitted="shop_crew",
            status=201,
            refused=(
                ("shop_requester", 403),
                ("shop_tester", 403),
                ("auditor", 403),
                ("outsider", 404),
                ("nobody", 404),
            ),
            params=lambda w: {"ref": w.at_review.number},
            body=go_body,
            check=check_recorded,
        ),
    )


def test_readable_by_those_who_may_not_decide(world):
    response = call(
        world.client("shop_requester"), "GET", PATH, params={"ref": world.at_review.number}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["can_decide"] is False
    assert "requested release" in body["why_not"]


def test_a_stage_without_a_review_is_409(world):
    release = factories.release(world.users["shop_requester"], world.shop)
    response = call(
        world.client("shop_crew"), "POST", PATH, params={"ref": release.number}, body=go_body(world)
    )
    assert response.status_code == 409
    assert "has no readiness review" in response.json()["detail"]
    body = call(world.client("shop_crew"), "GET", PATH, params={"ref": release.number}).json()
    assert body["applies"] is False and body["can_decide"] is False and body["latest"] is None


def test_refusals_name_the_field(world):
    client, ref = world.client("shop_crew"), {"ref": world.at_review.number}
    body = go_body(world)
    body["criteria"]["risk_management_plan"] = {"met": False}
    response = call(client, "POST", PATH, params=ref, body=body)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "decision": ["'Go' needs every criterion met; not met: Risk management plan."]
    }
    del body["criteria"]["risk_management_plan"]
    body["decision"] = "no_go"
    response = call(client, "POST", PATH, params=ref, body=body)
    assert response.status_code == 400
    assert "Risk management plan" in response.json()["errors"]["criteria"][0]
    response = call(
        client, "POST", PATH, params=ref, body={"decision": "later", "criteria": {"x": {}}}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"decision", "criteria.x.met"}
    assert not ReadinessReview.objects.exists()


def test_a_no_go_then_a_go(world):
    """Done when, through the API: a no-go with its unmet criterion, later a go."""
    client, ref = world.client("shop_crew"), {"ref": world.at_review.number}
    body = go_body(world)
    body.update(decision="no_go", note="Not yet.")
    body["criteria"]["production_environment_readiness"] = {
        "met": False,
        "note": "The new database servers are not racked.",
    }
    first = call(client, "POST", PATH, params=ref, body=body).json()
    assert first["ready"] is False and first["latest"]["decision"] == "no_go"
    unmet = [c for c in first["latest"]["criteria"] if not c["met"]]
    assert [(c["key"], c["note"]) for c in unmet] == [
        ("production_environment_readiness", "The new database servers are not racked.")
    ]
    world.at_review.refresh_from_db()
    advance = call(
        client,
        "POST",
        f"{API}/releases/{{ref}}/actions/{{action}}",
        params={**ref, "action": "advance"},
        body={"revision": world.at_review.revision},
    )
    assert advance.status_code == 422
    assert (
        "Stage 'Release readiness review' needs a readiness review decided 'go'."
        in (advance.json()["unmet"])
    )
    second = call(client, "POST", PATH, params=ref, body=go_body(world)).json()
    assert second["ready"] is True
    assert [(r["decision"], r["current"], r["superseded"]) for r in second["history"]] == [
        ("go", True, False),
        ("no_go", False, True),
    ]
    world.at_review.refresh_from_db()
    advance = call(
        client,
        "POST",
        f"{API}/releases/{{ref}}/actions/{{action}}",
        params={**ref, "action": "advance"},
        body={"revision": world.at_review.revision},
    )
    assert advance.status_code == 422  # the CAB has not decided yet; readiness is met
    assert advance.json()["unmet"] == [
        "Stage 'Release readiness review' needs 1 approval(s) by 'CAB member' (has 0)."
    ]
