"""`relman cab ...`: the API client commands of the CAB, over real HTTP against a live
server (list, show, decide, minutes), with their documented exit codes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from relman.accounts.services import create_token
from relman.approvals.models import CabAgendaItem
from relman.cli import output
from relman.cli.main import app as relman_app
from relman.cli.output import ExitCode
from tests.approvals.cab_setup import CabWorld

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def run(monkeypatch, tmp_path):
    """`run("cab", "list")` runs `relman cab list` in-process, with its own saved login."""
    monkeypatch.setenv("RELMAN_CONFIG", str(tmp_path / "config" / "config.json"))
    monkeypatch.setenv("RELMAN_LANGUAGE", "en")
    for name in ("RELMAN_URL", "RELMAN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for console in (output.out, output.err):
        monkeypatch.setattr(console, "_width", 200)
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(relman_app, list(args), input=input)


@pytest.fixture
def board(run, live_server):
    """Two releases on a quorate meeting's agenda; `login(user)` logs the command in."""
    world = CabWorld()
    world.first, world.second = world.release("Ledger 2.0"), world.release("Reports")
    world.planned = world.meeting("Weekly CAB")
    world.quorate(world.planned)

    def login(user):
        _token, secret = create_token(None, user, name="cli")
        result = run("login", live_server.url, "--token-stdin", input=f"{secret}\n")
        assert result.exit_code == 0, result.output

    world.login = login
    return world


def test_the_chair_lists_shows_and_decides_from_the_command_line(run, board, tmp_path):
    board.login(board.chris)
    meeting = str(board.planned.pk)

    listed = run("cab", "list")
    assert listed.exit_code == 0, listed.output
    assert "Weekly CAB" in listed.stdout and "0/2" in listed.stdout
    waiting = run("cab", "list", "--waiting")
    assert board.first.number in waiting.stdout and "Weekly CAB" in waiting.stdout
    shown = run("cab", "show", meeting)
    assert shown.exit_code == 0, shown.output
    assert board.first.number in shown.stdout and "Ledger 2.0" in shown.stdout
    assert "chris (present)" in shown.stdout

    unreasoned = run("cab", "decide", meeting, board.second.number, "defer")
    assert unreasoned.exit_code == ExitCode.USAGE
    assert "needs --reason" in unreasoned.stderr
    approved = run("cab", "decide", meeting, board.first.number, "approve")
    assert approved.exit_code == 0, approved.output
    assert f"The CAB's decision on {board.first.number} is recorded: approve." in approved.stdout
    deferred = run("cab", "decide", meeting, board.second.number, "defer", "--reason", "Later.")
    assert deferred.exit_code == 0, deferred.output
    again = run("cab", "decide", meeting, board.first.number, "approve")
    assert again.exit_code == ExitCode.CONFLICT
    assert "already decided" in again.stderr

    decisions = dict(CabAgendaItem.objects.values_list("release__number", "decision"))
    assert decisions == {board.first.number: "approve", board.second.number: "defer"}

    path = tmp_path / "minutes.pdf"
    saved = run("cab", "minutes", meeting, "--output", str(path))
    assert saved.exit_code == 0, saved.output
    assert path.read_bytes().startswith(b"%PDF")


def test_a_member_who_is_not_the_chair_is_refused(run, board):
    board.login(board.mia)

    refused = run("cab", "decide", str(board.planned.pk), board.first.number, "approve")

    assert refused.exit_code == ExitCode.REFUSED
    assert "Only the chair, Chris Chair, records the CAB's decisions." in refused.stderr
    assert not CabAgendaItem.objects.exclude(decision="").exists()


def test_someone_outside_the_board_does_not_find_the_meeting(run, board):
    board.login(board.nina)

    assert run("cab", "list").stdout.strip() == "No meetings."
    missing = run("cab", "show", str(board.planned.pk))
    assert missing.exit_code == ExitCode.REFUSED
    assert f"CAB meeting {board.planned.pk} was not found." in missing.stderr
    pdf = run("cab", "minutes", str(board.planned.pk))
    assert pdf.exit_code == ExitCode.REFUSED
