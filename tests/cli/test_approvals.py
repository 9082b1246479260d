"""The approver's commands: `relman approvals`, `approve`, `reject`, `delegate`, `delegations`.

Most tests send the commands' HTTP requests into this process's Django (an httpx WSGI
transport: the real URLs, authentication, API and services, on the test's database); one
runs against a live server over real HTTP, with `relman login`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone

from relman.accounts.services import create_token
from relman.approvals.models import Delegation
from relman.cli import client
from relman.cli.output import ExitCode
from relman.releases.models import Approval, Release
from tests.approvals.signoff import CHECKS, away, release_in_approval, world


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def w(db, tmp_path):
    return world(tmp_path)


@pytest.fixture
def release(w):
    return release_in_approval(w)


@pytest.fixture
def as_user(monkeypatch):
    """`as_user(alice)`: the commands call this process's Django with a real token of alice.

    As Django's test client does, requests keep the test's database connection (and its
    transaction) open instead of closing it when they finish."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)

    def log_in(user) -> None:
        _token, secret = create_token(None, user, name="cli")
        # what `relman login` saves: times are read and printed in the user's zone
        client.save_config(
            {"url": "http://testserver", "token": secret, "time_zone": settings.TIME_ZONE}
        )
        transport = httpx.WSGITransport(app=WSGIHandler())
        monkeypatch.setattr(
            client.Api,
            "from_login",
            classmethod(lambda cls: cls("http://testserver", secret, transport=transport)),
        )

    yield log_in
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


# ---------------------------------------------------------------- the inbox


@pytest.mark.django_db
def test_approvals_lists_my_inbox(w, release, run, as_user):
    as_user(w.alice)

    result = run("approvals")

    assert result.exit_code == 0, result.output
    assert release.number in result.stdout
    assert "Checkout v2" in result.stdout
    assert "high" in result.stdout
    assert "Project manager (review)" in result.stdout
    assert "1/1" in result.stdout  # deliverables present / named
    assert "1 step(s) wait for your decision." in result.stdout


@pytest.mark.django_db
def test_approvals_details_show_what_is_being_approved(w, release, run, as_user):
    as_user(w.bob)
    run("approve", release.number, "--check", "plan_checked", "--check", "tests_passed")
    as_user(w.alice)

    result = run("approvals", "--details")

    assert result.exit_code == 0, result.output
    assert "Test report: v1 tests.txt" in result.stdout
    assert "sha256 " in result.stdout
    assert "plan_checked: Plan checked" in result.stdout
    assert "approved approval/review bob" in result.stdout


@pytest.mark.django_db
def test_approvals_as_json_for_scripts(w, release, run, as_user):
    as_user(w.alice)

    result = run("approvals", "--json")

    [item] = json.loads(result.stdout)
    assert (item["release"], item["step"]) == (release.number, "review")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["requester", "nobody", "pmo"])
def test_approvals_is_empty_for_who_may_not_decide(w, release, run, as_user, who):
    as_user(getattr(w, who))

    result = run("approvals")

    assert result.exit_code == 0
    assert "Nothing waits for your decision." in result.stdout
    assert release.number not in result.stdout


def test_approvals_without_a_login_says_how_to_log_in(run, db):
    result = run("approvals")

    assert result.exit_code == ExitCode.UNREACHABLE
    assert "relman login" in result.stderr


# ---------------------------------------------------------------- deciding


@pytest.mark.django_db
def test_approve_with_every_check(w, release, run, as_user):
    as_user(w.alice)

    result = run(
        "approve",
        release.number,
        "--step",
        "review",
        "--check",
        "plan_checked",
        "--check",
        "tests_passed",
        "--comment",
        "Plan and tests look right.",
    )

    assert result.exit_code == 0, result.output
    assert f"Approved step review of {release.number}." in result.stdout
    approval = Approval.objects.get()
    assert (approval.approver, approval.checks, approval.comment) == (
        w.alice,
        CHECKS,
        "Plan and tests look right.",
    )


@pytest.mark.django_db
def test_approve_without_the_checks_is_refused_naming_them(w, release, run, as_user):
    as_user(w.alice)

    result = run("approve", release.number, "--check", "plan_checked")

    assert result.exit_code == ExitCode.REFUSED
    assert "Confirm every item of this step" in result.stderr
    assert "Tests passed" in result.stderr
    assert not Approval.objects.exists()


@pytest.mark.django_db
def test_the_requester_may_not_approve(w, release, run, as_user):
    as_user(w.requester)

    result = run("approve", release.number, "--check", "plan_checked", "--check", "tests_passed")

    assert result.exit_code == ExitCode.REFUSED
    assert result.stderr.strip()
    assert not Approval.objects.exists()


@pytest.mark.django_db
def test_a_second_vote_by_the_same_person_is_refused(w, release, run, as_user):
    as_user(w.alice)
    checks = ["--check", "plan_checked", "--check", "tests_passed"]
    assert run("approve", release.number, *checks).exit_code == 0

    again = run("approve", release.number, "--step", "review", *checks)

    assert again.exit_code in (ExitCode.REFUSED, ExitCode.CONFLICT)
    assert "already decided" in again.stderr
    assert Approval.objects.count() == 1


