"""Who may name a release's release manager: the field grants that person's rights, so it is
a permission rule (releases/access.py `check_manager`), the same in the API, page and CLI."""

from __future__ import annotations

import json

import pytest

from relman.audit.models import AuditEvent
from relman.core.errors import PermissionDenied, ValidationFailed
from relman.releases import services
from relman.releases.models import Release
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(app):
    return {
        "rita": factories.user("rita", "requester", app=app),
        "tess": factories.user("tess", "requester", "tester", app=app),
        "max": factories.user("max", "release_manager", app=app),
        "ola": factories.user("ola", "release_manager", app=factories.application("hr")),
    }


def bearer(api_client, user):
    return api_client(user)


def test_a_user_who_may_edit_cannot_make_themselves_release_manager_through_the_api(
    app, people, api_client
):
    """The reported escalation: PATCH release_manager to oneself, then cancel the release."""
    release = factories.release(people["rita"], app, title="Rita's release")
    client = bearer(api_client, people["tess"])
    before = AuditEvent.objects.count()
    response = client.patch(
        f"/api/v1/releases/{release.number}",
        json.dumps({"revision": 1, "release_manager": "tess"}),
        content_type="application/json",
    )
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "forbidden"
    assert "release_manager" in body["errors"]
    assert "change who manages" in body["detail"]
    release.refresh_from_db()
    assert release.release_manager_id is None and release.revision == 1
    assert AuditEvent.objects.count() == before
    cancel = client.post(
        f"/api/v1/releases/{release.number}/actions/cancel",
        json.dumps({"revision": 1, "reason": "mine now"}),
        content_type="application/json",
    )
    assert cancel.status_code == 403
    assert Release.objects.get(pk=release.pk).status == "in_progress"


def test_the_person_named_must_hold_the_role_for_the_application(app, people):
    release = factories.release(people["rita"], app)
    for name in ("rita", "ola"):  # a requester; a release manager of another application
        with pytest.raises(ValidationFailed, match="does not hold the release manager role") as e:
            services.update_release(people["max"], release, revision=1, release_manager=name)
        assert "release_manager" in e.value.errors
    assert Release.objects.get(pk=release.pk).release_manager_id is None


def test_a_release_manager_of_the_application_hands_the_release_over(app, people):
    release = factories.release(people["rita"], app, release_manager=people["max"])
    successor = factories.user("sam", "release_manager", app=app)
    services.update_release(people["max"], release, revision=1, release_manager="sam")
    release.refresh_from_db()
    assert release.release_manager == successor
    event = AuditEvent.objects.filter(action="release.updated").latest("id")
    assert event.after == {"release_manager": successor.pk}
    with pytest.raises(PermissionDenied, match="change who manages"):
        services.update_release(people["rita"], release, revision=2, release_manager=None)


def test_a_requester_proposes_a_manager_who_holds_the_role_and_nobody_else(app, people):
    made = factories.release(people["rita"], app, release_manager=people["max"])
    assert made.release_manager == people["max"]
    with pytest.raises(ValidationFailed, match="does not hold the release manager role"):
        factories.release(people["rita"], app, release_manager=people["rita"])


def test_the_request_form_names_the_field(app, people, client):
    client.force_login(people["rita"])
    response = client.post(
        "/releases/new/",
        {
            "application": app.pk,
            "title": "Self-managed",
            "kind": "upgrade",
            "method": "planned",
            "release_class": "standard",
            "risk": "medium",
            "release_manager": people["rita"].pk,
        },
    )
    assert response.status_code == 200
    assert "does not hold the release manager role" in response.content.decode()
    assert response.context["form"].errors.get("release_manager")
    assert not Release.objects.exists()
