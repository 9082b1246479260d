"""API client commands of approvers: the inbox, approve, reject, and delegation while away.

relman approvals                      what waits for my decision
relman approve REL-2026-0042 --check plan_reviewed --comment "Looks good"
relman reject REL-2026-0042 --comment "The backout plan is missing"
relman delegate bob --from 2026-03-02 --until 2026-03-06 --reason "Holiday"
relman delegations [--revoke ID]
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape

from relman.cli.client import Api
from relman.cli.clock import when, zone
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, new_table, out, say
from relman.cli.releases import JsonOption, Number, _listing, print_json

Step = Annotated[
    str,
    typer.Option("--step", help=_("The step's key; may be left out when one step is open to you.")),
]
For = Annotated[
    str,
    typer.Option(
        "--for",
        help=_("Decide for this user, whom you stand in for by a delegation."),
        show_default=False,
    ),
]


# ---------------------------------------------------------------- the inbox


def _detail(item: dict[str, Any]) -> None:
    """Print one step of the inbox with what is being approved."""
    head = f"{item['step_label']}, {item['stage_label']}"
    if item["on_behalf_of"]:
        head += ", " + _("for %s") % item["on_behalf_of"]
    out.print(
        f"\n[bold]{escape(item['release'])}[/bold]  {escape(item['title'])}  "
        f"[dim]({escape(head)})[/dim]"
    )
    rows = []
    for deliverable in item["deliverables"]:
        mark = "*" if deliverable["required"] else " "
        if deliverable["version"] is None:
            text = f"[red]{escape(deliverable['label'])}: {escape(_('not uploaded yet'))}[/red]"
        else:
            where = deliverable["filename"] or deliverable["url"]
            text = escape(
                f"{deliverable['label']}: v{deliverable['version']} {where}"
                + (f"  sha256 {deliverable['sha256']}" if deliverable["sha256"] else "")
            )
        rows.append((mark, text))
    if rows:
        out.print(_("Deliverables (* needed before deciding):"))
        out.print(_listing(rows))
    if item["checks"]:
        out.print(_("Confirm with --check:"))
        out.print(_listing([("☐", escape(f"{c['key']}: {c['label']}")) for c in item["checks"]]))
    if item["earlier"]:
        out.print(_("Earlier decisions:"))
        lines = []
        for decision in item["earlier"]:
            who = decision["approver"]
            if decision["on_behalf_of"]:
                who += " " + _("for %s") % decision["on_behalf_of"]
            text = f"{decision['decision']} {decision['stage']}/{decision['step']} {who}"
            if decision["comment"]:
                text += f" — {decision['comment']}"
            lines.append(("•", escape(f"{when(decision['created'])} {text}")))
        out.print(_listing(lines))


def approvals_list(
    details: Annotated[
        bool,
        typer.Option(
            "--details", "-d", help=_("Also show deliverables, checks and earlier decisions.")
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List the approval steps waiting for your decision, oldest first."""
    with Api.from_login() as api:
        items = api.get("/approvals/inbox")
    if as_json:
        print_json(items)
        return
    if not items:
        say(_("Nothing waits for your decision."), style="dim")
        return
    table = new_table(pad_edge=False)
    table.add_column(_("Release"), no_wrap=True)
    table.add_column(_("Title"), ratio=3, min_width=16, overflow="fold")
    table.add_column(_("App"), no_wrap=True)
    table.add_column(_("Risk"), no_wrap=True)
    table.add_column(_("Step"), ratio=2, min_width=12, overflow="fold")
    table.add_column(_("For"), no_wrap=True)
    table.add_column(_("Deliverables"), no_wrap=True)
    table.add_column(_("Window"), no_wrap=True)
    table.add_column(_("Since"), no_wrap=True)
    table.add_column(_("Expires"), no_wrap=True)
    for item in items:
        present = sum(1 for d in item["deliverables"] if d["version"] is not None)
        window = item["window"]
        expires = when(item["expires"])
        if item["escalated"]:
            expires = f"[red]{escape(expires)} {escape(_('escalated'))}[/red]"
        table.add_row(
            escape(item["release"]),
            escape(item["title"]),
            escape(item["application"]),
            escape(item["risk"]),
            escape(f"{item['step_label']} ({item['step']})" + (" · CAB" if item["cab"] else "")),
            escape(item["on_behalf_of"] or ""),
            f"{present}/{len(item['deliverables'])}" if item["deliverables"] else "",
            escape(when(window["start"])) if window else "",
            escape(when(item["opened"])),
            expires,
        )
    out.print(table)
    if details:
        for item in items:
            _detail(item)
    say(_("%d step(s) wait for your decision.") % len(items), style="dim")


# ---------------------------------------------------------------- deciding


def _decided(approval: dict[str, Any], number: str) -> str:
    words = {
        "approved": _("Approved step %(step)s of %(number)s"),
        "rejected": _("Rejected step %(step)s of %(number)s"),
    }
    text = words.get(approval["decision"], words["approved"]) % {
        "step": approval["step"],
        "number": number,
    }
    if approval.get("on_behalf_of"):
        text += " " + _("for %s") % approval["on_behalf_of"]
    return text + "."


def approve(
    number: Number,
    step: Step = "",
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help=_("A checklist item of the step you confirm; repeat it for each one."),
            show_default=False,
        ),
    ] = None,
    comment: Annotated[str, typer.Option(help=_("A comment kept with the decision."))] = "",
    on_behalf_of: For = "",
    as_json: JsonOption = False,
) -> None:
    """Approve a step of a release's current stage (see `relman approvals`)."""
    payload = {
        "step": step,
        "comment": comment,
        "checks": check or [],
        "on_behalf_of": on_behalf_of,
    }
    with Api.from_login() as api:
        approval = api.post(f"/releases/{number}/approvals", payload)
    if as_json:
        print_json(approval)
        return
    say(_decided(approval, number), style="green")


