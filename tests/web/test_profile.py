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
