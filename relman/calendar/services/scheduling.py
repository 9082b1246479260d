"""Scheduling releases into release-window occurrences, or outside one as an emergency.

A schedule's times are the release's planned start and end. Scheduling is refused:
- outside every window that covers the release, unless it is an emergency release with a
  reason and its process's emergency approval, or its flow lets the project team set the
  go-live time (`scheduled: {by: project}`, new systems in seed 002);
- into an occurrence that is full (the message names the next free one) or struck from a
  published yearly plan;
- inside a freeze covering the release, unless an override for that freeze was recorded.
Moving or removing a schedule is audited and notifies the people concerned.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.calendar import recurrence
from relman.calendar.choices import PlanStatus
from relman.calendar.gates import PROJECT
from relman.calendar.models import (
    PlannedOccurrence,
    ReleaseSchedule,
    ReleaseWindow,
    WindowPlan,
)
from relman.calendar.services import windows as window_services
from relman.calendar.services.freezes import emergency_refusal, freezes_blocking
from relman.core.errors import Conflict, NotFound, ValidationFailed
from relman.releases import access
from relman.releases.choices import Method, Outcome
from relman.releases.models import Release
from relman.releases.services.common import check_revision
from relman.releases.services.state import flow_of

# How far ahead a refusal looks for the next free occurrence to suggest.
LOOKAHEAD = timedelta(days=400)


def local(value: datetime, zone: str | None = None) -> datetime:
    """The time in a window's zone (or the server's), for messages."""
    if zone:
        return value.astimezone(recurrence.check_time_zone(zone))
    return timezone.localtime(value)


def when(value: datetime, zone: str | None = None) -> str:
    """'2027-01-14 19:00' in the window's (or server's) zone."""
    return local(value, zone).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------- occurrences and their room


def occurrence_holding(
    rule: recurrence.WindowRule, start: datetime, end: datetime | None
) -> recurrence.Occurrence | None:
    """The occurrence of the rule that holds [start, end), or holds `start` when no end."""
    if end is not None:
        return recurrence.occurrence_at(rule, start, end)
    for occurrence in recurrence.occurrences(rule, start, start + timedelta(seconds=1)):
        if occurrence.start <= start < occurrence.end:
            return occurrence
    return None


def live_schedules() -> QuerySet[ReleaseSchedule]:
    """Schedules that hold a place in their occurrence: a cancelled release gives it back."""
    return ReleaseSchedule.objects.exclude(release__outcome=Outcome.CANCELLED)


def taken(window_id: int, starts: list[datetime], *, exclude_release: int | None = None) -> dict:
    """How many live releases are scheduled into each of the window's occurrences (by start)."""
    queryset = live_schedules().filter(window_id=window_id, occurrence_start__in=starts)
    if exclude_release is not None:
        queryset = queryset.exclude(release_id=exclude_release)
    rows = queryset.values("occurrence_start").annotate(n=Count("id"))
    return {row["occurrence_start"]: row["n"] for row in rows}


def places_taken(pairs: Iterable[tuple[ReleaseWindow, Any]]) -> dict[tuple[int, datetime], int]:
    """How many live releases each (window, occurrence) holds, for many windows in one query."""
    pairs = list(pairs)
    if not pairs:
        return {}
    rows = (
        live_schedules()
        .filter(
            window_id__in={w.pk for w, _o in pairs},
            occurrence_start__gte=min(o.start for _w, o in pairs),
            occurrence_start__lte=max(o.start for _w, o in pairs),
        )
        .values("window_id", "occurrence_start")
        .annotate(n=Count("id"))
    )
    return {(row["window_id"], row["occurrence_start"]): row["n"] for row in rows}


def _plans(years: set[int]) -> dict[int, WindowPlan]:
    return {
        p.year: p for p in WindowPlan.objects.filter(year__in=years, status=PlanStatus.PUBLISHED)
    }


def plan_refusal(window: ReleaseWindow, occurrence: recurrence.Occurrence) -> str | None:
    """Why a published yearly plan forbids the occurrence (struck, or not in it); None if not."""
    year = local(occurrence.start, window.time_zone).year
    plan = _plans({year}).get(year)
    if plan is None:
        return None
    planned = PlannedOccurrence.objects.filter(
        plan=plan, window=window, starts=occurrence.start
    ).first()
    if planned is None:
        return _(
            "The occurrence of '%(window)s' on %(when)s is not in the published %(year)d plan."
        ) % {"window": window.name, "when": when(occurrence.start, window.time_zone), "year": year}
    if planned.struck_reason:
        return _(
            "The occurrence of '%(window)s' on %(when)s was struck from the %(year)d plan: "
            "%(reason)s"
        ) % {
            "window": window.name,
            "when": when(occurrence.start, window.time_zone),
            "year": year,
            "reason": planned.struck_reason,
        }
    return None