def reject(
    number: Number,
    comment: Annotated[
        str, typer.Option(help=_("Why it is rejected (required); the requester reads it."))
    ],
    step: Step = "",
    on_behalf_of: For = "",
    as_json: JsonOption = False,
) -> None:
    """Reject a step: the release goes back to the stage its policy names."""
    if not comment.strip():
        fail(_("A rejection needs a reason: give --comment."), code=ExitCode.USAGE)
    payload = {"step": step, "comment": comment, "checks": [], "on_behalf_of": on_behalf_of}
    with Api.from_login() as api:
        approval = api.post(f"/releases/{number}/rejections", payload)
        if not as_json:
            release = api.get(f"/releases/{number}")
    if as_json:
        print_json(approval)
        return
    say(_decided(approval, number), style="green")
    say(_("%(number)s is back in stage %(stage)s.") % {"number": number, "stage": release["stage"]})


# ---------------------------------------------------------------- delegation


def _moment(value: str, option: str, *, end: bool = False) -> str:
    """An ISO date-time for the API from what the user typed: a date-time (in the user's
    zone, see `clock.zone`, when no offset is given) or a date (its start; for --until, the
    end of that day)."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        fail(
            _(
                "%(option)s: '%(value)s' is not a date or date-time (e.g. 2026-03-02 or 2026-03-02T09:00)."
            )
            % {"option": option, "value": value},
            code=ExitCode.USAGE,
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    return moment.isoformat()


def delegate(
    username: Annotated[str, typer.Argument(help=_("Who stands in for you (username)."))],
    until: Annotated[
        str,
        typer.Option("--until", help=_("Until when: a date (the whole day) or an ISO date-time.")),
    ],
    starts: Annotated[
        str,
        typer.Option(
            "--from",
            help=_("From when: a date or an ISO date-time; default: now."),
            show_default=False,
        ),
    ] = "",
    reason: Annotated[str, typer.Option(help=_("Why, e.g. 'Holiday'."))] = "",
    delegator: Annotated[
        str,
        typer.Option(
            "--for",
            help=_("Who is away, when not you (administrators only)."),
            show_default=False,
        ),
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Have someone decide your approval steps while you are away."""
    payload = {
        "delegate": username,
        "starts": _moment(starts, "--from") if starts else datetime.now().astimezone().isoformat(),
        "ends": _moment(until, "--until", end=True),
        "reason": reason,
        "delegator": delegator,
    }
    with Api.from_login() as api:
        made = api.post("/approvals/delegations", payload)
    if as_json:
        print_json(made)
        return
    say(
        _(
            "%(delegate)s stands in for %(delegator)s from %(starts)s until %(ends)s (delegation %(id)d)."
        )
        % {
            "delegate": made["delegate"],
            "delegator": made["delegator"],
            "starts": when(made["starts"]),
            "ends": when(made["ends"]),
            "id": made["id"],
        },
        style="green",
    )


def _state(row: dict[str, Any]) -> str:
    if row["revoked"]:
        return _("revoked")
    if row["active"]:
        return _("in force")
    if datetime.fromisoformat(row["ends"]) <= datetime.now().astimezone():
        return _("ended")
    return _("coming")


def delegations_list(
    revoke: Annotated[
        int | None,
        typer.Option(
            help=_("Revoke this delegation (its id) instead of listing."), show_default=False
        ),
    ] = None,
    include_ended: Annotated[
        bool, typer.Option("--all", help=_("Include ended and revoked delegations."))
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List your delegations (given and received), or revoke one with --revoke ID."""
    with Api.from_login() as api:
        if revoke is not None:
            revoked = api.call("DELETE", f"/approvals/delegations/{revoke}")
            if as_json:
                print_json(revoked)
            else:
                say(
                    _("Delegation %(id)d to %(delegate)s is revoked.")
                    % {"id": revoked["id"], "delegate": revoked["delegate"]},
                    style="green",
                )
            return
        found = api.get("/approvals/delegations", all=str(include_ended).lower())
    if as_json:
        print_json(found)
        return
    if not found["given"] and not found["received"]:
        say(_("No delegations."), style="dim")
        return
    table = new_table(pad_edge=False)
    table.add_column(_("Id"), no_wrap=True)
    table.add_column(_("Away"), no_wrap=True)
    table.add_column(_("Stands in"), no_wrap=True)
    table.add_column(_("From"), no_wrap=True)
    table.add_column(_("Until"), no_wrap=True)
    table.add_column(_("State"), no_wrap=True)
    table.add_column(_("Reason"), overflow="fold")
    for row in [*found["given"], *found["received"]]:
        state = _state(row)
        table.add_row(
            str(row["id"]),
            escape(row["delegator"]),
            escape(row["delegate"]),
            escape(when(row["starts"])),
            escape(when(row["ends"])),
            state,
            escape(row["reason"]),
        )
    out.print(table)


def register(app: typer.Typer, panel: str, epilog: str) -> None:
    """Add the approver's commands to the `relman` command, in the client commands' panel."""
    app.command("approvals", rich_help_panel=panel, epilog=epilog)(approvals_list)
    app.command("approve", rich_help_panel=panel, epilog=epilog)(approve)
    app.command("reject", rich_help_panel=panel, epilog=epilog)(reject)
    app.command("delegate", rich_help_panel=panel, epilog=epilog)(delegate)
    app.command("delegations", rich_help_panel=panel, epilog=epilog)(delegations_list)
