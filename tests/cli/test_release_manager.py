"""The CLI meets the release-manager rule (releases/access.py `check_manager`) through the API."""

from __future__ import annotations

import pytest

from relman.accounts.services import create_token
from relman.releases.models import Release
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_the_cli_refuses_it_naming_the_field(app, run, live_server):
    rita = factories.user("rita", "requester", app=app)
    _token, secret = create_token(None, rita, name="cli")
    assert run("login", live_server.url, "--token-stdin", input=f"{secret}\n").exit_code == 0
    result = run(
        "release", "create", "--app", "crm", "--title", "Mine", "--kind", "upgrade",
        "--release-manager", "rita",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "release_manager" in result.output
    assert "does not hold the release manager role" in result.output
    assert not Release.objects.exists()
