"""Seed 002's countersign chain through the API, and its emergency path.

A new-system release of Far East Horizon walks the chain project department → customer
service → operations → PMO. At each step the API refuses the wrong role, the requester
(who holds the role too) and a second vote by the same person, before the right person
approves. An emergency upgrade waits for the head of the requester's own department.
"""

from __future__ import annotations

import pytest
from django.test import Client

from relman.accounts.services import assign_role, create_token
from relman.audit.models import AuditEvent
from relman.audit.services import verify_chain
from relman.releases.models import Approval, Release
from tests import factories

pytestmark = pytest.mark.django_db

LEASING = "租赁业务部"
CHAIN = [
    ("approval_project_department", "project_manager"),
    ("countersign_customer_service", "customer_service_director"),
    ("countersign_operations", "operations"),
    ("pmo_review", "pmo"),
]


class World:
    def __init__(self):
        self.app = factories.application("leasing", process="feh")
        self.requester = factories.user(
            "wang", "requester", *[role for _s, role in CHAIN], app=self.app, department=LEASING
        )
        self.crew = factories.crew(self.app)
        self.people = {role: factories.user(f"{role}-1", role, app=self.app) for _s, role in CHAIN}
        self.outsider = factories.user("tester", "tester", app=self.app)
        self.head = factories.user("zhou", "department_approver", app=self.app, department=LEASING)
        self.other_head = factories.user(
            "xu", "department_approver", app=self.app, department="人力资源部"
        )

    def api(self, user) -> Client:
        _token, secret = create_token(None, user, name="test")
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def create(self, kind: str, method: str) -> Release:
        response = self.api(self.requester).post(
            "/api/v1/releases",
            {"application": "leasing", "title": "Leasing core", "kind": kind, "method": method},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        return Release.objects.get(number=response.json()["number"])

    def gate(self, release: Release) -> dict:
        response = self.api(self.crew).get(f"/api/v1/releases/{release.number}")
        return {item["key"]: item for item in response.json()["gate"] if item["kind"] == "approval"}

    def decide(self, user, release: Release, step: str, **body) -> tuple[int, dict]:
        response = self.api(user).post(
            f"/api/v1/releases/{release.number}/approvals",
            {"step": step, **body},
            content_type="application/json",
        )
        return response.status_code, response.json()

    def advance(self, release: Release) -> tuple[int, dict]:
        release.refresh_from_db()
        response = self.api(self.crew).post(
            f"/api/v1/releases/{release.number}/actions/advance",
            {"revision": release.revision},
            content_type="application/json",
        )
        return response.status_code, response.json()


@pytest.fixture
def world(presets, fast_passwords) -> World:
    return World()


def meet_all_but_approvals(world: World, release: Release) -> None:
    """The deliverables, checklist and schedule of the stage (not its approvals)."""
    release.refresh_from_db()
    for kind, key, count in factories.gate_items(release):
        if kind != "approval":
            factories.meet(world.crew, release, kind, key, count)


def test_a_new_system_walks_the_whole_countersign_chain(world):
    release = world.create("new_system", "planned")
    factories.walk_to(world.crew, release, "approval_project_department")
    partly_checked = []
    for stage, role in CHAIN:
        release.refresh_from_db()
        assert release.stage == stage
        meet_all_but_approvals(world, release)
        step = world.gate(release)[role]
        assert (step["met"], step["open"]) == (False, True)
        checks = [c["key"] for c in step["checks"]]

        status, body = world.advance(release)
        assert status == 422 and any(role.split("_")[0] in line.lower() for line in body["unmet"])

        # Deliverables the step names come before any decision.
        for deliverable in step["deliverables"]:
            factories.meet(world.crew, release, "deliverable", deliverable["key"])

        wrong = world.outsider
        status, body = world.decide(wrong, release, role, checks=checks)
        assert status == 403 and "does not hold the role" in body["detail"], body

        status, body = world.decide(world.requester, release, role, checks=checks)
        assert status == 403 and "requested release" in body["detail"], body

        approver = world.people[role]
        if checks:
            status, body = world.decide(approver, release, role, checks=checks[:-1])
            assert status == 400 and body["errors"]["checks"], body
            partly_checked.append(role)

        status, body = world.decide(approver, release, role, checks=checks, comment="OK")
        assert status == 201, body
        assert (body["decision"], body["approver"], body["checks"]) == (
            "approved",
            approver.username,
            checks,
        )

        status, body = world.decide(approver, release, role, checks=checks)
        assert status == 409 and "one place" in body["detail"], body

        assert world.gate(release)[role]["met"] is True
        status, body = world.advance(release)
        assert status == 200, body
    assert release.__class__.objects.get(pk=release.pk).stage == "implementation"
    assert partly_checked  # the refusal of a partial checklist was exercised
    decided = Approval.objects.filter(release=release, voided__isnull=True).order_by("created")
    assert [a.step for a in decided] == [role for _s, role in CHAIN]
    assert AuditEvent.objects.filter(release=release, action="approval.approved").count() == 4
    assert verify_chain().ok


def test_a_step_with_deliverables_cannot_be_decided_before_them(world):
    release = world.create("new_system", "planned")
    factories.walk_to(world.crew, release, "approval_project_department")
    step = world.gate(release)["project_manager"]
    status, body = world.decide(
        world.people["project_manager"],
        release,
        "project_manager",
        checks=[c["key"] for c in step["checks"]],
    )
    assert status == 400, body
    assert "User test report" in body["detail"] and "step" in body["errors"]


def test_an_emergency_upgrade_waits_for_the_requesters_department_head(world):
    release = world.create("upgrade", "emergency")
    factories.walk_to(world.crew, release, "department_head_approval")
    status, body = world.advance(release)
    assert status == 422
    assert any("of the requester's department" in line for line in body["unmet"]), body

    status, body = world.decide(world.other_head, release, "department_approver")
    assert status == 403 and "租赁业务部" in body["detail"], body
    status, body = world.decide(world.requester, release, "department_approver")
    assert status == 403  # the requester is no approver, not even of their own department

    status, body = world.decide(world.head, release, "department_approver", comment="Urgent")
    assert status == 201, body
    status, body = world.advance(release)
    assert status == 200, body
    release.refresh_from_db()
    assert release.stage == "approval_project_department"


def test_a_rejection_needs_a_reason_and_sends_the_release_back(world):
    release = world.create("upgrade", "planned")
    factories.walk_to(world.crew, release, "pmo_review")
    assert Approval.objects.filter(release=release, voided__isnull=True).count() == 3
    pmo = world.people["pmo"]
    response = world.api(pmo).post(
        f"/api/v1/releases/{release.number}/rejections",
        {"step": "pmo"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "comment" in response.json()["errors"]

    response = world.api(pmo).post(
        f"/api/v1/releases/{release.number}/rejections",
        {"step": "pmo", "comment": "The risk response plan is missing the rollback owner."},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    release.refresh_from_db()
    assert release.stage == "preparation"  # the policy's reject_to
    # The chain's decisions from preparation on are void: the chain starts over.
    assert not Approval.objects.filter(release=release, voided__isnull=True).exists()
    event = AuditEvent.objects.filter(release=release, action="release.rejected").get()
    assert "rollback owner" in event.reason
    assert event.before == {"stage": "pmo_review"}


def test_a_new_deliverable_version_voids_the_approvals_that_saw_the_old_one(world):
    release = world.create("upgrade", "planned")
    factories.walk_to(world.crew, release, "approval_project_department")
    factories.meet(world.crew, release, "approval", "project_manager")
    assert world.gate(release)["project_manager"]["met"] is True

    factories.meet(world.crew, release, "deliverable", "go_live_manual")  # version 2

    approval = Approval.objects.get(release=release, step="project_manager")
    assert approval.voided is not None
    assert "go_live_manual" in approval.void_reason and "2" in approval.void_reason
    assert world.gate(release)["project_manager"]["met"] is False
    event = AuditEvent.objects.get(release=release, action="approval.voided")
    assert event.after == {"deliverable": "go_live_manual", "version": 2}
    page = Client()
    page.force_login(world.crew)
    html = page.get(f"/releases/{release.number}/").content.decode()
    assert "Voided decisions" in html and approval.void_reason.replace("'", "&#x27;") in html
    # The step is open again for the same person.
    factories.meet(world.crew, release, "approval", "project_manager")
    assert world.gate(release)["project_manager"]["met"] is True


def test_a_new_version_of_an_unrelated_deliverable_voids_nothing(world):
    release = world.create("upgrade", "planned")
    factories.walk_to(world.crew, release, "approval_project_department")
    factories.meet(world.crew, release, "approval", "project_manager")
    factories.meet(world.crew, release, "deliverable", "training_manual")
    assert not Approval.objects.filter(release=release, voided__isnull=False).exists()


def test_parallel_countersigns_open_side_by_side(world):
    release = world.create("upgrade", "planned")
    factories.walk_to(world.crew, release, "countersign_information_management")
    gate = world.gate(release)
    assert gate["customer_service_director"]["open"] and gate["operations"]["open"]
    status, _body = world.decide(
        world.people["operations"],
        release,
        "operations",
        checks=[c["key"] for c in gate["operations"]["checks"]],
    )
    assert status == 201
    assert world.gate(release)["customer_service_director"]["met"] is False


def test_one_person_holding_two_roles_fills_one_place_in_a_stage(world):
    release = world.create("upgrade", "planned")
    factories.walk_to(world.crew, release, "countersign_information_management")
    both = world.people["operations"]
    assign_role(None, both, "customer_service_director", "leasing")
    gate = world.gate(release)
    assert (
        world.decide(
            both, release, "operations", checks=[c["key"] for c in gate["operations"]["checks"]]
        )[0]
        == 201
    )
    status, body = world.decide(
        both,
        release,
        "customer_service_director",
        checks=[c["key"] for c in gate["customer_service_director"]["checks"]],
    )
    assert status == 409 and "one place" in body["detail"]
