"""API client commands for reports: `relman report kpi` prints a period's KPIs and DORA keys
as the server computes them (`GET /api/v1/reports/kpi`), the same numbers as the API."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from relman.cli.client import Api
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, new_table, out
from relman.cli.releases import JsonOption, print_json

report_app = typer.Typer(
    help=_(
        "Reports: the KPIs and DORA keys of a quarter, a month or a range of dates, and the "
        "documents made from the record."
    ),
    no_args_is_help=True,
)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def _number(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def _rate(rate: dict[str, Any]) -> str:
    return f"{_percent(rate['value'])} ({rate['numerator']}/{rate['denominator']})"


def kpi_lines(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The answer as (figure, value) rows, in the order of the dashboard."""
    outcomes, dora = data["outcomes"], data["dora"]
    lead = data["lead_time"]
    hours = _("h")
    rows = [
        (_("Releases closed"), str(data["closed"])),
        (_("Succeeded"), str(outcomes["succeeded"])),
        (_("Failed"), str(outcomes["failed"])),
        (_("Rolled back"), str(outcomes["rolled_back"])),
        (_("Cancelled"), str(outcomes["cancelled"])),
        (_("Release success rate"), _rate(data["success_rate"])),
        *((_("Kind: %s") % kind, str(n)) for kind, n in data["by_kind"].items()),
        (_("Emergency share"), _rate(data["emergency_share"])),
        (_("Rollback rate"), _rate(data["rollback_rate"])),
        (_("On-time rate"), _rate(data["on_time_rate"])),
        (_("Lead time, mean"), _number(lead["mean_hours"], hours)),
        (_("Lead time, median"), _number(lead["median_hours"], hours)),
        (_("Lead time, 90th percentile"), _number(lead["p90_hours"], hours)),
    ]

    def band(key: str) -> str:
        value = dora[key]["band"]
        return f" [{value}]" if value else ""

    frequency = dora["deployment_frequency"]
    rows += [
        (
            _("Deployment frequency (per week)"),
            _number(frequency["value"]) + band("deployment_frequency"),
        ),
        (
            _("Lead time for changes, median"),
            _number(dora["lead_time_for_changes"]["median_hours"], hours)
            + band("lead_time_for_changes"),
        ),
        (
            _("Change failure rate"),
            _rate(dora["change_failure_rate"]) + band("change_failure_rate"),
        ),
        (
            _("Time to restore, median"),
            _number(dora["time_to_restore"]["median_hours"], hours) + band("time_to_restore"),
        ),
    ]
    return rows


@report_app.command("kpi")
def report_kpi(
    quarter: Annotated[
        str | None, typer.Option("--quarter", help=_("A quarter, such as 2026Q3."))
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", help=_("A month, such as 2026-07."))
    ] = None,
    first: Annotated[
        str | None, typer.Option("--from", help=_("First day of a custom period (YYYY-MM-DD)."))
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help=_("Last day of a custom period (YYYY-MM-DD)."))
    ] = None,
    application: Annotated[str | None, typer.Option("--app", help=_("Application code."))] = None,
    team: Annotated[
        str | None, typer.Option("--team", help=_("The requester's team code."))
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help=_("Release kind."))] = None,
    method: Annotated[str | None, typer.Option("--method", help=_("planned or emergency."))] = None,
    release_class: Annotated[
        str | None, typer.Option("--class", help=_("minor, standard or major."))
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print a period's KPIs and DORA keys (the current quarter when none is given), over the
    releases you may see."""
    if quarter and month:
        fail(_("Give --quarter or --month, not both."), code=ExitCode.USAGE)
    params = {
        "period": quarter or month,
        "from": first,
        "to": last,
        "application": application,
        "team": team,
        "kind": kind,
        "method": method,
        "class": release_class,
    }
    with Api.from_login() as api:
        data = api.get("/reports/kpi", **params)
    if as_json:
        print_json(data)
        return
    period = data["period"]
    start = date.fromisoformat(period["start"][:10])
    title = _("KPIs of %(period)s (from %(start)s)") % {"period": period["key"], "start": start}
    if data["filters"]:
        title += " · " + ", ".join(f"{k}={v}" for k, v in data["filters"].items())
    table = new_table(title, pad_edge=False)
    table.add_column(_("Figure"))
    table.add_column(_("Value"), justify="right")
    for name, value in kpi_lines(data):
        table.add_row(escape(name), escape(value))
    out.print(table)
    out.print(data["success_rate"]["formula"] + ". " + data["success_rate"]["counts"])


FormatOption = Annotated[str, typer.Option("--format", help=_("pdf, xlsx or md."))]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help=_("The file to write (default: its name)."))
]
LanguageOption = Annotated[
    str | None, typer.Option("--language", help=_("en or zh-hans (default: your profile's)."))
]


def _save(content: bytes, output: Path | None, default: str) -> None:
    target = output or Path(default)
    target.write_bytes(content)
    out.print(_("Wrote %(file)s (%(size)d bytes).") % {"file": target, "size": len(content)})


@report_app.command("release")
def report_release(
    ref: Annotated[str, typer.Argument(help=_("Release number, such as REL-2026-0001."))],
    document: Annotated[
        str,
        typer.Option(
            "--document",
            help=_(
                "release_report, task_request, release_plan, release_evaluation or delivery_list."
            ),
        ),
    ] = "release_report",
    fmt: FormatOption = "pdf",
    output: OutputOption = None,
    language: LanguageOption = None,
) -> None:
    """Write a document of a release you may see."""
    with Api.from_login() as api:
        content = api.download(
            f"/reports/releases/{ref}/documents/{document}.{fmt}", language=language
        )
    _save(content, output, f"{ref}-{document}.{fmt}")


@report_app.command("quarter")
def report_quarter(
    quarter: Annotated[str, typer.Argument(help=_("A quarter, such as 2026Q3."))],
    fmt: FormatOption = "pdf",
    output: OutputOption = None,
    language: LanguageOption = None,
) -> None:
    """Write the quarterly release analysis report (seed 003) over the releases you may see."""
    with Api.from_login() as api:
        content = api.download(f"/reports/quarters/{quarter}/analysis.{fmt}", language=language)
    _save(content, output, f"{quarter}-quarterly_analysis.{fmt}")


@report_app.command("statistics")
def report_statistics(
    period: Annotated[str, typer.Argument(help=_("A quarter (2026Q3) or a month (2026-07)."))],
    fmt: FormatOption = "xlsx",
    output: OutputOption = None,
    language: LanguageOption = None,
) -> None:
    """Write the release statistics of a period (seed 001) over the releases you may see."""
    with Api.from_login() as api:
        content = api.download(f"/reports/periods/{period}/statistics.{fmt}", language=language)
    _save(content, output, f"{period}-release_statistics.{fmt}")
