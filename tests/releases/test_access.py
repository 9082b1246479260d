"""Who may see and do what: segregation of duties and per-application roles."""

from __future__ import annotations

import pytest

from relman.accounts.services import assign_role
from relman.approvals.services import decisions
from relman.core.errors import Conflict, NotFound, PermissionDenied
from relman.releases import access, services
from relman.releases.models import Approval, Release
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(release, crew):
    """The release in tfdl's plan_review: the department approver of each involved
    department (the requester's Sales), then the release owner."""
    return factories.walk_to(crew, release, "plan_review")


def decidable(user, release) -> list[str]:
    return [item.step.key for item in services.release_state(user, release).decidable]


# ---------------------------------------------------------------- segregation of duties


def test_the_requester_may_not_approve_even_holding_the_role(in_review, requester, app):
    assign_role(None, requester, "release_owner", "crm")
    assign_role(None, requester, "department_approver")
    for step in ("release_owner", "department_approver"):
        with pytest.raises(PermissionDenied, match="requested release"):
            decisions.approve(requester, in_review, step=step)
    assert decidable(requester, in_review) == []
    assert not Approval.objects.exists()


def test_the_release_manager_may_not_approve_either(in_review, app):
    manager = factories.user("manny", "release_manager", "department_approver", app=app)
    services.update_release(manager, in_review, release_manager="manny")
    with pytest.raises(PermissionDenied, match="manages release"):
        decisions.approve(manager, in_review, step="department_approver")


def test_a_superuser_who_requested_the_release_may_not_approve_it(app, crew):
    boss = factories.user("boss", is_superuser=True, department="Sales")
    release = factories.walk_to(crew, factories.release(boss, app), "plan_review")
    with pytest.raises(PermissionDenied, match="requested release"):
        decisions.approve(boss, release, step="department_approver")
    assert decidable(boss, release) == []
    # another superuser of the department may
    other = factories.user("other-admin", is_superuser=True, department="Sales")
    assert decisions.approve(other, release, step="department_approver").approver == other


def test_one_person_fills_one_place_in_a_stage(in_review, app, crew):
    both = factories.user("bo", "release_owner", "department_approver", app=app, department="Sales")
    assert decidable(both, in_review) == ["department_approver"]  # the owner waits for them
    decisions.approve(both, in_review, step="department_approver")  # the one department: done
    with pytest.raises(Conflict, match="one person fills one place"):
        decisions.approve(both, in_review, step="release_owner")
    assert Approval.objects.filter(approver=both).count() == 1
    assert decidable(both, in_review) == []


def test_an_approval_counts_only_for_the_step_it_was_given_in(in_review, crew, app):
    factories.team("finance", "Finance")
    services.change_teams(crew, in_review, "add", ["finance"])
    both = factories.user("bo", "release_owner", "department_approver", app=app, department="Sales")
    decisions.approve(both, in_review, step="department_approver")
    gate = {(g["kind"], g["key"]): g for g in services.release_state(crew, in_review).gate}
    heads = gate[("approval", "department_approver")]
    assert (heads["have"], heads["needed"], heads["met"]) == (1, 2, False)  # Sales; Finance next
    assert gate[("approval", "release_owner")]["met"] is False


def test_a_role_held_for_another_application_does_not_let_one_approve(in_review, other_app):
    elsewhere = factories.user("eli", "release_owner", app=other_app)
    with pytest.raises(NotFound):
        decisions.approve(elsewhere, in_review.number, step="release_owner")


def test_a_global_role_lets_one_approve_any_application(in_review):
    everywhere = factories.user("eve", "department_approver", department="Sales")
    assert (
        decisions.approve(everywhere, in_review, step="department_approver").approver == everywhere
    )


# ---------------------------------------------------------------- per-application roles


def test_a_role_for_one_application_shows_only_its_releases(app, other_app, requester):
    mine = factories.release(requester, app)
    hr_requester = factories.user("hank", "requester", app=other_app)
    theirs = factories.release(hr_requester, other_app)
    assert list(access.visible_releases(requester)) == [mine]
    assert list(access.visible_releases(hr_requester)) == [theirs]
    with pytest.raises(NotFound):
        access.get_visible(requester, theirs.number)
    with pytest.raises(NotFound):
        access.get_visible(requester, theirs.pk)
    assert access.get_visible(requester, mine.number) == mine


def test_the_release_manager_of_a_release_sees_it_without_an_application_role(
    release, requester, app
):
    from relman.accounts.models import RoleAssignment
    from relman.core import permissions

    manager = factories.user("mia", "release_manager", app=app)
    services.update_release(manager, release, revision=1, release_manager="mia")
    RoleAssignment.objects.filter(user=manager).delete()  # her role ends; she still manages it
    permissions.forget(manager)
    assert permissions.roles_of(manager, app.pk) == set()
    assert access.can_view(manager, release)
    assert "release_manager" in access.release_roles(manager, Release.objects.get(pk=release.pk))


def test_anonymous_and_inactive_users_see_nothing(release):
    from django.contrib.auth.models import AnonymousUser

    assert not access.visible_releases(AnonymousUser()).exists()
    gone = factories.user("gone", "release_manager")
    gone.is_active = False
    gone.save()
    assert not access.visible_releases(gone).exists()


def test_the_api_hides_other_applications_releases(app, other_app, requester, api_client):
    mine = factories.release(requester, app)
    theirs = factories.release(factories.user("hank", "requester", app=other_app), other_app)
    client = api_client(requester)
    listed = client.get("/api/v1/releases").json()["items"]
    assert [row["number"] for row in listed] == [mine.number]
    assert client.get(f"/api/v1/releases/{mine.number}").status_code == 200
    for ref in (theirs.number, theirs.pk):
        response = client.get(f"/api/v1/releases/{ref}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert client.get(f"/api/v1/releases/{theirs.number}/audit").status_code == 404


# ---------------------------------------------------------------- auditors


def test_auditors_see_every_release_but_change_nothing(in_review, auditor, other_app, api_client):
    other = factories.release(factories.user("hank", "requester", app=other_app), other_app)
    assert set(access.visible_releases(auditor)) == {in_review, other}
    assert not access.can_edit(auditor, in_review)
    assert not access.can_comment(auditor, in_review)
    state = services.release_state(auditor, in_review)
    assert not any(a.allowed for a in state.actions)
    assert (state.can_edit, state.can_comment, state.tickable) == (False, False, False)
    assert state.decidable == []
    refusals = [
        lambda: services.update_release(auditor, in_review, revision=None, title="x"),
        lambda: services.advance(auditor, in_review, revision=None),
        lambda: services.cancel(auditor, in_review, reason="r", revision=None),
        lambda: services.add_deliverable(
            auditor, in_review, key="release_plan", url="https://x.org"
        ),
        lambda: services.complete_checklist_item(auditor, in_review, item="plan_review_held"),
        lambda: decisions.approve(auditor, in_review, step="release_owner"),
        lambda: services.add_comment(auditor, in_review, body="hm"),
    ]
    for refused in refusals:
        with pytest.raises(PermissionDenied):
            refused()
    client = api_client(auditor)
    assert client.get(f"/api/v1/releases/{other.number}").status_code == 200
    response = client.post(
        f"/api/v1/releases/{in_review.number}/comments",
        {"body": "hm"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Release.objects.get(pk=in_review.pk).revision == in_review.revision
