"""API client commands for CAB meetings: list them, show one with its agenda, record the
board's decision on a release (as the chair), and save the minutes as a PDF."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.markup import escape

from relman.cli.client import Api
from relman.cli.clock import when
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, new_table, out, say
from relman.cli.releases import JsonOption, print_json

cab_app = typer.Typer(
    help=_("CAB meetings: list, show, decide the releases on the agenda, export the minutes."),
    no_args_is_help=True,
)
MeetingId = Annotated[int, typer.Argument(help=_("The meeting's id (from `relman cab list`)."))]


class MeetingStatus(StrEnum):
    planned = "planned"
    held = "held"
    cancelled = "cancelled"


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"
    defer = "defer"


@cab_app.command("list")
def cab_list(
    status: Annotated[
        MeetingStatus | None, typer.Option(help=_("planned, held or cancelled."))
    ] = None,
    waiting: Annotated[
        bool,
        typer.Option("--waiting", help=_("List the releases waiting for the CAB instead.")),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List the CAB meetings you may see, newest first; --waiting: the releases waiting."""
    with Api.from_login() as api:
        if waiting:
            rows = api.get("/cab/waiting")
        else:
            rows = api.get("/cab/meetings", status=status.value if status else None)
    if as_json:
        print_json(rows)
        return
    if waiting:
        table = new_table(pad_edge=False)
        for column in (_("Release"), _("Title"), _("App"), _("Risk"), _("Waiting since")):
            table.add_column(column, overflow="fold")
        table.add_column(_("On the agenda of"), overflow="fold")
        for row in rows:
            meeting = f"#{row['meeting_id']} {row['meeting_title']}" if row["meeting_id"] else "-"
            table.add_row(
                row["release"],
                escape(row["title"]),
                row["application"],
                row["risk"],
                when(row["waiting_since"]),
                escape(meeting),
            )
        if rows:
            out.print(table)
        say(
            _("%d release(s) waiting for the CAB.") % len(rows)
            if rows
            else _("No release waits for the CAB."),
            style="dim",
        )
        return
    table = new_table(pad_edge=False)
    table.add_column(_("Id"), no_wrap=True, justify="right")
    table.add_column(_("Date"), no_wrap=True)
    table.add_column(_("Title"), ratio=3, overflow="fold")
    table.add_column(_("Chair"), no_wrap=True)
    table.add_column(_("Agenda"), no_wrap=True)
    table.add_column(_("Status"), no_wrap=True)
    for row in rows:
        table.add_row(
            str(row["id"]),
            when(row["starts"]),
            escape(row["title"]),
            row["chair"],
            f"{row['decided_count']}/{row['agenda_count']}",
            row["status"],
        )
    if rows:
        out.print(table)
    say(_("%d meeting(s).") % len(rows) if rows else _("No meetings."), style="dim")


def _show(meeting: dict[str, Any]) -> None:
    out.print(f"[bold]#{meeting['id']} {escape(meeting['title'])}[/bold]  ({meeting['status']})")
    facts = new_table(show_header=False, box=None, pad_edge=False)
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column(overflow="fold")
    facts.add_row(_("Date"), when(meeting["starts"]))
    facts.add_row(_("Location"), escape(meeting["location"] or "-"))
    facts.add_row(_("Chair"), escape(f"{meeting['chair_name']} ({meeting['chair']})"))
    marks = {True: _("present"), False: _("absent"), None: _("not recorded")}
    members = ", ".join(f"{m['username']} ({marks[m['present']]})" for m in meeting["attendance"])
    facts.add_row(_("Members"), escape(members))
    if meeting["status"] == "planned":
        facts.add_row(
            _("Quorum"), _("yes") if meeting["quorum"] else escape(meeting["quorum_problem"] or "")
        )
    out.print(facts)
    out.print(f"\n[bold]{_('Agenda')}[/bold]")
    if not meeting["agenda"]:
        say(_("No release is on the agenda."), style="dim")
    table = new_table(pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column(_("Release"), no_wrap=True)
    table.add_column(_("Title"), ratio=2, overflow="fold")
    table.add_column(_("App"), no_wrap=True)
    table.add_column(_("Risk"), no_wrap=True)
    table.add_column(_("Window"), ratio=2, overflow="fold")
    table.add_column(_("Decision"), ratio=2, overflow="fold")
    for item in meeting["agenda"]:
        decision = item["decision"] or "-"
        if item["reason"]:
            decision += f": {item['reason']}"
        table.add_row(
            str(item["position"]),
            item["release"],
            escape(item["title"]),
            item["application"],
            item["risk"],
            escape(item["window"] or _("not scheduled")),
            escape(decision),
        )
    if meeting["agenda"]:
        out.print(table)
    if meeting["minutes"]:
        out.print(f"\n[bold]{_('Minutes')}[/bold]")
        say(meeting["minutes"])


@cab_app.command("show")
def cab_show(meeting_id: MeetingId, as_json: JsonOption = False) -> None:
    """Show a meeting: date, chair, attendance, the agenda with its decisions, the minutes."""
    with Api.from_login() as api:
        meeting = api.get(f"/cab/meetings/{meeting_id}")
    if as_json:
        print_json(meeting)
    else:
        _show(meeting)


@cab_app.command("decide")
def cab_decide(
    meeting_id: MeetingId,
    number: Annotated[str, typer.Argument(help=_("The release number, e.g. REL-2026-0042."))],
    decision: Annotated[Decision, typer.Argument(help=_("approve, reject or defer."))],
    reason: Annotated[
        str, typer.Option(help=_("Why (needed to reject or defer)."), show_default=False)
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Record the board's decision on a release of the agenda (the chair, with a quorum)."""
    if decision in (Decision.reject, Decision.defer) and not reason.strip():
        fail(_("Rejecting or deferring needs --reason."), code=ExitCode.USAGE)
    with Api.from_login() as api:
        item = api.post(
            f"/cab/meetings/{meeting_id}/agenda/{number}/decision",
            {"decision": decision.value, "reason": reason},
        )
    if as_json:
        print_json(item)
        return
    say(
        _("The CAB's decision on %(number)s is recorded: %(decision)s.")
        % {"number": item["release"], "decision": item["decision"]},
        style="green",
    )


@cab_app.command("minutes")
def cab_minutes(
    meeting_id: MeetingId,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help=_("Where to save the PDF (default: its own name).")),
    ] = None,
    language: Annotated[
        str | None, typer.Option(help=_("en or zh-hans (default: your language)."))
    ] = None,
) -> None:
    """Save the minutes of a meeting as a PDF."""
    with Api.from_login() as api:
        params = {"language": language} if language else {}
        try:
            response = api.client.get(f"/cab/meetings/{meeting_id}/minutes.pdf", params=params)
        except httpx.HTTPError as exc:
            fail(
                _("Cannot reach the relman server at %(url)s: %(error)s")
                % {"url": api.url, "error": exc},
                code=ExitCode.UNREACHABLE,
            )
        if not response.is_success:
            api._answer(response)  # exits with the server's reason
        if response.headers.get("content-type") != "application/pdf":
            fail(_("The server did not send a PDF."))
        disposition = response.headers.get("content-disposition", "")
        name = disposition.split("filename=")[-1].strip('"') or f"cab-minutes-{meeting_id}.pdf"
        path = output or Path(name)
        path.write_bytes(response.content)
    say(_("Saved the minutes to %s.") % path, style="green")
