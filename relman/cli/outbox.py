"""Server-side commands for the notification outbox: list messages, send a failed one again.
They run on the server as its administrator, like the other admin commands."""

from __future__ import annotations

from typing import Annotated

import typer

from relman.cli.bootstrap import on_server
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, new_table, out, say

outbox_app = typer.Typer(
    help=_("The notification outbox: messages waiting, sent or failed."), no_args_is_help=True
)


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        str | None,
        typer.Option(help=_("pending, sending, sent, failed, or unsent (all but sent).")),
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help=_("email, webhook, dingtalk, wecom or slack."))
    ] = None,
    event: Annotated[str | None, typer.Option(help=_("An event, e.g. approval.requested."))] = None,
    release: Annotated[str | None, typer.Option(help=_("A release number."))] = None,
    limit: Annotated[
        int, typer.Option(help=_("At most this many, newest first."), min=1, max=500)
    ] = 50,
) -> None:
    """List the outbox's messages, newest first."""
    import pydantic

    from relman.notifications import services
    from relman.notifications.filters import OutboxFilters

    try:
        filters = OutboxFilters(
            status=status, channel=channel, event=event, release=release, limit=limit
        )
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        option = "--" + str(first["loc"][0]) if first.get("loc") else ""
        fail(f"{option}: {first['msg']}".strip(": "), code=ExitCode.USAGE)
    with on_server():
        rows, _next = filters.page(services.outbox(None))
        if not rows:
            say(_("No notifications match."))
            return
        table = new_table()
        for column in (
            _("Delivery id"),
            _("Created"),
            _("Event"),
            _("Release"),
            _("Channel"),
            _("Recipient"),
            _("Status"),
            _("Attempts"),
            _("Last error"),
        ):
            table.add_column(column)
        from django.utils import timezone

        for message in rows:
            table.add_row(
                str(message.uuid),
                timezone.localtime(message.created).strftime("%Y-%m-%d %H:%M:%S"),
                message.event,
                message.release.number if message.release_id else "-",
                message.channel,
                message.target,
                message.status,
                str(message.attempts),
                message.last_error[:80],
            )
        out.print(table)


@outbox_app.command("retry")
def outbox_retry(
    uuid: Annotated[str, typer.Argument(help=_("The message's delivery id."))],
) -> None:
    """Send a failed (or waiting) message again now, with a fresh set of attempts."""
    with on_server():
        from relman.notifications import services

        message = services.retry(None, uuid)
        say(
            _("Notification %(uuid)s to %(target)s is queued to be sent again.")
            % {"uuid": message.uuid, "target": message.target},
            style="green",
        )
