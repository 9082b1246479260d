"""Release windows: created and changed only here, audited; their occurrences read here.

A window is an RFC 5545 rule (or a one-off date) at a wall-clock time in its time zone,
scoped to an application, an environment and/or a team (a department), or to everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.calendar import recurrence
from relman.calendar.models import HolidayCalendar, ReleaseWindow
from relman.calendar.services.access import require_calendar_admin
from relman.cmdb.models import Application, Environment
from relman.core import ids
from relman.core.errors import NotFound, ValidationFailed, raise_if_invalid

# Fields `update_window` may change; the audit log shows them before and after.
WINDOW_FIELDS = (
    "name",
    "description",
    "rrule",
    "first_date",
    "last_date",
    "start_time",
    "duration_minutes",
    "time_zone",
    "application",
    "environment",
    "team",
    "capacity",
    "excluded_dates",
    "holidays",
    "is_active",
)

# A window lasts at least a minute and at most a week.
MAX_DURATION = 7 * 24 * 60


# ---------------------------------------------------------------- helpers shared by the calendar


def resolve(model: type, value: Any, lookup: str, errors: dict, field_name: str) -> Any:
    """An object by instance, id or key (e.g. an application code), or None with an error."""
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    key = str(value).strip()
    found = model.objects.filter(**ids.lookup(key, lookup)).first()
    if found is None:
        errors.setdefault(field_name, []).append(_("'%s' does not exist.") % key)
    return found


def aware(value: datetime) -> datetime:
    """A datetime with a zone: naive ones are read in the server's time zone."""
    if timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def _as_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    return time.fromisoformat(str(value).strip())


