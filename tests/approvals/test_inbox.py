"""What the inbox shows whom: the steps a user may decide now, in person or for someone away,
each with what is being approved (deliverables, risk, window, earlier decisions)."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relman.accounts import services as accounts
from relman.approvals.services import decisions
from relman.approvals.services.briefing import briefs
from tests import factories
from tests.approvals.signoff import CHECKS, away, release_in_approval, world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def w(db, tmp_path):
    return world(tmp_path)


@pytest.fixture
def release(w):
    return release_in_approval(w)


def steps(user) -> list[tuple[str, str, str | None]]:
    """(release, step, on behalf of) of each brief of the user's inbox."""
    return [
        (
            b.release.number,
            b.item.step.key,
            b.on_behalf_of.username if b.on_behalf_of else None,
        )
        for b in briefs(user)
    ]


def test_an_approver_sees_the_open_step_with_what_is_being_approved(w, release):
    [brief] = briefs(w.alice)

    assert brief.release == release
    assert brief.release.risk == "high"
    assert (brief.stage_label, brief.step_label, brief.role_label) == (
        "Approval",
        "Project manager",
        "Project manager",
    )
    assert [(c.key, c.label) for c in brief.checks] == [
        ("plan_checked", "Plan checked"),
        ("tests_passed", "Tests passed"),
    ]
    [report] = brief.deliverables
    assert (report.key, report.label, report.required) == ("test_report", "Test report", True)
    assert report.version.filename == "tests.txt"
    assert report.version.sha256 == hashlib.sha256(b"all green\n").hexdigest()
    assert report.download == (
        f"/api/v1/releases/{release.number}/deliverables/test_report/versions/1/file"
    )
    assert brief.schedule is None
    assert brief.on_behalf_of is None
    assert brief.earlier == []


def test_the_next_step_waits_for_the_chain(w, release):
    assert steps(w.owner) == []

    decisions.approve(w.alice, release.number, step="review", checks=CHECKS)
    decisions.approve(w.bob, release.number, step="review", checks=CHECKS)

    assert steps(w.owner) == [(release.number, "release_owner", None)]
    [brief] = briefs(w.owner)
    assert [(a.approver.username, a.step) for a in brief.earlier] == [
        ("alice", "review"),
        ("bob", "review"),
    ]


def test_who_decided_no_longer_sees_the_step_the_others_do(w, release):
    decisions.approve(w.alice, release.number, step="review", checks=CHECKS, comment="Fine.")

    assert steps(w.alice) == []
    [brief] = briefs(w.bob)
    assert [(a.approver, a.comment) for a in brief.earlier] == [(w.alice, "Fine.")]


def test_a_delegate_sees_the_steps_of_the_person_away(w, release):
    away(w.alice, w.dave)

    assert steps(w.dave) == [(release.number, "review", "alice")]


def test_the_requester_and_the_release_manager_see_nothing_even_holding_the_role(w, release):
    accounts.assign_role(None, w.requester, "project_manager", "shop")
    accounts.assign_role(None, w.manager, "project_manager", "shop")

    assert steps(w.requester) == []
    assert steps(w.manager) == []


def test_a_delegate_of_the_requester_side_sees_nothing_for_them(w, release):
    away(w.alice, w.requester)

    assert steps(w.requester) == []


def test_someone_without_the_role_sees_nothing(w, release):
    assert steps(w.nobody) == []
    assert steps(w.pmo) == []
    assert steps(w.dave) == []


def test_another_applications_approver_sees_nothing(w, release):
    other = factories.application("other", process="signoff")
    outsider = factories.user("otto", "project_manager", app=other)

    assert steps(outsider) == []


def test_the_window_is_shown_once_the_release_is_scheduled(w, release):
    factories.schedule(factories.calendar_admin(), release)
    release.refresh_from_db()

    [brief] = briefs(w.alice)

    assert brief.schedule is not None
    assert brief.schedule.window.name == "shop upgrade window"
    assert brief.release.planned_start == release.planned_start


def fresh(user):
    """The user read again, without the roles cached on the object."""
    return type(user).objects.get(pk=user.pk)


def test_the_inbox_costs_the_same_queries_for_two_steps_or_many(w):
    away(w.bob, w.alice)  # alice stands in for bob: whom she may decide for is read too
    release_in_approval(w, "First")
    factories.schedule(factories.calendar_admin(), release_in_approval(w, "Scheduled"))
    with CaptureQueriesContext(connection) as few:
        assert len(briefs(fresh(w.alice))) == 2
    for n in range(4):
        release = release_in_approval(w, f"More {n}")
        factories.schedule(factories.calendar_admin(), release)
        decisions.approve(w.bob, release.number, step="review", checks=CHECKS)

    with CaptureQueriesContext(connection) as many:
        assert len(briefs(fresh(w.alice))) == 6

    assert len(many) == len(few), "\n".join(
        [q["sql"][:150] for q in few.captured_queries]
        + ["----"]
        + [q["sql"][:150] for q in many.captured_queries]
    )
