"""API client commands for the CMDB: list, show and add configuration items, relate them,
import and export the CMDB as CSV or JSON, and show what a change to an item affects."""

from __future__ import annotations

import json
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

ci_app = typer.Typer(
    help=_(
        "The CMDB: list, show and add configuration items, relate them, import and export "
        "the CMDB, and show the impact of a change."
    ),
    no_args_is_help=True,
)
ItemRef = Annotated[str, typer.Argument(help=_("The item's name or id."))]
TypeOption = Annotated[
    str | None, typer.Option("--type", help=_("Item type code (when a name is not unique)."))
]


class Format(StrEnum):
    csv = "csv"
    json = "json"


class What(StrEnum):
    items = "items"
    relationships = "relationships"
    types = "types"
    all = "all"


class Kind(StrEnum):
    depends_on = "depends_on"
    runs_on = "runs_on"
    part_of = "part_of"
    connects_to = "connects_to"


def find_item(api: Api, ref: str, type_code: str | None = None) -> dict[str, Any]:
    """The item an id or a name stands for (its list row); a refusal when none or several."""
    if ref.isascii() and ref.isdigit():
        return api.get(f"/cmdb/items/{ref}")
    rows = api.get("/cmdb/items", q=ref, type=type_code, limit=500)["items"]
    exact = [row for row in rows if row["name"] == ref]
    if not exact:
        fail(_("There is no configuration item named '%s'.") % ref)
    if len(exact) > 1:
        fail(
            _("Several items are named '%(name)s' (types: %(types)s): add --type.")
            % {"name": ref, "types": ", ".join(sorted(row["type"] for row in exact))},
            code=ExitCode.USAGE,
        )
    return exact[0]


@ci_app.command("list")
def ci_list(
    type_code: Annotated[str | None, typer.Option("--type", help=_("Item type code."))] = None,
    team: Annotated[str | None, typer.Option("--team", help=_("Owner team code."))] = None,
    environment: Annotated[str | None, typer.Option("--env", help=_("Environment code."))] = None,
    status: Annotated[
        str | None, typer.Option(help=_("planned, active, maintenance or retired."))
    ] = None,
    application: Annotated[str | None, typer.Option("--app", help=_("Application code."))] = None,
    search: Annotated[str | None, typer.Option("--search", help=_("Text in the name."))] = None,
    every: Annotated[bool, typer.Option("--all", help=_("Fetch every page."))] = False,
    as_json: JsonOption = False,
) -> None:
    """List configuration items, by name (the first 100 unless --all)."""
    filters = {
        "type": type_code,
        "owner_team": team,
        "environment": environment,
        "status": status,
        "application": application,
        "q": search,
    }
    rows: list[dict[str, Any]] = []
    more = False
    with Api.from_login() as api:
        cursor = None
        while True:
            page = api.get("/cmdb/items", **filters, limit=100, cursor=cursor)
            rows.extend(page["items"])
            cursor = page["next"]
            if not cursor or not every:
                more = bool(cursor)
                break
    if as_json:
        print_json(rows)
        return
    table = new_table(pad_edge=False)
    for column in (_("Id"), _("Type"), _("Name"), _("Team"), _("Env"), _("App"), _("Status")):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["type"],
            escape(row["name"]),
            row["owner_team"] or "-",
            row["environment"] or "-",
            row["application"] or "-",
            row["status"],
        )
    if rows:
        out.print(table)
    say(_("%d item(s).") % len(rows) if rows else _("No items."), style="dim")
    if more:
        say(_("More items: add --all to fetch every page."), style="dim")


