"""The release page: who sees it, and what it shows."""

from __future__ import annotations

import pytest

from relman.releases import services
from tests.web.helpers import text

pytestmark = pytest.mark.django_db


def url(release) -> str:
    return f"/releases/{release.number}/"


def test_anonymous_is_redirected_to_log_in(login, release):
    response = login().get(url(release))
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url(release)}"


def test_a_user_who_may_not_see_it_gets_404(login, outsider, release):
    assert login(outsider).get(url(release)).status_code == 404
    assert login(outsider).get("/releases/REL-NOPE/").status_code == 404


def test_the_page_shows_header_stages_gate_and_actions(login, requester, release):
    page = text(login(requester).get(url(release)))
    assert release.number in page and "Checkout v2" in page
    assert "Mini process v1" in page and "Standard flow" in page
    assert 'class="stage stage-current"' in page
    assert page.count('class="stage stage-upcoming"') == 2
    assert "Stage 'Release plan' needs the deliverable 'Release plan'." in page
    assert "Stage 'Release plan' needs the checklist item 'Plan reviewed' done." in page
    assert "needs 1 approval(s) by 'CAB member' (has 0)" in page
    # advance is offered but refused while the gate is open; cancel is allowed
    assert "Advance to 'Build'" in page
    assert f'action="/releases/{release.number}/actions/cancel/"' in page
    assert f'action="/releases/{release.number}/actions/advance/"' not in page
    assert f'name="revision" value="{release.revision}"' in page
    # the requester may tick and upload, but may not approve their own release
    assert f'action="/releases/{release.number}/checklist/"' in page
    assert f'action="/releases/{release.number}/deliverables/"' in page
    assert f'action="/releases/{release.number}/approvals/"' not in page


def test_an_approver_sees_the_approve_button(login, cab, release):
    page = text(login(cab).get(url(release)))
    assert f'action="/releases/{release.number}/approvals/"' in page
    assert "Decide" in page and "CAB member" in page
    assert f'action="/releases/{release.number}/checklist/"' not in page


def test_a_read_only_auditor_sees_the_page_without_forms(login, auditor, release):
    response = login(auditor).get(url(release))
    assert response.status_code == 200
    page = text(response)
    for path in ("checklist", "deliverables", "approvals", "comments", "actions/cancel"):
        assert f'action="/releases/{release.number}/{path}/"' not in page
    assert "In stage 'Release plan' only these roles may act" in page  # greyed, with reason


def test_deliverable_versions_show_checksum_uploader_and_download_link(
    login, requester, release, tmp_path
):
    path = tmp_path / "plan.txt"
    path.write_text("The plan.\n")
    with path.open("rb") as handle:
        services.add_deliverable(requester, release, key="release_plan", upload=handle)
    version = release.deliverables.get().versions.get()
    client = login(requester)
    page = text(client.get(url(release)))
    link = f"/api/v1/releases/{release.number}/deliverables/release_plan/versions/1/file"
    assert f'href="{link}"' in page
    assert "plan.txt" in page
    assert f'title="{version.sha256}"' in page and version.sha256[:12] in page
    assert "Rita Requester" in page
    download = client.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"The plan.\n"


def test_history_lists_the_audit_events_with_export_links(login, requester, release):
    services.add_comment(requester, release, body="Looks good")
    page = text(login(requester).get(url(release)))
    assert "Requested" in page and "Comment added" in page
    assert f'href="/api/v1/releases/{release.number}/audit?format=csv"' in page
    assert f'href="/api/v1/releases/{release.number}/audit?format=json"' in page
    assert "Looks good" in page


def test_a_closed_release_offers_no_actions(login, requester, manager, release):
    services.cancel(manager, release, reason="Not needed", revision=release.revision)
    page = text(login(requester).get(url(release)))
    assert "badge-grey" in page and "Cancelled" in page
    assert "No actions: the release is closed." in page
    assert "/actions/" not in page


def test_the_chinese_release_page_renders(login, requester, release):
    response = login(requester, HTTP_ACCEPT_LANGUAGE="zh-hans").get(url(release))
    assert response.status_code == 200
    page = text(response)
    assert '<html lang="zh-hans">' in page
    assert "发布计划" in page and "迷你流程" in page


def test_the_history_tells_schedule_changes_in_words_and_local_time(login, manager, release):
    from datetime import UTC

    from django.utils import timezone

    from tests import factories

    factories.schedule(manager, release)
    release.refresh_from_db()
    page = text(login(manager).get(url(release)))
    assert ">Scheduled<" in page and ">release.scheduled<" not in page
    local = timezone.localtime(release.planned_start).strftime("%Y-%m-%d %H:%M")
    assert local in page
    stored = release.planned_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stored not in page  # the audit log's UTC form is not what people read
