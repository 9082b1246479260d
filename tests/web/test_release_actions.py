"""Every POST of the release page, as anonymous, unpermitted and permitted users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from relman.approvals.services import decisions
from relman.audit.models import AuditEvent
from relman.releases import services
from relman.releases.models import Release
from tests.web.helpers import text

pytestmark = pytest.mark.django_db


def plan_file(name: str = "plan.txt", body: bytes = b"Release plan\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="text/plain")


@dataclass
class Post:
    """One POST of the page: its path, its data, who may do it and what they see."""

    path: str
    data: Any
    permitted: str
    success: str
    refusal: str  # what a read-only auditor is told

    def url(self, release: Release) -> str:
        return f"/releases/{release.number}/{self.path}/"


POSTS = {
    "cancel": Post(
        "actions/cancel",
        lambda r: {"revision": r.revision, "reason": "Superseded"},
        "manager",
        "is closed: Cancelled.",
        "only these roles may act",
    ),
    "tick": Post(
        "checklist",
        lambda r: {"item": "plan_reviewed"},
        "requester",
        "Checklist item done.",
        "You may not change release",
    ),
    "approve": Post(
        "approvals",
        lambda r: {"step": "cab_member", "decision": "approve"},
        "cab",
        "Your approval is recorded.",
        "does not hold the role 'CAB member'",
    ),
    "deliverable": Post(
        "deliverables",
        lambda r: {"key": "release_plan", "file": plan_file(), "note": "first"},
        "requester",
        "Version 1 of 'Release plan' is added.",
        "You may not change release",
    ),
    "comment": Post(
        "comments",
        lambda r: {"body": "Ship it"},
        "requester",
        "Your comment is added.",
        "You may not comment on release",
    ),
}


@pytest.mark.parametrize("name", POSTS)
def test_anonymous_is_redirected_to_log_in(login, release, name):
    post = POSTS[name]
    before = AuditEvent.objects.count()
    response = login().post(post.url(release), post.data(release))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", POSTS)
def test_a_user_who_may_not_see_the_release_gets_404(login, outsider, release, name):
    post = POSTS[name]
    before = AuditEvent.objects.count()
    assert login(outsider).post(post.url(release), post.data(release)).status_code == 404
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", POSTS)
def test_a_read_only_auditor_is_told_why_not(login, auditor, release, name):
    post = POSTS[name]
    before = AuditEvent.objects.count()
    response = login(auditor).post(post.url(release), post.data(release), follow=True)
    assert response.redirect_chain[0][0].startswith(f"/releases/{release.number}/")
    page = text(response)
    assert "message-error" in page
    assert post.refusal in page
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", POSTS)
def test_a_permitted_user_does_it(login, request, release, name):
    post = POSTS[name]
    user = request.getfixturevalue(post.permitted)
    before = AuditEvent.objects.count()
    response = login(user).post(post.url(release), post.data(release), follow=True)
    page = text(response)
    assert "message-success" in page, page
    assert post.success in page
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.order_by("-seq").first().channel == "web"


def test_a_get_is_not_allowed(login, requester, release):
    assert login(requester).get(f"/releases/{release.number}/comments/").status_code == 405


def test_an_unknown_action_is_404(login, requester, release):
    url = f"/releases/{release.number}/actions/explode/"
    assert login(requester).post(url, {"revision": 1}).status_code == 404


def test_a_refused_advance_shows_the_unmet_gate(login, requester, release):
    response = login(requester).post(
        f"/releases/{release.number}/actions/advance/", {"revision": release.revision}, follow=True
    )
    page = text(response)
    assert "message-error" in page
    assert "Stage 'Release plan' needs the deliverable 'Release plan'." in page
    release.refresh_from_db()
    assert release.stage == "plan"


def test_the_whole_gate_then_advance(login, requester, cab, release):
    client = login(requester)
    base = f"/releases/{release.number}"
    client.post(f"{base}/deliverables/", {"key": "release_plan", "file": plan_file()})
    client.post(f"{base}/checklist/", {"item": "plan_reviewed"})
    login(cab).post(f"{base}/approvals/", {"step": "cab_member", "decision": "approve"})
    release.refresh_from_db()
    response = client.post(f"{base}/actions/advance/", {"revision": release.revision}, follow=True)
    page = text(response)
    assert f"Release {release.number} is now in stage 'Build'." in page
    assert "Advanced" in page  # the history
    release.refresh_from_db()
    assert release.stage == "build"


def test_a_stale_revision_is_a_conflict_that_says_to_reload(login, manager, release):
    services.add_comment(manager, release, body="bump nothing")  # comments keep the revision
    response = login(manager).post(
        f"/releases/{release.number}/actions/cancel/",
        {"revision": release.revision + 5, "reason": "x"},
        follow=True,
    )
    page = text(response)
    assert "message-warning" in page
    assert "was changed by someone else" in page and "Reload" in page
    release.refresh_from_db()
    assert release.status == "in_progress"


def test_an_action_without_its_revision_is_refused(login, manager, release):
    response = login(manager).post(
        f"/releases/{release.number}/actions/cancel/", {"reason": "x"}, follow=True
    )
    assert "Revision: This field is required." in text(response)
    release.refresh_from_db()
    assert release.status == "in_progress"


def test_cancel_needs_a_reason(login, manager, release):
    response = login(manager).post(
        f"/releases/{release.number}/actions/cancel/", {"revision": release.revision}, follow=True
    )
    assert "Give a reason." in text(response)
    release.refresh_from_db()
    assert release.status == "in_progress"


def _to_deploy(release, requester, manager, cab) -> Release:
    services.add_deliverable(requester, release, key="release_plan", url="https://example.com/p")
    services.complete_checklist_item(requester, release, item="plan_reviewed")
    decisions.approve(cab, release, step="cab_member")
    release = services.advance(requester, release, revision=release.revision)
    return services.advance(manager, release, revision=release.revision)


def test_return_goes_to_the_chosen_stage_with_a_reason(login, requester, manager, cab, release):
    release = _to_deploy(release, requester, manager, cab)
    page = text(login(manager).get(f"/releases/{release.number}/"))
    assert '<option value="build">Build</option>' in page
    response = login(manager).post(
        f"/releases/{release.number}/actions/return/",
        {"revision": release.revision, "target": "build", "reason": "Bad build"},
        follow=True,
    )
    assert f"Release {release.number} is now in stage 'Build'." in text(response)
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "release.return" and event.reason == "Bad build"


def test_close_as_succeeded(login, requester, manager, cab, release):
    release = _to_deploy(release, requester, manager, cab)
    response = login(manager).post(
        f"/releases/{release.number}/actions/close/",
        {"revision": release.revision, "outcome": "succeeded"},
        follow=True,
    )
    assert f"Release {release.number} is closed: Succeeded." in text(response)
    assert "badge-green" in text(response)


def test_close_as_failed_needs_a_reason(login, requester, manager, cab, release):
    release = _to_deploy(release, requester, manager, cab)
    url = f"/releases/{release.number}/actions/close/"
    client = login(manager)
    page = text(client.post(url, {"revision": release.revision, "outcome": "failed"}, follow=True))
    assert "Give a reason." in page
    page = text(
        client.post(
            url,
            {"revision": release.revision, "outcome": "failed", "reason": "Smoke test failed"},
            follow=True,
        )
    )
    assert "is closed: Failed." in page and "badge-red" in page


def test_roll_back(login, requester, manager, cab, release):
    release = _to_deploy(release, requester, manager, cab)
    response = login(manager).post(
        f"/releases/{release.number}/actions/rollback/",
        {"revision": release.revision, "reason": "Errors after deploy"},
        follow=True,
    )
    page = text(response)
    assert "is closed: Rolled back." in page and "badge-orange" in page


def test_a_requester_may_not_approve_their_own_release(login, requester, release):
    response = login(requester).post(
        f"/releases/{release.number}/approvals/",
        {"step": "cab_member", "decision": "approve"},
        follow=True,
    )
    assert f"requested release {release.number}, so may not approve it." in text(response)


def test_a_checklist_item_done_twice_is_a_conflict(login, requester, release):
    client = login(requester)
    url = f"/releases/{release.number}/checklist/"
    client.post(url, {"item": "plan_reviewed"})
    page = text(client.post(url, {"item": "plan_reviewed"}, follow=True))
    assert "This checklist item is already done." in page


def test_a_deliverable_needs_a_file_or_a_link(login, requester, release):
    response = login(requester).post(
        f"/releases/{release.number}/deliverables/", {"key": "release_plan"}, follow=True
    )
    assert "Give either a file or a link, not both and not neither." in text(response)
    assert not release.deliverables.exists()


def test_a_file_that_is_not_what_its_name_says_is_refused(login, requester, release):
    fake = SimpleUploadedFile("plan.pdf", b"just text, not a PDF", content_type="application/pdf")
    response = login(requester).post(
        f"/releases/{release.number}/deliverables/",
        {"key": "release_plan", "file": fake},
        follow=True,
    )
    assert "The file is named '.pdf' but its content is" in text(response)
    assert not release.deliverables.exists()


def test_a_link_can_be_a_deliverable(login, requester, release):
    response = login(requester).post(
        f"/releases/{release.number}/deliverables/",
        {"key": "test_report", "url": "https://wiki.example.com/report"},
        follow=True,
    )
    page = text(response)
    assert "Version 1 of 'Test report' is added." in page
    assert 'href="https://wiki.example.com/report"' in page


def test_an_empty_comment_is_refused(login, requester, release):
    response = login(requester).post(
        f"/releases/{release.number}/comments/", {"body": ""}, follow=True
    )
    assert "Comment: This field is required." in text(response)
    assert not release.comments.exists()