def _fields(window: ReleaseWindow, names: Iterable[str]) -> dict[str, Any]:
    """Field values for the audit log (foreign keys as their id, times as text)."""
    out: dict[str, Any] = {}
    for name in names:
        if name in ("application", "environment", "holidays"):
            out[name] = getattr(window, f"{name}_id")
        elif name == "start_time":
            out[name] = window.start_time.strftime("%H:%M") if window.start_time else None
        else:
            out[name] = getattr(window, name)
    return out


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise window fields; raises ValidationFailed naming every bad field."""
    errors: dict[str, list[str]] = {}
    out = dict(values)
    if "name" in out:
        out["name"] = (out["name"] or "").strip()
        if not out["name"] or len(out["name"]) > 200:
            errors["name"] = [_("A name of 1 to 200 characters is required.")]
    if "description" in out:
        out["description"] = out["description"] or ""
    if "rrule" in out:
        try:
            out["rrule"] = recurrence.check_rule(out["rrule"] or "")
        except ValueError as exc:
            errors["rrule"] = [
                _(
                    "Not a usable RFC 5545 recurrence rule (%s). Example: FREQ=MONTHLY;BYDAY=2TH,4TH."
                )
                % exc
            ]
    for name in ("first_date", "last_date"):
        if out.get(name) not in (None, ""):
            try:
                out[name] = _as_date(out[name])
            except ValueError:
                errors[name] = [_("Not a date (YYYY-MM-DD).")]
        elif name == "first_date" and name in out:
            errors[name] = [_("A first date is required.")]
        elif name in out:
            out[name] = None
    if "start_time" in out:
        try:
            out["start_time"] = _as_time(out["start_time"])
        except (TypeError, ValueError):
            errors["start_time"] = [_("Not a time of day (HH:MM).")]
    if "duration_minutes" in out:
        duration = out["duration_minutes"]
        if not isinstance(duration, int) or isinstance(duration, bool):
            try:
                duration = int(str(duration))
            except ValueError:
                duration = 0
        if not 1 <= duration <= MAX_DURATION:
            errors["duration_minutes"] = [
                _("A duration of 1 to %d minutes is required.") % MAX_DURATION
            ]
        out["duration_minutes"] = duration
    if "time_zone" in out:
        try:
            recurrence.check_time_zone(out["time_zone"] or "")
        except ValueError:
            errors["time_zone"] = [
                _("Unknown time zone '%s': use an IANA name such as Asia/Shanghai.")
                % out["time_zone"]
            ]
    if "capacity" in out and out["capacity"] not in (None, ""):
        try:
            out["capacity"] = int(out["capacity"])
        except (TypeError, ValueError):
            out["capacity"] = 0
        if out["capacity"] < 1:
            errors["capacity"] = [_("A capacity is at least 1 (leave it empty for no limit).")]
    elif "capacity" in out:
        out["capacity"] = None
    if "excluded_dates" in out:
        dates = []
        for item in out["excluded_dates"] or ():
            try:
                dates.append(_as_date(item).isoformat())
            except ValueError:
                errors.setdefault("excluded_dates", []).append(
                    _("'%s' is not a date (YYYY-MM-DD).") % item
                )
        out["excluded_dates"] = sorted(set(dates))
    if "team" in out:
        out["team"] = (out["team"] or "").strip()
        if len(out["team"]) > 150:
            errors["team"] = [_("At most 150 characters.")]
    if "application" in out:
        out["application"] = resolve(Application, out["application"], "code", errors, "application")
    if "environment" in out:
        out["environment"] = resolve(Environment, out["environment"], "code", errors, "environment")
    if "holidays" in out:
        out["holidays"] = resolve(HolidayCalendar, out["holidays"], "name", errors, "holidays")
    if "is_active" in out:
        out["is_active"] = bool(out["is_active"])
    raise_if_invalid(errors)
    return out


def _check_dates(window: ReleaseWindow) -> None:
    if window.last_date and window.last_date < window.first_date:
        raise ValidationFailed(_("The last date is before the first date."), field="last_date")


# ---------------------------------------------------------------- services


def create_window(
    actor: Any,
    *,
    name: str,
    rrule: str,
    first_date: date | str,
    start_time: time | str,
    duration_minutes: int,
    time_zone: str = "Asia/Shanghai",
    last_date: date | str | None = None,
    application: Application | int | str | None = None,
    environment: Environment | int | str | None = None,
    team: str = "",
    capacity: int | None = None,
    excluded_dates: Iterable[date | str] = (),
    holidays: HolidayCalendar | int | str | None = None,
    description: str = "",
) -> ReleaseWindow:
    """Define a release window: a recurrence rule (empty for a one-off) at a local time."""
    require_calendar_admin(actor)
    values = _clean(
        {
            "name": name,
            "description": description,
            "rrule": rrule,
            "first_date": first_date,
            "last_date": last_date,
            "start_time": start_time,
            "duration_minutes": duration_minutes,
            "time_zone": time_zone,
            "application": application,
            "environment": environment,
            "team": team,
            "capacity": capacity,
            "excluded_dates": list(excluded_dates or ()),
            "holidays": holidays,
        }
    )
    window = ReleaseWindow(**values)
    _check_dates(window)
    with transaction.atomic():
        window.save()
        audit.record(actor, "window.created", window, after=_fields(window, WINDOW_FIELDS))
    return window


def get_window(window_id: int | str) -> ReleaseWindow:
    """The window by id; NotFound naming it otherwise."""
    key = str(window_id)
    window = (
        ReleaseWindow.objects.select_related("application", "environment", "holidays")
        .filter(pk=ids.pk_or_none(key))
        .first()
    )
    if window is None:
        raise NotFound(_("Release window %s was not found.") % key)
    return window


def update_window(actor: Any, window_id: int | str, **changes: Any) -> ReleaseWindow:
    """Change a window's fields; the audit event shows each changed one before and after."""
    require_calendar_admin(actor)
    unknown = set(changes) - set(WINDOW_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed: %s.") % ", ".join(sorted(unknown))
        )
    values = _clean(changes)
    with transaction.atomic():
        window = ReleaseWindow.objects.select_for_update().filter(pk=get_window(window_id).pk)
        window = window.get()
        before = _fields(window, values)
        for name, value in values.items():
            setattr(window, name, value)
        _check_dates(window)
        after = _fields(window, values)
        changed = [k for k in values if before[k] != after[k]]
        if not changed:
            return window
        window.save()
        audit.record(
            actor,
            "window.updated",
            window,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return window


# ---------------------------------------------------------------- reading occurrences


def rule_of(
    window: ReleaseWindow, holiday_dates: Iterable[date] | None = None
) -> recurrence.WindowRule:
    """The window as the pure expansion reads it; excluded = its excluded dates and holidays.

    `holiday_dates` saves the query when the caller has read the calendar already.
    """
    excluded = {date.fromisoformat(d) for d in window.excluded_dates or ()}
    if holiday_dates is not None:
        excluded |= set(holiday_dates)
    elif window.holidays_id:
        excluded |= set(window.holidays.holidays.values_list("date", flat=True))
    return recurrence.WindowRule(
        id=window.pk,
        rrule=window.rrule,
        first_date=window.first_date,
        start_time=window.start_time,
        duration=timedelta(minutes=window.duration_minutes),
        time_zone=window.time_zone,
        last_date=window.last_date,
        excluded=frozenset(excluded),
    )


def holiday_dates(windows: Iterable[ReleaseWindow]) -> dict[int, set[date]]:
    """The holiday dates of each calendar the windows use, in one query."""
    from relman.calendar.models import Holiday

    ids = {w.holidays_id for w in windows if w.holidays_id}
    found: dict[int, set[date]] = {i: set() for i in ids}
    for calendar_id, day in Holiday.objects.filter(calendar_id__in=ids).values_list(
        "calendar_id", "date"
    ):
        found[calendar_id].add(day)
    return found


def rules_of(windows: Iterable[ReleaseWindow]) -> dict[int, recurrence.WindowRule]:
    """Each window's rule by id, reading every holiday calendar once."""
    windows = list(windows)
    holidays = holiday_dates(windows)
    return {w.pk: rule_of(w, holidays.get(w.holidays_id, set())) for w in windows}


def id_of(model: type, value: Any, lookup: str) -> int | None:
    """The id of an object given as instance, id or key; NotFound naming an unknown key."""
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value.pk
    key = str(value)
    if ids.as_id(key):
        return ids.as_id(key)
    found = model.objects.filter(**{lookup: key}).values_list("pk", flat=True).first()
    if found is None:
        raise NotFound(_("'%s' does not exist.") % key)
    return found


def applicable_windows(
    *,
    application: Application | int | str | None = None,
    environment: Environment | int | str | None = None,
    team: str | None = None,
    active_only: bool = True,
) -> QuerySet[ReleaseWindow]:
    """Windows whose scope covers the filter: a window without an application covers every
    application, and so on. A filter left out does not narrow the list."""
    queryset = ReleaseWindow.objects.select_related("application", "environment", "holidays")
    if active_only:
        queryset = queryset.filter(is_active=True)
    app_id = id_of(Application, application, "code")
    env_id = id_of(Environment, environment, "code")
    if app_id is not None:
        queryset = queryset.filter(Q(application__isnull=True) | Q(application_id=app_id))
    if env_id is not None:
        queryset = queryset.filter(Q(environment__isnull=True) | Q(environment_id=env_id))
    if team:
        queryset = queryset.filter(Q(team="") | Q(team=team))
    return queryset


def windows_for_release(release: Any) -> QuerySet[ReleaseWindow]:
    """The active windows a release may be scheduled into: those covering its application,
    its environment (a release without one only fits windows for every environment) and its
    requester's team."""
    from relman.calendar.status import in_scope

    team = getattr(release.requester, "department", "") or ""
    return (
        ReleaseWindow.objects.select_related("application", "environment", "holidays")
        .filter(in_scope(release), is_active=True)
        .filter(Q(team="") | Q(team=team))
        .order_by("pk")
    )


def covers(window: ReleaseWindow, release: Any) -> bool:
    """`windows_for_release`'s rule for a window already read: its application, environment
    and team each match the release's or are empty (for every one)."""
    team = getattr(release.requester, "department", "") or ""
    return (
        window.application_id in (None, release.application_id)
        and (window.environment_id is None or window.environment_id == release.environment_id)
        and window.team in ("", team)
    )


def occurrences_between(
    start: datetime,
    end: datetime,
    *,
    application: Application | int | str | None = None,
    environment: Environment | int | str | None = None,
    team: str | None = None,
    windows: Iterable[ReleaseWindow] | None = None,
    honour_plan: bool = True,
) -> list[tuple[ReleaseWindow, recurrence.Occurrence]]:
    """Occurrences of the active windows covering the filter that overlap [start, end), in
    time order. `windows` replaces the filter with a given list of windows. In a year whose
    window plan is published, only the plan's occurrences that were not struck are kept."""
    start, end = aware(start), aware(end)
    if windows is None:
        windows = applicable_windows(application=application, environment=environment, team=team)
    windows = list(windows)
    rules = rules_of(windows)
    found = [
        (window, occurrence)
        for window in windows
        for occurrence in recurrence.occurrences(rules[window.pk], start, end)
    ]
    if honour_plan and found:
        found = _as_planned(found)
    found.sort(key=lambda pair: (pair[1].start, pair[0].pk))
    return found


def _as_planned(
    found: list[tuple[ReleaseWindow, recurrence.Occurrence]],
) -> list[tuple[ReleaseWindow, recurrence.Occurrence]]:
    """Keep, in years with a published plan, only its occurrences that were not struck."""
    from relman.calendar.choices import PlanStatus
    from relman.calendar.models import PlannedOccurrence, WindowPlan

    def year_of(window: ReleaseWindow, occurrence: recurrence.Occurrence) -> int:
        return occurrence.start.astimezone(recurrence.check_time_zone(window.time_zone)).year

    years = {year_of(w, o) for w, o in found}
    published = dict(
        WindowPlan.objects.filter(year__in=years, status=PlanStatus.PUBLISHED).values_list(
            "year", "pk"
        )
    )
    if not published:
        return found
    allowed = set(
        PlannedOccurrence.objects.filter(plan_id__in=published.values(), struck_reason="")
        .filter(starts__gte=min(o.start for _w, o in found))
        .filter(starts__lte=max(o.start for _w, o in found))
        .values_list("window_id", "starts")
    )
    return [
        (w, o) for w, o in found if year_of(w, o) not in published or (w.pk, o.start) in allowed
    ]
