"""What the calendar pages draw: the query (view, day, filters), window occurrences,
freezes and releases as bands and entries, cut into days and laid out in lanes.

Plain data built from rows the views read; nothing here queries the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relman.calendar.choices import ConflictKind
from relman.calendar.models import Freeze, ReleaseSchedule, ReleaseWindow
from relman.core import ids
from relman.releases.choices import OUTCOME_COLOURS, Outcome, Status
from relman.releases.models import Release

VIEWS = {"month": gettext_lazy("Month"), "week": gettext_lazy("Week"), "list": gettext_lazy("List")}
# Occurrences offered when moving a release: from a month before the page to two after it.
MOVE_BEFORE, MOVE_AFTER = timedelta(days=31), timedelta(days=62)
# Occurrences offered on the release page: the next ones, up to this far ahead.
PANEL_AHEAD = timedelta(days=180)
MOST_OPTIONS = 30
# A release with a start and no end is drawn this long.
NO_END = timedelta(minutes=30)
DAY = 86400.0


# ---------------------------------------------------------------- what the page asks for


@dataclass(frozen=True)
class CalendarQuery:
    """The view, the day it shows and its filters, as the query string gives them."""

    day: date
    view: str = "month"
    application: str = ""
    environment: str = ""
    team: str = ""

    @classmethod
    def parse(cls, query: QueryDict, today: date) -> tuple[CalendarQuery, list[str]]:
        """The query from the address; a bad value is dropped with a message naming it."""
        problems: list[str] = []
        view = query.get("view") or "month"
        if view not in VIEWS:
            problems.append(ignored(view, _("View")))
            view = "month"
        day = today
        if query.get("date"):
            try:
                day = date.fromisoformat(query["date"])
            except ValueError:
                problems.append(ignored(query["date"], _("Date")))
        team = (query.get("team") or "").strip()[:150]
        return cls(
            day=day,
            view=view,
            application=(query.get("application") or "").strip(),
            environment=(query.get("environment") or "").strip(),
            team=team,
        ), problems

    def span(self) -> tuple[date, date]:
        """The first day shown and the day after the last: whole weeks (Monday first) for
        the month grid, one week, or the calendar month for the list."""
        if self.view == "week":
            first = self.day - timedelta(days=self.day.weekday())
            return first, first + timedelta(days=7)
        first = self.day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        if self.view == "list":
            return first, after
        return first - timedelta(days=first.weekday()), after + timedelta(days=-after.weekday() % 7)

    def step(self, forward: bool) -> date:
        """The day the previous or next page shows."""
        if self.view == "week":
            return self.day + timedelta(days=7 if forward else -7)
        first = self.day.replace(day=1)
        if forward:
            return (first + timedelta(days=32)).replace(day=1)
        return (first - timedelta(days=1)).replace(day=1)

    def url(self, **changes: Any) -> str:
        """The calendar's address for this query with some values changed."""
        values = {
            "view": self.view,
            "date": self.day.isoformat(),
            "application": self.application,
            "environment": self.environment,
            "team": self.team,
        }
        values.update({k: v.isoformat() if isinstance(v, date) else v for k, v in changes.items()})
        query = urlencode({k: v for k, v in values.items() if v})
        return reverse("web:calendar") + (f"?{query}" if query else "")


def ignored(value: str, name: Any) -> str:
    """The message for a query value that was dropped, naming the filter."""
    return _("'%(value)s' is not a valid value for the filter '%(field)s'; it was ignored.") % {
        "value": str(value)[:60],
        "field": name,
    }


# ---------------------------------------------------------------- what the page shows


@dataclass
class WindowBand:
    """One occurrence of a release window, with how many releases it holds."""

    window: ReleaseWindow
    start: datetime
    end: datetime
    used: int
    capacity: int | None

    @property
    def full(self) -> bool:
        """Whether the occurrence holds as many releases as its capacity allows."""
        return self.capacity is not None and self.used >= self.capacity

    @property
    def value(self) -> str:
        """How the forms name the occurrence: window id and start."""
        return occurrence_value(self.window.pk, self.start)


