"""`relman calendar ...`: the server-side calendar commands, run in-process."""

from __future__ import annotations

import pytest

from relman.audit.models import AuditEvent
from relman.calendar.models import Freeze, PlannedOccurrence, ReleaseWindow
from relman.calendar.services import scheduling
from tests import factories
from tests.calendar.conftest import at
from tests.cli.conftest import run  # noqa: F401  (the in-process runner)

pytestmark = pytest.mark.django_db


def test_window_create_and_list(run, feh):  # noqa: F811
    result = run(
        "calendar", "window-create", "CRM upgrade window",
        "--rrule", "FREQ=MONTHLY;BYDAY=2TH,4TH", "--first-date", "2027-01-01",
        "--start-time", "19:00", "--duration", "240", "--app", "crm", "--capacity", "2",
        "--exclude", "2027-02-11",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    window = ReleaseWindow.objects.get()
    assert f"Window {window.pk} 'CRM upgrade window' created." in result.stdout
    assert "Next openings: 2027-01-14 19:00, 2027-01-28 19:00, 2027-02-25 19:00" in result.stdout
    event = AuditEvent.objects.get(action="window.created")
    assert (event.actor, event.channel) == (None, "cli")
    listed = run("calendar", "windows", "--app", "crm")
    assert listed.exit_code == 0, listed.output
    assert "FREQ=MONTHLY;BYDAY=2TH,4TH" in listed.stdout
    assert "19:00 +240min Asia/Shanghai" in listed.stdout


def test_a_bad_window_is_refused_naming_the_field(run, db):  # noqa: F811
    result = run(
        "calendar", "window-create", "W", "--rrule", "weekly", "--first-date", "2027-01-01",
        "--start-time", "19:00", "--duration", "60",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "rrule" in result.stderr and "FREQ" in result.stderr
    assert not ReleaseWindow.objects.exists()


def test_occurrences(run, upgrade_window):  # noqa: F811
    result = run("calendar", "occurrences", "--from", "2027-01-01", "--to", "2027-02-01")
    assert result.exit_code == 0, result.output
    assert "2027-01-14 19:00" in result.stdout and "2027-01-28 23:00" in result.stdout


def test_freeze_create_and_list(run, feh):  # noqa: F811
    result = run(
        "calendar", "freeze-create", "Spring Festival", "--reason", "Holiday",
        "--starts", "2027-02-05", "--ends", "2027-02-12", "--app", "crm",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    freeze = Freeze.objects.get()
    assert freeze.starts == at("2027-02-05", 0) and freeze.ends == at("2027-02-12", 0)
    assert "over crm" in result.stdout
    listed = run("calendar", "freezes", "--from", "2027-02-01", "--to", "2027-03-01")
    assert "Spring Festival" in listed.stdout and "Holiday" in listed.stdout
    bad = run(
        "calendar", "freeze-create", "F", "--reason", "R", "--starts", "soon", "--ends", "later"
    )
    assert bad.exit_code == 2 and "--starts" in bad.stderr


def test_conflicts(run, requester, crew, feh, upgrade_window):  # noqa: F811
    quiet = run("calendar", "conflicts", "--from", "2027-01-01", "--to", "2027-02-01")
    assert quiet.exit_code == 0 and "No conflicts." in quiet.stdout
    first = factories.release(requester, feh, title="One")
    second = factories.release(requester, feh, title="Two")
    scheduling.schedule_release(crew, first, start=at("2027-01-14"))
    scheduling.schedule_release(crew, second, start=at("2027-01-14"))
    result = run(
        "calendar", "conflicts", "--from", "2027-01-01", "--to", "2027-02-01", "--app", "crm"
    )
    assert result.exit_code == 0, result.output
    assert (
        f"{first.number} and {second.number} both change crm between 19:00 and 23:00 on "
        "2027-01-14." in result.stdout
    )
    assert "→ Move one of them to another window, e.g. 2027-01-28 19:00" in result.stdout
    assert "1 conflict(s)." in result.stdout
    factories.environment("prod")
    other = run(
        "calendar", "conflicts", "--from", "2027-01-01", "--to", "2027-02-01", "--env", "prod"
    )
    assert other.exit_code == 0 and "No conflicts." in other.stdout
    unknown = run(
        "calendar", "conflicts", "--from", "2027-01-01", "--to", "2027-02-01", "--env", "x"
    )
    assert unknown.exit_code == 1 and "'x' does not exist." in unknown.stderr


def test_the_plan_from_generate_to_publish(run, upgrade_window):  # noqa: F811
    missing = run("calendar", "plan", "show", "2027")
    assert missing.exit_code == 1 and "generate it first" in missing.stderr
    generated = run("calendar", "plan", "generate", "2027")
    assert generated.exit_code == 0, generated.output
    assert "Draft plan 2027: 24 openings of 1 window(s)." in generated.stdout
    struck = run("calendar", "plan", "strike", "2027", "2027-10-14", "--reason", "Golden week")
    assert struck.exit_code == 0, struck.output
    assert "Struck CRM upgrade window on 2027-10-14 19:00." in struck.stdout
    assert PlannedOccurrence.objects.get(struck_reason="Golden week").starts == at("2027-10-14")
    nothing = run("calendar", "plan", "strike", "2027", "2027-10-15", "--reason", "x")
    assert nothing.exit_code == 1 and "no opening on 2027-10-15" in nothing.stderr
    shown = run("calendar", "plan", "show", "2027")
    assert "Window plan 2027 (Draft)" in shown.stdout and "Golden week" in shown.stdout
    published = run("calendar", "plan", "publish", "2027")
    assert published.exit_code == 0, published.output
    assert "Plan 2027 published: 23 openings, 1 struck." in published.stdout
    again = run("calendar", "plan", "publish", "2027")
    assert again.exit_code == 4 and "already published" in again.stderr
    restore = run("calendar", "plan", "restore", "2027", "2027-10-14")
    assert restore.exit_code == 4
