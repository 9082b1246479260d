"""Server-side admin commands, run in-process against the test database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from relman.accounts.models import ApiToken
from relman.audit.models import AuditEvent
from relman.cli.output import ExitCode
from relman.processes.loader import PRESETS_DIR
from tests import factories

User = get_user_model()


# ---------------------------------------------------------------- setup and demo


def test_setup_creates_the_admin_once_and_a_second_run_changes_nothing(run, db):
    first = run("setup")

    assert first.exit_code == 0, first.output
    assert "Processes: loaded feh v1, hhlc v1, mof v1, tfdl v1." in first.stdout
    assert "Administrator: created the user 'admin'." in first.stdout
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    password = first.stdout.split("Password: ")[1].split()[0]
    assert admin.check_password(password)
    assert AuditEvent.objects.filter(action="user.created", channel="cli").exists()

    second = run("setup")

    assert second.exit_code == 0, second.output
    assert "Processes: 4 unchanged." in second.stdout
    assert "the user 'admin' exists already" in second.stdout
    assert "Password" not in second.stdout
    assert "Nothing to do: relman was already set up." in second.stdout


def test_setup_demo_loads_the_demo_into_an_empty_database(run, db, monkeypatch):
    import relman.demo

    calls = []

    class Summary:
        skipped = False

        def __str__(self) -> str:
            return "3 releases, 2 applications"

    monkeypatch.setattr(relman.demo, "load_demo", lambda: calls.append(1) or Summary())

    result = run("setup", "--demo")

    assert result.exit_code == 0, result.output
    assert calls == [1]
    assert "Demo data: 3 releases, 2 applications" in result.stdout


def test_setup_demo_says_so_when_the_demo_module_is_missing(run, db, monkeypatch):
    monkeypatch.setitem(sys.modules, "relman.demo", None)

    result = run("setup", "--demo")

    assert result.exit_code == 0, result.output
    assert "Demo data: not available in this version of relman" in result.stdout


def test_demo_is_not_mixed_into_a_database_that_has_releases(run, presets):
    shop = factories.application("shop")  # not 'crm': the demo takes that as its marker
    factories.release(factories.user("rm", "release_manager", app=shop), shop)

    result = run("demo")

    assert result.exit_code == 0, result.output
    assert "the database already has releases" in result.stdout


# ---------------------------------------------------------------- check


def test_check_reports_every_part_and_fails_without_processes(run, db):
    result = run("check")

    assert result.exit_code == ExitCode.REFUSED
    assert "reachable, migrations applied" in result.stdout
    assert "writable" in result.stdout
    assert "none loaded: run `relman setup`" in result.stdout
    assert "embedded in `relman serve`" in result.stdout
    assert "do not work: Processes" in result.stderr


def test_check_passes_when_everything_works(run, presets):
    result = run("check")

    assert result.exit_code == 0, result.output
    assert "4 loaded" in result.stdout
    assert "Everything works." in result.stdout


def test_check_names_an_unreachable_broker_without_its_password(run, presets, settings):
    settings.CELERY_BROKER_URL = "amqp://relman:s3cret@127.0.0.1:1//"

    result = run("check")

    assert result.exit_code == ExitCode.REFUSED
    assert "broker unreachable" in result.stdout
    assert "s3cret" not in result.output
    assert "amqp://relman:***@127.0.0.1:1//" in result.stdout


# ---------------------------------------------------------------- audit


def test_audit_verify_passes_then_names_the_edited_event(run, app):
    factories.release(factories.user("rm", "release_manager", app=app), app)
    count = AuditEvent.objects.count()

    good = run("audit", "verify")

    assert good.exit_code == 0, good.output
    assert f"{count} events verified" in good.stdout

    victim = AuditEvent.objects.order_by("seq")[2]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET reason = %s WHERE seq = %s",
            ["quietly changed", victim.seq],
        )

    bad = run("audit", "verify")

    assert bad.exit_code == ExitCode.REFUSED
    assert f"Event #{victim.seq} ({victim.action}) was edited" in bad.stderr


# ---------------------------------------------------------------- users, roles, tokens


def test_user_create_with_roles_prints_the_password_once(run, app):
    result = run(
        "user",
        "create",
        "jane",
        "--email",
        "jane@example.com",
        "--display-name",
        "Jane Doe",
        "--role",
        "requester@crm",
        "--role",
        "tester",
    )

    assert result.exit_code == 0, result.output
    jane = User.objects.get(username="jane")
    password = result.stdout.split("Password: ")[1].split()[0]
    assert jane.check_password(password)
    assert sorted(
        (a.role_id, a.application.code if a.application else None)
        for a in jane.role_assignments.all()
    ) == [("requester", "crm"), ("tester", None)]
    assert AuditEvent.objects.filter(action="role.assigned", channel="cli").count() == 2


def test_user_create_with_an_unknown_role_creates_nothing(run, app):
    result = run("user", "create", "jane", "--role", "wizard")

    assert result.exit_code == ExitCode.REFUSED
    assert "Unknown role 'wizard'" in result.stderr
    assert not User.objects.filter(username="jane").exists()


def test_user_create_reads_the_password_from_stdin(run, db):
    result = run("user", "create", "jane", "--password-stdin", input="a-Long-pass-123\n")

    assert result.exit_code == 0, result.output
    assert "Password" not in result.stdout
    assert User.objects.get(username="jane").check_password("a-Long-pass-123")


def test_user_create_refuses_a_taken_username_and_a_weak_password(run, db):
    factories.user("jane")

    taken = run("user", "create", "jane")
    weak = run("user", "create", "joe", "--password-stdin", input="short\n")

    assert taken.exit_code == ExitCode.REFUSED
    assert "The username 'jane' is taken." in taken.stderr
    assert weak.exit_code == ExitCode.REFUSED
    assert "too short" in weak.stderr


def test_user_create_refuses_an_unknown_language_as_a_usage_error(run, db):
    result = run("user", "create", "jane", "--language", "fr")

    assert result.exit_code == ExitCode.USAGE


def test_user_list_shows_roles(run, app):
    factories.user("jane", "requester", app=app, display_name="Jane Doe")

    result = run("user", "list")

    assert result.exit_code == 0, result.output
    assert "jane" in result.stdout
    assert "Jane Doe" in result.stdout
    assert "requester@crm" in result.stdout


def test_role_assign_for_one_application(run, app):
    factories.user("jane")

    result = run("role", "assign", "jane", "release_manager", "--app", "crm")

    assert result.exit_code == 0, result.output
    assert "jane now holds release_manager for crm" in result.stdout
    assert (
        User.objects.get(username="jane")
        .role_assignments.filter(role_id="release_manager", application__code="crm")
        .exists()
    )


def test_role_assign_to_nobody_is_refused(run, db):
    result = run("role", "assign", "nobody", "tester")

    assert result.exit_code == ExitCode.REFUSED
    assert "There is no user 'nobody'" in result.stderr


def test_token_create_list_and_revoke(run, db):
    from relman.accounts.services import user_for_token

    jane = factories.user("jane")

    created = run("token", "create", "jane", "--name", "laptop", "--days", "30")

    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("rmt_")
    assert "shown only now" in created.stderr
    assert user_for_token(secret) == jane
    token = ApiToken.objects.get(user=jane)

    listed = run("token", "list", "jane")
    assert token.prefix in listed.stdout
    assert "laptop" in listed.stdout
    assert secret not in listed.stdout

    revoked = run("token", "revoke", token.prefix)
    assert revoked.exit_code == 0, revoked.output
    assert user_for_token(secret) is None

    again = run("token", "revoke", secret)  # the whole token works too
    assert again.exit_code == ExitCode.CONFLICT
    assert "already revoked" in again.stderr


# ---------------------------------------------------------------- processes


def _broken_process(tmp_path: Path) -> tuple[Path, int]:
    """A copy of a preset with an unknown role; returns the file and that role's line."""
    lines = (PRESETS_DIR / "mof.yaml").read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.strip().startswith("roles: ["))
    lines[number] = lines[number].replace("roles: [", "roles: [wizard, ", 1)
    path = tmp_path / "broken.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, number + 1