@ci_app.command("show")
def ci_show(ref: ItemRef, type_code: TypeOption = None, as_json: JsonOption = False) -> None:
    """Show an item: its fields, relationships both ways and deployed versions."""
    with Api.from_login() as api:
        item = api.get(f"/cmdb/items/{find_item(api, ref, type_code)['id']}")
    if as_json:
        print_json(item)
        return
    out.print(f"[bold]#{item['id']} {escape(item['name'])}[/bold]  ({item['type']})")
    facts = new_table(show_header=False, box=None, pad_edge=False)
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column(overflow="fold")
    facts.add_row(_("Status"), item["status"])
    facts.add_row(_("Owner team"), item["owner_team"] or "-")
    facts.add_row(_("Environment"), item["environment"] or "-")
    facts.add_row(_("Application"), item["application"] or "-")
    if item["description"]:
        facts.add_row(_("Description"), escape(item["description"]))
    for key, value in item["attributes"].items():
        facts.add_row(escape(key), escape(json.dumps(value, ensure_ascii=False)))
    out.print(facts)
    related = [(_("←"), r) for r in item["depends_on_this"]] + [
        (_("→"), r) for r in item["this_depends_on"]
    ]
    if related:
        out.print(f"\n[bold]{_('Relationships')}[/bold]")
        table = new_table(pad_edge=False)
        for column in ("", _("Kind"), _("Item"), _("Type"), _("Relationship id")):
            table.add_column(column, overflow="fold")
        for arrow, r in related:
            table.add_row(arrow, r["kind"], escape(r["item"]), r["item_type"], str(r["id"]))
        out.print(table)
    if item["history"]:
        out.print(f"\n[bold]{_('Deployed versions')}[/bold]")
        table = new_table(pad_edge=False)
        for column in (_("App"), _("Version"), _("Installed"), _("Removed"), _("Release")):
            table.add_column(column, overflow="fold")
        table.add_column(_("Before"), overflow="fold")
        for v in item["history"]:
            table.add_row(
                v["application"],
                v["version"],
                when(v["installed"]),
                when(v["removed"]) or _("current"),
                v["release"] or "-",
                v["previous_version"] or "-",
            )
        out.print(table)


def _attributes(pairs: list[str] | None, text: str | None) -> dict[str, Any]:
    """--attributes JSON, then each --attr key=value (a value read as JSON when it is)."""
    found: dict[str, Any] = {}
    if text:
        try:
            found = json.loads(text)
        except ValueError as exc:
            fail(_("--attributes: not JSON (%s).") % exc, code=ExitCode.USAGE)
        if not isinstance(found, dict):
            fail(_("--attributes: a JSON object is expected."), code=ExitCode.USAGE)
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(_("--attr: use key=value, not '%s'.") % pair, code=ExitCode.USAGE)
        try:
            found[key.strip()] = json.loads(value)
        except ValueError:
            found[key.strip()] = value
    return found


@ci_app.command("add")
def ci_add(
    type_code: Annotated[str, typer.Argument(metavar="TYPE", help=_("Item type code."))],
    name: Annotated[str, typer.Argument(help=_("The item's name (unique in its type)."))],
    description: Annotated[str, typer.Option(help=_("Description."))] = "",
    team: Annotated[str | None, typer.Option("--team", help=_("Owner team code."))] = None,
    environment: Annotated[str | None, typer.Option("--env", help=_("Environment code."))] = None,
    application: Annotated[str | None, typer.Option("--app", help=_("Application code."))] = None,
    status: Annotated[str, typer.Option(help=_("planned, active or maintenance."))] = "active",
    attr: Annotated[
        list[str] | None,
        typer.Option(metavar="KEY=VALUE", help=_("An attribute (repeat for more), e.g. cpu=8.")),
    ] = None,
    attributes: Annotated[
        str | None, typer.Option(help=_("Every attribute as a JSON object."))
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a configuration item; its attributes must satisfy its type's schema."""
    payload = {
        "type": type_code,
        "name": name,
        "description": description,
        "owner_team": team,
        "environment": environment,
        "application": application,
        "status": status,
        "attributes": _attributes(attr, attributes),
    }
    with Api.from_login() as api:
        item = api.post("/cmdb/items", {k: v for k, v in payload.items() if v is not None})
    if as_json:
        print_json(item)
        return
    say(_("Item %(id)d '%(name)s' (%(type)s) added.") % item)


@ci_app.command("relate")
def ci_relate(
    source: Annotated[str, typer.Argument(help=_("The item that depends (name or id)."))],
    kind: Annotated[Kind, typer.Argument(help=_("depends_on, runs_on, part_of, connects_to."))],
    target: Annotated[str, typer.Argument(help=_("The item it depends on (name or id)."))],
    source_type: Annotated[str | None, typer.Option(help=_("The source's type code."))] = None,
    target_type: Annotated[str | None, typer.Option(help=_("The target's type code."))] = None,
) -> None:
    """Record that SOURCE depends on / runs on / is part of / connects to TARGET."""
    with Api.from_login() as api:
        src = find_item(api, source, source_type)
        dst = find_item(api, target, target_type)
        rel = api.post(
            "/cmdb/relationships", {"source": src["id"], "kind": kind.value, "target": dst["id"]}
        )
    say(
        _("%(source)s %(kind)s %(target)s (relationship %(id)d).")
        % {
            "source": rel["source_name"],
            "kind": rel["kind"],
            "target": rel["target_name"],
            "id": rel["id"],
        }
    )


@ci_app.command("import")
def ci_import(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=_("CSV or JSON."))
    ],
    what: Annotated[
        str | None,
        typer.Option(help=_("What a CSV file holds: items, relationships or types.")),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=_("Check every row, write nothing."))
    ] = False,
) -> None:
    """Import a CMDB file: nothing is written unless every row is right; the problems are
    listed by line and field. Items are matched by type and name."""
    if what is None and file.suffix.lower() == ".csv":
        what = "items"
    data: dict[str, str] = {"dry_run": "true" if dry_run else "false"}
    if what:
        data["what"] = what
    with Api.from_login() as api, file.open("rb") as handle:
        report = api.post("/cmdb/import", data=data, files={"file": (file.name, handle)})
    words = _("Checked (nothing written):") if report["dry_run"] else _("Imported:")
    say(f"{words} {file.name} (sha256 {report['sha256']})")
    for section in ("types", "items", "relationships"):
        counts = report[section]
        if any(counts.values()):
            say(
                "  "
                + _("%(what)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged")
                % {"what": section, **counts}
            )


