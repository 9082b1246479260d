"""Release windows, freezes, holidays, schedules and the yearly window plan."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from relman.calendar.choices import PlanStatus
from relman.core.models import TimestampedModel


class HolidayCalendar(TimestampedModel):
    """Public holidays imported from an ICS file; windows skip their dates."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    source = models.CharField(_("source file"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("holiday calendar")
        verbose_name_plural = _("holiday calendars")

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    """One day off in a holiday calendar."""

    calendar = models.ForeignKey(HolidayCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="unique_holiday_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class ReleaseWindow(TimestampedModel):
    """A recurring (RFC 5545 RRULE) or one-off time in which releases may be deployed.

    Example: seed 002's upgrade window, "every second and fourth Thursday, 19:00-23:00,
    Asia/Shanghai" is `FREQ=MONTHLY;BYDAY=2TH,4TH`, 19:00, 240 minutes. A window with no
    application, environment or team applies to every release.
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    rrule = models.CharField(
        _("recurrence rule"),
        max_length=500,
        blank=True,
        help_text=_("RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=2TH,4TH. Empty: a one-off window."),
    )
    first_date = models.DateField(_("first date"))
    last_date = models.DateField(_("last date"), null=True, blank=True)
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    application = models.ForeignKey(
        "cmdb.Application", on_delete=models.CASCADE, null=True, blank=True, related_name="windows"
    )
    environment = models.ForeignKey(
        "cmdb.Environment", on_delete=models.CASCADE, null=True, blank=True, related_name="windows"
    )
    team = models.CharField(
        _("team"), max_length=150, blank=True, help_text=_("A department; empty for every team.")
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Most releases in one occurrence.")
    )
    excluded_dates = models.JSONField(_("excluded dates"), default=list, blank=True)
    holidays = models.ForeignKey(
        HolidayCalendar, on_delete=models.SET_NULL, null=True, blank=True, related_name="windows"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("release window")
        verbose_name_plural = _("release windows")

    def __str__(self) -> str:
        return self.name


class Freeze(TimestampedModel):
    """A blackout: nothing in its scope is scheduled or deployed, unless an emergency
    override records who allowed it and why. No application and no environment: everything."""

    name = models.CharField(_("name"), max_length=200)
    reason = models.TextField(_("reason"))
    starts = models.DateTimeField(_("starts"), db_index=True)
    ends = models.DateTimeField(_("ends"), db_index=True)
    application = models.ForeignKey(
        "cmdb.Application", on_delete=models.CASCADE, null=True, blank=True, related_name="freezes"
    )
    environment = models.ForeignKey(
        "cmdb.Environment", on_delete=models.CASCADE, null=True, blank=True, related_name="freezes"
    )

    class Meta:
        ordering = ["starts"]
        verbose_name = _("freeze")
        verbose_name_plural = _("freezes")

    def __str__(self) -> str:
        return self.name


class ReleaseSchedule(TimestampedModel):
    """Where a release is scheduled: in an occurrence of a window, outside one as an
    emergency, or at a time its project team set (where its flow's `scheduled` gate accepts
    one). Its times are the release's planned start and end."""

    release = models.OneToOneField(
        "releases.Release", on_delete=models.CASCADE, related_name="schedule"
    )
    window = models.ForeignKey(
        ReleaseWindow, on_delete=models.PROTECT, null=True, blank=True, related_name="schedules"
    )
    occurrence_start = models.DateTimeField(_("window occurrence"), null=True, blank=True)
    outside_window_reason = models.TextField(_("why outside a window"), blank=True)
    set_by_project = models.BooleanField(
        _("time set by the project team"),
        default=False,
        help_text=_("Outside a window, at the go-live time the project team set (new systems)."),
    )
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("release schedule")
        indexes = [models.Index(fields=["window", "occurrence_start"], name="schedule_occurrence")]

    def __str__(self) -> str:
        return f"{self.release_id} @ {self.occurrence_start or '-'}"


class FreezeOverride(TimestampedModel):
    """An emergency release allowed into a freeze: who allowed it, and why."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="freeze_overrides"
    )
    freeze = models.ForeignKey(Freeze, on_delete=models.CASCADE, related_name="overrides")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("freeze override")
        constraints = [
            models.UniqueConstraint(fields=["release", "freeze"], name="one_override_per_freeze")
        ]

    def __str__(self) -> str:
        return f"{self.release_id} / {self.freeze_id}"


class WindowPlan(TimestampedModel):
    """The yearly window plan (seed 002): next year's occurrences, reviewed, then published."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("window plan")

    def __str__(self) -> str:
        return str(self.year)


class PlannedOccurrence(models.Model):
    """One occurrence of a window in a yearly plan; a reviewer may strike it with a reason."""

    plan = models.ForeignKey(WindowPlan, on_delete=models.CASCADE, related_name="occurrences")
    window = models.ForeignKey(ReleaseWindow, on_delete=models.CASCADE, related_name="+")
    starts = models.DateTimeField(_("starts"))
    ends = models.DateTimeField(_("ends"))
    struck_reason = models.CharField(_("struck out because"), max_length=500, blank=True)

    class Meta:
        ordering = ["starts"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "window", "starts"], name="unique_planned_occurrence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.window_id} {self.starts}"


class FeedToken(TimestampedModel):
    """A revocable secret in the URL of a personal iCalendar feed (calendar clients cannot
    send headers). Only its SHA-256 is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_tokens"
    )
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed token")

    def __str__(self) -> str:
        return f"{self.user_id} feed"