def test_process_validate_prints_file_line_field_and_message(run, tmp_path):
    broken, line = _broken_process(tmp_path)

    result = run("process", "validate", str(PRESETS_DIR / "tfdl.yaml"), str(broken))

    assert result.exit_code == ExitCode.REFUSED
    assert "tfdl.yaml: valid (process 'tfdl'" in result.stdout
    problem = f"{broken}:{line}: variants.0.stages.0.roles.0: unknown role 'wizard'"
    assert problem in result.stderr.splitlines()


def test_process_validate_of_a_valid_file_exits_0(run):
    result = run("process", "validate", str(PRESETS_DIR / "mof.yaml"))

    assert result.exit_code == 0, result.output


def test_process_show_lists_stages_roles_and_gates(run, presets):
    result = run("process", "show", "tfdl")

    assert result.exit_code == 0, result.output
    assert "Flow 'standard'" in result.stdout
    assert "1. Release plan (release_plan)" in result.stdout
    assert "deliverable: Release plan" in result.stdout
    assert "approval step 1: Department approver of each department involved" in result.stdout
    assert "roles: Release administrator, Release manager, Release owner" in result.stdout


def test_process_show_mermaid_prints_only_the_flowchart(run, presets):
    result = run("process", "show", "tfdl", "--mermaid")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("flowchart LR\n")
    assert "release_plan -->|advance| backout_plan" in result.stdout


def test_process_show_of_an_unknown_process_is_refused(run, presets):
    result = run("process", "show", "nosuch")

    assert result.exit_code == ExitCode.REFUSED
    assert "There is no process named 'nosuch'." in result.stderr


def test_process_load_and_list(run, db):
    loaded = run("process", "load")
    again = run("process", "load")
    listed = run("process", "list")

    assert loaded.exit_code == 0, loaded.output
    assert "4 created, 0 unchanged." in loaded.stdout
    assert "0 created, 4 unchanged." in again.stdout
    assert AuditEvent.objects.filter(action="process.loaded", channel="cli").count() == 4
    for name in ("feh", "hhlc", "mof", "tfdl"):
        assert name in listed.stdout


def test_process_load_of_a_broken_folder_loads_nothing(run, db, settings, tmp_path):
    broken, line = _broken_process(tmp_path)
    settings.RELMAN_PROCESS_DIRS = [tmp_path]

    result = run("process", "load")

    assert result.exit_code == ExitCode.REFUSED
    assert f"{broken}:{line}:" in result.stderr
    assert not AuditEvent.objects.filter(action="process.loaded").exists()


@pytest.mark.parametrize("args", [("worker",), ("worker", "--beat")])
def test_worker_refuses_the_memory_broker(run, args, settings):
    settings.CELERY_BROKER_URL = "memory://"

    result = run(*args)

    assert result.exit_code == ExitCode.REFUSED
    assert "only works inside `relman serve`" in result.stderr
