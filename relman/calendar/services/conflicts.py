"""Conflict detection over the database: loads releases, window occurrences and freezes,
hands them to the pure `relman.calendar.conflicts`, and words each conflict (read-only)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from relman.calendar import conflicts as pure
from relman.calendar.models import FreezeOverride, ReleaseSchedule
from relman.calendar.services import windows as window_services
from relman.calendar.services.freezes import freezes_between
from relman.calendar.services.scheduling import local, when
from relman.cmdb import impact
from relman.cmdb.models import Application, Environment
from relman.releases.choices import Status
from relman.releases.models import Release, ReleaseItem

Conflict = pure.Conflict

# How far past the range occurrences are read, so that every conflict can suggest a move.
SUGGESTION_REACH = timedelta(days=120)


def describe(conflict: Conflict) -> Conflict:
    """The conflict with its `message` and `resolution` in the current language."""
    zone = conflict.time_zone or None
    start, end = local(conflict.start, zone), local(conflict.end, zone)
    span = {
        "day": start.strftime("%Y-%m-%d"),
        "from": start.strftime("%H:%M"),
        "to": end.strftime("%H:%M") if end.date() == start.date() else when(conflict.end, zone),
    }
    numbers = ", ".join(conflict.release_numbers)
    if conflict.kind == pure.OVERLAP:
        message = _(
            "%(first)s and %(second)s both change %(scope)s between %(from)s and %(to)s on %(day)s."
        ) % {
            "first": conflict.release_numbers[0],
            "second": conflict.release_numbers[1],
            "scope": conflict.scope,
            **span,
        }
        fallback = _("Move one of them to another time.")
        advice = _("Move one of them to another window, e.g. %(when)s (%(window)s).")
    elif conflict.kind == pure.OVER_CAPACITY:
        message = _(
            "The window '%(window)s' on %(day)s at %(from)s holds %(count)d releases, more than "
            "its capacity of %(capacity)d: %(numbers)s."
        ) % {
            "window": conflict.other,
            "count": len(conflict.release_numbers),
            "capacity": conflict.capacity or 0,
            "numbers": numbers,
            **span,
        }
        fallback = _("Move the extra releases to another window.")
        advice = _("Move the extra releases to another occurrence, e.g. %(when)s (%(window)s).")
    elif conflict.kind == pure.IN_FREEZE:
        message = _(
            "%(numbers)s falls in the freeze '%(freeze)s' (%(reason)s) between %(from)s and "
            "%(to)s on %(day)s."
        ) % {"numbers": numbers, "freeze": conflict.other, "reason": conflict.reason, **span}
        fallback = _(
            "Move it after the freeze, or record an emergency override for an approved "
            "emergency release."
        )
        advice = _(
            "Move it after the freeze, e.g. to %(when)s (%(window)s), or record an emergency "
            "override for an approved emergency release."
        )
    elif conflict.kind == pure.SHARED_ITEM:
        message = _(
            "%(first)s and %(second)s both affect the configuration item %(item)s (one "
            "changes it or what it depends on) between %(from)s and %(to)s on %(day)s."
        ) % {
            "first": conflict.release_numbers[0],
            "second": conflict.release_numbers[1],
            "item": conflict.scope,
            **span,
        }
        fallback = _("Move one of them to another time.")
        advice = _("Move one of them to another window, e.g. %(when)s (%(window)s).")
    else:
        message = _(
            "%(numbers)s is planned outside any release window covering it, between %(from)s "
            "and %(to)s on %(day)s."
        ) % {"numbers": numbers, **span}
        fallback = _(
            "Schedule it into a release window, or as an approved emergency with a reason."
        )
        advice = _("Schedule it into a release window, e.g. %(when)s (%(window)s).")
    if conflict.suggestion is not None:
        resolution = advice % {
            "when": when(conflict.suggestion, zone),
            "window": conflict.suggestion_window,
        }
    else:
        resolution = fallback
    return replace(conflict, message=message, resolution=resolution)


def _releases(start: datetime, end: datetime) -> list[pure.ScheduledRelease]:
    rows = list(
        Release.objects.filter(
            status=Status.IN_PROGRESS,
            planned_start__isnull=False,
            planned_end__isnull=False,
            planned_start__lt=end,
            planned_end__gt=start,
        )
        .select_related("application", "environment", "requester")
        .only(
            "id",
            "number",
            "planned_start",
            "planned_end",
            "application__code",
            "environment__code",
            "requester__department",
        )
    )
    ids = [r.pk for r in rows]
    schedules = {
        s["release_id"]: s
        for s in ReleaseSchedule.objects.filter(release_id__in=ids).values(
            "release_id", "window_id", "occurrence_start", "outside_window_reason", "set_by_project"
        )
    }
    overrides: dict[int, set[int]] = defaultdict(set)
    for release_id, freeze_id in FreezeOverride.objects.filter(release_id__in=ids).values_list(
        "release_id", "freeze_id"
    ):
        overrides[release_id].add(freeze_id)
    found = []
    for row in rows:
        schedule = schedules.get(row.pk) or {}
        found.append(
            pure.ScheduledRelease(
                id=row.pk,
                number=row.number,
                start=row.planned_start,
                end=row.planned_end,
                application=row.application.code,
                environment=row.environment.code if row.environment_id else None,
                team=row.requester.department or "",
                window_id=schedule.get("window_id"),
                occurrence_start=schedule.get("occurrence_start"),
                # An approved emergency, or a time the project team set (a new system).
                outside_window_approved=bool(
                    schedule.get("outside_window_reason") or schedule.get("set_by_project")
                ),
                overridden_freezes=frozenset(overrides.get(row.pk, ())),
            )
        )
    return found


def _with_items(
    releases: list[pure.ScheduledRelease],
) -> tuple[list[pure.ScheduledRelease], dict[int, str]]:
    """The releases with the configuration items they touch and their impact closure, and
    the items' names: one query for the items, one recursive walk per release touching any
    (never one per pair)."""
    touched: dict[int, set[int]] = defaultdict(set)
    names: dict[int, str] = {}
    rows = ReleaseItem.objects.filter(release_id__in=[r.id for r in releases]).values_list(
        "release_id", "ci_id", "ci__name"
    )
    for release_id, ci_id, name in rows:
        touched[release_id].add(ci_id)
        names[ci_id] = name
    found = []
    for release in releases:
        items = touched.get(release.id)
        if not items:
            found.append(release)
            continue
        affected = impact.affected(items)
        names.update({a.id: a.name for a in affected})
        reach = frozenset(items) | {a.id for a in affected}
        found.append(replace(release, items=frozenset(items), reach=reach))
    return found, names


def _openings(start: datetime, end: datetime) -> list[pure.WindowOpening]:
    return [
        pure.WindowOpening(
            window_id=window.pk,
            name=window.name,
            start=occurrence.start,
            end=occurrence.end,
            application=window.application.code if window.application_id else None,
            environment=window.environment.code if window.environment_id else None,
            team=window.team,
            capacity=window.capacity,
            time_zone=window.time_zone,
        )
        for window, occurrence in window_services.occurrences_between(start, end)
    ]


def _freezes(start: datetime, end: datetime) -> list[pure.FreezeSpan]:
    return [
        pure.FreezeSpan(
            id=f.pk,
            name=f.name,
            reason=f.reason,
            start=f.starts,
            end=f.ends,
            application=f.application.code if f.application_id else None,
            environment=f.environment.code if f.environment_id else None,
        )
        for f in freezes_between(start, end)
    ]


def find_conflicts(
    start: datetime,
    end: datetime,
    *,
    application: Application | int | str | None = None,
    environment: Environment | int | str | None = None,
) -> list[Conflict]:
    """Every conflict among open releases planned in [start, end), worded in the current
    language. With a filter, only conflicts involving a release of that application or
    environment are kept."""
    start, end = window_services.aware(start), window_services.aware(end)
    releases, item_names = _with_items(_releases(start, end))
    if releases:
        # A release reaching past the range still needs the windows and freezes it touches.
        reach_start = min(start, min(r.start for r in releases))
        reach_end = max(end, max(r.end for r in releases))
    else:
        reach_start, reach_end = start, end
    now = timezone.now()
    openings = _openings(reach_start - timedelta(days=1), max(reach_end, now) + SUGGESTION_REACH)
    freezes = _freezes(reach_start, max(reach_end, now) + SUGGESTION_REACH)
    found = pure.detect(releases, openings, freezes, not_before=now, item_names=item_names)
    wanted = {}
    for name, model, value in (
        ("application", Application, application),
        ("environment", Environment, environment),
    ):
        found_id = window_services.id_of(model, value, "code")
        if found_id is not None:
            wanted[name] = model.objects.filter(pk=found_id).values_list("code", flat=True).first()
    if wanted:
        keep = {r.id for r in releases if all(getattr(r, n) == code for n, code in wanted.items())}
        found = [c for c in found if keep & set(c.release_ids)]
    return [describe(c) for c in found]


def conflicts_for_release(release: Release) -> list[Conflict]:
    """The conflicts a release's planned times are part of (none when it has no times)."""
    if release.planned_start is None or release.planned_end is None:
        return []
    return [
        c
        for c in find_conflicts(release.planned_start, release.planned_end)
        if release.pk in c.release_ids
    ]
