"""The change services: numbering, the approval rules, the changes a release carries (one
open release each), the changes gates on a mof release, the change review. Real database,
through the services."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from relman.audit.models import AuditEvent
from relman.changes import services
from relman.changes.models import Change, ChangeReview, ReleaseChange
from relman.core.errors import Conflict, GateNotMet, PermissionDenied, ValidationFailed
from relman.releases import services as releases
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def shop(presets):
    return factories.application("shop", process="mof")


@pytest.fixture
def people(shop):
    return {
        "requester": factories.user("rosa", "requester", app=shop),
        "owner": factories.user("owen", "change_owner", app=shop),
        "board": factories.user("bea", "cab_member", app=shop),
        "crew": factories.crew(shop, "carl"),
        "outsider": factories.user(
            "otto", "cab_member", "change_owner", app=factories.application("hr")
        ),
        "nobody": factories.user("nina"),
        "auditor": factories.user("audrey", "auditor"),
    }


def submitted(people, shop, title="Upgrade the payroll database"):
    return services.create_change(people["owner"], title=title, application=shop, submit=True)


# ---------------------------------------------------------------- requesting and deciding


def test_a_change_is_numbered_by_year_and_audited(people, shop):
    first = services.create_change(people["owner"], title="First", application=shop)
    second = services.create_change(people["owner"], title="Second", application=shop)
    assert first.number.startswith("CHG-") and first.number.endswith("-0001")
    assert second.number.endswith("-0002")
    assert (first.status, first.approval) == ("draft", "not_requested")
    event = AuditEvent.objects.get(action="change.created", object_id=str(first.pk))
    assert event.after["title"] == "First" and event.after["application"] == "shop"


def test_refusals_name_the_field(people, shop):
    with pytest.raises(ValidationFailed) as refused:
        services.create_change(people["owner"], title=" ", application=shop)
    assert "title" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        services.create_change(
            people["owner"],
            title="X",
            application=shop,
            external_system="jira",
            external_key="PAY-1",
            external_url="javascript:alert(1)",
        )
    assert list(refused.value.errors) == ["external_url"]
    with pytest.raises(ValidationFailed) as refused:
        services.create_change(people["owner"], title="X", external_key="PAY-1")
    assert "external_system" in refused.value.errors
    with pytest.raises(PermissionDenied):
        services.create_change(people["nobody"], title="X", application=shop)
    with pytest.raises(PermissionDenied):
        services.create_change(people["auditor"], title="X", application=shop)
    assert not Change.objects.exists()


def test_an_external_key_is_unique_per_tracker(people, shop):
    services.create_change(
        people["owner"], title="A", application=shop, external_system="jira", external_key="PAY-1"
    )
    with pytest.raises(Conflict) as refused:
        services.create_change(
            people["owner"],
            title="B",
            application=shop,
            external_system="jira",
            external_key="PAY-1",
        )
    assert refused.value.field == "external_key"
    services.create_change(  # the same key in another tracker is another issue
        people["owner"],
        title="C",
        application=shop,
        external_system="servicenow",
        external_key="PAY-1",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Change.objects.create(
            number="X-1",
            title="D",
            requester=people["owner"],
            external_system="jira",
            external_key="PAY-1",
        )


def test_a_cab_member_of_its_application_approves_not_the_requester(people, shop):
    change = submitted(people, shop)
    for who in ("owner", "outsider", "nobody", "requester"):
        with pytest.raises(PermissionDenied):
            services.approve_change(people[who], change)
    board_member_requests = services.create_change(
        people["board"], title="Mine", application=shop, submit=True
    )
    with pytest.raises(PermissionDenied) as refused:
        services.approve_change(people["board"], board_member_requests)
    assert "someone else" in refused.value.message
    approved = services.approve_change(people["board"], change, note="Go ahead.")
    assert (approved.status, approved.approval, approved.decided_by) == (
        "approved",
        "approved",
        people["board"],
    )
    event = AuditEvent.objects.filter(action="change.approved").get()
    assert event.before == {"status": "submitted", "approval": "pending"}
    with pytest.raises(PermissionDenied):  # decided already
        services.reject_change(people["board"], change, note="No.")


def test_a_rejection_says_why_and_a_stale_revision_is_refused(people, shop):
    change = submitted(people, shop)
    with pytest.raises(ValidationFailed) as refused:
        services.reject_change(people["board"], change)
    assert refused.value.field == "note"
    with pytest.raises(Conflict):
        services.reject_change(people["board"], change, revision=change.revision + 5, note="x")
    rejected = services.reject_change(people["board"], change, note="No backout plan.")
    assert (rejected.status, rejected.approval, rejected.decision_note) == (
        "rejected",
        "rejected",
        "No backout plan.",
    )
    edited = services.update_change(people["owner"], change, title="Now with a backout plan")
    again = services.submit_change(people["owner"], edited)
    assert (again.status, again.approval) == ("submitted", "pending")


# ---------------------------------------------------------------- the changes a release carries


def test_a_release_carries_changes_at_its_revision(people, shop):
    release = factories.release(people["requester"], shop)
    one, two = submitted(people, shop, "One"), submitted(people, shop, "Two")
    with pytest.raises(Conflict):
        services.change_release_changes(
            people["crew"], release, "add", [one.number], revision=release.revision + 1
        )
    release = services.change_release_changes(
        people["crew"], release, "add", [one.number, two.number], revision=release.revision
    )
    assert sorted(ReleaseChange.objects.values_list("change__title", flat=True)) == ["One", "Two"]
    event = AuditEvent.objects.get(action="release.changes_changed")
    assert event.before == {"changes": []}
    assert event.after == {"changes": [one.number, two.number]}
    assert event.release_number == release.number
    with pytest.raises(ValidationFailed) as refused:
        services.change_release_changes(
            people["crew"], release, "add", ["CHG-1999-9999"], revision=release.revision
        )
    assert refused.value.errors == {"changes": ["There is no change 'CHG-1999-9999'."]}
    with pytest.raises(PermissionDenied):
        services.change_release_changes(
            people["auditor"], release, "remove", [one.number], revision=release.revision
        )
    release = services.change_release_changes(
        people["crew"], release, "remove", [one.number], revision=release.revision
    )
    assert list(ReleaseChange.objects.values_list("change__title", flat=True)) == ["Two"]


def test_a_change_is_in_at_most_one_open_release(people, shop):
    first = factories.release(people["requester"], shop, title="First")
    second = factories.release(people["requester"], shop, title="Second")
    change = submitted(people, shop)
    services.change_release_changes(
        people["crew"], first, "add", [change.number], revision=first.revision
    )
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as refused:
        services.change_release_changes(
            people["crew"], second, "add", [change.number], revision=second.revision
        )
    assert f"already in open release {first.number}" in refused.value.message
    assert AuditEvent.objects.count() == events
    # The database holds it too, for a writer that skipped the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        ReleaseChange.objects.create(release=second, change=change, added_by=people["crew"])
    # A cancelled release frees the change.
    first.refresh_from_db()
    releases.cancel(people["crew"], first, revision=first.revision, reason="Replanned.")
    assert not ReleaseChange.objects.get(release=first).is_open
    second.refresh_from_db()
    services.change_release_changes(
        people["crew"], second, "add", [change.number], revision=second.revision
    )
    assert ReleaseChange.objects.get(release=second, change=change).is_open


def test_a_carried_change_cannot_be_cancelled_until_removed(people, shop):
    release = factories.release(people["requester"], shop)
    change = submitted(people, shop)
    services.change_release_changes(
        people["crew"], release, "add", [change.number], revision=release.revision
    )
    with pytest.raises(Conflict) as refused:
        services.cancel_change(people["owner"], change, reason="Not needed.")
    assert release.number in refused.value.message
    release.refresh_from_db()
    services.change_release_changes(
        people["crew"], release, "remove", [change.number], revision=release.revision
    )
    cancelled = services.cancel_change(people["owner"], change, reason="Not needed.")
    assert cancelled.status == "cancelled"
    release.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused:
        services.change_release_changes(
            people["crew"], release, "add", [change.number], revision=release.revision
        )
    assert "cancelled" in refused.value.errors["changes"][0]


# ---------------------------------------------------------------- the gates on a mof release


def at_readiness_review(people, shop):
    """A mof release at its readiness review with a go review and the CAB's approval: only
    its changes can hold it now."""
    release = factories.release(people["requester"], shop, title="Payroll 3.0")
    release = factories.walk_to(people["crew"], release, "readiness_review")
    factories.meet(people["crew"], release, "readiness", "review")
    factories.meet(people["crew"], release, "approval", "cab")
    release.refresh_from_db()
    return release


def test_a_mof_release_bundling_two_changes_cannot_deploy_while_one_is_unapproved(people, shop):
    """Done when: a mof release bundling two changes cannot advance to deployment while one
    is unapproved; the refusal names that change. And can once both are approved."""
    release = at_readiness_review(people, shop)
    with pytest.raises(GateNotMet) as refused:
        releases.advance(people["crew"], release, revision=release.revision)
    assert refused.value.unmet == [
        "Stage 'Release readiness review' needs at least 1 change(s) in the release."
    ]
    database = services.approve_change(
        people["board"], submitted(people, shop, "Upgrade the payroll database")
    )
    reports = submitted(people, shop, "New payslip layout")
    release = services.change_release_changes(
        people["crew"],
        release,
        "add",
        [database.number, reports.number],
        revision=release.revision,
    )
    with pytest.raises(GateNotMet) as refused:
        releases.advance(people["crew"], release, revision=release.revision)
    assert refused.value.unmet == [
        f"Stage 'Release readiness review' needs change {reports.number} 'New payslip layout' "
        "approved by change management (now pending)."
    ]
    assert database.number not in refused.value.message
    state = releases.release_state(people["crew"], release)
    rows = {row["key"]: row["met"] for row in state.gate if row["kind"] == "change"}
    assert rows == {database.number: True, reports.number: False}

    services.approve_change(people["board"], reports)
    release.refresh_from_db()
    moved = releases.advance(people["crew"], release, revision=release.revision)
    assert moved.stage == "deployment"


def test_the_change_review_gate_holds_the_mof_release_at_its_closing_stage(people, shop):
    release = at_readiness_review(people, shop)
    one = factories.carry_approved_change(people["crew"], release, "One")
    two = factories.carry_approved_change(people["crew"], release, "Two")
    release = releases.advance(people["crew"], release, revision=release.revision)
    # Too early: the release is being deployed.
    with pytest.raises(PermissionDenied) as refused:
        services.review_change(people["crew"], one, achieved="yes")
    assert refused.value.field == "release"
    release = factories.walk_to(people["crew"], release, "review")
    factories.meet(people["crew"], release, "checklist", "deployed_release_reviewed")
    factories.meet(people["crew"], release, "checklist", "cmdb_updated")
    factories.meet(people["crew"], release, "checklist", "change_review_done")
    release.refresh_from_db()
    with pytest.raises(GateNotMet) as refused:
        releases.close(people["crew"], release, revision=release.revision)
    assert refused.value.unmet == [
        f"Stage 'Review deployed release and change review' needs the change review of "
        f"{one.number} 'One'.",
        f"Stage 'Review deployed release and change review' needs the change review of "
        f"{two.number} 'Two'.",
    ]
    for who in ("board", "requester", "outsider", "auditor"):
        with pytest.raises(PermissionDenied):
            services.review_change(people[who], one, achieved="yes")
    review = services.review_change(
        people["crew"], one, achieved="partly", side_effects="Reports ran slow for a day."
    )
    assert (review.release, review.reviewer, review.achieved) == (release, people["crew"], "partly")
    event = AuditEvent.objects.get(action="change.reviewed")
    assert event.release_number == release.number and event.after["achieved"] == "partly"
    with pytest.raises(Conflict):
        services.review_change(people["crew"], one, achieved="yes")
    release.refresh_from_db()
    with pytest.raises(GateNotMet) as refused:
        releases.close(people["crew"], release, revision=release.revision)
    assert [two.number in line for line in refused.value.unmet] == [True]
    services.review_change(people["crew"], two, achieved="yes")
    release.refresh_from_db()
    closed = releases.close(people["crew"], release, revision=release.revision)
    assert closed.status == "closed"
    # A successful release implemented its changes; reviewed already, they are closed, and
    # the release no longer holds them.
    assert set(Change.objects.values_list("status", flat=True)) == {"closed"}
    assert not ReleaseChange.objects.filter(is_open=True).exists()
    assert ChangeReview.objects.count() == 2


def test_a_change_of_a_closed_release_is_reviewed_and_closed(people, shop):
    release = factories.release(people["requester"], shop)
    change = factories.carry_approved_change(people["crew"], release)
    release.refresh_from_db()
    release = factories.walk_to(people["crew"], release, "deployment")
    releases.roll_back(people["crew"], release, revision=release.revision, reason="It failed.")
    change.refresh_from_db()
    assert change.status == "approved"  # not implemented: free for another release
    review = services.review_change(people["crew"], change, achieved="no", side_effects="None.")
    assert review.release == release
    change.refresh_from_db()
    assert change.status == "approved"
