"""`relman change` and `relman release changes`, over real HTTP against a live server."""

from __future__ import annotations

import json

import pytest

from relman.accounts.services import create_token
from relman.changes.models import Change, ReleaseChange
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def login(run, live_server, user) -> None:
    _token, secret = create_token(None, user, name="cli")
    assert run("login", live_server.url, "--token-stdin", input=f"{secret}\n").exit_code == 0


def test_a_change_is_requested_approved_and_carried_from_the_command_line(run, live_server, app):
    owner = factories.user("erin", "change_owner", "requester", app=app)
    member = factories.user("carl", "cab_member", app=app)
    release = factories.release(owner, app)

    login(run, live_server, owner)
    made = run(
        "change", "create", "--title", "Index the orders table", "--app", app.code, "--submit"
    )
    assert made.exit_code == 0, made.output
    change = Change.objects.get(title="Index the orders table")
    assert f"Change {change.number} is submitted." in made.stdout
    own = run("change", "approve", change.number)
    assert own.exit_code == 1 and "someone else must decide it" in own.stderr

    login(run, live_server, member)
    unsaid = run("change", "reject", change.number)
    assert unsaid.exit_code == 2 and "Say why with --note." in unsaid.stderr
    approved = run("change", "approve", change.number, "--note", "Go.")
    assert approved.exit_code == 0, approved.output
    assert f"Change {change.number} is approved." in approved.stdout

    login(run, live_server, owner)
    carried = run("release", "changes", release.number, "add", change.number, "--json")
    assert carried.exit_code == 0, carried.output
    assert [r["number"] for r in json.loads(carried.stdout)] == [change.number]
    assert ReleaseChange.objects.filter(release=release, change=change).exists()
    listed = run("release", "changes", release.number)
    assert change.number in listed.stdout and "approved" in listed.stdout
    shown = json.loads(run("change", "show", change.number, "--json").stdout)
    assert shown["approval"] == "approved"

    unknown = run("release", "changes", release.number, "add", "CHG-1999-0001")
    assert unknown.exit_code == 1 and "CHG-1999-0001" in unknown.stderr
    assert ReleaseChange.objects.filter(release=release).count() == 1
