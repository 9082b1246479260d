"""API client commands for what a release touches in the CMDB: its items and departments,
its impact (with the path that explains each affected item), the impact review, and the
deployed versions it records."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from relman.cli.client import Api
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, new_table, note, out, say
from relman.cli.releases import JsonOption, Number, print_json


class How(StrEnum):
    add = "add"
    remove = "remove"
    set = "set"
    list = "list"


Names = Annotated[list[str] | None, typer.Argument(help=_("Names (or ids) to add, remove or set."))]
HOW = {How.add: "POST", How.remove: "DELETE", How.set: "PUT"}


def _change(path: str, key: str, how: How, names: list[str] | None) -> Any:
    """List, or change at the release's current revision, the items or departments."""
    with Api.from_login() as api:
        if how == How.list:
            return api.get(path)
        if not names and how != How.set:
            fail(_("Name at least one."), code=ExitCode.USAGE)
        number = path.split("/")[2]
        revision = api.get(f"/releases/{number}")["revision"]
        return api.call(HOW[how], path, json={"revision": revision, key: names or []})


def release_items(
    number: Number,
    how: Annotated[How, typer.Argument(help=_("add, remove, set or list."))] = How.list,
    names: Names = None,
    as_json: JsonOption = False,
) -> None:
    """The configuration items a release touches: list, add, remove or set them (by name,
    id, or type:name when a name is used by several types)."""
    rows = _change(f"/releases/{number}/items", "items", how, names)
    if as_json:
        print_json(rows)
        return
    if not rows:
        note(_("%s touches no configuration item.") % number)
        return
    table = new_table(_("Configuration items %s touches") % number)
    for column in (_("Item"), _("Type"), _("Owner team")):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["type"], row["owner_team"] or "-")
    out.print(table)


def release_teams(
    number: Number,
    how: Annotated[How, typer.Argument(help=_("add, remove, set or list."))] = How.list,
    names: Names = None,
    as_json: JsonOption = False,
) -> None:
    """The departments added by hand to a release: list, add, remove or set them (by code)."""
    rows = _change(f"/releases/{number}/teams", "teams", how, names)
    if as_json:
        print_json(rows)
        return
    if not rows:
        note(_("No department was added to %s by hand.") % number)
        return
    for row in rows:
        say(f"{row['code']}  {row['name']}")


def impact(number: Number, as_json: JsonOption = False) -> None:
    """What a release touches and every item and service depending on those, each with its
    owner team and the path that explains it."""
    with Api.from_login() as api:
        found = api.get(f"/releases/{number}/impact")
    if as_json:
        print_json(found)
        return
    if found["departments"]:
        note(_("Departments involved: %s.") % ", ".join(d["name"] for d in found["departments"]))
    if not found["touched"]:
        note(_("%s touches no configuration item yet.") % number)
        return
    table = new_table(_("Impact of %s") % number)
    for column in (_("Item"), _("Type"), _("Owner team"), _("Path")):
        table.add_column(column)
    for row in found["touched"] + found["affected"]:
        kind = row["type_name"] + (" ★" if row["is_service"] else "")
        path = " → ".join(row["path"]) if row["depth"] else _("(touched)")
        table.add_row(row["name"], kind, row["owner_team"] or "-", path)
    out.print(table)
    review = found["review"]
    if review is None:
        note(_("The impact has not been reviewed."))
    elif review["current"]:
        note(_("Reviewed by %s.") % review["reviewer"])
    else:
        note(_("Reviewed by %s, but the impact changed since.") % review["reviewer"])


def review_impact(
    number: Number,
    note_text: Annotated[str, typer.Option("--note", help=_("A note kept with it."))] = "",
) -> None:
    """Confirm the impact of a release as it is now (not your own release)."""
    with Api.from_login() as api:
        api.post(f"/releases/{number}/impact/review", {"note": note_text})
    say(_("Impact of %s reviewed.") % number, style="green")


def record_versions(
    number: Number,
    names: Names = None,
    version: Annotated[
        str, typer.Option(help=_("The version installed (default: the release's)."))
    ] = "",
    note_text: Annotated[str, typer.Option("--note", help=_("A note kept with it."))] = "",
) -> None:
    """Record in the CMDB that the release's version now runs on the items it touches (all,
    or those named)."""
    payload: dict[str, Any] = {"version": version, "note": note_text}
    if names:
        payload["items"] = names
    with Api.from_login() as api:
        rows = api.post(f"/releases/{number}/deployed-versions", payload)
    current = [r for r in rows if r["removed"] is None]
    for row in current:
        say(f"{row['ci']}: {row['application']} {row['version']} ({row['release'] or '-'})")


def register(app: typer.Typer, release_app: typer.Typer, panel: str, epilog: str) -> None:
    """Add `relman impact` and the release's scope commands."""
    app.command("impact", rich_help_panel=panel, epilog=epilog)(impact)
    release_app.command("items")(release_items)
    release_app.command("teams")(release_teams)
    release_app.command("review-impact")(review_impact)
    release_app.command("record-versions")(record_versions)
