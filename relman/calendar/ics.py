"""iCalendar (RFC 5545) documents of the release calendar, built with the `icalendar` package.

A release window becomes ONE recurring VEVENT: its rule as RRULE (its last date as UNTIL),
its excluded dates, holidays and struck-out plan occurrences as EXDATE, at its wall-clock time
with a TZID and a VTIMEZONE, so a calendar client expands it exactly as relman does. Freezes
and scheduled releases are single VEVENTs. UIDs are stable (`window-7@relman`,
`freeze-3@relman`, `release-REL-2026-0042@relman`) so a client updates an event in place when
it changes, and DTSTAMP is the object's last change, so an unchanged feed is byte-identical
(its ETag holds).

This module reads only what it is given: callers load windows with their application,
environment and holiday dates, and releases with their application, environment and schedule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vRecur

from relman.calendar import recurrence
from relman.releases.choices import OUTCOME_COLOURS, Method, Outcome, Status

PRODID = "-//relman//Release calendar//EN"
UID_DOMAIN = "relman"
# Clients that honour it re-read a subscribed feed this often.
REFRESH = timedelta(hours=1)

# RFC 7986 COLOR (a CSS3 colour name) per kind of event, so clients that support it colour them.
WINDOW_COLOUR = "seagreen"
FREEZE_COLOUR = "crimson"
OPEN_RELEASE_COLOUR = "royalblue"


def uid(kind: str, key: Any) -> str:
    """A stable UID: `release-REL-2026-0042@relman`, `window-7@relman`."""
    return f"{kind}-{key}@{UID_DOMAIN}"


def new_calendar(name: str, description: str = "", *, time_zone: str = "") -> Calendar:
    """An empty VCALENDAR named for the subscriber's calendar list."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)  # RFC 7986
    cal.add("x-wr-calname", name)  # what Apple, Google and Outlook read
    if description:
        cal.add("description", description)
        cal.add("x-wr-caldesc", description)
    zone = time_zone or str(timezone.get_default_timezone())
    cal.add("x-wr-timezone", zone)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    return cal


def _stamp(event: Event, obj: Any) -> None:
    """DTSTAMP and LAST-MODIFIED from the object's last change (stable for an unchanged
    object, so the feed's ETag holds); CREATED from its creation."""
    changed = getattr(obj, "updated", None) or getattr(obj, "created", None)
    changed = (changed or datetime(2000, 1, 1, tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    created = getattr(obj, "created", None)
    if created is not None:
        event.add("created", created.astimezone(UTC).replace(microsecond=0))


def scope_text(obj: Any) -> str:
    """Where a window or freeze applies, in words: 'crm · Production · Ops' or 'everything'."""
    parts = []
    if getattr(obj, "application_id", None):
        parts.append(_("application %s") % obj.application.code)
    if getattr(obj, "environment_id", None):
        parts.append(_("environment %s") % obj.environment.name)
    if getattr(obj, "team", ""):
        parts.append(_("team %s") % obj.team)
    return ", ".join(parts) if parts else _("every application and environment")


def first_occurrence(rule: recurrence.WindowRule) -> datetime | None:
    """The first opening of the window, excluded dates ignored (it anchors DTSTART, which
    RFC 5545 wants in step with the RRULE); None when the rule never opens."""
    tz = recurrence.check_time_zone(rule.time_zone)
    first = datetime.combine(rule.first_date, rule.start_time, tzinfo=tz)
    opening: datetime | None = first
    if rule.rrule:
        opening = rrulestr(rule.rrule, dtstart=first).after(first, inc=True)  # type: ignore[union-attr]
    if opening is None or (rule.last_date is not None and opening.date() > rule.last_date):
        return None
    return opening


def excluded_openings(rule: recurrence.WindowRule, since: datetime) -> list[datetime]:
    """The openings the rule would have on its excluded days (these become EXDATEs; excluded
    days on which the window would not open anyway are left out)."""
    tz = recurrence.check_time_zone(rule.time_zone)
    days = sorted(
        d
        for d in rule.excluded
        if d >= since.date() and (rule.last_date is None or d <= rule.last_date)
    )
    if not days:
        return []
    bare = dataclasses.replace(rule, excluded=frozenset())
    span_start = datetime.combine(days[0], time.min, tzinfo=tz)
    span_end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=tz)
    return [
        o.start
        for o in recurrence.occurrences(bare, span_start, span_end)
        if o.start.date() in rule.excluded
    ]


def _until(value: Any, tz: ZoneInfo) -> datetime:
    """An RRULE UNTIL as RFC 5545 wants it beside a zoned DTSTART: a UTC date-time."""
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=tz)
    else:
        local = datetime.combine(value, time(23, 59, 59), tzinfo=tz)
    return local.astimezone(UTC)