def next_free(
    window: ReleaseWindow,
    after: datetime,
    *,
    rule: recurrence.WindowRule | None = None,
    exclude_release: int | None = None,
    release: Release | None = None,
) -> recurrence.Occurrence | None:
    """The window's first occurrence starting at or after `after` with room left and not
    struck from (or missing in) a published plan; with a release, also outside the freezes
    that block it. None within the look-ahead."""
    rule = rule or window_services.rule_of(window)
    candidates = [
        o for o in recurrence.occurrences(rule, after, after + LOOKAHEAD) if o.start >= after
    ]
    if not candidates:
        return None
    if release is not None:
        exclude_release = release.pk
        blocking = [
            (f.starts, f.ends)
            for f in freezes_blocking(release, candidates[0].start, candidates[-1].end)
        ]
        candidates = [
            o for o in candidates if not any(s < o.end and o.start < e for s, e in blocking)
        ]
    counts = (
        taken(window.pk, [o.start for o in candidates], exclude_release=exclude_release)
        if window.capacity
        else {}
    )
    years = {local(o.start, window.time_zone).year for o in candidates}
    plans = _plans(years)
    allowed: dict[int, dict[datetime, str]] = {}
    for year, plan in plans.items():
        allowed[year] = dict(
            PlannedOccurrence.objects.filter(plan=plan, window=window).values_list(
                "starts", "struck_reason"
            )
        )
    for occurrence in candidates:
        if window.capacity and counts.get(occurrence.start, 0) >= window.capacity:
            continue
        year = local(occurrence.start, window.time_zone).year
        if year in allowed and allowed[year].get(occurrence.start, "struck") != "":
            continue  # struck from, or missing in, the published plan
        return occurrence
    return None


def next_open(
    release: Release, after: datetime
) -> tuple[ReleaseWindow, recurrence.Occurrence] | None:
    """The first usable occurrence of any window covering the release, at or after `after`:
    with room, in the published plan, and outside the freezes that block the release."""
    best: tuple[ReleaseWindow, recurrence.Occurrence] | None = None
    for window in window_services.windows_for_release(release):
        found = next_free(window, after, release=release)
        if found is not None and (best is None or found.start < best[1].start):
            best = (window, found)
    return best


def _full_message(
    window: ReleaseWindow, occurrence: recurrence.Occurrence, release: Release
) -> str:
    params = {
        "window": window.name,
        "when": when(occurrence.start, window.time_zone),
        "capacity": window.capacity,
    }
    following = next_free(window, occurrence.end, release=release)
    if following is None:
        return (
            _(
                "The window '%(window)s' on %(when)s is full (capacity %(capacity)d) and has "
                "no free occurrence in the next 400 days."
            )
            % params
        )
    params["next"] = when(following.start, window.time_zone)
    return (
        _(
            "The window '%(window)s' on %(when)s is full (capacity %(capacity)d). Its next "
            "free occurrence is %(next)s."
        )
        % params
    )


def _find_window(
    release: Release, start: datetime, end: datetime | None, window_id: Any
) -> tuple[ReleaseWindow, recurrence.Occurrence] | None:
    """The covering window occurrence holding [start, end), preferring one with room."""
    candidates = window_services.windows_for_release(release)
    if window_id not in (None, ""):
        window = window_services.get_window(window_id)
        if not candidates.filter(pk=window.pk).exists():
            raise ValidationFailed(
                _("The window '%(window)s' does not apply to release %(number)s.")
                % {"window": window.name, "number": release.number},
                field="window_id",
            )
        candidates = [window]
        rule = window_services.rule_of(window)
        occurrence = occurrence_holding(rule, start, end)
        if occurrence is None:
            raise ValidationFailed(
                _("The window '%(window)s' is not open from %(start)s to %(end)s.")
                % {
                    "window": window.name,
                    "start": when(start, window.time_zone),
                    "end": when(end, window.time_zone) if end else "?",
                },
                field="start",
            )
        return window, occurrence
    candidates = list(candidates)
    rules = window_services.rules_of(candidates)
    found = []
    for window in candidates:
        occurrence = occurrence_holding(rules[window.pk], start, end)
        if occurrence is not None:
            found.append((window, occurrence))
    if not found:
        return None
    for window, occurrence in found:
        if not window.capacity:
            return window, occurrence
        used = taken(window.pk, [occurrence.start], exclude_release=release.pk)
        if used.get(occurrence.start, 0) < window.capacity:
            return window, occurrence
    return found[0]


