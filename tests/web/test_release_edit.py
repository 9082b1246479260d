"""Editing a release's details from its page: through the service, audited, and a stale
edit refused with a conflict message that keeps what the user typed."""

from __future__ import annotations

import pytest

from relman.audit.models import AuditEvent
from relman.releases import services
from relman.releases.models import Release
from tests.web.helpers import text

pytestmark = pytest.mark.django_db


def form_data(release: Release, **changes: str) -> dict[str, str]:
    data = {
        "revision": str(release.revision),
        "title": release.title,
        "risk": release.risk,
        "backout_plan": release.backout_plan,
        # what the form shows selected, as a browser sends it back
        "release_manager": str(release.release_manager_id or ""),
        "environment": str(release.environment_id or ""),
    }
    return {**data, **changes}


def test_the_backout_plan_changes_from_the_page_with_an_audit_event(login, requester, release):
    client = login(requester)
    page = text(client.get(f"/releases/{release.number}/"))
    assert (
        f"/releases/{release.number}/edit/"
        in client.get(f"/releases/{release.number}/").content.decode()
    )
    assert "Edit details" in page
    form = client.get(f"/releases/{release.number}/edit/")
    assert form.status_code == 200 and 'name="revision"' in form.content.decode()
    response = client.post(
        f"/releases/{release.number}/edit/",
        form_data(release, backout_plan="Redeploy 1.4 from the library; restore the schema."),
    )
    assert response.status_code == 302, text(response)[-1500:]
    release.refresh_from_db()
    assert release.backout_plan.startswith("Redeploy 1.4")
    event = AuditEvent.objects.filter(action="release.updated").latest("id")
    assert event.actor_id == requester.pk
    assert event.after == {"backout_plan": release.backout_plan}


def test_a_stale_edit_is_refused_and_keeps_the_input(login, requester, release):
    client = login(requester)
    seen = Release.objects.get(pk=release.pk)
    services.update_release(requester, release.number, title="Changed meanwhile")
    response = client.post(
        f"/releases/{release.number}/edit/", form_data(seen, backout_plan="My new plan.")
    )
    assert response.status_code == 200
    page = text(response)
    assert "was changed by someone else" in page and "My new plan." in page
    release.refresh_from_db()
    assert release.backout_plan != "My new plan." and release.title == "Changed meanwhile"


def test_bad_input_names_the_field(login, requester, release):
    response = login(requester).post(
        f"/releases/{release.number}/edit/", form_data(release, title="", risk="huge")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html and "huge is not one of the available" in html


def test_someone_without_a_role_may_not_edit(login, outsider, release):
    assert login(outsider).get(f"/releases/{release.number}/edit/").status_code == 404
