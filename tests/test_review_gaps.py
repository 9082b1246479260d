"""Deciding from the release page, and voided decisions shown there (gaps found in review)."""

from __future__ import annotations

import pytest
from django.test import Client

from relman.releases import services as releases
from relman.releases.models import Approval, Release
from tests import factories
from tests.approvals.signoff import CHECKS, release_in_approval, world
from tests.web.helpers import text

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


def login(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_rejection_from_the_release_page_needs_a_reason(w, release):
    response = login(w.alice).post(
        f"/releases/{release.number}/approvals/",
        {"step": "review", "decision": "reject", "comment": "  "},
        follow=True,
    )

    assert "A rejection needs a reason." in " ".join(messages(response))
    assert not Approval.objects.exists()
    assert Release.objects.get(pk=release.pk).stage == "approval"


def test_a_rejection_from_the_release_page_sends_the_release_back(w, release):
    response = login(w.alice).post(
        f"/releases/{release.number}/approvals/",
        {"step": "review", "decision": "reject", "comment": "The plan has no backout."},
        follow=True,
    )

    assert "Your rejection is recorded; the release went back." in messages(response)
    rejected = Approval.objects.get()
    assert (rejected.decision, rejected.approver, rejected.comment) == (
        Approval.REJECTED,
        w.alice,
        "The plan has no backout.",
    )
    assert Release.objects.get(pk=release.pk).stage == "plan"


def test_an_approval_voided_by_a_new_deliverable_version_shows_on_the_release_page(w, release):
    login(w.alice).post(
        f"/releases/{release.number}/approvals/",
        {"step": "review", "decision": "approve", "checks": CHECKS},
    )
    assert Approval.objects.get(voided__isnull=True).approver == w.alice

    releases.add_deliverable(
        w.requester,
        release,
        key="test_report",
        upload=factories.upload("tests-v2.txt", b"one red\n"),
    )

    approval = Approval.objects.get()
    assert approval.voided is not None
    page = text(login(w.manager).get(f"/releases/{release.number}/"))
    assert "Voided decisions" in page
    assert "Alice PM" in page
    assert approval.void_reason in page
    assert "Deliverable 'test_report' changed to version 2." in approval.void_reason