def _outside_message(release: Release, start: datetime, end: datetime | None) -> str:
    params = {
        "number": release.number,
        "start": when(start),
        "end": when(end) if end else "",
    }
    if end is None:
        message = _("No release window covering %(number)s is open at %(start)s.") % params
    else:
        message = (
            _("No release window covering %(number)s is open from %(start)s to %(end)s.") % params
        )
    following = next_open(release, start)
    if following is not None:
        window, occurrence = following
        message += " " + _("The next one is '%(window)s' on %(when)s.") % {
            "window": window.name,
            "when": when(occurrence.start, window.time_zone),
        }
    return (
        message
        + " "
        + _("Only an emergency release with its approval may be scheduled outside a window.")
    )


def project_sets_time(release: Release) -> bool:
    """Whether the release's flow lets its project team set the go-live time, in a window or
    not: a stage of the flow has the gate `scheduled: {by: project}`."""
    _process, variant = flow_of(release)
    return any(getattr(s.option("scheduled"), "by", None) == PROJECT for s in variant.stages)


def _as_datetime(value: Any, field_name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise ValidationFailed(_("Not a date and time."), field=field_name)
    return window_services.aware(value)


def _state(schedule: ReleaseSchedule | None, release: Release) -> dict[str, Any] | None:
    """A schedule as the audit log shows it."""
    if schedule is None:
        return None
    return {
        "window": schedule.window_id,
        "window_name": schedule.window.name if schedule.window_id else "",
        "occurrence_start": schedule.occurrence_start,
        "start": release.planned_start,
        "end": release.planned_end,
        "outside_window_reason": schedule.outside_window_reason,
        **({"set_by_project": True} if schedule.set_by_project else {}),
    }


def _notify_schedule_change(
    release_id: int, action: str, before: dict | None, after: dict | None
) -> None:
    """Tell the people concerned (requester, release manager, role holders) that a release
    was scheduled, moved or unscheduled.

    Called on commit: writes the notification outbox's messages (`release.scheduled`, for a
    move too, or `release.unscheduled`), one per recipient and channel, in a transaction of
    their own; the actor and reason are read from the audit event of the change.
    """
    from relman.audit.models import AuditEvent
    from relman.notifications.services import emit  # the outbox builds on the calendar

    release = Release.objects.select_related("application").filter(pk=release_id).first()
    if release is None:
        return None
    # Who did it, and why, as the audit log recorded this very change.
    done = (
        AuditEvent.objects.filter(release_id=release_id, action=action)
        .select_related("actor")
        .order_by("-seq")
        .first()
    )
    data: dict[str, Any] = {}
    if after and after.get("start"):
        data["window"] = after["start"].isoformat()
        data["window_name"] = after.get("window_name") or ""
    if before and before.get("start") and action != "release.scheduled":
        data["previous_window"] = before["start"].isoformat()
    if done is not None and done.reason:
        data["reason"] = done.reason
    event = "release.unscheduled" if action == "release.unscheduled" else "release.scheduled"
    with transaction.atomic():
        emit(event, release, actor=done.actor if done else None, data=data)
    return None


# ---------------------------------------------------------------- services


def schedule_release(
    actor: Any,
    release_ref: Release | int | str,
    *,
    start: datetime,
    end: datetime | None = None,
    window_id: int | str | None = None,
    outside_window_reason: str = "",
    revision: int | None = None,
) -> ReleaseSchedule:
    """Schedule (or move) a release into the window occurrence holding [start, end).

    `end` defaults to the occurrence's end. Outside every window only an approved emergency
    release with a reason is scheduled (and then `end` is required).
    """
    start = _as_datetime(start, "start")
    end = _as_datetime(end, "end")
    if start is None:
        raise ValidationFailed(_("A start is required."), field="start")
    if end is not None and end <= start:
        raise ValidationFailed(_("The end must be after the start."), field="end")
    outside_window_reason = (outside_window_reason or "").strip()
    with transaction.atomic():
        release = access.get_visible(actor, release_ref, for_update=True)
        check_revision(release, revision)
        access.require_edit(actor, release)
        found = _find_window(release, start, end, window_id)
        if found is not None:
            window, occurrence = found
            end = end or occurrence.end
            refusal = plan_refusal(window, occurrence)
            if refusal:
                following = next_free(window, occurrence.end, release=release)
                if following is not None:
                    refusal += " " + _("The next planned occurrence is %s.") % when(
                        following.start, window.time_zone
                    )
                raise ValidationFailed(refusal, field="start")
            if window.capacity:
                used = taken(window.pk, [occurrence.start], exclude_release=release.pk)
                if used.get(occurrence.start, 0) >= window.capacity:
                    raise Conflict(_full_message(window, occurrence, release))
            outside_window_reason = ""
        elif project_sets_time(release):
            # A new system goes live when its project team says (seed 002 section 6.2).
            if end is None:
                raise ValidationFailed(
                    _("Outside a window, give the end of the release too."), field="end"
                )
            window, occurrence = None, None
        else:
            if release.method != Method.EMERGENCY or not outside_window_reason:
                if release.method == Method.EMERGENCY:
                    raise ValidationFailed(
                        _outside_message(release, start, end)
                        + " "
                        + _("Give the reason it cannot wait for a window."),
                        field="outside_window_reason",
                    )
                raise ValidationFailed(_outside_message(release, start, end), field="start")
            refusal = emergency_refusal(release)
            if refusal:
                raise ValidationFailed(refusal, field="outside_window_reason")
            if end is None:
                raise ValidationFailed(
                    _("Outside a window, give the end of the release too."), field="end"
                )
            window, occurrence = None, None
        blocking = freezes_blocking(release, start, end)
        if blocking:
            freeze = blocking[0]
            raise Conflict(
                _(
                    "Release %(number)s would fall in the freeze '%(freeze)s' (%(reason)s) from "
                    "%(starts)s to %(ends)s. Choose a time after %(ends)s, or record an "
                    "emergency override for an approved emergency release."
                )
                % {
                    "number": release.number,
                    "freeze": freeze.name,
                    "reason": freeze.reason,
                    "starts": when(freeze.starts),
                    "ends": when(freeze.ends),
                }
            )
        schedule = ReleaseSchedule.objects.select_related("window").filter(release=release).first()
        before = _state(schedule, release)
        if schedule is None:
            schedule = ReleaseSchedule(release=release)
        schedule.window = window
        schedule.occurrence_start = occurrence.start if occurrence else None
        schedule.outside_window_reason = outside_window_reason
        schedule.set_by_project = found is None and project_sets_time(release)
        schedule.scheduled_by = actor
        schedule.save()
        release.planned_start, release.planned_end = start, end
        release.revision += 1
        release.save(update_fields=["planned_start", "planned_end", "revision", "updated"])
        after = _state(schedule, release)
        if before == after:
            return schedule
        action = "release.rescheduled" if before else "release.scheduled"
        audit.record(
            actor,
            action,
            schedule,
            release=release,
            before=before,
            after=after,
            reason=outside_window_reason,
        )
        release_id = release.pk
        _notify_schedule_change(release_id, action, before, after)
    return schedule


def unschedule(actor: Any, release_ref: Release | int | str, *, reason: str) -> Release:
    """Take a release out of its window (its planned times are cleared), saying why."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the schedule is cancelled."), field="reason")
    with transaction.atomic():
        release = access.get_visible(actor, release_ref, for_update=True)
        access.require_edit(actor, release)
        schedule = ReleaseSchedule.objects.select_related("window").filter(release=release).first()
        if schedule is None:
            raise NotFound(_("Release %s is not scheduled.") % release.number)
        before = _state(schedule, release)
        schedule.delete()
        release.planned_start = release.planned_end = None
        release.revision += 1
        release.save(update_fields=["planned_start", "planned_end", "revision", "updated"])
        audit.record(
            actor, "release.unscheduled", release, release=release, before=before, reason=reason
        )
        release_id = release.pk
        _notify_schedule_change(release_id, "release.unscheduled", before, None)
    return release


def schedule_of(release: Release) -> ReleaseSchedule | None:
    """The release's schedule, if any (read-only)."""
    return ReleaseSchedule.objects.select_related("window").filter(release=release).first()
