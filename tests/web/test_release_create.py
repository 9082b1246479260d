"""Requesting a release through the form."""

from __future__ import annotations

import pytest

from relman.audit.models import AuditEvent
from relman.releases.models import Release
from tests import factories
from tests.web.helpers import text

pytestmark = pytest.mark.django_db

URL = "/releases/new/"


def form_data(**overrides):
    data = {
        "application": "",
        "title": "Payments 3.1",
        "kind": "upgrade",
        "method": "planned",
        "release_class": "standard",
        "version_number": "3.1.0",
        "risk": "medium",
        "planned_start": "2030-05-01T20:00",
        "planned_end": "2030-05-01T22:00",
        "scope": "Payment service",
        "backout_plan": "Redeploy 3.0",
    }
    data.update(overrides)
    return data


def test_anonymous_is_redirected_to_log_in(login):
    response = login().get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={URL}"
    response = login().post(URL, form_data())
    assert response.status_code == 302
    assert not Release.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "auditor"])
def test_a_user_who_may_not_request_gets_403(login, request, shop, who):
    user = request.getfixturevalue(who)
    response = login(user).get(URL)
    assert response.status_code == 403
    assert "You may not request releases for any application" in text(response)
    assert login(user).post(URL, form_data(application=shop.pk)).status_code == 403
    assert not Release.objects.exists()


def test_only_permitted_applications_are_offered(login, requester, shop):
    factories.application("other", process="mini")
    response = login(requester).get(URL)
    assert response.status_code == 200
    choices = [label for _value, label in response.context["form"].fields["application"].choices]
    assert [str(c) for c in choices] == [str(shop)]


def test_requesting_a_release_redirects_to_its_page(login, requester, manager, shop):
    client = login(requester)
    response = client.post(URL, form_data(application=shop.pk, release_manager=manager.pk))
    release = Release.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/releases/{release.number}/"
    assert release.requester == requester
    assert release.release_manager == manager
    assert release.version_number == "3.1.0"
    assert release.stage == "plan"
    event = AuditEvent.objects.get(action="release.created")
    assert event.channel == "web"
    page = text(client.get(response["Location"]))
    assert f"Release {release.number} was requested; it is in stage 'Release plan'." in page


def test_another_application_cannot_be_smuggled_in(login, requester, shop):
    other = factories.application("other", process="mini")
    response = login(requester).post(URL, form_data(application=other.pk))
    assert response.status_code == 200
    assert response.context["form"].errors["application"]
    assert not Release.objects.exists()


def test_the_service_errors_land_on_their_fields(login, requester, shop):
    response = login(requester).post(
        URL,
        form_data(
            application=shop.pk, planned_start="2030-05-02T10:00", planned_end="2030-05-01T10:00"
        ),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["planned_end"] == ["The end is before the start."]
    assert "The end is before the start." in text(response)
    assert not Release.objects.exists()


def test_a_missing_title_is_refused(login, requester, shop):
    response = login(requester).post(URL, form_data(application=shop.pk, title=""))
    assert response.status_code == 200
    assert "title" in response.context["form"].errors
    assert not Release.objects.exists()


def test_the_chinese_form_renders(login, requester, shop):
    response = login(requester, HTTP_ACCEPT_LANGUAGE="zh-hans").get(URL)
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in text(response)
