"""Delegation while away: who may arrange one, what is refused, what is audited, and how
a delegate's decisions are recorded and bound by segregation of duties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from relman.accounts import services as accounts
from relman.approvals.models import Delegation
from relman.approvals.services import decisions, delegation
from relman.audit.models import AuditEvent
from relman.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from relman.releases.models import Approval
from tests import factories
from tests.approvals.signoff import CHECKS, away, release_in_approval, world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def w(db, tmp_path):
    return world(tmp_path)


def period(start_hours: float = 1, days: float = 3) -> dict:
    now = timezone.now()
    return {
        "starts": now + timedelta(hours=start_hours),
        "ends": now + timedelta(hours=start_hours) + timedelta(days=days),
    }


# ---------------------------------------------------------------- creating


def test_a_user_delegates_their_own_approvals_and_it_is_audited(w):
    made = delegation.create_delegation(
        w.alice, delegate="dave", reason="Holiday in Hainan", **period()
    )

    assert (made.delegator, made.delegate, made.reason) == (w.alice, w.dave, "Holiday in Hainan")
    event = AuditEvent.objects.get(action="delegation.created")
    assert event.actor == w.alice
    assert event.object_id == str(made.pk)
    assert event.after["delegator"] == "alice"
    assert event.after["delegate"] == "dave"
    assert event.reason == "Holiday in Hainan"


def test_only_an_administrator_arranges_a_delegation_for_someone_else(w):
    with pytest.raises(PermissionDenied, match="Only an administrator"):
        delegation.create_delegation(w.bob, delegator="alice", delegate="dave", **period())
    assert not Delegation.objects.exists()

    admin = factories.admin("root")
    made = delegation.create_delegation(admin, delegator="alice", delegate="dave", **period())
    assert made.delegator == w.alice
    assert AuditEvent.objects.get(action="delegation.created").actor == admin


def test_a_global_release_administrator_may_arrange_one_too(w):
    clerk = factories.user("clerk", "release_administrator")
    shop_only = factories.user("shopclerk", "release_administrator", app=w.app)

    assert delegation.create_delegation(
        clerk, delegator="alice", delegate="dave", **period()
    ).delegator == (w.alice)
    with pytest.raises(PermissionDenied):
        delegation.create_delegation(shop_only, delegator="bob", delegate="dave", **period())


@pytest.mark.parametrize(
    ("delegate", "field", "message"),
    [
        ("alice", "delegate", "Nobody can stand in for themselves"),
        ("ghost", "delegate", "There is no user 'ghost'"),
        ("", "delegate", "Name a user"),
    ],
)
def test_a_delegate_must_be_another_existing_user(w, delegate, field, message):
    with pytest.raises(ValidationFailed, match=message) as caught:
        delegation.create_delegation(w.alice, delegate=delegate, **period())
    assert field in caught.value.errors
    assert not AuditEvent.objects.filter(action="delegation.created").exists()


def test_an_inactive_user_cannot_stand_in(w):
    w.dave.is_active = False
    w.dave.save()

    with pytest.raises(ValidationFailed, match="no longer active") as caught:
        delegation.create_delegation(w.alice, delegate="dave", **period())
    assert "delegate" in caught.value.errors


def test_the_period_must_end_after_it_starts_and_not_in_the_past(w):
    now = timezone.now()
    with pytest.raises(ValidationFailed, match="end must come after the start") as caught:
        delegation.create_delegation(w.alice, delegate="dave", starts=now, ends=now)
    assert "ends" in caught.value.errors
    with pytest.raises(ValidationFailed, match="The end is in the past"):
        delegation.create_delegation(
            w.alice, delegate="dave", starts=now - timedelta(days=3), ends=now - timedelta(days=1)
        )
    assert not Delegation.objects.exists()


def test_an_overlapping_delegation_is_refused_naming_the_existing_one(w):
    first = delegation.create_delegation(w.alice, delegate="dave", **period(days=3))

    with pytest.raises(ValidationFailed) as caught:
        delegation.create_delegation(w.alice, delegate="bob", **period(start_hours=24, days=1))
    assert "already has Dave Deputy standing in" in caught.value.message
    assert f"(delegation {first.pk})" in caught.value.message
    assert Delegation.objects.count() == 1


def test_after_one_ends_or_is_revoked_another_may_follow(w):
    first = delegation.create_delegation(w.alice, delegate="dave", **period(days=1))

    after = delegation.create_delegation(w.alice, delegate="bob", **period(start_hours=25, days=1))
    assert after.delegate == w.bob
    delegation.revoke_delegation(w.alice, first)
    again = delegation.create_delegation(w.alice, delegate="pat", **period(days=0.5))
    assert again.delegate == w.pmo


def test_two_people_cannot_stand_in_for_each_other(w):
    first = delegation.create_delegation(w.alice, delegate="bob", **period(days=3))

    with pytest.raises(ValidationFailed, match="cannot stand in for each other") as caught:
        delegation.create_delegation(w.bob, delegate="alice", **period(start_hours=2, days=1))
    assert f"delegation {first.pk}" in caught.value.message
    assert "delegate" in caught.value.errors
    # In a period that does not overlap, it is no circle.
    later = delegation.create_delegation(w.bob, delegate="alice", **period(start_hours=24 * 4))
    assert later.delegate == w.alice


def test_a_longer_circle_is_refused_too(w):
    delegation.create_delegation(w.alice, delegate="bob", **period())
    delegation.create_delegation(w.bob, delegate="dave", **period())

    with pytest.raises(ValidationFailed, match="round in a circle"):
        delegation.create_delegation(w.dave, delegate="alice", **period())


# ---------------------------------------------------------------- revoking and listing


def test_the_delegator_revokes_and_it_is_audited(w):
    made = delegation.create_delegation(w.alice, delegate="dave", **period())

    revoked = delegation.revoke_delegation(w.alice, made.pk)

    assert revoked.revoked is not None
    event = AuditEvent.objects.get(action="delegation.revoked")
    assert event.actor == w.alice
    assert event.before["delegate"] == "dave"
    with pytest.raises(Conflict, match="already revoked"):
        delegation.revoke_delegation(w.alice, made.pk)
    assert AuditEvent.objects.filter(action="delegation.revoked").count() == 1


def test_the_delegate_may_hand_it_back_but_others_do_not_even_see_it(w):
    made = delegation.create_delegation(w.alice, delegate="dave", **period())

    with pytest.raises(NotFound):
        delegation.revoke_delegation(w.bob, made.pk)
    assert delegation.revoke_delegation(w.dave, made.pk).revoked is not None


def test_an_administrator_revokes_anyones(w):
    made = delegation.create_delegation(w.alice, delegate="dave", **period())

    delegation.revoke_delegation(factories.admin("root"), made.pk)

    assert Delegation.objects.get(pk=made.pk).revoked is not None


def test_a_user_lists_the_delegations_given_and_received(w):
    given = delegation.create_delegation(w.alice, delegate="dave", **period())
    received = delegation.create_delegation(w.bob, delegate="alice", **period())
    ended = delegation.create_delegation(w.alice, delegate="pat", **period(start_hours=200))
    delegation.revoke_delegation(w.alice, ended)

    mine = delegation.delegations_of(w.alice)
    assert mine.given == [given]
    assert mine.received == [received]
    assert delegation.delegations_of(w.alice, include_ended=True).given == [ended, given]


# ---------------------------------------------------------------- deciding as a delegate


def test_a_delegate_decides_for_the_person_away_and_it_is_recorded(w):
    release = release_in_approval(w)
    away(w.alice, w.dave)

    approval = decisions.approve(w.dave, release.number, step="review", checks=CHECKS)

    assert approval.approver == w.dave
    assert approval.on_behalf_of == w.alice
    event = AuditEvent.objects.get(action="approval.approved")
    assert event.actor == w.dave
    assert event.after["on_behalf_of"] == "alice"


def test_without_an_active_delegation_the_delegate_is_refused(w):
    release = release_in_approval(w)
    made = away(w.alice, w.dave)
    delegation.revoke_delegation(w.alice, made)

    with pytest.raises(PermissionDenied):
        decisions.approve(w.dave, release.number, step="review", checks=CHECKS)
    with pytest.raises(PermissionDenied, match="You do not stand in for alice"):
        decisions.approve(
            w.dave, release.number, step="review", checks=CHECKS, on_behalf_of="alice"
        )
    assert not Approval.objects.exists()


def test_a_delegate_who_requested_the_release_is_refused(w):
    release = release_in_approval(w)
    away(w.alice, w.requester)

    with pytest.raises(PermissionDenied, match="requested release"):
        decisions.approve(
            w.requester, release.number, step="review", checks=CHECKS, on_behalf_of="alice"
        )
    assert not Approval.objects.exists()


def test_a_delegate_cannot_fill_a_second_place_for_someone_who_already_decided(w):
    release = release_in_approval(w)
    decisions.approve(w.alice, release.number, step="review", checks=CHECKS)
    away(w.alice, w.dave)

    with pytest.raises(PermissionDenied, match="already decided in this stage"):
        decisions.approve(
            w.dave, release.number, step="review", checks=CHECKS, on_behalf_of="alice"
        )
    assert Approval.objects.count() == 1


def test_nobody_decides_once_in_person_and_once_for_someone_away(w):
    release = release_in_approval(w)
    away(w.bob, w.alice)
    decisions.approve(w.alice, release.number, step="review", checks=CHECKS)

    with pytest.raises(Conflict, match="already decided in this stage"):
        decisions.approve(w.alice, release.number, step="review", checks=CHECKS, on_behalf_of="bob")
    assert Approval.objects.count() == 1


def test_the_person_away_must_hold_the_role_for_their_delegate_to_decide(w):
    release = release_in_approval(w)
    away(w.owner, w.dave)  # olga owns releases, but the review needs a project manager

    with pytest.raises(PermissionDenied, match="does not hold the role"):
        decisions.approve(w.dave, release.number, step="review", checks=CHECKS)
    accounts.assign_role(None, w.dave, "project_manager", "shop")
    assert (
        decisions.approve(w.dave, release.number, step="review", checks=CHECKS).on_behalf_of is None
    )


def test_a_delegate_without_a_role_of_their_own_still_decides_for_the_person_away(w):
    release = release_in_approval(w)
    stranger = factories.user("sam", email="sam@example.com")
    away(w.alice, stranger)

    approval = decisions.approve(stranger, release.number, step="review", checks=CHECKS)

    assert approval.on_behalf_of == w.alice
