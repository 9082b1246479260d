"""Times on the command line are the user's (from the server), not the client machine's:
`relman release show` and the release page agree for a user in Asia/Shanghai on a machine
whose clock runs in another zone; `--utc` prints UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from relman.accounts.services import create_token
from tests import factories


@pytest.fixture
def machine_in_new_york(monkeypatch):
    monkeypatch.delenv("RELMAN_UTC", raising=False)
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.django_db(transaction=True)
def test_show_and_page_give_the_same_planned_time(app, run, live_server, machine_in_new_york):
    rita = factories.user("rita", "requester", app=app)
    release = factories.release(
        rita,
        app,
        planned_start=datetime(2026, 12, 8, 12, 0, tzinfo=UTC),
        planned_end=datetime(2026, 12, 8, 15, 0, tzinfo=UTC),
    )
    _token, secret = create_token(None, rita, name="cli")
    assert run("login", live_server.url, "--token-stdin", input=f"{secret}\n").exit_code == 0

    shown = run("release", "show", release.number)
    assert shown.exit_code == 0, shown.output
    assert "2026-12-08 20:00 CST" in shown.output  # Asia/Shanghai, the organisation's zone
    assert "07:00" not in shown.output  # New York, the machine's

    from django.test import Client

    page = Client()
    page.force_login(rita)
    assert "2026-12-08 20:00" in page.get(f"/releases/{release.number}/").content.decode()

    utc = run("--utc", "release", "show", release.number)
    assert "2026-12-08 12:00 UTC" in utc.output
