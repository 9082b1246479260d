"""Server-side commands for the release calendar: windows, freezes, conflicts and the yearly
window plan. They run on the server as its administrator, like the other admin commands."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import typer

from relman.cli import calendar_feeds
from relman.cli.bootstrap import on_server
from relman.cli.i18n import _
from relman.cli.output import fail, new_table, out, say

calendar_app = typer.Typer(
    help=_("Release calendar: windows, freezes, conflicts and the yearly window plan."),
    no_args_is_help=True,
)
plan_app = typer.Typer(
    help=_("The yearly window plan: generate, show, strike, restore, publish."),
    no_args_is_help=True,
)
calendar_app.add_typer(plan_app, name="plan")

AppOption = Annotated[
    str | None, typer.Option("--app", "--application", help=_("Application code."))
]
EnvOption = Annotated[
    str | None, typer.Option("--env", "--environment", help=_("Environment code."))
]


def _moment(value: str, option: str, *, end_of_day: bool = False) -> datetime:
    """A date (midnight, in the server's zone) or a date and time; a usage error otherwise."""
    from django.utils import timezone

    try:
        if len(value.strip()) == 10:
            day = date.fromisoformat(value.strip())
            moment = datetime.combine(day + timedelta(days=1 if end_of_day else 0), time())
        else:
            moment = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(
            _("%(option)s: '%(value)s' is not a date (YYYY-MM-DD) or a date and time.")
            % {"option": option, "value": value},
            code=2,
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _span(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    from django.utils import timezone

    first = (
        _moment(start, "--from")
        if start
        else timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    )
    last = _moment(end, "--to") if end else first + timedelta(days=30)
    if last <= first:
        fail(_("--to must be after --from."), code=2)
    return first, last


def _when(value: datetime, zone: str | None = None) -> str:
    from relman.calendar.services.scheduling import when

    return when(value, zone)


def _scope(obj: Any) -> str:
    parts = [
        obj.application.code if obj.application_id else "",
        obj.environment.code if obj.environment_id else "",
        getattr(obj, "team", ""),
    ]
    return " / ".join(p for p in parts if p) or _("everything")


# ---------------------------------------------------------------- windows


@calendar_app.command("windows")
def windows_list(
    application: AppOption = None,
    environment: EnvOption = None,
    inactive: Annotated[bool, typer.Option("--all", help=_("Include inactive windows."))] = False,
) -> None:
    """List the release windows (those covering --app / --env when given)."""
    with on_server():
        from relman.calendar.services import windows

        table = new_table(_("Release windows"))
        for column in (_("Id"), _("Name"), _("Rule"), _("Time"), _("Scope"), _("Capacity")):
            table.add_column(column, overflow="fold")
        for window in windows.applicable_windows(
            application=application, environment=environment, active_only=not inactive
        ).order_by("name", "pk"):
            rule = window.rrule or _("once on %s") % window.first_date.isoformat()
            table.add_row(
                str(window.pk),
                window.name + ("" if window.is_active else " " + _("(inactive)")),
                rule,
                f"{window.start_time:%H:%M} +{window.duration_minutes}min {window.time_zone}",
                _scope(window),
                str(window.capacity or "-"),
            )
        out.print(table)


@calendar_app.command("window-create")
def window_create(
    name: Annotated[str, typer.Argument(help=_("The window's name."))],
    first_date: Annotated[str, typer.Option(help=_("First date, YYYY-MM-DD."))],
    start_time: Annotated[str, typer.Option(help=_("Local start time, HH:MM."))],
    duration: Annotated[int, typer.Option(help=_("Length in minutes."))],
    rrule: Annotated[
        str,
        typer.Option(help=_("RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=2TH,4TH; empty: once.")),
    ] = "",
    time_zone: Annotated[str, typer.Option(help=_("IANA time zone."))] = "Asia/Shanghai",
    last_date: Annotated[str | None, typer.Option(help=_("Last date, YYYY-MM-DD."))] = None,
    application: AppOption = None,
    environment: EnvOption = None,
    team: Annotated[str, typer.Option(help=_("Department; empty for every team."))] = "",
    capacity: Annotated[int | None, typer.Option(help=_("Most releases per occurrence."))] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(metavar="DATE", help=_("A date without the window (repeat for more).")),
    ] = None,
    holidays: Annotated[
        str | None, typer.Option(help=_("Holiday calendar whose days are skipped."))
    ] = None,
    description: Annotated[str, typer.Option(help=_("Description."))] = "",
) -> None:
    """Define a release window, e.g. seed 002's: --rrule 'FREQ=MONTHLY;BYDAY=2TH,4TH'
    --first-date 2027-01-01 --start-time 19:00 --duration 240."""
    with on_server():
        from relman.calendar.services import windows

        window = windows.create_window(
            None,
            name=name,
            rrule=rrule,
            first_date=first_date,
            start_time=start_time,
            duration_minutes=duration,
            time_zone=time_zone,
            last_date=last_date,
            application=application,
            environment=environment,
            team=team,
            capacity=capacity,
            excluded_dates=exclude or (),
            holidays=holidays,
            description=description,
        )
        say(_("Window %(id)d '%(name)s' created.") % {"id": window.pk, "name": window.name})
        now = datetime.now().astimezone()
        following = windows.occurrences_between(now, now + timedelta(days=400), windows=[window])
        if following:
            say(
                _("Next openings: %s")
                % ", ".join(_when(o.start, window.time_zone) for _w, o in following[:4])
            )


@calendar_app.command("occurrences")
def occurrences_list(
    start: Annotated[str | None, typer.Option("--from", help=_("First day (today)."))] = None,
    end: Annotated[
        str | None, typer.Option("--to", help=_("Day after the last (+30 days)."))
    ] = None,
    application: AppOption = None,
    environment: EnvOption = None,
) -> None:
    """List the window openings in a span (holidays, excluded dates and struck ones left out)."""
    with on_server():
        from relman.calendar.services import windows

        first, last = _span(start, end)
        table = new_table(_("Window openings"))
        for column in (_("Start"), _("End"), _("Window"), _("Scope")):
            table.add_column(column)
        for window, occurrence in windows.occurrences_between(
            first, last, application=application, environment=environment
        ):
            table.add_row(
                _when(occurrence.start, window.time_zone),
                _when(occurrence.end, window.time_zone),
                window.name,
                _scope(window),
            )
        out.print(table)


# ---------------------------------------------------------------- freezes


@calendar_app.command("freezes")
def freezes_list(
    start: Annotated[str | None, typer.Option("--from", help=_("First day (today)."))] = None,
    end: Annotated[
        str | None, typer.Option("--to", help=_("Day after the last (+30 days)."))
    ] = None,
) -> None:
    """List the freezes overlapping a span."""
    with on_server():
        from relman.calendar.services import freezes

        first, last = _span(start, end)
        table = new_table(_("Freezes"))
        for column in (_("Id"), _("Name"), _("From"), _("To"), _("Scope"), _("Reason")):
            table.add_column(column, overflow="fold")
        for freeze in freezes.freezes_between(first, last):
            table.add_row(
                str(freeze.pk),
                freeze.name,
                _when(freeze.starts),
                _when(freeze.ends),
                _scope(freeze),
                freeze.reason,
            )
        out.print(table)


@calendar_app.command("freeze-create")
def freeze_create(
    name: Annotated[str, typer.Argument(help=_("The freeze's name."))],
    reason: Annotated[str, typer.Option(help=_("Why nothing may change."))],
    starts: Annotated[str, typer.Option(help=_("Start: YYYY-MM-DD or YYYY-MM-DDTHH:MM."))],
    ends: Annotated[str, typer.Option(help=_("End: YYYY-MM-DD (the day after) or a time."))],
    application: AppOption = None,
    environment: EnvOption = None,
) -> None:
    """Declare a freeze over an application, an environment, or (neither) everything."""
    with on_server():
        from relman.calendar.services import freezes

        freeze = freezes.create_freeze(
            None,
            name=name,
            reason=reason,
            starts=_moment(starts, "--starts"),
            ends=_moment(ends, "--ends"),
            application=application,
            environment=environment,
        )
        say(
            _("Freeze %(id)d '%(name)s' from %(starts)s to %(ends)s over %(scope)s.")
            % {
                "id": freeze.pk,
                "name": freeze.name,
                "starts": _when(freeze.starts),
                "ends": _when(freeze.ends),
                "scope": _scope(freeze),
            }
        )


# ---------------------------------------------------------------- conflicts


@calendar_app.command("conflicts")
def conflicts_list(
    start: Annotated[str, typer.Option("--from", help=_("First day, YYYY-MM-DD."))],
    end: Annotated[str, typer.Option("--to", help=_("Day after the last, YYYY-MM-DD."))],
    application: AppOption = None,
    environment: EnvOption = None,
) -> None:
    """List the conflicts among open releases planned in a span: overlaps, full windows,
    releases in freezes or outside any window, each with how to resolve it."""
    with on_server():
        from relman.calendar.services import conflicts

        first, last = _span(start, end)
        found = conflicts.find_conflicts(
            first, last, application=application, environment=environment
        )
        if not found:
            say(_("No conflicts."), style="green")
            return
        for conflict in found:
            say(conflict.message, style="bold")
            say("  → " + conflict.resolution)
        say(_("%d conflict(s).") % len(found))


# ---------------------------------------------------------------- the yearly plan


@plan_app.command("generate")
def plan_generate(year: Annotated[int, typer.Argument(help=_("The year, e.g. 2027."))]) -> None:
    """Draft (or redraft) the year's plan from every active window's rule."""
    with on_server():
        from relman.calendar.services import plan

        drafted = plan.generate_plan(None, year)
        found = plan.plan_occurrences(drafted)
        say(
            _("Draft plan %(year)d: %(count)d openings of %(windows)d window(s).")
            % {"year": year, "count": len(found), "windows": len({p.window_id for p in found})}
        )


@plan_app.command("show")
def plan_show(year: Annotated[int, typer.Argument(help=_("The year."))]) -> None:
    """Show the year's plan: every opening, and the struck ones with why."""
    with on_server():
        from relman.calendar.services import plan

        shown = plan.get_plan(year)
        table = new_table(
            _("Window plan %(year)d (%(status)s)")
            % {"year": year, "status": shown.get_status_display()}
        )
        for column in (_("Id"), _("Start"), _("End"), _("Window"), _("Struck because")):
            table.add_column(column, overflow="fold")
        for planned in plan.plan_occurrences(shown):
            zone = planned.window.time_zone
            table.add_row(
                str(planned.pk),
                _when(planned.starts, zone),
                _when(planned.ends, zone),
                planned.window.name,
                planned.struck_reason,
                style="dim strike" if planned.struck_reason else None,
            )
        out.print(table)


def _on_day(year: int, day: str, window: int | None) -> list[Any]:
    from relman.calendar.services import plan

    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        fail(_("'%s' is not a date (YYYY-MM-DD).") % day, code=2)
    found = [
        p
        for p in plan.plan_occurrences(plan.get_plan(year))
        if p.starts.astimezone(_zone(p.window.time_zone)).date() == wanted
        and (window is None or p.window_id == window)
    ]
    if not found:
        fail(
            _("The %(year)d plan has no opening on %(day)s. `relman calendar plan show %(year)d`")
            % {"year": year, "day": day}
        )
    return found


def _zone(name: str) -> Any:
    from relman.calendar.recurrence import check_time_zone

    return check_time_zone(name)


@plan_app.command("strike")
def plan_strike(
    year: Annotated[int, typer.Argument(help=_("The year."))],
    day: Annotated[str, typer.Argument(help=_("The day, YYYY-MM-DD."))],
    reason: Annotated[str, typer.Option(help=_("Why the opening is struck."))],
    window: Annotated[int | None, typer.Option(help=_("Only this window's opening (id)."))] = None,
) -> None:
    """Strike the openings of a day from a draft plan, saying why."""
    with on_server():
        from relman.calendar.services import plan

        for planned in _on_day(year, day, window):
            plan.strike_occurrence(None, planned.pk, reason=reason)
            say(
                _("Struck %(window)s on %(when)s.")
                % {
                    "window": planned.window.name,
                    "when": _when(planned.starts, planned.window.time_zone),
                }
            )


@plan_app.command("restore")
def plan_restore(
    year: Annotated[int, typer.Argument(help=_("The year."))],
    day: Annotated[str, typer.Argument(help=_("The day, YYYY-MM-DD."))],
    window: Annotated[int | None, typer.Option(help=_("Only this window's opening (id)."))] = None,
) -> None:
    """Put struck openings of a day back into a draft plan."""
    with on_server():
        from relman.calendar.services import plan

        for planned in _on_day(year, day, window):
            plan.restore_occurrence(None, planned.pk)
            say(
                _("Restored %(window)s on %(when)s.")
                % {
                    "window": planned.window.name,
                    "when": _when(planned.starts, planned.window.time_zone),
                }
            )


@plan_app.command("publish")
def plan_publish(year: Annotated[int, typer.Argument(help=_("The year."))]) -> None:
    """Publish the reviewed plan: from now on scheduling in that year follows it."""
    with on_server():
        from relman.calendar.services import plan

        published = plan.publish_plan(None, year)
        found = plan.plan_occurrences(published)
        open_ones = sum(1 for p in found if not p.struck_reason)
        say(
            _("Plan %(year)d published: %(open)d openings, %(struck)d struck.")
            % {"year": year, "open": open_ones, "struck": len(found) - open_ones},
            style="green",
        )


# ---------------------------------------------------------------- holidays, feeds, exports
# (written beside the feeds and exports, in relman/cli/calendar_feeds.py)

calendar_app.command("holidays-import")(calendar_feeds.holidays_import)
calendar_app.command("feed-token")(calendar_feeds.feed_token)
calendar_app.command("plan-export")(calendar_feeds.plan_export)
