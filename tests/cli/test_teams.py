"""`relman team`: list, show, add and members, over real HTTP against a live server."""

from __future__ import annotations

import json

import pytest

from relman.accounts.models import Team, TeamMembership
from relman.accounts.services import create_token
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def login(run, live_server, user) -> None:
    _token, secret = create_token(None, user, name="cli")
    assert run("login", live_server.url, "--token-stdin", input=f"{secret}\n").exit_code == 0


def test_an_administrator_builds_a_department_from_the_command_line(run, live_server):
    login(run, live_server, factories.admin("ada"))
    factories.user("hana")
    assert run("team", "add", "it", "Information management").exit_code == 0
    added = run(
        "team", "add", "it-ops", "IT operations", "--kind", "sub_department", "--parent", "it"
    )
    assert added.exit_code == 0, added.output
    assert "Team it-ops 'IT operations' added." in added.stdout
    assert run("team", "member", "it-ops", "hana", "--head").exit_code == 0

    listed = run("team", "list")
    ops = next(line for line in listed.stdout.splitlines() if "it-ops" in line)
    assert "sub_department" in ops and "hana" in ops
    shown = json.loads(run("team", "show", "it-ops", "--json").stdout)
    assert shown["members"] == [{"username": "hana", "name": "hana", "head": True}]

    assert run("team", "member", "it-ops", "hana", "--remove").exit_code == 0
    assert not TeamMembership.objects.exists()

    refused = run("team", "add", "x", "X", "--kind", "sub_department")
    assert refused.exit_code == 1
    assert "parent" in refused.stderr and "needs the department" in refused.stderr
    assert not Team.objects.filter(code="x").exists()


def test_someone_else_may_only_read(run, live_server):
    factories.team("it", "IT")
    login(run, live_server, factories.user("sam"))
    assert "IT" in run("team", "list").stdout
    refused = run("team", "member", "it", "sam", "--head")
    assert refused.exit_code == 1
    assert "Only administrators may change teams" in refused.stderr
    assert not TeamMembership.objects.exists()