@dataclass
class FreezeBand:
    """A freeze in the visible range."""

    freeze: Freeze
    start: datetime
    end: datetime


@dataclass
class Option:
    """An occurrence a release may be moved to, as a select shows it."""

    value: str
    label: str
    selected: bool = False
    disabled: bool = False


@dataclass
class ReleaseEntry:
    """A scheduled release on the calendar."""

    release: Release
    start: datetime
    end: datetime
    colour: str
    state_label: str
    conflicts: list[Any] = field(default_factory=list)
    can_move: bool = False
    options: list[Option] = field(default_factory=list)

    @property
    def conflict_text(self) -> str:
        """Its conflicts' messages in one line, for the hover text."""
        return " ".join(c.message for c in self.conflicts)


@dataclass
class Segment:
    """The part of a band or release that falls on one day, placed for the week grid."""

    item: Any
    start: datetime
    end: datetime
    continued: bool  # began on an earlier day
    continues: bool  # goes on past midnight
    opens: bool = False  # begins on this day, after midnight
    closes: bool = False  # ends on this day, before midnight
    start_text: str = ""
    end_text: str = ""
    top: float = 0.0
    height: float = 0.0
    lane: int = 0
    lanes: int = 1

    @property
    def left(self) -> float:
        """Where its lane begins, as a fraction of the day's width."""
        return self.lane / self.lanes

    @property
    def width(self) -> float:
        """Its lane's width, as a fraction of the day's width."""
        return 1 / self.lanes


@dataclass
class Day:
    """One day of the grid and what falls on it."""

    date: date
    in_month: bool
    is_today: bool
    freezes: list[Segment] = field(default_factory=list)
    windows: list[Segment] = field(default_factory=list)
    releases: list[Segment] = field(default_factory=list)

    @property
    def is_weekend(self) -> bool:
        """Saturday or Sunday."""
        return self.date.weekday() >= 5


def occurrence_value(window_id: int, start: datetime) -> str:
    """How the forms name an occurrence: its window's id and its start in UTC (the same
    instant read from the database or expanded in the window's zone gives the same text)."""
    return f"{window_id}@{start.astimezone(UTC).isoformat()}"


def parse_occurrence(value: str) -> tuple[int, datetime]:
    """(window id, start) from a form's occurrence value; ValueError when it is not one."""
    window_id, _sep, start = value.partition("@")
    moment = datetime.fromisoformat(start)
    if ids.as_id(window_id) is None or timezone.is_naive(moment):
        raise ValueError(value)
    return ids.as_id(window_id), moment


def end_of(release: Release) -> datetime:
    """When a scheduled release ends, as drawn: its planned end, or a short mark without one."""
    if release.planned_end and release.planned_end > release.planned_start:
        return release.planned_end
    return release.planned_start + NO_END


def colour_of(release: Release) -> tuple[str, str]:
    """The release's colour and the words for it: blue in progress, its outcome once closed."""
    if release.status == Status.CLOSED and release.outcome:
        return OUTCOME_COLOURS.get(release.outcome, "grey"), str(Outcome(release.outcome).label)
    return "blue", str(Status(release.status).label)


def when_label(start: datetime, end: datetime) -> str:
    """'Thu 2027-01-14 19:00–23:00' in the user's time zone and language."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    head = formats.date_format(start, "D Y-m-d H:i")
    tail = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%Y-%m-%d %H:%M")
    return f"{head}–{tail}"


def band_option(band: WindowBand, current: str) -> Option:
    """An occurrence as an option of a select; a full one cannot be picked."""
    room = f"{band.used}/{band.capacity}" if band.capacity else str(band.used)
    label = _("%(when)s · %(window)s · %(room)s booked") % {
        "when": when_label(band.start, band.end),
        "window": band.window.name,
        "room": room,
    }
    selected = band.value == current
    if band.full and not selected:
        label += " · " + _("full")
    return Option(band.value, label, selected, band.full and not selected)


def current_value(release: Release) -> str:
    """The occurrence value of the release's schedule, or '' when it has none in a window."""
    schedule = getattr(release, "calendar_schedule", None)
    if schedule is None or not schedule.window_id or schedule.occurrence_start is None:
        return ""
    return occurrence_value(schedule.window_id, schedule.occurrence_start)


