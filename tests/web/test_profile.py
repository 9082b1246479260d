"""The profile page: API tokens made, named, shown once, revoked; the CLI's help points here."""

from __future__ import annotations

import pytest

from relman.accounts.models import ApiToken
from relman.accounts.services import user_for_token
from relman.audit.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_works_and_is_revoked(client):
    rita = factories.user("rita")
    client.force_login(rita)
    made = client.post("/profile/tokens/", {"name": "laptop CLI", "days": "30"})
    assert made.status_code == 200 and made["Cache-Control"] == "no-store"
    html = made.content.decode()
    secret = html.split('id="token-secret">')[1].split("<")[0]
    assert user_for_token(secret) == rita
    token = ApiToken.objects.get(user=rita)
    assert token.name == "laptop CLI"
    assert secret not in client.get("/profile/").content.decode()  # never again
    assert AuditEvent.objects.filter(action="token.created", actor_id=rita.pk).exists()

    revoked = client.post(f"/profile/tokens/{token.prefix}/revoke/", follow=True)
    assert "was revoked" in revoked.content.decode()
    assert user_for_token(secret) is None


def test_bad_input_names_the_field_and_makes_nothing(client):
    client.force_login(factories.user("rita"))
    answer = client.post("/profile/tokens/", {"name": "", "days": "0"})
    html = answer.content.decode()
    assert answer.status_code == 200 and "This field is required." in html
    assert "greater than or equal to 1" in html
    assert not ApiToken.objects.exists()


def test_nobody_revokes_another_users_token(client):
    from relman.accounts.services import create_token

    token, _secret = create_token(None, factories.user("otto"), name="otto's")
    client.force_login(factories.user("rita"))
    answer = client.post(f"/profile/tokens/{token.prefix}/revoke/", follow=True)
    assert "No token with prefix" in answer.content.decode()
    token.refresh_from_db()
    assert token.revoked is None


def test_the_login_help_points_to_the_profile_page():
    from typer.testing import CliRunner

    from relman.cli.main import app

    result = CliRunner().invoke(app, ["login", "--help"], env={"RELMAN_LANGUAGE": "en"})
    assert "profile page" in result.output and "/profile/" in result.output


def test_times_follow_the_time_zone_set_on_the_profile(client, presets):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from relman.releases.models import Release

    app = factories.application("crm", process="tfdl")
    rita = factories.user("rita", "requester", app=app)
    release = factories.release(rita, app)
    start = datetime(2027, 1, 14, 12, 0, tzinfo=ZoneInfo("UTC"))  # 20:00 in Shanghai
    Release.objects.filter(pk=release.pk).update(planned_start=start)
    client.force_login(rita)
    page = client.get(f"/releases/{release.number}/").content.decode()
    assert "2027-01-14 20:00" in page  # the organisation's zone (Asia/Shanghai)
    assert "The organisation&#x27;s (Asia/Shanghai)" in client.get("/profile/").content.decode()

    saved = client.post("/profile/time-zone/", {"time_zone": "Europe/London"}, follow=True)
    assert "Times are now shown in Europe/London." in saved.content.decode()
    assert AuditEvent.objects.filter(action="user.time_zone_changed", actor_id=rita.pk).exists()
    assert "2027-01-14 12:00" in client.get(f"/releases/{release.number}/").content.decode()
    assert client.get("/api/v1/me").json()["time_zone"] == "Europe/London"

    refused = client.post("/profile/time-zone/", {"time_zone": "Mars/Olympus"}, follow=True)
    assert "&#x27;Mars/Olympus&#x27; is not a time zone" in refused.content.decode()
    rita.refresh_from_db()
    assert rita.time_zone == "Europe/London"

    client.post("/profile/time-zone/", {"time_zone": ""})  # back to the organisation's
    rita.refresh_from_db()
    assert rita.time_zone == "" and rita.zone == "Asia/Shanghai"
