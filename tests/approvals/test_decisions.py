"""Deciding steps: who hears of it, CAB-only steps, and opening the steps of old releases."""

from __future__ import annotations

import pytest
from django.db import transaction

from relman.approvals.models import PendingStep
from relman.approvals.services import decisions
from relman.core.errors import PermissionDenied
from relman.notifications.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tfdl(presets, fast_passwords):
    app = factories.application("crm", process="tfdl")
    requester = factories.user(
        "rita", "requester", app=app, email="rita@example.org", department="Sales"
    )
    crew = factories.crew(app)
    return app, requester, crew


def events_to(user) -> list[str]:
    return list(
        Message.objects.filter(recipient=user).order_by("id").values_list("event", flat=True)
    )


def test_approvers_hear_of_the_steps_waiting_for_them_and_the_requester_of_decisions(tfdl):
    app, requester, crew = tfdl
    head = factories.user(
        "hana", "department_approver", app=app, email="hana@example.org", department="Sales"
    )
    owner = factories.user("olive", "release_owner", app=app, email="olive@example.org")
    release = factories.walk_to(crew, factories.release(requester, app), "plan_review")

    # The chain opens with the step of the involved department's head (the requester's
    # own): the head hears of it, the owner not yet.
    assert events_to(head) == ["approval.requested"]
    assert events_to(owner) == []
    pending = PendingStep.objects.get(release=release, closed__isnull=True)
    assert (pending.stage, pending.step) == ("plan_review", "department_approver")

    decisions.approve(head, release, step="department_approver")
    assert events_to(owner) == ["approval.requested"]  # now it is the owner's turn
    assert "approval.approved" in events_to(requester)
    assert "approval.requested" not in events_to(requester)

    decisions.reject(owner, release, step="release_owner", comment="No backout owner named.")
    assert events_to(requester)[-1] == "approval.rejected"
    rejected = Message.objects.filter(recipient=requester, event="approval.rejected").get()
    assert rejected.data["comment"] == "No backout owner named."
    assert not PendingStep.objects.filter(release=release, stage="plan_review", closed=None)


def test_a_cab_step_is_decided_only_at_a_meeting(presets, fast_passwords):
    app = factories.application("shop", process="mof")
    requester = factories.user("rita", "requester", app=app)
    crew = factories.crew(app)
    release = factories.walk_to(crew, factories.release(requester, app), "readiness_review")
    member = factories.user("carl", "cab_member", app=app)
    with pytest.raises(PermissionDenied, match="CAB at a meeting"):
        decisions.approve(member, release, step="cab")


def test_open_waiting_steps_opens_what_is_missing_once(tfdl):
    app, requester, crew = tfdl
    release = factories.walk_to(crew, factories.release(requester, app), "plan_review")
    PendingStep.objects.filter(release=release).delete()  # as before approval policies
    assert decisions.open_waiting_steps() == 1
    assert decisions.open_waiting_steps() == 0
    assert PendingStep.objects.filter(release=release, closed__isnull=True).count() == 1


def test_a_step_opened_by_a_return_is_closed_and_reopened(tfdl):
    app, requester, crew = tfdl
    release = factories.walk_to(crew, factories.release(requester, app), "plan_review")
    with transaction.atomic():
        first = PendingStep.objects.get(release=release, closed__isnull=True)
    from relman.releases import services

    release = services.return_to_stage(
        crew, release, stage="backout_plan", reason="Redo", revision=release.revision
    )
    first.refresh_from_db()
    assert first.closed is not None
    release = factories.walk_to(crew, release, "plan_review")
    again = PendingStep.objects.get(release=release, closed__isnull=True)
    assert again.pk != first.pk and again.step == "department_approver"


def test_the_lifecycle_tells_the_requester_of_deployment_rollback_and_close(tfdl):
    from relman.releases import services

    app, requester, crew = tfdl
    release = factories.walk_to(crew, factories.release(requester, app), "deployment")
    assert events_to(requester)[-1] == "release.deployed"
    release = services.roll_back(
        crew, release, reason="The smoke test failed", revision=release.revision
    )
    assert events_to(requester)[-1] == "release.rolled_back"
    second = factories.release(requester, app)
    services.cancel(crew, second, reason="Superseded", revision=second.revision)
    closed = Message.objects.filter(recipient=requester, release=second).get()
    assert (closed.event, closed.data["outcome"]) == ("release.closed", "cancelled")