def schedule_of(release: Release) -> ReleaseSchedule | None:
    """The release's schedule when `select_related("schedule")` read it, else None."""
    try:
        return release.schedule
    except ReleaseSchedule.DoesNotExist:
        return None


def bands_of(
    pairs: list[tuple[ReleaseWindow, Any]], used: dict[tuple[int, datetime], int]
) -> list[WindowBand]:
    """The occurrences as bands, each with the places it has booked."""
    return [
        WindowBand(w, o.start, o.end, used.get((w.pk, o.start), 0), w.capacity) for w, o in pairs
    ]


def split_by_day(item: Any, start: datetime, end: datetime, days: dict[date, Day]) -> None:
    """Put the parts of [start, end) on the days of the grid they touch, in the user's zone."""
    zone = timezone.get_current_timezone()
    start, end = timezone.localtime(start, zone), timezone.localtime(end, zone)
    bucket = {WindowBand: "windows", FreezeBand: "freezes"}.get(type(item), "releases")
    day, last = max(start.date(), min(days)), max(days)
    while day <= last:
        opening = datetime.combine(day, time.min, tzinfo=zone)
        closing = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        if opening >= end:
            break
        piece = Segment(
            item, max(start, opening), min(end, closing), start < opening, end > closing
        )
        piece.opens, piece.closes = start > opening, end < closing
        piece.start_text = "…" if piece.continued else piece.start.strftime("%H:%M")
        piece.end_text = (
            "…"
            if piece.continues
            else ("24:00" if piece.end == closing else piece.end.strftime("%H:%M"))
        )
        piece.top = 100.0 * (piece.start - opening).total_seconds() / DAY
        piece.height = max(100.0 * (piece.end - piece.start).total_seconds() / DAY, 2.5)
        getattr(days[day], bucket).append(piece)
        day += timedelta(days=1)


def assign_lanes(segments: list[Segment]) -> None:
    """Side-by-side lanes for overlapping segments of one day (greedy, by start)."""
    segments.sort(key=lambda s: (s.start, s.end))
    lane_ends: list[datetime] = []
    group: list[Segment] = []
    group_end: datetime | None = None
    for seg in segments:
        if group_end is not None and seg.start >= group_end:
            for member in group:
                member.lanes = len(lane_ends)
            lane_ends, group, group_end = [], [], None
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= seg.start:
                seg.lane, lane_ends[lane] = lane, seg.end
                break
        else:
            seg.lane = len(lane_ends)
            lane_ends.append(seg.end)
        group.append(seg)
        group_end = seg.end if group_end is None else max(group_end, seg.end)
    for member in group:
        member.lanes = max(len(lane_ends), 1)


# ---------------------------------------------------------------- the page's parts


def conflict_view(conflict: Any) -> dict[str, Any]:
    """A conflict as the page lists it: its kind in words, what collides, how to resolve it."""
    kind = str(conflict.kind)
    labels = dict(ConflictKind.choices)
    return {
        "kind": kind,
        "label": labels.get(kind, kind),
        "message": str(conflict.message),
        "resolution": str(conflict.resolution),
        "numbers": list(conflict.release_numbers),
    }


def title_of(query: CalendarQuery, first: date, after: date) -> str:
    """The page's heading: the month, or the week's first and last day."""
    if query.view == "week":
        last = after - timedelta(days=1)
        return _("Week of %(first)s – %(last)s") % {
            "first": formats.date_format(first, "Y-m-d"),
            "last": formats.date_format(last, "Y-m-d"),
        }
    return formats.date_format(query.day, "YEAR_MONTH_FORMAT")


def agenda(days: list[Day]) -> list[Day]:
    """The days with something on them, for the list view (each item once, on its first
    day in the range)."""
    found = []
    for day in days:
        for bucket in ("freezes", "windows", "releases"):
            setattr(day, f"{bucket}_starting", [s for s in getattr(day, bucket) if not s.continued])
        if day.freezes_starting or day.windows_starting or day.releases_starting:
            found.append(day)
    return found