@ci_app.command("export")
def ci_export(
    format: Annotated[Format, typer.Option("--format", help=_("csv or json."))] = Format.csv,
    what: Annotated[
        What, typer.Option(help=_("items, relationships, types, or all (JSON only)."))
    ] = What.items,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help=_("Write to this file (stdout)."))
    ] = None,
) -> None:
    """Export the CMDB; the file imports again as it is."""
    with Api.from_login() as api:
        try:
            response = api.client.get(
                "/cmdb/export", params={"format": format.value, "what": what.value}
            )
        except httpx.HTTPError as exc:
            fail(
                _("Cannot reach the relman server at %(url)s: %(error)s")
                % {"url": api.url, "error": exc},
                code=ExitCode.UNREACHABLE,
            )
        if not response.is_success:
            api._answer(response)
    if output is None:
        typer.echo(response.text, nl=False)
        return
    output.write_bytes(response.content)
    say(_("Wrote %(path)s (%(size)d bytes).") % {"path": output, "size": len(response.content)})


@ci_app.command("impact")
def ci_impact(
    ref: ItemRef,
    depth: Annotated[int, typer.Option(min=1, max=10, help=_("Most hops to follow."))] = 5,
    type_code: TypeOption = None,
    as_json: JsonOption = False,
) -> None:
    """What a change to an item affects: each item with the path that explains it."""
    with Api.from_login() as api:
        item = find_item(api, ref, type_code)
        answer = api.get(f"/cmdb/items/{item['id']}/impact", depth=depth)
    if as_json:
        print_json(answer)
        return
    rows = answer["affected"]
    if not rows:
        say(_("A change to %s affects nothing else.") % answer["item"], style="green")
        return
    table = new_table(pad_edge=False)
    for column in (_("Item"), _("Type"), _("Service"), _("Team"), _("Hops")):
        table.add_column(column, overflow="fold")
    table.add_column(_("Path"), ratio=3, overflow="fold")
    for row in rows:
        table.add_row(
            escape(row["name"]),
            row["type"],
            _("yes") if row["is_service"] else "",
            escape(row["owner_team"] or "-"),
            str(row["depth"]),
            escape(" → ".join(row["path_names"])),
        )
    out.print(table)
    services = sum(1 for row in rows if row["is_service"])
    say(
        _("%(count)d item(s) affected, %(services)d service(s).")
        % {"count": len(rows), "services": services},
        style="dim",
    )