def _rrule(rule: recurrence.WindowRule, tz: ZoneInfo) -> vRecur:
    recur = vRecur.from_ical(rule.rrule)
    if "UNTIL" in recur:
        recur["UNTIL"] = [_until(recur["UNTIL"][0], tz)]
    if rule.last_date is not None and "COUNT" not in recur:
        last = _until(rule.last_date, tz)
        recur["UNTIL"] = [min([last, *recur.get("UNTIL", [])])]
    return recur


def window_event(
    window: Any,
    rule: recurrence.WindowRule,
    *,
    struck: Iterable[datetime] = (),
    url: str = "",
) -> Event | None:
    """The window as one (recurring) VEVENT; None when it never opens.

    `struck` are openings struck out of a published yearly plan; they are excluded too.
    """
    opening = first_occurrence(rule)
    if opening is None:
        return None
    tz = recurrence.check_time_zone(rule.time_zone)
    if not rule.rrule and opening.date() in rule.excluded:
        return None
    event = Event()
    event.add("uid", uid("window", window.pk))
    _stamp(event, window)
    event.add("summary", window.name)
    lines = [window.description.strip()] if window.description.strip() else []
    lines.append(_("Release window for %s.") % scope_text(window))
    if window.capacity:
        lines.append(_("At most %d releases in each opening.") % window.capacity)
    event.add("description", "\n".join(lines))
    event.add("dtstart", opening)
    event.add("dtend", opening + rule.duration)
    if rule.rrule:
        event.add("rrule", _rrule(rule, tz))
        exdates = set(excluded_openings(rule, opening))
        exdates |= {s.astimezone(tz) for s in struck}
        if exdates:
            event.add("exdate", sorted(exdates))
    event.add("categories", [_("Release window")])
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("color", WINDOW_COLOUR)
    if url:
        event.add("url", url)
    return event


def freeze_event(freeze: Any, *, url: str = "") -> Event:
    """A freeze (blackout) as a single VEVENT in the server's time zone."""
    event = Event()
    event.add("uid", uid("freeze", freeze.pk))
    _stamp(event, freeze)
    event.add("summary", _("Freeze: %s") % freeze.name)
    event.add(
        "description",
        "\n".join(
            [
                freeze.reason.strip(),
                _(
                    "Nothing in its scope (%s) is scheduled or deployed without an approved emergency."
                )
                % scope_text(freeze),
            ]
        ),
    )
    event.add("dtstart", timezone.localtime(freeze.starts).replace(microsecond=0))
    event.add("dtend", timezone.localtime(freeze.ends).replace(microsecond=0))
    event.add("categories", [_("Freeze")])
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("color", FREEZE_COLOUR)
    if url:
        event.add("url", url)
    return event


def release_categories(release: Any) -> list[str]:
    """The release's categories, by which clients group and colour it: 'Release', its status
    (or its outcome once closed) and 'Emergency' for an emergency release."""
    categories = [_("Release")]
    if release.status == Status.CLOSED and release.outcome:
        categories.append(str(Outcome(release.outcome).label))
    else:
        categories.append(str(Status(release.status).label))
    if release.method == Method.EMERGENCY:
        categories.append(str(Method.EMERGENCY.label))
    return categories


