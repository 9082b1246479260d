"""The delegations page (/approvals/delegations/): list, create and revoke delegations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from relman.approvals.models import Delegation
from relman.approvals.services import delegation
from relman.audit.models import AuditEvent
from tests import factories
from tests.approvals.signoff import away, world
from tests.web.helpers import text

pytestmark = pytest.mark.django_db

PAGE = "/approvals/delegations/"


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def w(db, tmp_path):
    return world(tmp_path)


def login(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def local(hours: float) -> str:
    """A time `hours` from now as a datetime-local input sends it."""
    return timezone.localtime(timezone.now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def test_anonymous_is_sent_to_log_in(w):
    assert login().get(PAGE).status_code == 302
    response = login().post(PAGE, {"delegate": "dave", "starts": local(1), "ends": local(48)})
    assert response.status_code == 302
    assert not Delegation.objects.exists()


def test_the_page_lists_the_delegations_given_and_received(w):
    away(w.alice, w.dave)
    away(w.bob, w.alice)

    response = login(w.alice).get(PAGE)

    assert response.status_code == 200
    page = text(response)
    assert "Standing in for you" in page and "Dave Deputy" in page
    assert "You stand in for" in page and "Bob PM" in page
    assert "in force" in page
    assert 'name="delegator"' not in page  # only administrators name who is away


def test_delegating_from_the_page(w):
    response = login(w.alice).post(
        PAGE,
        {"delegate": "dave", "starts": local(1), "ends": local(48), "reason": "Training"},
        follow=True,
    )

    made = Delegation.objects.get()
    assert (made.delegator, made.delegate, made.reason) == (w.alice, w.dave, "Training")
    assert response.redirect_chain[-1][0] == PAGE
    assert "Dave Deputy stands in for Alice PM from" in text(response)
    assert AuditEvent.objects.filter(action="delegation.created").count() == 1


def test_a_refused_delegation_comes_back_with_the_reason_on_its_field(w):
    response = login(w.alice).post(
        PAGE, {"delegate": "alice", "starts": local(1), "ends": local(48), "reason": "x"}
    )

    assert response.status_code == 200
    assert "Nobody can stand in for themselves." in text(response)
    assert 'value="alice"' in text(response)  # what was typed is kept
    assert not Delegation.objects.exists()


def test_a_form_error_names_the_field(w):
    response = login(w.alice).post(PAGE, {"delegate": "dave", "starts": "soon", "ends": ""})

    page = text(response)
    assert response.status_code == 200
    assert "Enter a valid date/time." in page
    assert "This field is required." in page
    assert not Delegation.objects.exists()


def test_an_administrator_delegates_for_someone_else(w):
    admin = factories.admin("root")
    assert 'name="delegator"' in text(login(admin).get(PAGE))

    login(admin).post(
        PAGE, {"delegate": "dave", "delegator": "bob", "starts": local(1), "ends": local(48)}
    )

    assert Delegation.objects.get().delegator == w.bob


def test_a_user_cannot_sneak_in_someone_else_as_who_is_away(w):
    login(w.alice).post(
        PAGE, {"delegate": "dave", "delegator": "bob", "starts": local(1), "ends": local(48)}
    )

    assert Delegation.objects.get().delegator == w.alice  # the field is not theirs to send


def test_revoking_from_the_page(w):
    made = away(w.alice, w.dave)

    stranger = login(w.bob).post(f"{PAGE}{made.pk}/revoke/", follow=True)
    assert Delegation.objects.get().revoked is None
    assert f"Delegation {made.pk} was not found." in text(stranger)

    response = login(w.alice).post(f"{PAGE}{made.pk}/revoke/", follow=True)

    assert Delegation.objects.get().revoked is not None
    assert "The delegation to Dave Deputy is revoked." in text(response)
    assert "Nobody stands in for you." in text(response)
    assert "revoked" in text(login(w.alice).get(PAGE + "?all=1"))


def test_the_page_query_count_does_not_grow_with_its_rows(w, django_assert_max_num_queries):
    for n, delegate in enumerate([w.dave, w.bob, w.pmo]):
        delegation.create_delegation(
            w.alice,
            delegate=delegate,
            starts=timezone.now() + timedelta(days=10 * n + 1),
            ends=timezone.now() + timedelta(days=10 * n + 2),
        )
    away(w.bob, w.alice)
    away(w.owner, w.alice)
    client = login(w.alice)

    with django_assert_max_num_queries(6):
        response = client.get(PAGE)

    assert response.status_code == 200
    assert text(response).count("data-delegation=") == 5
