"""Server-side admin commands: setup, demo data, the configuration check, audit verification."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel

from relman.cli.bootstrap import describe_database, mask_url, on_server, unapplied_migrations
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, new_table, out, say

ADMIN_USERNAME = "admin"


# ---------------------------------------------------------------- setup and demo


def _migrate() -> int:
    """Apply every pending migration; return how many there were."""
    from django.core.management import call_command

    pending = unapplied_migrations()
    if pending:
        call_command("migrate", interactive=False, verbosity=0)
    return len(pending)


def _ensure_admin() -> str | None:
    """Create the superuser `admin` if there is none; return its password (shown once)."""
    from django.contrib.auth import get_user_model

    from relman.accounts.services import create_user

    if get_user_model().objects.filter(username=ADMIN_USERNAME).exists():
        return None
    _user, password = create_user(
        None,
        username=ADMIN_USERNAME,
        display_name=_("Administrator"),
        is_superuser=True,
    )
    return password


def _load_demo() -> tuple[bool, str]:
    """Load the demo data into an empty database; say what happened."""
    from relman.cmdb.models import Application
    from relman.releases.models import Release

    try:
        import relman.demo as demo_data
    except ModuleNotFoundError as exc:
        if exc.name != "relman.demo":
            raise
        return False, _("not available in this version of relman (relman.demo is missing).")
    marker = getattr(demo_data, "MARKER", None)
    if marker and Application.objects.filter(code=marker).exists():
        return False, _("already loaded.")
    if Release.objects.exists():
        return False, _(
            "not loaded: the database already has releases (demo data is for an empty one)."
        )
    summary = demo_data.load_demo()
    return not getattr(summary, "skipped", False), str(summary)


def setup(
    demo: Annotated[
        bool, typer.Option("--demo", help=_("Also load demo data into an empty database."))
    ] = False,
) -> None:
    """Prepare the database: migrate, load the processes, create the `admin` user.

    Safe to run again: it only does what is missing, and says so. The admin password is
    generated and printed once.
    """
    with on_server():
        from django.conf import settings

        from relman.processes.services import load_processes

        for folder in (settings.DATA_DIR, Path(settings.MEDIA_ROOT)):
            Path(folder).mkdir(parents=True, exist_ok=True)
        changed = False
        say(_("Data directory: %s") % settings.DATA_DIR)
        applied = _migrate()
        changed |= bool(applied)
        if applied:
            say(
                _("Database (%(db)s): applied %(n)d migrations.")
                % {"db": describe_database(), "n": applied}
            )
        else:
            say(_("Database (%s): up to date.") % describe_database())
        results = load_processes()
        created = [f"{r.name} v{r.version}" for r in results if r.created]
        changed |= bool(created)
        if created:
            say(_("Processes: loaded %s.") % ", ".join(created))
        else:
            say(_("Processes: %d unchanged.") % len(results))
        from relman.approvals.services.decisions import open_waiting_steps

        opened = open_waiting_steps()
        if opened:
            changed = True
            say(_("Approvals: opened %d waiting approval steps.") % opened)
        password = _ensure_admin()
        if password:
            changed = True
            say(_("Administrator: created the user '%s'.") % ADMIN_USERNAME)
        else:
            say(_("Administrator: the user '%s' exists already.") % ADMIN_USERNAME)
        if demo:
            loaded, message = _load_demo()
            changed |= loaded
            say(_("Demo data: %s") % message)
        if not changed:
            say(_("Nothing to do: relman was already set up."), style="green")
            return
        # The login comes last, where it is seen: the server starts after it.
        url = f"http://127.0.0.1:{os.environ.get('RELMAN_PORT') or 8000}/"
        lines = [_("relman is set up: `relman serve` starts it at %s") % url]
        if password:
            lines.append(
                _("Log in as %(user)s. Password: [bold]%(password)s[/bold]  (shown only now)")
                % {"user": ADMIN_USERNAME, "password": password}
            )
        out.print(Panel("\n".join(lines), expand=False, border_style="green"), soft_wrap=True)


def demo() -> None:
    """Load the demo data (applications, users, releases) into an empty database."""
    with on_server():
        if unapplied_migrations():
            fail(_("The database is not set up: run `relman setup` first."))
        loaded, message = _load_demo()
        say(_("Demo data: %s") % message, style="green" if loaded else None)


# ---------------------------------------------------------------- check


@dataclass
class Finding:
    """One line of `relman check`: what, how it is configured, and whether it works."""

    what: str
    setting: str
    status: str
    ok: bool | None  # None: information only


def _check_database() -> Finding:
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        pending = unapplied_migrations()
    except DatabaseError as exc:
        reason = " ".join(str(exc).split())
        return Finding(_("Database"), describe_database(), _("unreachable: %s") % reason, False)
    if pending:
        return Finding(
            _("Database"),
            describe_database(),
            _("reachable, but %d migrations are not applied: run `relman setup`") % len(pending),
            False,
        )
    return Finding(_("Database"), describe_database(), _("reachable, migrations applied"), True)


def _check_storage() -> Finding:
    from django.conf import settings

    root = Path(settings.MEDIA_ROOT)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".relman-check-", dir=root)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return Finding(_("File storage"), str(root), _("not writable: %s") % exc, False)
    return Finding(_("File storage"), str(root), _("writable"), True)


def _check_processes() -> Finding:
    from django.conf import settings
    from django.db import DatabaseError

    from relman.processes.services import latest_versions

    folders = ", ".join(
        str(p) if Path(p).is_dir() else _("%s (missing)") % p for p in settings.RELMAN_PROCESS_DIRS
    )
    folders = _("presets + %s") % folders if folders else _("presets only")
    try:
        count = len(latest_versions())
    except DatabaseError:
        return Finding(_("Processes"), folders, _("cannot read them from the database"), False)
    if not count:
        return Finding(_("Processes"), folders, _("none loaded: run `relman setup`"), False)
    return Finding(_("Processes"), folders, _("%d loaded") % count, True)


def _check_worker(broker: str) -> Finding:
    if broker.startswith("memory://"):
        return Finding(
            _("Background worker"), mask_url(broker), _("embedded in `relman serve`"), True
        )
    from relman.celery import app as celery_app

    try:
        with celery_app.connection_for_write(broker) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=3)
            replies = celery_app.control.ping(timeout=2, connection=conn)
    except Exception as exc:  # any broker client error (kombu, redis, amqp) means "unreachable"
        reason = " ".join(str(exc).split())
        return Finding(
            _("Background worker"), mask_url(broker), _("broker unreachable: %s") % reason, False
        )
    if not replies:
        return Finding(
            _("Background worker"),
            mask_url(broker),
            _("no worker answered: start `relman worker`"),
            False,
        )
    return Finding(
        _("Background worker"), mask_url(broker), _("%d worker(s) answered") % len(replies), True
    )


def check() -> None:
    """Show what is configured and whether each part works. Exit 1 if something does not."""
    with on_server():
        from django.conf import settings

        findings = [
            Finding(_("Data directory"), str(settings.DATA_DIR), "", None),
            _check_database(),
            _check_storage(),
            _check_processes(),
            _check_worker(settings.CELERY_BROKER_URL),
            Finding(_("Time zone"), settings.TIME_ZONE, "", None),
            Finding(
                _("Languages"),
                ", ".join(code for code, _label in settings.LANGUAGES),
                _("default: %s") % settings.LANGUAGE_CODE,
                None,
            ),
        ]
        table = new_table(_("relman configuration"))
        table.add_column(_("Part"), style="bold")
        table.add_column(_("Configured"), overflow="fold")
        table.add_column(_("Status"), overflow="fold")
        for finding in findings:
            mark = {True: "[green]✓[/green] ", False: "[red]✗[/red] ", None: ""}[finding.ok]
            table.add_row(finding.what, finding.setting, mark + _escape(finding.status))
        out.print(table)
        broken = [f for f in findings if f.ok is False]
        if broken:
            fail(
                _("%d part(s) do not work: %s.") % (len(broken), ", ".join(f.what for f in broken)),
                code=ExitCode.REFUSED,
            )
        say(_("Everything works."), style="green")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# ---------------------------------------------------------------- audit

audit_app = typer.Typer(help=_("The audit log."), no_args_is_help=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the audit chain and name the first event that was edited, removed or reordered."""
    with on_server():
        from relman.audit.services import verify_chain

        result = verify_chain()
        if not result.ok:
            fail(
                _("The audit chain is broken after %(n)d good events: %(problem)s")
                % {"n": result.checked, "problem": result.problem}
            )
        say(_("%d events verified: the audit chain is intact.") % result.checked, style="green")
