"""API client commands for releases: list, show, request, and their lifecycle actions.

Each action reads the release first to learn its `revision` and sends it back, so a change
made meanwhile by someone else is refused (exit 4) instead of overwritten.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from relman.cli.client import Api
from relman.cli.clock import when
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, new_table, note, out, say
from relman.processes.definition import CLASSES, KINDS, METHODS

Kind = Enum("Kind", {k: k for k in KINDS}, type=str)
Method = Enum("Method", {m: m for m in METHODS}, type=str)
ReleaseClass = Enum("ReleaseClass", {c: c for c in CLASSES}, type=str)

release_app = typer.Typer(
    help=_("Releases: list, show, request, and move them through their process."),
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help=_("Print the server's JSON."))]
Number = Annotated[str, typer.Argument(help=_("The release number, e.g. REL-2025-0001."))]


def print_json(data: Any) -> None:
    """Print data as indented JSON (non-ASCII kept), for scripts."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


# ---------------------------------------------------------------- reading


@release_app.command("list")
def release_list(
    status: Annotated[
        str | None, typer.Option(help=_("in_progress or closed."), show_default=False)
    ] = None,
    stage: Annotated[str | None, typer.Option(help=_("Stage key."))] = None,
    kind: Annotated[Kind | None, typer.Option(help=_("Kind of release."))] = None,
    method: Annotated[Method | None, typer.Option(help=_("Planned or emergency."))] = None,
    release_class: Annotated[
        ReleaseClass | None, typer.Option("--class", help=_("Class of release."))
    ] = None,
    app: Annotated[str | None, typer.Option("--app", help=_("Application code."))] = None,
    q: Annotated[
        str | None, typer.Option("--q", help=_("Text in number, title or version."))
    ] = None,
    limit: Annotated[int, typer.Option(help=_("Releases per page."), min=1, max=500)] = 50,
    all_pages: Annotated[
        bool, typer.Option("--all", help=_("Fetch every page, not only the first."))
    ] = False,
    wide: Annotated[
        bool, typer.Option("--wide", help=_("Also show kind, method, class, requester and date."))
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List the releases you may see, newest first."""
    params: dict[str, Any] = {
        "status": status,
        "stage": stage,
        "kind": kind.value if kind else None,
        "method": method.value if method else None,
        "release_class": release_class.value if release_class else None,
        "application": app,
        "q": q,
        "limit": limit,
    }
    rows: list[dict[str, Any]] = []
    with Api.from_login() as api:
        cursor = None
        while True:
            page = api.get("/releases", **params, cursor=cursor)
            rows += page["items"]
            cursor = page.get("next")
            if not cursor or not all_pages:
                break
    if as_json:
        print_json(rows)
        if cursor:
            note(_("More releases: add --all to fetch every page."))
        return
    table = new_table(pad_edge=False)
    table.add_column(_("Number"), no_wrap=True)
    table.add_column(_("Title"), ratio=3, min_width=16, overflow="fold")
    table.add_column(_("App"), no_wrap=True)
    if wide:
        table.add_column(_("Kind/method/class"), no_wrap=True)
        table.add_column(_("Requester"), no_wrap=True)
    table.add_column(_("Stage"), ratio=2, min_width=12, overflow="fold")
    table.add_column(_("Status"), no_wrap=True)
    if wide:
        table.add_column(_("Created"), no_wrap=True)
    for row in rows:
        status = row["outcome"] if row["status"] == "closed" and row["outcome"] else row["status"]
        cells = [row["number"], escape(row["title"]), row["application"]]
        if wide:
            cells += [f"{row['kind']}/{row['method']}/{row['release_class']}", row["requester"]]
        cells += [row["stage"], status]
        if wide:
            cells.append(row["created"][:10])
        table.add_row(*cells)
    if rows:
        # --wide means wide: rather long lines than columns squeezed out of sight.
        console = Console(width=max(out.width, 160), highlight=False) if wide else out
        console.print(table)
    say(_("%d release(s).") % len(rows) if rows else _("No releases match."), style="dim")
    if cursor:
        say(_("More releases: add --all to fetch every page."), style="dim")


def _listing(rows: list[tuple[str, str]]) -> Padding:
    """Marked lines whose wrapped text stays indented under its first line."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for mark, text in rows:
        grid.add_row(mark, text)
    return Padding(grid, (0, 0, 0, 2))


def _show(release: dict[str, Any]) -> None:
    """Print a release's detail, where it stands and what may be done."""
    closed = release["status"] == "closed"
    out.print(f"[bold]{escape(release['number'])}[/bold]  {escape(release['title'])}")
    status = release["status"]
    if closed and release.get("outcome"):
        status = f"{status} ({release['outcome']})"
    planned = " → ".join(
        filter(None, [when(release.get("planned_start")), when(release.get("planned_end"))])
    )
    fields = [
        (_("Application"), release["application"]),
        (_("Kind"), f"{release['kind']} · {release['method']} · {release['release_class']}"),
        (_("Status"), status),
        (_("Stage"), release["stage"]),
        (_("Risk"), release["risk"]),
        (_("Version"), release.get("version_number") or ""),
        (_("Requester"), release["requester"]),
        (_("Release manager"), release.get("release_manager") or ""),
        (_("Environment"), release.get("environment") or ""),
        (
            _("Process"),
            f"{release['process']} v{release['process_version']} ({release['variant']})",
        ),
        (_("Planned time"), planned),
        (_("Revision"), str(release["revision"])),
    ]
    table = new_table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in fields:
        if value:
            table.add_row(label, escape(str(value)))
    out.print(table)

    marks = {"done": "[green]✓[/green]", "current": "[yellow]▶[/yellow]", "skipped": "[dim]–[/dim]"}
    here = _("ended here") if closed else _("current")
    rows = []
    for stage in release["stages"]:
        text = escape(f"{stage['label']} ({stage['key']})")
        if stage["state"] == "current":
            text = f"[bold]{text}[/bold]  [yellow]← {here}[/yellow]"
        elif stage["state"] != "done":
            text = f"[dim]{text}[/dim]"
        rows.append((marks.get(stage["state"], "[dim]·[/dim]"), text))
    out.print(f"\n[bold]{_('Stages')}[/bold]")
    out.print(_listing(rows))

    if release["gate"]:
        rows = []
        for item in release["gate"]:
            count = f" {item['have']}/{item['needed']}" if item.get("needed") else ""
            rows.append(
                (
                    "[green]✓[/green]" if item["met"] else "[red]✗[/red]",
                    escape(f"{item['kind']}: {item['label']}{count} ({item['key']})"),
                )
            )
        out.print(f"\n[bold]{_('Gate to leave this stage')}[/bold]")
        out.print(_listing(rows))
    if release["unmet"]:
        out.print(f"\n[bold]{_('Not met yet')}[/bold]")
        out.print(_listing([("[red]•[/red]", escape(s)) for s in release["unmet"]]))
    if release["actions"]:
        unmet = set(release["unmet"])
        rows = []
        for action in release["actions"]:
            name = action["action"]
            if action.get("targets"):
                name += f" → {', '.join(action['targets'])}"
            if action["allowed"]:
                rows.append(("[green]✓[/green]", f"[green]{escape(name)}[/green]"))
                continue
            reasons = [r for r in action["reasons"] if r not in unmet]
            if len(reasons) < len(action["reasons"]):
                reasons.append(_("The gate is not met (see above)."))
            rows.append(("[dim]✗[/dim]", f"[dim]{escape(name)}: {escape(' '.join(reasons))}[/dim]"))
        out.print(f"\n[bold]{_('What you may do')}[/bold]")
        out.print(_listing(rows))
    if release.get("decidable_steps"):
        steps = ", ".join(d["step"] for d in release["decidable_steps"])
        out.print("\n" + escape(_("You may decide these approval steps: %s") % steps))


@release_app.command("show")
def release_show(number: Number, as_json: JsonOption = False) -> None:
    """Show a release: its details, stages (current marked), unmet gate and allowed actions."""
    with Api.from_login() as api:
        release = api.get(f"/releases/{number}")
    if as_json:
        print_json(release)
    else:
        _show(release)


# ---------------------------------------------------------------- changing


@release_app.command("create")
def release_create(
    app: Annotated[str, typer.Option("--app", help=_("Application code."))],
    title: Annotated[str, typer.Option(help=_("What the release delivers."))],
    kind: Annotated[Kind, typer.Option(help=_("Kind of release."))],
    method: Annotated[Method, typer.Option(help=_("Planned or emergency."))] = Method.planned,
    release_class: Annotated[
        ReleaseClass, typer.Option("--class", help=_("Class of release."))
    ] = ReleaseClass.standard,
    version: Annotated[str | None, typer.Option(help=_("Version number delivered."))] = None,
    risk: Annotated[str | None, typer.Option(help=_("low, medium, high or critical."))] = None,
    description: Annotated[str | None, typer.Option(help=_("Description."))] = None,
    scope: Annotated[str | None, typer.Option(help=_("Scope."))] = None,
    impact: Annotated[str | None, typer.Option(help=_("Impact on the business."))] = None,
    backout_plan: Annotated[str | None, typer.Option(help=_("How to back it out."))] = None,
    environment: Annotated[str | None, typer.Option(help=_("Target environment code."))] = None,
    release_manager: Annotated[
        str | None, typer.Option(help=_("Username of the release manager."))
    ] = None,
    planned_start: Annotated[
        str | None, typer.Option(help=_("ISO date-time, e.g. 2025-06-01T20:00+08:00."))
    ] = None,
    planned_end: Annotated[str | None, typer.Option(help=_("ISO date-time."))] = None,
    as_json: JsonOption = False,
) -> None:
    """Request a release. It starts in the first stage of its application's process."""
    payload = {
        "application": app,
        "title": title,
        "kind": kind.value,
        "method": method.value,
        "release_class": release_class.value,
        "version_number": version,
        "risk": risk,
        "description": description,
        "scope": scope,
        "impact": impact,
        "backout_plan": backout_plan,
        "environment": environment,
        "release_manager": release_manager,
        "planned_start": planned_start,
        "planned_end": planned_end,
    }
    with Api.from_login() as api:
        release = api.post("/releases", {k: v for k, v in payload.items() if v is not None})
    if as_json:
        print_json(release)
        return
    say(
        _("Requested %(number)s: %(title)s (stage %(stage)s).")
        % {"number": release["number"], "title": release["title"], "stage": release["stage"]},
        style="green",
    )


Revision = Annotated[
    int | None,
    typer.Option(
        help=_(
            "Act only if the release is still at this revision (from `release show`); "
            "default: the current one."
        ),
    ),
]


@release_app.command("edit")
def release_edit(
    number: Number,
    title: Annotated[str | None, typer.Option(help=_("What the release delivers."))] = None,
    version: Annotated[str | None, typer.Option(help=_("Version number delivered."))] = None,
    risk: Annotated[str | None, typer.Option(help=_("low, medium, high or critical."))] = None,
    description: Annotated[str | None, typer.Option(help=_("Description."))] = None,
    scope: Annotated[str | None, typer.Option(help=_("Scope."))] = None,
    impact: Annotated[str | None, typer.Option(help=_("Impact on the business."))] = None,
    backout_plan: Annotated[str | None, typer.Option(help=_("How to back it out."))] = None,
    environment: Annotated[str | None, typer.Option(help=_("Target environment code."))] = None,
    release_manager: Annotated[
        str | None, typer.Option(help=_("Username of the release manager."))
    ] = None,
    planned_start: Annotated[
        str | None, typer.Option(help=_("ISO date-time, e.g. 2025-06-01T20:00+08:00."))
    ] = None,
    planned_end: Annotated[str | None, typer.Option(help=_("ISO date-time."))] = None,
    revision: Revision = None,
    as_json: JsonOption = False,
) -> None:
    """Change an open release's details (only the options given); an empty value ("")
    clears a text field. Refused (exit 4) if someone changed the release meanwhile."""
    changes = {
        "title": title,
        "version_number": version,
        "risk": risk,
        "description": description,
        "scope": scope,
        "impact": impact,
        "backout_plan": backout_plan,
        "environment": environment,
        "release_manager": release_manager,
        "planned_start": planned_start,
        "planned_end": planned_end,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        fail(_("Nothing to change: give at least one option, e.g. --backout-plan."))
    with Api.from_login() as api:
        if revision is None:
            revision = api.get(f"/releases/{number}")["revision"]
        release = api.call("PATCH", f"/releases/{number}", json={"revision": revision, **changes})
    if as_json:
        print_json(release)
        return
    say(
        _("Updated %(number)s (revision %(revision)d): %(fields)s.")
        % {
            "number": release["number"],
            "revision": release["revision"],
            "fields": ", ".join(sorted(changes)),
        },
        style="green",
    )


def _act(number: str, action: str, revision: int | None, **fields: Any) -> dict[str, Any]:
    """Take a lifecycle action on a release at `revision` (default: its current one)."""
    with Api.from_login() as api:
        if revision is None:
            revision = api.get(f"/releases/{number}")["revision"]
        return api.post(f"/releases/{number}/actions/{action}", {"revision": revision, **fields})


def _where(release: dict[str, Any]) -> None:
    if release["status"] == "closed":
        say(
            _("%(number)s is closed (%(outcome)s).")
            % {"number": release["number"], "outcome": release["outcome"]},
            style="green",
        )
    else:
        current = next((s for s in release["stages"] if s["state"] == "current"), None)
        label = f"{current['label']} ({current['key']})" if current else release["stage"]
        say(
            _("%(number)s is now in stage %(stage)s.")
            % {"number": release["number"], "stage": label},
            style="green",
        )


@release_app.command("advance")
def release_advance(number: Number, revision: Revision = None) -> None:
    """Move a release to its next stage; refused (exit 1) with every unmet gate item."""
    _where(_act(number, "advance", revision))


@release_app.command("return")
def release_return(
    number: Number,
    to: Annotated[str, typer.Option("--to", help=_("The earlier stage's key."))],
    reason: Annotated[str, typer.Option(help=_("Why it goes back."))],
    revision: Revision = None,
) -> None:
    """Send a release back to an earlier stage (its later approvals and ticks are voided)."""
    _where(_act(number, "return", revision, target=to, reason=reason))


@release_app.command("rollback")
def release_rollback(
    number: Number,
    reason: Annotated[str, typer.Option(help=_("Why it is rolled back."))],
    revision: Revision = None,
) -> None:
    """Roll a release back, as its process says for the current stage."""
    _where(_act(number, "rollback", revision, reason=reason))


@release_app.command("cancel")
def release_cancel(
    number: Number,
    reason: Annotated[str, typer.Option(help=_("Why it is cancelled."))],
    revision: Revision = None,
) -> None:
    """Cancel a release."""
    _where(_act(number, "cancel", revision, reason=reason))


@release_app.command("close")
def release_close(
    number: Number,
    failed: Annotated[
        bool, typer.Option("--failed", help=_("Close it as failed (give --reason).'"))
    ] = False,
    reason: Annotated[str, typer.Option(help=_("Why (needed with --failed)."))] = "",
    revision: Revision = None,
) -> None:
    """Close a release from its last stage, as succeeded (default) or failed."""
    if failed and not reason.strip():
        fail(_("Closing as failed needs --reason."), code=ExitCode.USAGE)
    outcome = "failed" if failed else "succeeded"
    _where(_act(number, "close", revision, outcome=outcome, reason=reason))


@release_app.command("tick")
def release_tick(
    number: Number,
    item: Annotated[str, typer.Argument(help=_("The checklist item's key."))],
    note_text: Annotated[str, typer.Option("--note", help=_("A note kept with the tick."))] = "",
) -> None:
    """Tick a checklist item of the current stage."""
    with Api.from_login() as api:
        tick = api.post(f"/releases/{number}/checklist", {"item": item, "note": note_text})
    say(
        _("Ticked '%(item)s' of %(number)s, stage %(stage)s.")
        % {"item": tick["item"], "number": number, "stage": tick["stage"]},
        style="green",
    )
