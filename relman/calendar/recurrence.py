"""Occurrences of release windows: RFC 5545 rules expanded with dateutil, no Django.

A window repeats at a wall-clock time in its own time zone ("19:00 Asia/Shanghai"), so an
occurrence keeps its local time across daylight-saving changes. Excluded dates and holidays
remove whole local days.

    every 2nd and 4th Thursday, 19:00-23:00:   FREQ=MONTHLY;BYDAY=2TH,4TH
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr


@dataclass(frozen=True)
class WindowRule:
    """What the expansion needs to know of a release window."""

    id: int
    rrule: str
    first_date: date
    start_time: time
    duration: timedelta
    time_zone: str = "Asia/Shanghai"
    last_date: date | None = None
    excluded: frozenset[date] = field(default_factory=frozenset)


@dataclass(frozen=True, order=True)
class Occurrence:
    """One opening of a window."""

    start: datetime
    end: datetime
    window_id: int

    def contains(self, start: datetime, end: datetime) -> bool:
        return self.start <= start and end <= self.end


def check_rule(text: str) -> str:
    """The rule, normalised; ValueError with a readable reason when it is not one we accept."""
    text = text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text:
        return ""
    upper = text.upper()
    if "DTSTART" in upper or "\n" in text:
        raise ValueError("give only the RRULE part; the first date and time are separate fields")
    if "FREQ=" not in upper:
        raise ValueError("an RRULE needs FREQ, e.g. FREQ=MONTHLY;BYDAY=2TH,4TH")
    try:
        rrulestr(text, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an RFC 5545 RRULE: {exc}") from exc
    parts = dict(part.partition("=")[::2] for part in upper.split(";") if part)
    if parts.get("FREQ") not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        # Hourly or finer rules would give millions of occurrences to walk through.
        raise ValueError(
            "a release window recurs daily at most: FREQ=DAILY, WEEKLY, MONTHLY or YEARLY"
        )
    if {"BYHOUR", "BYMINUTE", "BYSECOND"} & set(parts):
        raise ValueError(
            "the window's start time is its own field: leave BYHOUR, BYMINUTE and BYSECOND out"
        )
    return upper


def check_time_zone(name: str) -> ZoneInfo:
    """The zone by IANA name; ValueError naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone '{name}'") from exc


def occurrences(rule: WindowRule, start: datetime, end: datetime) -> list[Occurrence]:
    """The window's occurrences that overlap [start, end), in order."""
    tz = check_time_zone(rule.time_zone)
    first = datetime.combine(rule.first_date, rule.start_time, tzinfo=tz)
    if rule.rrule:
        recurrence: rrule = rrulestr(rule.rrule, dtstart=first)  # type: ignore[assignment]
        starts: Iterable[datetime] = recurrence.between(start - rule.duration, end, inc=True)
    else:
        starts = [first]
    found = []
    for opening in starts:
        closing = opening + rule.duration
        if closing <= start or opening >= end or opening.date() in rule.excluded:
            continue
        if rule.last_date is not None and opening.date() > rule.last_date:
            continue
        found.append(Occurrence(opening, closing, rule.id))
    return found


def occurrence_at(rule: WindowRule, start: datetime, end: datetime) -> Occurrence | None:
    """The occurrence that holds the whole of [start, end), if any."""
    for occurrence in occurrences(rule, start, end):
        if occurrence.contains(start, end):
            return occurrence
    return None
