"""The `relman` command: every subcommand, wired explicitly.

Server-side commands (setup, serve, worker, check, user, role, token, audit, process, demo,
outbox) run Django in this process and need the server's configuration (RELMAN_DATA_DIR,
DATABASE_URL, ...). Client commands (login, release, deliverable, calendar, cab, approvals,
approve, reject, delegate, ci, team, change, report) talk to a server over HTTP with an API
token, and need nothing but the saved login.

Exit codes: see `relman.cli.output.ExitCode` (0 ok, 1 refused, 2 usage, 3 unreachable or not
logged in, 4 conflict).
"""

from __future__ import annotations

import os

import typer

from relman.cli import (
    accounts,
    admin,
    applications,
    approvals,
    backup,
    cab,
    calendar,
    changes,
    cmdb,
    deliverables,
    login,
    outbox,
    processes,
    releases,
    reports,
    scope,
    server,
    teams,
)
from relman.cli.i18n import _

EPILOG = _(
    "Exit codes:  0 done  ·  1 refused (the reason is on stderr)  ·  2 usage error  ·  "
    "3 cannot reach the server or the database, or not logged in  ·  "
    "4 conflict: someone changed it meanwhile, reload and retry."
)

app = typer.Typer(
    name="relman",
    help=_(
        "Release management: run the server, administer it, and work with releases from the "
        "command line."
    ),
    epilog=EPILOG,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,  # locals may hold tokens and passwords
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def options(
    utc: bool = typer.Option(
        False, "--utc", help=_("Print times in UTC instead of your profile's time zone.")
    ),
) -> None:
    if utc:
        os.environ["RELMAN_UTC"] = "1"


SERVER = _("Run and administer the server (on the server machine)")
CLIENT = _("Work with a server (API token; `relman login` first)")

app.command("setup", rich_help_panel=SERVER, epilog=EPILOG)(admin.setup)
app.command("serve", rich_help_panel=SERVER, epilog=EPILOG)(server.serve)
app.command("worker", rich_help_panel=SERVER, epilog=EPILOG)(server.worker)
app.command("check", rich_help_panel=SERVER, epilog=EPILOG)(admin.check)
app.command("demo", rich_help_panel=SERVER, epilog=EPILOG)(admin.demo)
app.add_typer(accounts.user_app, name="user", rich_help_panel=SERVER, epilog=EPILOG)
app.add_typer(accounts.role_app, name="role", rich_help_panel=SERVER, epilog=EPILOG)
app.add_typer(accounts.token_app, name="token", rich_help_panel=SERVER, epilog=EPILOG)
app.add_typer(admin.audit_app, name="audit", rich_help_panel=SERVER, epilog=EPILOG)
app.add_typer(processes.process_app, name="process", rich_help_panel=SERVER, epilog=EPILOG)
app.add_typer(applications.app_app, name="app", rich_help_panel=SERVER, epilog=EPILOG)
app.add_typer(calendar.calendar_app, name="calendar", rich_help_panel=SERVER, epilog=EPILOG)
app.add_typer(outbox.outbox_app, name="outbox", rich_help_panel=SERVER, epilog=EPILOG)
backup.register(app, SERVER, EPILOG)

app.command("login", rich_help_panel=CLIENT, epilog=EPILOG)(login.login)
app.command("logout", rich_help_panel=CLIENT, epilog=EPILOG)(login.logout)
app.command("whoami", rich_help_panel=CLIENT, epilog=EPILOG)(login.whoami)
scope.register(app, releases.release_app, CLIENT, EPILOG)
changes.register(app, releases.release_app, CLIENT, EPILOG)
app.add_typer(releases.release_app, name="release", rich_help_panel=CLIENT, epilog=EPILOG)
approvals.register(app, CLIENT, EPILOG)
app.add_typer(cab.cab_app, name="cab", rich_help_panel=CLIENT, epilog=EPILOG)
app.add_typer(cmdb.ci_app, name="ci", rich_help_panel=CLIENT, epilog=EPILOG)
app.add_typer(teams.team_app, name="team", rich_help_panel=CLIENT, epilog=EPILOG)
app.add_typer(reports.report_app, name="report", rich_help_panel=CLIENT, epilog=EPILOG)
app.add_typer(
    deliverables.deliverable_app, name="deliverable", rich_help_panel=CLIENT, epilog=EPILOG
)
