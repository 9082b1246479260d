"""API client commands for requests for change: list, show, request, approve, reject and
review them (`relman change ...`), and the changes a release carries (`relman release
changes REL add|remove|set|list`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape

from relman.cli.client import Api
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, new_table, note, out, say
from relman.cli.releases import JsonOption, Number, print_json
from relman.cli.scope import HOW, How

change_app = typer.Typer(
    help=_("Requests for change: list, show, request, approve, reject and review them."),
    no_args_is_help=True,
)
ChangeNumber = Annotated[str, typer.Argument(help=_("The change number, e.g. CHG-2025-0001."))]
NoteOption = Annotated[str, typer.Option("--note", help=_("A note kept with the decision."))]


class ChangeType(StrEnum):
    standard = "standard"
    normal = "normal"
    emergency = "emergency"


class Risk(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Achieved(StrEnum):
    yes = "yes"
    partly = "partly"
    no = "no"


def _row(change: dict[str, Any]) -> tuple[str, ...]:
    return (
        change["number"],
        escape(change["title"]),
        change["type"],
        change["status"],
        change["approval"],
        change["application"] or "-",
    )


@change_app.command("list")
def change_list(
    status: Annotated[str | None, typer.Option(help=_("draft, submitted, approved, ..."))] = None,
    approval: Annotated[
        str | None, typer.Option(help=_("not_requested, pending, approved or rejected."))
    ] = None,
    application: Annotated[str | None, typer.Option("--app", help=_("Application code."))] = None,
    release: Annotated[str | None, typer.Option(help=_("Carried by this release."))] = None,
    search: Annotated[
        str | None, typer.Option("--search", help=_("Text in number or title."))
    ] = None,
    every: Annotated[bool, typer.Option("--all", help=_("Fetch every page."))] = False,
    as_json: JsonOption = False,
) -> None:
    """List requests for change, newest first (the first 100 unless --all)."""
    filters = {
        "status": status,
        "approval": approval,
        "application": application,
        "release": release,
        "q": search,
    }
    rows: list[dict[str, Any]] = []
    with Api.from_login() as api:
        cursor = None
        while True:
            page = api.get("/changes", **filters, limit=100, cursor=cursor)
            rows.extend(page["items"])
            cursor = page["next"]
            if not cursor or not every:
                break
    if as_json:
        print_json(rows)
        return
    if not rows:
        note(_("No change matches."))
        return
    table = new_table(pad_edge=False)
    for column in (_("Number"), _("Title"), _("Type"), _("Status"), _("Approval"), _("App")):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*_row(row))
    out.print(table)
    if cursor:
        note(_("More changes match: add --all."))


def _show(change: dict[str, Any]) -> None:
    say(f"[bold]{change['number']}[/bold] {escape(change['title'])}")
    say(
        _("Type %(type)s · status %(status)s · approval %(approval)s · risk %(risk)s")
        % {k: change[k] for k in ("type", "status", "approval", "risk")}
    )
    say(_("Requested by %s") % change["requester"])
    if change["decided_by"]:
        say(
            _("Decided by %(who)s: %(note)s")
            % {"who": change["decided_by"], "note": change["decision_note"] or "-"}
        )
    if change["external_system"]:
        say(
            f"{change['external_system']} {change['external_key']}: "
            f"{change['external_state'] or '-'} {change['external_url']}"
        )
    for item in change["items"]:
        say(f"  {item['type']}:{escape(item['name'])}")
    for carrier in change["releases"]:
        state = _("open") if carrier["open"] else _("closed")
        say(f"  {carrier['number']} ({state}) {escape(carrier['title'])}")
    for review in change["reviews"]:
        say(
            _("Reviewed after %(release)s by %(who)s: %(achieved)s. %(effects)s")
            % {
                "release": review["release"],
                "who": review["reviewer"],
                "achieved": review["achieved"],
                "effects": review["side_effects"],
            }
        )


@change_app.command("show")
def change_show(number: ChangeNumber, as_json: JsonOption = False) -> None:
    """Show a change: its approval, items, releases and reviews."""
    with Api.from_login() as api:
        change = api.get(f"/changes/{number}")
    if as_json:
        print_json(change)
        return
    _show(change)


@change_app.command("create")
def change_create(
    title: Annotated[str, typer.Option(help=_("What changes, in a line."))],
    description: Annotated[str, typer.Option(help=_("Why and how."))] = "",
    change_type: Annotated[
        ChangeType, typer.Option("--type", help=_("standard, normal or emergency."))
    ] = ChangeType.normal,
    risk: Annotated[Risk, typer.Option(help=_("low, medium, high or critical."))] = Risk.medium,
    application: Annotated[str | None, typer.Option("--app", help=_("Application code."))] = None,
    items: Annotated[
        list[str] | None, typer.Option("--item", help=_("A configuration item it affects."))
    ] = None,
    system: Annotated[
        str | None, typer.Option("--system", help=_("jira, servicenow or other."))
    ] = None,
    key: Annotated[str, typer.Option("--key", help=_("Its key in that tracker."))] = "",
    url: Annotated[str, typer.Option("--url", help=_("Its http(s) link there."))] = "",
    submit: Annotated[bool, typer.Option(help=_("Send it to change management now."))] = False,
    as_json: JsonOption = False,
) -> None:
    """Request a change (a draft unless --submit)."""
    payload = {
        "title": title,
        "description": description,
        "type": change_type.value,
        "risk": risk.value,
        "application": application,
        "items": items or [],
        "external_system": system,
        "external_key": key,
        "external_url": url,
        "submit": submit,
    }
    with Api.from_login() as api:
        change = api.post("/changes", payload)
    if as_json:
        print_json(change)
        return
    say(_("Change %(number)s is %(status)s.") % change, style="green")


def _decide(number: str, decision: str, note_text: str) -> dict[str, Any]:
    with Api.from_login() as api:
        revision = api.get(f"/changes/{number}")["revision"]
        return api.post(f"/changes/{number}/{decision}", {"revision": revision, "note": note_text})


@change_app.command("approve")
def change_approve(number: ChangeNumber, note_text: NoteOption = "") -> None:
    """Approve a submitted change (a CAB member of its application, not its requester)."""
    change = _decide(number, "approve", note_text)
    say(_("Change %(number)s is %(status)s.") % change, style="green")


@change_app.command("reject")
def change_reject(number: ChangeNumber, note_text: NoteOption = "") -> None:
    """Reject a submitted change; --note says why."""
    if not note_text.strip():
        fail(_("Say why with --note."), code=ExitCode.USAGE)
    change = _decide(number, "reject", note_text)
    say(_("Change %(number)s is %(status)s.") % change, style="yellow")


@change_app.command("review")
def change_review(
    number: ChangeNumber,
    achieved: Annotated[Achieved, typer.Option(help=_("Did it achieve its aim: yes, partly, no."))],
    side_effects: Annotated[str, typer.Option("--side-effects", help=_("What else it did."))] = "",
    release: Annotated[
        str | None, typer.Option(help=_("The release reviewed (default: the last)."))
    ] = None,
) -> None:
    """Review a change after the release that carried it."""
    with Api.from_login() as api:
        review = api.post(
            f"/changes/{number}/review",
            {"achieved": achieved.value, "side_effects": side_effects, "release": release},
        )
    say(_("%(change)s reviewed after %(release)s.") % review, style="green")


def release_changes(
    number: Number,
    how: Annotated[How, typer.Argument(help=_("add, remove, set or list."))] = How.list,
    numbers: Annotated[list[str] | None, typer.Argument(help=_("Change numbers."))] = None,
    as_json: JsonOption = False,
) -> None:
    """The changes a release carries: list, add, remove or set them (by number)."""
    path = f"/releases/{number}/changes"
    with Api.from_login() as api:
        if how == How.list:
            rows = api.get(path)
        else:
            if not numbers and how != How.set:
                fail(_("Name at least one."), code=ExitCode.USAGE)
            revision = api.get(f"/releases/{number}")["revision"]
            rows = api.call(HOW[how], path, json={"revision": revision, "changes": numbers or []})
    if as_json:
        print_json(rows)
        return
    if not rows:
        note(_("%s carries no change.") % number)
        return
    table = new_table(_("Changes %s carries") % number)
    for column in (_("Change"), _("Title"), _("Status"), _("Approval"), _("Review")):
        table.add_column(column)
    for row in rows:
        review = row["reviews"][0]["achieved"] if row["reviews"] else "-"
        table.add_row(row["number"], escape(row["title"]), row["status"], row["approval"], review)
    out.print(table)


def register(app: typer.Typer, release_app: typer.Typer, panel: str, epilog: str) -> None:
    """Add `relman change` and `relman release changes`."""
    app.add_typer(change_app, name="change", rich_help_panel=panel, epilog=epilog)
    release_app.command("changes")(release_changes)
