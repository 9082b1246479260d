"""The calendar in /admin/: shown for reference. Windows, freezes, schedules, holidays and
plans change only through the calendar services (pages, API, `relman calendar`), which check
permissions and write the audit log."""

from __future__ import annotations

from django.contrib import admin

from relman.calendar.models import (
    FeedToken,
    Freeze,
    FreezeOverride,
    HolidayCalendar,
    ReleaseSchedule,
    ReleaseWindow,
    WindowPlan,
)
from relman.core.admin import ReadOnlyAdmin


@admin.register(ReleaseWindow)
class ReleaseWindowAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "rrule",
        "first_date",
        "start_time",
        "duration_minutes",
        "time_zone",
        "application",
        "environment",
        "team",
        "capacity",
        "is_active",
    ]
    list_filter = ["is_active", "application", "environment"]
    search_fields = ["name", "team"]
    list_select_related = ["application", "environment"]


@admin.register(Freeze)
class FreezeAdmin(ReadOnlyAdmin):
    list_display = ["name", "starts", "ends", "application", "environment", "reason"]
    list_filter = ["application", "environment"]
    search_fields = ["name", "reason"]
    list_select_related = ["application", "environment"]


@admin.register(FreezeOverride)
class FreezeOverrideAdmin(ReadOnlyAdmin):
    list_display = ["release", "freeze", "approved_by", "reason", "created"]
    list_select_related = ["release", "freeze", "approved_by"]


@admin.register(ReleaseSchedule)
class ReleaseScheduleAdmin(ReadOnlyAdmin):
    list_display = [
        "release",
        "window",
        "occurrence_start",
        "outside_window_reason",
        "scheduled_by",
    ]
    list_select_related = ["release", "window", "scheduled_by"]
    search_fields = ["release__number"]


@admin.register(HolidayCalendar)
class HolidayCalendarAdmin(ReadOnlyAdmin):
    list_display = ["name", "source", "sha256", "updated"]


@admin.register(WindowPlan)
class WindowPlanAdmin(ReadOnlyAdmin):
    list_display = ["year", "status", "published", "published_by"]


@admin.register(FeedToken)
class FeedTokenAdmin(ReadOnlyAdmin):
    list_display = ["user", "created", "revoked"]
    exclude = ["key_hash"]
    list_select_related = ["user"]
