"""API client commands for teams and departments: list and show them; administrators add
them and their members."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape

from relman.cli.client import Api
from relman.cli.i18n import _
from relman.cli.output import new_table, out, say
from relman.cli.releases import JsonOption, print_json

team_app = typer.Typer(
    help=_("Teams and departments: list and show them; administrators add them and members."),
    no_args_is_help=True,
)
TeamRef = Annotated[str, typer.Argument(help=_("The team's code."))]


class Kind(StrEnum):
    department = "department"
    sub_department = "sub_department"
    team = "team"


def _path(code: str) -> str:
    return f"/teams/{quote(code, safe='')}"


def _heads(team: dict[str, Any]) -> str:
    return ", ".join(m["name"] for m in team["members"] if m["head"]) or "-"


@team_app.command("list")
def team_list(as_json: JsonOption = False) -> None:
    """List the teams, with their kind, parent and heads."""
    with Api.from_login() as api:
        rows = api.get("/teams")
    if as_json:
        print_json(rows)
        return
    table = new_table(pad_edge=False)
    for column in (_("Code"), _("Name"), _("Kind"), _("Part of"), _("Heads"), _("Members")):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            escape(row["code"]) + ("" if row["is_active"] else f" ({_('inactive')})"),
            escape(row["name"]),
            row["kind"],
            escape(row["parent"] or "-"),
            escape(_heads(row)),
            str(len(row["members"])),
        )
    if rows:
        out.print(table)
    say(_("%d team(s).") % len(rows) if rows else _("No teams."), style="dim")


@team_app.command("show")
def team_show(code: TeamRef, as_json: JsonOption = False) -> None:
    """Show a team and its members, heads first."""
    with Api.from_login() as api:
        team = api.get(_path(code))
    if as_json:
        print_json(team)
        return
    out.print(f"[bold]{escape(team['name'])}[/bold]  ({escape(team['code'])}, {team['kind']})")
    if team["parent"]:
        say(_("Part of %s.") % team["parent"])
    table = new_table(pad_edge=False)
    for column in (_("User"), _("Name"), _("Head")):
        table.add_column(column, overflow="fold")
    for m in team["members"]:
        table.add_row(escape(m["username"]), escape(m["name"]), _("yes") if m["head"] else "")
    if team["members"]:
        out.print(table)
    else:
        say(_("No members."), style="dim")


@team_app.command("add")
def team_add(
    code: TeamRef,
    name: Annotated[str, typer.Argument(help=_("The team's name."))],
    kind: Annotated[
        Kind, typer.Option(help=_("department, sub_department or team."))
    ] = Kind.department,
    parent: Annotated[str | None, typer.Option(help=_("Code of the team it is part of."))] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a department, a sub-department or a team (administrators)."""
    payload = {"code": code, "name": name, "kind": kind.value, "parent": parent}
    with Api.from_login() as api:
        team = api.post("/teams", payload)
    if as_json:
        print_json(team)
        return
    say(_("Team %(code)s '%(name)s' added.") % team)


@team_app.command("member")
def team_member(
    code: TeamRef,
    username: Annotated[str, typer.Argument(help=_("The member's username."))],
    head: Annotated[bool, typer.Option(help=_("Make them one of its heads."))] = False,
    remove: Annotated[bool, typer.Option(help=_("Take them out of the team."))] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a member to a team (--head: as one of its heads), or take one out (--remove)."""
    with Api.from_login() as api:
        if remove:
            team = api.call("DELETE", f"{_path(code)}/members/{quote(username, safe='')}")
        else:
            team = api.post(f"{_path(code)}/members", {"user": username, "head": head})
    if as_json:
        print_json(team)
        return
    if remove:
        say(_("%(user)s left %(team)s.") % {"user": username, "team": team["name"]})
    else:
        say(_("%(user)s is a member of %(team)s.") % {"user": username, "team": team["name"]})
