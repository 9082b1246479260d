"""API client commands, over real HTTP against a live server."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from relman.accounts.services import create_token
from relman.audit.models import AuditEvent
from relman.cli.output import ExitCode
from relman.releases.models import Release
from tests import factories
from tests.cli.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def manager(app):
    """A release manager of the application 'crm' (process tfdl)."""
    return factories.user("rm", "release_manager", app=app, display_name="Rita Manager")


@pytest.fixture
def logged_in(run, live_server, manager):
    """`relman login` done as the release manager, with a real token."""
    _token, secret = create_token(None, manager, name="cli")
    result = run("login", live_server.url, "--token-stdin", input=f"{secret}\n")
    assert result.exit_code == 0, result.output
    return result


def _create(run, title: str = "Upgrade the CRM") -> dict:
    result = run(
        "release",
        "create",
        "--app",
        "crm",
        "--title",
        title,
        "--kind",
        "upgrade",
        "--version",
        "2.0",
        "--backout-plan",
        "Restore last night's snapshot.",
        "--json",
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_login_checks_the_token_and_saves_it_for_its_owner_only(logged_in, live_server, tmp_path):
    assert "Logged in as Rita Manager (rm)" in logged_in.stdout
    path = tmp_path / "config" / "config.json"
    saved = json.loads(path.read_text())
    assert saved["url"] == live_server.url
    assert saved["token"].startswith("rmt_")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_login_with_a_wrong_token_saves_nothing(run, live_server, tmp_path):
    result = run("login", live_server.url, "--token-stdin", input="rmt_nope_nope\n")

    assert result.exit_code == ExitCode.UNREACHABLE
    assert "did not accept this token" in result.stderr
    assert not (tmp_path / "config" / "config.json").exists()


def test_without_a_login_commands_say_how_to_log_in(run, db):
    result = run("release", "list")

    assert result.exit_code == ExitCode.UNREACHABLE
    assert "Not logged in: run `relman login URL`" in result.stderr


def test_an_unreachable_server_exits_3(run, db, monkeypatch):
    monkeypatch.setenv("RELMAN_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("RELMAN_TOKEN", "rmt_abc_def")

    result = run("release", "list")

    assert result.exit_code == ExitCode.UNREACHABLE
    assert "Cannot reach the relman server at http://127.0.0.1:" in result.stderr


def test_whoami_and_logout(run, logged_in, tmp_path):
    me = run("whoami")
    assert me.exit_code == 0, me.output
    assert "Rita Manager (rm)" in me.stdout
    assert "release_manager@crm" in me.stdout

    bye = run("logout")
    assert bye.exit_code == 0
    assert not (tmp_path / "config" / "config.json").exists()
    assert run("whoami").exit_code == ExitCode.UNREACHABLE


def test_create_list_and_show(run, logged_in):
    created = _create(run)

    assert created["number"].startswith("REL-")
    assert created["stage"] == "release_plan"
    assert AuditEvent.objects.get(action="release.created").channel == "cli"

    listed = run("release", "list", "--app", "crm")
    assert listed.exit_code == 0, listed.output
    assert created["number"] in listed.stdout
    assert "Upgrade the CRM" in listed.stdout

    shown = run("release", "show", created["number"])
    assert shown.exit_code == 0, shown.output
    assert "▶ Release plan (release_plan)  ← current" in shown.stdout
    assert "✗ deliverable: Release plan (release_plan)" in shown.stdout
    assert "needs the deliverable 'Release plan'" in shown.stdout


def test_list_all_follows_the_cursor(run, logged_in):
    numbers = {_create(run, f"Release {n}")["number"] for n in range(3)}

    first = run("release", "list", "--limit", "2", "--json")
    every = run("release", "list", "--limit", "2", "--all", "--json")

    assert len(json.loads(first.stdout)) == 2
    assert "add --all" in first.stderr
    assert {row["number"] for row in json.loads(every.stdout)} == numbers


def test_advance_refused_names_the_unmet_gate(run, logged_in):
    number = _create(run)["number"]

    result = run("release", "advance", number)

    assert result.exit_code == ExitCode.REFUSED
    assert "Stage 'Release plan' needs the deliverable 'Release plan'." in result.stderr
    assert "needs the checklist item" in result.stderr
    assert Release.objects.get(number=number).stage == "release_plan"


def test_a_stale_revision_is_a_conflict(run, logged_in):
    created = _create(run)

    result = run("release", "cancel", created["number"], "--reason", "no longer needed",
                 "--revision", str(created["revision"] - 1))  # fmt: skip

    assert result.exit_code == ExitCode.CONFLICT
    assert "changed by someone else" in result.stderr
    assert Release.objects.get(number=created["number"]).status == "in_progress"


def test_cancel_with_the_current_revision(run, logged_in):
    number = _create(run)["number"]

    result = run("release", "cancel", number, "--reason", "no longer needed")

    assert result.exit_code == 0, result.output
    assert f"{number} is closed (cancelled)." in result.stdout
    event = AuditEvent.objects.get(action="release.cancel")
    assert (event.channel, event.reason) == ("cli", "no longer needed")


def test_tick_and_a_wrong_item(run, logged_in):
    number = _create(run)["number"]

    ticked = run("release", "tick", number, "opinions_collected", "--note", "asked ops")
    wrong = run("release", "tick", number, "nosuch")

    assert ticked.exit_code == 0, ticked.output
    assert "Ticked 'opinions_collected'" in ticked.stdout
    assert wrong.exit_code == ExitCode.REFUSED
    assert "'nosuch' is not on the checklist" in wrong.stderr


def test_deliverable_upload_checks_the_stored_sha256(run, logged_in, tmp_path):
    number = _create(run)["number"]
    plan = tmp_path / "release-plan.txt"
    plan.write_text("Step 1: stop the CRM.\nStep 2: upgrade.\n")
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()

    result = run("deliverable", "upload", number, "release_plan", str(plan), "--note", "v1")

    assert result.exit_code == 0, result.output
    assert f"SHA-256 {digest} (matches the local file)" in result.stdout
    shown = run("release", "show", number)
    assert "✓ deliverable: Release plan (release_plan)" in shown.stdout


def test_deliverable_link_and_list(run, logged_in):
    number = _create(run)["number"]

    linked = run("deliverable", "link", number, "release_plan", "https://wiki.example.com/p")
    listed = run("deliverable", "list", number)

    assert linked.exit_code == 0, linked.output
    assert "release_plan version 1" in linked.stdout
    assert "https://wiki.example.com/p" in listed.stdout


def test_validation_errors_name_the_field(run, logged_in):
    result = run("release", "create", "--app", "crm", "--title", "x", "--kind", "upgrade",
                 "--risk", "huge")  # fmt: skip

    assert result.exit_code == ExitCode.REFUSED
    assert "risk: Input should be" in result.stderr


def test_an_unknown_release_is_refused(run, logged_in):
    result = run("release", "show", "REL-1999-0001")

    assert result.exit_code == ExitCode.REFUSED
    assert "REL-1999-0001" in result.stderr