def release_event(release: Any, *, url: str = "", stage_label: str = "") -> Event | None:
    """A scheduled release as a single VEVENT (UID `release-<number>@relman`); None when it
    has no planned start. Its SEQUENCE is the release's revision, which grows on each move."""
    if release.planned_start is None:
        return None
    schedule = getattr(release, "schedule", None)
    window = getattr(schedule, "window", None) if schedule is not None else None
    tz = ZoneInfo(window.time_zone) if window is not None else timezone.get_default_timezone()
    start = release.planned_start.astimezone(tz).replace(microsecond=0)
    end = (release.planned_end or release.planned_start + timedelta(hours=1)).astimezone(tz)
    event = Event()
    event.add("uid", uid("release", release.number))
    _stamp(event, release)
    event.add("sequence", release.revision)
    event.add("summary", f"{release.number} {release.title} ({release.application.code})")
    lines = [
        _("Application: %s") % release.application,
        _("Environment: %s") % (release.environment or _("not set")),
        _("Stage: %s") % (stage_label or release.stage),
    ]
    if window is not None:
        lines.append(_("Window: %s") % window.name)
    elif schedule is not None and schedule.outside_window_reason:
        lines.append(_("Outside any window: %s") % schedule.outside_window_reason)
    if release.method == Method.EMERGENCY:
        lines.append(_("Emergency release."))
    if url:
        lines.append(url)
    event.add("description", "\n".join(lines))
    event.add("dtstart", start)
    event.add("dtend", end.replace(microsecond=0))
    event.add("categories", release_categories(release))
    cancelled = release.outcome == Outcome.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    colour = OUTCOME_COLOURS.get(release.outcome, OPEN_RELEASE_COLOUR) if release.outcome else None
    event.add("color", colour or OPEN_RELEASE_COLOUR)
    if url:
        event.add("url", url)
    return event


def occurrence_event(occurrence: Any, *, year: int) -> Event:
    """One opening of a yearly window plan (a PlannedOccurrence) as a single VEVENT."""
    window = occurrence.window
    tz = ZoneInfo(window.time_zone)
    start = occurrence.starts.astimezone(tz)
    event = Event()
    event.add("uid", uid(f"plan-{year}-window-{window.pk}", f"{start:%Y%m%dT%H%M}"))
    _stamp(event, occurrence.plan)
    event.add("summary", window.name)
    event.add(
        "description",
        _("Release window for %(scope)s (window plan %(year)d).")
        % {"scope": scope_text(window), "year": year},
    )
    event.add("dtstart", start)
    event.add("dtend", occurrence.ends.astimezone(tz))
    event.add("categories", [_("Release window")])
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("color", WINDOW_COLOUR)
    return event


def _event_dates(cal: Calendar) -> list[date]:
    found = []
    for event in cal.walk("VEVENT"):
        value = event.decoded("dtstart")
        found.append(value.date() if isinstance(value, datetime) else value)
    return found


def to_bytes(cal: Calendar) -> bytes:
    """The calendar as iCalendar bytes, with a VTIMEZONE for every TZID its events use."""
    dates = _event_dates(cal)
    first = date(min(dates).year - 1, 1, 1) if dates else date(2000, 1, 1)
    last = max(date(2038, 1, 1), date(max(dates).year + 2, 1, 1)) if dates else date(2038, 1, 1)
    cal.add_missing_timezones(first_date=first, last_date=last)
    return cal.to_ical()


def build_feed(content: Any, *, release_url: Callable[[Any], str] | None = None) -> bytes:
    """A whole feed from a `services.feeds.FeedContent`: each window, freeze and release."""
    cal = new_calendar(content.name, content.description)
    for window in content.windows:
        event = window_event(
            window, content.rules[window.pk], struck=content.struck.get(window.pk, ())
        )
        if event is not None:
            cal.add_component(event)
    for freeze in content.freezes:
        cal.add_component(freeze_event(freeze))
    for release in content.releases:
        event = release_event(
            release,
            url=release_url(release) if release_url else "",
            stage_label=content.stage_labels.get(release.pk, ""),
        )
        if event is not None:
            cal.add_component(event)
    return to_bytes(cal)
