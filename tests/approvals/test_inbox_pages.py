"""The inbox page (/approvals/): what it shows whom, and its approve and reject forms."""

from __future__ import annotations

import pytest
from django.test import Client

from relman.approvals.models import PendingStep
from relman.audit.models import AuditEvent
from relman.releases.models import Approval, Release
from tests import factories
from tests.approvals.signoff import CHECKS, away, release_in_approval, world
from tests.web.helpers import text

pytestmark = pytest.mark.django_db

PAGE = "/approvals/"


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def w(db, tmp_path):
    return world(tmp_path)


@pytest.fixture
def release(w):
    return release_in_approval(w)


def login(user=None, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_anonymous_is_sent_to_log_in(release):
    response = login().get(PAGE)

    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_the_page_shows_what_is_being_approved(w, release):
    factories.schedule(factories.calendar_admin(), release)
    login(w.bob).post(
        f"/approvals/{release.number}/approve/",
        {"step": "review", "checks": CHECKS, "comment": "Checked the plan."},
    )

    response = login(w.alice).get(PAGE)

    assert response.status_code == 200
    page = text(response)
    assert release.number in page and "Checkout v2" in page
    assert "Risk: High" in page
    assert "Project manager" in page
    assert "Test report" in page
    assert (
        f'href="/api/v1/releases/{release.number}/deliverables/test_report/versions/1/file"' in page
    )
    assert "tests.txt" in page
    assert "shop upgrade window" in page
    assert "Checked the plan." in page and "Bob PM" in page
    assert 'value="plan_checked"' in page and "Tests passed" in page
    assert f'action="/approvals/{release.number}/approve/"' in page
    assert f'action="/approvals/{release.number}/reject/"' in page


@pytest.mark.parametrize("who", ["requester", "manager", "nobody", "pmo"])
def test_people_who_may_not_decide_see_an_empty_inbox(w, release, who):
    response = login(getattr(w, who)).get(PAGE)

    assert response.status_code == 200
    page = text(response)
    assert "Nothing waits for your decision." in page
    assert release.number not in page


def test_the_page_is_translated(w, release):
    w.alice.language = "zh-hans"
    response = login(w.alice, "zh-hans").get(PAGE, HTTP_ACCEPT_LANGUAGE="zh-hans")

    page = text(response)
    assert "测试报告" in page  # the process's own label of the deliverable
    assert "审批" in page


def test_approving_from_the_inbox(w, release):
    response = login(w.alice).post(
        f"/approvals/{release.number}/approve/",
        {"step": "review", "checks": CHECKS, "comment": "Good."},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == PAGE
    assert f"Your approval of {release.number} is recorded." in messages(response)
    approval = Approval.objects.get()
    assert (approval.approver, approval.step, approval.checks) == (w.alice, "review", CHECKS)
    assert AuditEvent.objects.filter(action="approval.approved").count() == 1


def test_approving_without_confirming_the_checks_is_refused(w, release):
    response = login(w.alice).post(
        f"/approvals/{release.number}/approve/",
        {"step": "review", "checks": ["plan_checked"]},
        follow=True,
    )

    [message] = messages(response)
    assert "Confirm every item of this step" in message and "Tests passed" in message
    assert not Approval.objects.exists()


def test_a_delegate_approves_for_the_person_away(w, release):
    away(w.alice, w.dave)
    page = text(login(w.dave).get(PAGE))
    assert 'name="on_behalf_of" value="alice"' in page
    assert "Alice PM (you stand in by a delegation)" in page

    login(w.dave).post(
        f"/approvals/{release.number}/approve/",
        {"step": "review", "checks": CHECKS, "on_behalf_of": "alice"},
    )

    approval = Approval.objects.get()
    assert (approval.approver, approval.on_behalf_of) == (w.dave, w.alice)


def test_rejecting_needs_a_reason_and_sends_the_release_back(w, release):
    client = login(w.alice)

    empty = client.post(
        f"/approvals/{release.number}/reject/", {"step": "review", "comment": "  "}, follow=True
    )
    assert "Reason: A rejection needs a reason." in messages(empty)
    assert not Approval.objects.exists()

    done = client.post(
        f"/approvals/{release.number}/reject/",
        {"step": "review", "comment": "The test report is for the wrong build."},
        follow=True,
    )

    assert any("rejection" in m for m in messages(done)), messages(done)
    assert Approval.objects.get().decision == Approval.REJECTED
    assert Release.objects.get(pk=release.pk).stage == "plan"
    assert not PendingStep.objects.filter(release=release, closed__isnull=True).exists()


def test_someone_who_may_not_decide_is_refused_with_the_reason(w, release):
    response = login(w.requester).post(
        f"/approvals/{release.number}/approve/",
        {"step": "review", "checks": CHECKS},
        follow=True,
    )

    [message] = messages(response)
    assert f"requested release {release.number}, so may not approve it" in message
    assert not Approval.objects.exists()


def test_a_release_the_user_may_not_see_is_not_found(w, release):
    outsider = factories.user("otto")

    response = login(outsider).post(
        f"/approvals/{release.number}/approve/", {"step": "review", "checks": CHECKS}, follow=True
    )

    assert [f"Release {release.number} was not found."] == messages(response)


def test_the_forms_only_post(w, release):
    assert login(w.alice).get(f"/approvals/{release.number}/approve/").status_code == 405


def test_the_page_query_count_does_not_grow_with_its_steps(w, django_assert_max_num_queries):
    for n in range(6):
        release = release_in_approval(w, f"Release {n}")
        if n % 2:
            factories.schedule(factories.calendar_admin(), release)
        if n > 2:
            login(w.bob).post(
                f"/approvals/{release.number}/approve/", {"step": "review", "checks": CHECKS}
            )
    away(w.bob, w.alice)
    client = login(w.alice)

    with django_assert_max_num_queries(10):
        response = client.get(PAGE)

    assert response.status_code == 200
    assert text(response).count('action="/approvals/REL-') == 12
