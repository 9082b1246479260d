"""The demo's release calendar: seed 002's windows for the feh applications (skipping the
Chinese public holidays), an evening change window for the others, a few freezes, and the
booking of feh's planned releases into their windows through the scheduling service.

Everything goes through the calendar services, as the release manager 张敏 would do it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from relman.calendar.models import Freeze, HolidayCalendar, ReleaseSchedule, ReleaseWindow
from relman.calendar.services import freezes, plan, scheduling, windows
from relman.calendar.services.holidays import import_holidays
from relman.calendar.status import in_scope
from relman.cmdb.models import Application, Environment
from relman.core.errors import Conflict, ValidationFailed
from relman.demo.cast import APPLICATIONS, People
from relman.releases.choices import Outcome

# The example holiday file shipped with relman (China's public holidays).
HOLIDAYS_FILE = (
    Path(__file__).resolve().parent.parent / "calendar" / "data" / "cn-holidays-2027.ics"
)
# Who keeps the calendar: a release manager for every application.
PLANNER = "zhangmin"
SEED_002_RULE = "FREQ=MONTHLY;BYDAY=2TH,4TH"


@dataclass
class DemoCalendar:
    """What the demo's walks need to know of the calendar."""

    planner: Any
    own_windows: dict[int, list[ReleaseWindow]] = field(default_factory=dict)  # by app id

    def window_of(self, release: Any) -> list[ReleaseWindow]:
        """The windows made for the release's own application (seed 002's for feh)."""
        return self.own_windows.get(release.application_id, [])


def create_calendar(
    people: People,
    apps: dict[str, Application],
    environments: dict[str, Environment],
    today: datetime,
    start: datetime,
) -> DemoCalendar:
    """Windows and freezes over the demo's year (and the weeks after it).

    `start` is when the history begins; `today` its end. The freezes are placed relative to
    today, so every load on the same day makes the same calendar.
    """
    planner = people.users[PLANNER]
    calendar = DemoCalendar(planner=planner)
    holidays = _holidays(planner)
    first = start.date()
    for spec in APPLICATIONS:
        app = apps[spec.code]
        if spec.process == "feh":
            window = windows.create_window(
                planner,
                name=f"{app.code} 上线发布窗口 (2nd/4th Thursday)",
                description=(
                    "Seed 002: planned upgrades go live in the evenings of the second and "
                    "fourth Thursday. 计划内发布在每月第二周和第四周的周四晚上线。"
                ),
                rrule=SEED_002_RULE,
                first_date=first,
                start_time="19:00",
                duration_minutes=240,
                application=app,
                capacity=3,
                holidays=holidays,
            )
            calendar.own_windows[app.pk] = [window]
    windows.create_window(
        planner,
        name="Evening change window 晚间变更窗口",
        description="Tuesday and Thursday evenings, except public holidays. 节假日除外。",
        rrule="FREQ=WEEKLY;BYDAY=TU,TH",
        first_date=first,
        start_time="20:00",
        duration_minutes=360,
        holidays=holidays,
    )
    windows.create_window(
        planner,
        name="Data-centre move 机房搬迁",
        description="A one-off weekend window for the move of the second data centre.",
        rrule="",
        first_date=(today + timedelta(days=26)).date(),
        start_time="08:00",
        duration_minutes=600,
        environment=environments["prod"],
    )
    midnight = today.replace(hour=0, minute=0, second=0, microsecond=0)
    freezes.create_freeze(
        planner,
        name="封网 Change freeze: year-end closing",
        reason="Finance closes the year and staff are on leave: no changes anywhere. "
        "年终结账及假期封网，禁止一切变更。",
        starts=midnight - timedelta(days=150),
        ends=midnight - timedelta(days=140),
    )
    freezes.create_freeze(
        planner,
        name="Payment peak freeze 支付高峰冻结",
        reason="Shopping festival peak: the payment gateway must not change.",
        starts=midnight - timedelta(days=40),
        ends=midnight - timedelta(days=37),
        application=apps["payment"],
    )
    freezes.create_freeze(
        planner,
        name="Network maintenance 网络维护冻结",
        reason="The data-centre network is re-cabled: nothing is deployed to production.",
        starts=midnight + timedelta(days=16),
        ends=midnight + timedelta(days=19),
        environment=environments["prod"],
    )
    return calendar


def _holidays(planner: Any) -> HolidayCalendar | None:
    """The shipped Chinese holiday calendar, imported once (None when the file is missing)."""
    if not HOLIDAYS_FILE.exists():
        return None
    return import_holidays(
        planner,
        name="中国法定节假日 China public holidays",
        content=HOLIDAYS_FILE.read_bytes(),
        filename=HOLIDAYS_FILE.name,
    )


def book(calendar: DemoCalendar, actor: Any, release: Any, after: datetime) -> bool:
    """Schedule (or move) the release into the first free occurrence of its own window after
    `after` that holds no other release of the application (two upgrades of one system in
    one evening would collide); False when there is none."""
    for window in calendar.window_of(release):
        moment = after
        for _attempt in range(24):
            found = scheduling.next_free(window, moment, release=release)
            if found is None:
                break
            taken = (
                ReleaseSchedule.objects.filter(window=window, occurrence_start=found.start)
                .exclude(release=release)
                .exclude(release__outcome=Outcome.CANCELLED)
                .exists()
            )
            if not taken:
                scheduling.schedule_release(actor, release, start=found.start, window_id=window.pk)
                return True
            moment = found.end
    return False


def book_times(actor: Any, release: Any, start: datetime, end: datetime, reason: str) -> bool:
    """Schedule the release at the given times through the service: into the window that
    holds them, or (an emergency, with `reason`) outside one. False when the service refuses
    (a freeze, or an emergency not yet approved): the times are then only planned."""
    try:
        scheduling.schedule_release(
            actor, release, start=start, end=end, outside_window_reason=reason
        )
    except (ValidationFailed, Conflict):
        return False
    return True


def blocking_freeze(release: Any, now: datetime) -> Freeze | None:
    """The freeze in force now that covers the release without an override, if any."""
    return (
        Freeze.objects.filter(in_scope(release), starts__lte=now, ends__gt=now)
        .exclude(overrides__release=release)
        .order_by("-ends")
        .first()
    )


def override(actor: Any, release: Any, freeze: Freeze, chinese: bool) -> None:
    """An emergency goes through the freeze: its manager records why."""
    reason = (
        "紧急修复生产故障，已获部门负责人批准，冻结期间上线。"
        if chinese
        else "Fixes a production incident; approved as an emergency, so it goes in the freeze."
    )
    freezes.override_freeze(actor, release, freeze.pk, reason=reason)


def draft_next_year(calendar: DemoCalendar, today: datetime) -> None:
    """Draft next year's window plan (seed 002's yearly review), left for review."""
    plan.generate_plan(calendar.planner, today.year + 1)
