"""Holiday calendars imported from iCalendar files; windows that use one skip its days.

A holiday is an all-day VEVENT (`DTSTART;VALUE=DATE`); every day from its DTSTART up to
its DTEND (exclusive, as RFC 5545 says; one day when it has none) is a day off. Events at a
time of day are not holidays and are left out. Importing under a name that exists replaces
that calendar's days, so a corrected file is simply imported again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.rrule import rrulestr
from django.db import transaction
from django.utils.translation import gettext as _
from icalendar import Calendar, vDDDTypes

from relman.audit import services as audit
from relman.calendar.models import Holiday, HolidayCalendar
from relman.calendar.services.access import require_calendar_admin
from relman.core.errors import ValidationFailed

# A holiday file is a few kilobytes; anything this big is not one.
MAX_BYTES = 2 * 1024 * 1024
# One event spanning more days than this is a mistake (or not a holiday calendar).
MAX_EVENT_DAYS = 60
# A repeating holiday is expanded at most this many times.
MAX_REPEATS = 100


@dataclass(frozen=True)
class ParsedHoliday:
    """One day off read from a file."""

    date: date
    name: str


def _refuse(filename: str, message: str) -> ValidationFailed:
    """A refusal that names the file, on the `file` field."""
    return ValidationFailed(
        _("%(file)s: %(problem)s") % {"file": filename, "problem": message}, field="file"
    )


def _day(value: Any) -> date | None:
    """The date of an all-day value; None for a date-time (not an all-day event)."""
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    return None


def _event_days(event: Any, filename: str) -> list[date]:
    """Every day the all-day event covers, repeats included; [] when it is not all-day."""
    summary = " ".join(str(event.get("summary", "")).split()) or _("(no summary)")
    raw_start = event.get("dtstart")
    if raw_start is None:
        raise _refuse(filename, _("the event '%s' has no DTSTART.") % summary)
    if not isinstance(raw_start, vDDDTypes) or not isinstance(raw_start.dt, date):
        raise _refuse(
            filename,
            _("the event '%(event)s' has a DTSTART that is not a date or time (%(value)s).")
            % {"event": summary, "value": raw_start.to_ical().decode(errors="replace")},
        )
    first = _day(raw_start.dt)
    if first is None:
        return []
    raw_end = event.get("dtend")
    end = _day(raw_end.dt) if isinstance(raw_end, vDDDTypes) else None
    raw_duration = event.get("duration")
    if (
        end is None
        and isinstance(raw_duration, vDDDTypes)
        and isinstance(raw_duration.dt, timedelta)
    ):
        end = first + raw_duration.dt
    length = max((end - first).days, 1) if end else 1
    if length > MAX_EVENT_DAYS:
        raise _refuse(
            filename,
            _("the event '%(event)s' lasts %(days)d days; a holiday lasts at most %(max)d.")
            % {"event": summary, "days": length, "max": MAX_EVENT_DAYS},
        )
    starts = [first]
    if event.get("rrule") is not None:
        starts = _repeats(event, first, summary, filename)
    return [s + timedelta(days=i) for s in starts for i in range(length)]


def _repeats(event: Any, first: date, summary: str, filename: str) -> list[date]:
    """The start days of a repeating all-day event (its RRULE less its EXDATEs)."""
    rule_text = event["rrule"].to_ical().decode()
    upper = rule_text.upper()
    if "UNTIL=" not in upper and "COUNT=" not in upper:
        raise _refuse(
            filename,
            _(
                "the event '%(event)s' repeats for ever; give its RRULE an UNTIL or a COUNT, "
                "or list each year's holiday as its own event."
            )
            % {"event": summary},
        )
    try:
        rule = rrulestr(rule_text, dtstart=datetime.combine(first, datetime.min.time()))
    except (ValueError, TypeError) as exc:
        raise _refuse(
            filename,
            _("the event '%(event)s' has an RRULE that cannot be read: %(error)s")
            % {"event": summary, "error": exc},
        ) from exc
    excluded: set[date] = set()
    exdates = event.get("exdate")
    for group in exdates if isinstance(exdates, list) else [exdates] if exdates else []:
        for item in getattr(group, "dts", []):
            excluded.add(item.dt.date() if isinstance(item.dt, datetime) else item.dt)
    days: list[date] = []
    for opening in rule:
        if len(days) >= MAX_REPEATS:
            raise _refuse(
                filename,
                _("the event '%(event)s' repeats more than %(max)d times.")
                % {"event": summary, "max": MAX_REPEATS},
            )
        if opening.date() not in excluded:
            days.append(opening.date())
    return days or [first]


def parse_holidays(content: bytes, filename: str) -> list[ParsedHoliday]:
    """The days off in an iCalendar file, one per date (names of a shared day joined).

    Raises ValidationFailed naming the file when it is not iCalendar or has no all-day event.
    """
    if len(content) > MAX_BYTES:
        raise _refuse(
            filename,
            _("the file is larger than %d MB; a holiday calendar is far smaller.")
            % (MAX_BYTES // 1024 // 1024),
        )
    try:
        calendars = Calendar.from_ical(content, multiple=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse(
            filename,
            _("not an iCalendar (.ics) file: %s") % " ".join(str(exc).split())[:200],
        ) from exc
    calendars = [c for c in calendars if c.name == "VCALENDAR"]
    if not calendars:
        raise _refuse(filename, _("not an iCalendar (.ics) file: it has no VCALENDAR."))
    names: dict[date, list[str]] = {}
    events = 0
    for calendar in calendars:
        for event in calendar.walk("VEVENT"):
            events += 1
            if str(event.get("status", "")).upper() == "CANCELLED":
                continue
            summary = " ".join(str(event.get("summary", "")).split()) or _("Holiday")
            for day in _event_days(event, filename):
                day_names = names.setdefault(day, [])
                if summary not in day_names:
                    day_names.append(summary)
    if not names:
        raise _refuse(
            filename,
            _(
                "no all-day events (DTSTART;VALUE=DATE) in %(events)d events; a holiday "
                "calendar lists each day off as an all-day event."
            )
            % {"events": events},
        )
    return [ParsedHoliday(day, " / ".join(names[day])[:200]) for day in sorted(names)]


def import_holidays(actor: Any, *, name: str, content: bytes, filename: str) -> HolidayCalendar:
    """Create or replace the holiday calendar `name` from an iCalendar file's all-day events.

    Calendar managers may; the server's own CLI runs it as the system (no actor), as it does
    for users and roles.
    """
    if actor is not None:
        require_calendar_admin(actor)
    name = (name or "").strip()
    filename = (filename or "").strip() or "holidays.ics"
    if not name or len(name) > 100:
        raise ValidationFailed(_("A name of 1 to 100 characters is required."), field="name")
    days = parse_holidays(content, filename)
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        calendar = HolidayCalendar.objects.select_for_update().filter(name=name).first()
        before = None
        if calendar is None:
            calendar = HolidayCalendar.objects.create(
                name=name, source=filename[:255], sha256=digest
            )
        else:
            before = {
                "source": calendar.source,
                "sha256": calendar.sha256,
                "days": calendar.holidays.count(),
            }
            calendar.holidays.all().delete()
            calendar.source, calendar.sha256 = filename[:255], digest
            calendar.save(update_fields=["source", "sha256", "updated"])
        Holiday.objects.bulk_create(
            Holiday(calendar=calendar, date=day.date, name=day.name) for day in days
        )
        audit.record(
            actor,
            "holidays.imported",
            calendar,
            before=before,
            after={
                "name": name,
                "source": calendar.source,
                "sha256": digest,
                "days": len(days),
                "first": days[0].date,
                "last": days[-1].date,
            },
        )
    return calendar
