"""Server-side calendar commands: import holidays, make personal feed URLs, export the plan.

They are registered in the `relman calendar` group (see `relman/cli/calendar.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relman.cli.bootstrap import find_user, on_server
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, note, say, warn


def _read(path: Path) -> bytes:
    """A file's bytes, or a refusal naming the file."""
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(_("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror or exc})


def _write(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as exc:
        fail(_("Cannot write %(file)s: %(error)s") % {"file": path, "error": exc.strerror or exc})


def holidays_import(
    name: Annotated[str, typer.Argument(help=_("The holiday calendar's name, e.g. cn-2027."))],
    file: Annotated[
        Path,
        typer.Argument(
            help=_(
                "An iCalendar (.ics) file whose all-day events are the days off; "
                "relman/calendar/data/cn-holidays-2027.ics is an example."
            ),
            show_default=False,
        ),
    ],
) -> None:
    """Import (or replace) a holiday calendar from an ICS file; windows using it skip its days."""
    content = _read(file)
    with on_server():
        from relman.calendar.services.holidays import import_holidays

        calendar = import_holidays(None, name=name, content=content, filename=str(file))
        days = list(calendar.holidays.order_by("date").values_list("date", flat=True))
        say(
            _("Imported %(count)d holidays into '%(name)s' (%(first)s to %(last)s) from %(file)s.")
            % {
                "count": len(days),
                "name": calendar.name,
                "first": days[0],
                "last": days[-1],
                "file": file,
            },
            style="green",
        )


def feed_token(
    username: Annotated[str, typer.Argument(help=_("Whose personal feed it is."))],
    revoke: Annotated[
        bool,
        typer.Option("--revoke", help=_("Revoke the user's feed URL instead of making a new one.")),
    ] = False,
) -> None:
    """Make a user's personal calendar-feed URL and print its path once.

    Their earlier feed URL stops working. Put the server's address before the path to
    subscribe to it in a calendar client.
    """
    with on_server():
        from relman.calendar.services.feeds import (
            create_feed_token,
            feed_path,
            revoke_feed_tokens_of,
        )

        user = find_user(username)
        if revoke:
            count = revoke_feed_tokens_of(None, user)
            say(
                _("Revoked %(count)d calendar feed URL(s) of %(user)s.")
                % {"count": count, "user": username},
                style="green",
            )
            return
        _token, secret = create_feed_token(None, user)
        note(
            _("Personal calendar feed of %s (any earlier feed URL of theirs stops working):")
            % username
        )
        say(feed_path(secret), style="bold")
        warn(
            _(
                "The path is shown only now and works like a password for the calendar: "
                "give it to them safely. `relman calendar feed-token %s --revoke` revokes it."
            )
            % username
        )


def plan_export(
    year: Annotated[int, typer.Argument(help=_("The plan's year, e.g. 2027."))],
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", metavar="FILE", help=_("Write a spreadsheet here."))
    ] = None,
    ics: Annotated[
        Path | None,
        typer.Option("--ics", metavar="FILE", help=_("Write an iCalendar file here.")),
    ] = None,
) -> None:
    """Export a year's window plan as XLSX and/or ICS.

    The XLSX has one row per opening, struck ones with their reason; the ICS has the openings
    that were not struck.
    """
    if xlsx is None and ics is None:
        fail(_("Give --xlsx FILE, --ics FILE or both."), code=ExitCode.USAGE)
    with on_server():
        from relman.calendar import exports
        from relman.calendar.services.plan import get_plan

        plan = get_plan(year)
        if xlsx is not None:
            _write(xlsx, exports.plan_xlsx(plan))
            say(_("Wrote the %(year)d plan to %(file)s.") % {"year": year, "file": xlsx})
        if ics is not None:
            _write(ics, exports.plan_ics(plan))
            say(_("Wrote the %(year)d plan to %(file)s.") % {"year": year, "file": ics})
