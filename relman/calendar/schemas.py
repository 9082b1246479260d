"""API schemas of the release calendar: windows, occurrences, freezes, schedules, conflicts
and the yearly plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from relman.core.ids import Id
from relman.core.validators import Date, DateTime, Integer, TimeOfDay
from relman.releases.schemas import Input


def _code(obj: Any, name: str) -> str | None:
    related = getattr(obj, name, None)
    return related.code if related is not None else None


class WindowOut(Schema):
    id: int
    name: str
    description: str
    rrule: str = Field(..., description="RFC 5545 RRULE; empty for a one-off window")
    first_date: date
    last_date: date | None
    start_time: TimeOfDay
    duration_minutes: int
    time_zone: str
    application: str | None
    environment: str | None
    team: str
    capacity: int | None
    excluded_dates: list[date]
    holidays: str | None = Field(None, description="Holiday calendar name")
    is_active: bool

    @staticmethod
    def resolve_application(obj: Any) -> str | None:
        return _code(obj, "application")

    @staticmethod
    def resolve_environment(obj: Any) -> str | None:
        return _code(obj, "environment")

    @staticmethod
    def resolve_holidays(obj: Any) -> str | None:
        return obj.holidays.name if obj.holidays_id else None


class WindowIn(Input):
    """A release window: a recurrence rule (empty for one-off) at a local time."""

    name: str = Field(..., min_length=1, max_length=200)
    rrule: str = Field("", max_length=500, examples=["FREQ=MONTHLY;BYDAY=2TH,4TH"])
    first_date: Date
    start_time: TimeOfDay = Field(..., examples=["19:00"])
    duration_minutes: Integer = Field(..., ge=1)
    time_zone: str = "Asia/Shanghai"
    last_date: Date | None = None
    application: str | None = Field(None, description="Application code; empty for all")
    environment: str | None = Field(None, description="Environment code; empty for all")
    team: str = Field("", max_length=150, description="Department; empty for every team")
    capacity: Integer | None = Field(None, ge=1, description="Most releases per occurrence")
    excluded_dates: list[Date] = []
    holidays: str | None = Field(None, description="Holiday calendar name or id")
    description: str = ""


class WindowPatch(Input):
    """Changes to a window; only the fields given change."""

    name: str | None = Field(None, min_length=1, max_length=200)
    rrule: str | None = Field(None, max_length=500)
    first_date: Date | None = None
    start_time: TimeOfDay | None = None
    duration_minutes: Integer | None = Field(None, ge=1)
    time_zone: str | None = None
    last_date: Date | None = None
    application: str | None = None
    environment: str | None = None
    team: str | None = Field(None, max_length=150)
    capacity: Integer | None = Field(None, ge=1)
    excluded_dates: list[Date] | None = None
    holidays: str | None = None
    description: str | None = None
    is_active: bool | None = None


class OccurrenceOut(Schema):
    window_id: int
    window: str
    start: datetime
    end: datetime
    application: str | None
    environment: str | None
    capacity: int | None
    booked: int = Field(..., description="Releases scheduled into this occurrence")


class FreezeOut(Schema):
    id: int
    name: str
    reason: str
    starts: datetime
    ends: datetime
    application: str | None
    environment: str | None

    @staticmethod
    def resolve_application(obj: Any) -> str | None:
        return _code(obj, "application")

    @staticmethod
    def resolve_environment(obj: Any) -> str | None:
        return _code(obj, "environment")


class FreezeIn(Input):
    """A freeze over an application, an environment, both, or (neither) everything."""

    name: str = Field(..., min_length=1, max_length=200)
    reason: str = Field(..., min_length=1, max_length=5000)
    starts: DateTime
    ends: DateTime
    application: str | None = None
    environment: str | None = None


class FreezePatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    reason: str | None = Field(None, min_length=1, max_length=5000)
    starts: DateTime | None = None
    ends: DateTime | None = None
    application: str | None = None
    environment: str | None = None


class OverrideIn(Input):
    """Let an approved emergency release through the freeze."""

    release: str = Field(..., description="Release number or id")
    reason: str = Field(..., min_length=1, max_length=5000)


class OverrideOut(Schema):
    id: int
    release: str
    freeze_id: int
    approved_by: str
    reason: str
    created: datetime

    @staticmethod
    def resolve_release(obj: Any) -> str:
        return obj.release.number

    @staticmethod
    def resolve_approved_by(obj: Any) -> str:
        return obj.approved_by.username


class ScheduleIn(Input):
    """Schedule or move a release. `end` defaults to the end of the window occurrence."""

    start: DateTime
    end: DateTime | None = None
    window_id: Id | None = None
    outside_window_reason: str = Field(
        "", max_length=5000, description="Emergency releases only: why outside any window"
    )
    revision: Integer | None = Field(None, description="The release revision you read")


class ConflictOut(Schema):
    kind: str
    release_numbers: list[str]
    other: str
    start: datetime
    end: datetime
    message: str
    resolution: str
    suggestion: datetime | None = None


class ScheduleOut(Schema):
    release: str
    start: datetime | None
    end: datetime | None
    window_id: int | None
    window: str | None
    occurrence_start: datetime | None
    outside_window_reason: str
    set_by_project: bool = Field(
        False, description="Outside a window, at the go-live time the project team set."
    )
    scheduled_by: str
    revision: int
    conflicts: list[ConflictOut] = []


class ScheduleRow(Schema):
    release: str
    title: str
    application: str
    environment: str | None
    status: str
    stage: str
    start: datetime
    end: datetime
    window_id: int | None
    outside_window_reason: str


class UnscheduleIn(Input):
    reason: str = Field(..., min_length=1, max_length=2000)


class LiftIn(Input):
    reason: str = Field(..., min_length=1, max_length=2000)


class PlannedOccurrenceOut(Schema):
    id: int
    window_id: int
    window: str
    starts: datetime
    ends: datetime
    struck_reason: str

    @staticmethod
    def resolve_window(obj: Any) -> str:
        return obj.window.name


class PlanOut(Schema):
    year: int
    status: str
    published: datetime | None
    published_by: str | None
    occurrences: list[PlannedOccurrenceOut]


class StrikeIn(Input):
    reason: str = Field(..., min_length=1, max_length=500)