@pytest.mark.django_db
def test_approve_for_someone_away(w, release, run, as_user):
    away(w.alice, w.dave)
    as_user(w.dave)

    result = run(
        "approve",
        release.number,
        "--for",
        "alice",
        "--check",
        "plan_checked",
        "--check",
        "tests_passed",
    )

    assert result.exit_code == 0, result.output
    assert f"Approved step review of {release.number} for alice." in result.stdout
    assert Approval.objects.get().on_behalf_of == w.alice


@pytest.mark.django_db
def test_reject_sends_the_release_back(w, release, run, as_user):
    as_user(w.alice)

    result = run("reject", release.number, "--comment", "The report covers the wrong build.")

    assert result.exit_code == 0, result.output
    assert f"Rejected step review of {release.number}." in result.stdout
    assert f"{release.number} is back in stage plan." in result.stdout
    assert Release.objects.get(pk=release.pk).stage == "plan"
    assert Approval.objects.get().comment == "The report covers the wrong build."


@pytest.mark.django_db
def test_reject_needs_a_reason(w, release, run, as_user):
    as_user(w.alice)

    blank = run("reject", release.number, "--comment", "   ")
    missing = run("reject", release.number)

    assert blank.exit_code == ExitCode.USAGE
    assert "A rejection needs a reason" in blank.stderr
    assert missing.exit_code == ExitCode.USAGE
    assert not Approval.objects.exists()


@pytest.mark.django_db
def test_deciding_an_unknown_release_is_refused(w, release, run, as_user):
    as_user(w.alice)

    result = run("approve", "REL-1999-0001")

    assert result.exit_code == ExitCode.REFUSED
    assert "Release REL-1999-0001 was not found." in result.stderr


# ---------------------------------------------------------------- delegation


@pytest.mark.django_db
def test_delegate_for_whole_days(w, run, as_user):
    as_user(w.alice)
    year = timezone.now().year + 1

    result = run(
        "delegate",
        "dave",
        "--from",
        f"{year}-03-02",
        "--until",
        f"{year}-03-06",
        "--reason",
        "Holiday",
    )

    assert result.exit_code == 0, result.output
    assert "dave stands in for alice from" in result.stdout
    made = Delegation.objects.get()
    assert (made.delegator, made.delegate, made.reason) == (w.alice, w.dave, "Holiday")
    here = ZoneInfo(settings.TIME_ZONE)  # the user's, not the machine's
    assert made.starts == datetime(year, 3, 2, tzinfo=here)
    assert made.ends == datetime(year, 3, 7, tzinfo=here)  # the end of the 6th


@pytest.mark.django_db
def test_delegate_from_now(w, run, as_user):
    as_user(w.alice)
    until = (timezone.now() + timedelta(days=2)).isoformat()

    result = run("delegate", "dave", "--until", until)

    assert result.exit_code == 0, result.output
    assert Delegation.objects.get().starts <= timezone.now()


@pytest.mark.django_db
def test_delegate_refusals(w, run, as_user):
    as_user(w.alice)

    myself = run("delegate", "alice", "--until", "2099-01-01")
    bad_date = run("delegate", "dave", "--until", "next tuesday")
    for_bob = run("delegate", "dave", "--until", "2099-01-01", "--for", "bob")

    assert myself.exit_code == ExitCode.REFUSED
    assert "Nobody can stand in for themselves." in myself.stderr
    assert bad_date.exit_code == ExitCode.USAGE
    assert "--until: 'next tuesday' is not a date" in bad_date.stderr
    assert for_bob.exit_code == ExitCode.REFUSED
    assert "Only an administrator" in for_bob.stderr
    assert not Delegation.objects.exists()


@pytest.mark.django_db
def test_delegations_list_and_revoke(w, run, as_user):
    made = away(w.alice, w.dave)
    away(w.bob, w.alice)
    as_user(w.alice)

    listed = run("delegations")
    revoked = run("delegations", "--revoke", str(made.pk))
    again = run("delegations", "--revoke", str(made.pk))

    assert listed.exit_code == 0, listed.output
    assert "dave" in listed.stdout and "bob" in listed.stdout
    assert "in force" in listed.stdout
    assert revoked.exit_code == 0, revoked.output
    assert f"Delegation {made.pk} to dave is revoked." in revoked.stdout
    assert again.exit_code == ExitCode.CONFLICT
    assert Delegation.objects.get(pk=made.pk).revoked is not None


# ---------------------------------------------------------------- over real HTTP


@pytest.mark.django_db(transaction=True)
def test_an_approver_works_through_a_live_server(run, live_server, tmp_path):
    w = world(tmp_path)
    release = release_in_approval(w)
    _token, secret = create_token(None, w.alice, name="cli")
    assert run("login", live_server.url, "--token-stdin", input=f"{secret}\n").exit_code == 0

    inbox = run("approvals")
    approved = run("approve", release.number, "--check", "plan_checked", "--check", "tests_passed")
    after = run("approvals")

    assert release.number in inbox.stdout, inbox.output
    assert approved.exit_code == 0, approved.output
    assert "Nothing waits for your decision." in after.stdout
    assert Approval.objects.get().approver == w.alice
