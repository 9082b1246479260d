"""Seed 003 §5.1.3: the plan is reviewed by the heads of every department involved. The
involved departments are the requester's, the owner teams of the configuration items the
release touches and of those they affect, and those added by hand; each is one place."""

from __future__ import annotations

import pytest

from relman.approvals.services import decisions, policy
from relman.core.errors import Conflict, GateNotMet, PermissionDenied
from relman.processes import services as processes
from relman.processes.loader import PRESETS_DIR, InvalidProcess
from relman.releases import services as releases
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(presets, fast_passwords):
    app = factories.application("crm", process="tfdl")
    requester = factories.user("rita", "requester", app=app, department="Sales")
    crew = factories.crew(app)
    finance = factories.team("finance", "Finance")
    db = factories.ci("crm-db", "database", owner_team=finance)
    release = factories.release(requester, app)
    releases.change_items(crew, release, "add", [db.pk])
    release = factories.walk_to(crew, release, "plan_review")
    factories.meet(crew, release, "checklist", "plan_review_held")
    heads = {
        name: factories.user(f"head-{name}", "department_approver", app=app, department=name)
        for name in ("Sales", "Finance", "Legal")
    }
    owner = factories.user("olive", "release_owner", app=app)
    return app, crew, release, heads, owner


def advance(crew, release):
    release.refresh_from_db()
    return releases.advance(crew, release, revision=release.revision)


def test_a_release_touching_two_departments_needs_both_heads(world):
    _app, crew, release, heads, owner = world
    assert [t.name for t in releases.involved_departments(release)] == ["Sales", "Finance"]

    decisions.approve(heads["Sales"], release, step="department_approver")
    with pytest.raises(Conflict, match="waits for Department approver of each department"):
        decisions.approve(owner, release, step="release_owner")  # the chain waits
    with pytest.raises(GateNotMet) as refused:
        advance(crew, release)
    assert "each department involved; it waits for: Finance" in str(refused.value)

    with pytest.raises(PermissionDenied, match="none of those still waiting: Finance"):
        decisions.approve(heads["Legal"], release, step="department_approver")
    decisions.approve(heads["Finance"], release, step="department_approver")
    decisions.approve(owner, release, step="release_owner")
    assert advance(crew, release).stage == "test_acceptance"


def test_a_second_head_of_a_department_already_approved_fills_no_place(world):
    app, _crew, release, heads, _owner = world
    deputy = factories.user("deputy", "department_approver", app=app, department="Sales")
    decisions.approve(heads["Sales"], release, step="department_approver")
    with pytest.raises(PermissionDenied, match="still waiting: Finance"):
        decisions.approve(deputy, release, step="department_approver")
    assert [u.username for u in policy.eligible_users(release, _step(release))] == ["head-Finance"]


def test_one_person_of_two_departments_fills_one_place(world):
    app, _crew, release, _heads, _owner = world
    both = factories.user("both", "department_approver", app=app, department="Sales")
    factories.team("finance", members=[both])
    decisions.approve(both, release, step="department_approver")
    teams, filled = policy.department_places(release, _step(release))
    assert len(teams) == 2 and len(filled) == 1


def test_departments_of_affected_items_and_added_by_hand_are_involved(world):
    _app, crew, release, _heads, _owner = world
    ops = factories.team("ops", "Operations")
    legal = factories.team("legal", "Legal")
    api = factories.ci("crm-api", "application", owner_team=ops)
    db = release.items.get().ci
    factories.depends(api, db)  # the API depends on the database the release touches
    releases.change_teams(crew, release, "add", ["legal"])
    assert [t.code for t in releases.involved_departments(release)] == [
        "sales",
        "finance",
        "ops",
        "legal",
    ]
    legal.is_active = False
    legal.save()
    assert "legal" not in [t.code for t in releases.involved_departments(release)]


def test_a_release_involving_no_department_says_so(presets, fast_passwords):
    app = factories.application("crm", process="tfdl")
    crew = factories.crew(app)
    release = factories.walk_to(
        crew, factories.release(factories.user("nod", "requester", app=app), app), "plan_review"
    )
    head = factories.user("h", "department_approver", app=app, department="Sales")
    with pytest.raises(PermissionDenied, match="involves no department"):
        decisions.approve(head, release, step="department_approver")


def test_a_step_for_the_involved_departments_takes_no_count(presets):
    text = (
        (PRESETS_DIR / "tfdl.yaml")
        .read_text("utf-8")
        .replace(
            "{role: department_approver, department: involved}",
            "{role: department_approver, department: involved, count: 2}",
        )
    )
    with pytest.raises(InvalidProcess, match="leave out 'count'"):
        processes.validate(text, "tfdl.yaml")


def _step(release):
    return releases.flow_of(release)[1].stage(release.stage).step("department_approver")
