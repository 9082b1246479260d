"""Calendar endpoints: windows, occurrences, freezes, schedules, conflicts and the yearly plan.

Windows, freezes, occurrences and plans are reference data for every signed-in user; only
calendar managers change them. Schedules and conflicts show only releases the caller may see.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from pydantic import BeforeValidator, Field

from relman.calendar.models import ReleaseSchedule
from relman.calendar.schemas import (
    ConflictOut,
    FreezeIn,
    FreezeOut,
    FreezePatch,
    LiftIn,
    OccurrenceOut,
    OverrideIn,
    OverrideOut,
    PlannedOccurrenceOut,
    PlanOut,
    ScheduleIn,
    ScheduleOut,
    ScheduleRow,
    StrikeIn,
    UnscheduleIn,
    WindowIn,
    WindowOut,
    WindowPatch,
)
from relman.calendar.services import conflicts as conflict_services
from relman.calendar.services import freezes as freeze_services
from relman.calendar.services import plan as plan_services
from relman.calendar.services import scheduling
from relman.calendar.services import windows as window_services
from relman.cmdb.models import Application, Environment
from relman.core.api import ERRORS, WRITE_ERRORS
from relman.core.errors import ValidationFailed
from relman.core.ids import Id
from relman.core.validators import DateTime, whole_number
from relman.releases import access
from relman.releases.models import Release

# A plan's year, as a path or query parameter.
Year = Annotated[int, Field(ge=1900, le=9999), BeforeValidator(whole_number)]

router = Router(tags=["calendar"])

# The longest span a list of occurrences, schedules or conflicts may cover.
MAX_SPAN = timedelta(days=400)


def _span(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """[start, end) from the query, defaulting to the coming 30 days; at most 400 days."""
    start = window_services.aware(start) if start else timezone.now()
    end = window_services.aware(end) if end else start + timedelta(days=30)
    if end <= start:
        raise ValidationFailed(_("The end must be after the start."), field="end")
    if end - start > MAX_SPAN:
        raise ValidationFailed(_("Ask for at most 400 days at a time."), field="end")
    return start, end


def _conflict(c: conflict_services.Conflict) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "release_numbers": list(c.release_numbers),
        "other": c.other,
        "start": c.start,
        "end": c.end,
        "message": c.message,
        "resolution": c.resolution,
        "suggestion": c.suggestion,
    }


def _schedule(user: Any, release: Release) -> dict[str, Any]:
    schedule = scheduling.schedule_of(release)
    return {
        "release": release.number,
        "start": release.planned_start,
        "end": release.planned_end,
        "window_id": schedule.window_id if schedule else None,
        "window": schedule.window.name if schedule and schedule.window_id else None,
        "occurrence_start": schedule.occurrence_start if schedule else None,
        "outside_window_reason": schedule.outside_window_reason if schedule else "",
        "set_by_project": bool(schedule and schedule.set_by_project),
        "scheduled_by": schedule.scheduled_by.username if schedule else "",
        "revision": release.revision,
        "conflicts": [_conflict(c) for c in conflict_services.conflicts_for_release(release)]
        if schedule
        else [],
    }


# ---------------------------------------------------------------- windows


@router.get("/windows", response={200: list[WindowOut], **ERRORS}, summary="Release windows")
def list_windows(
    request: HttpRequest,
    application: str | None = None,
    environment: str | None = None,
    active: bool = True,
) -> Any:
    """Windows covering the application and environment given (all when none is given)."""
    return window_services.applicable_windows(
        application=application, environment=environment, active_only=active
    ).order_by("name", "pk")


@router.post("/windows", response={201: WindowOut, **WRITE_ERRORS}, summary="Define a window")
def create_window(request: HttpRequest, payload: WindowIn) -> Status:
    window = window_services.create_window(request.user, **payload.model_dump())
    return Status(201, window_services.get_window(window.pk))


@router.get("/windows/{window_id}", response={200: WindowOut, **ERRORS}, summary="A window")
def get_window(request: HttpRequest, window_id: Id) -> Any:
    return window_services.get_window(window_id)


@router.patch(
    "/windows/{window_id}", response={200: WindowOut, **WRITE_ERRORS}, summary="Change a window"
)
def update_window(request: HttpRequest, window_id: Id, payload: WindowPatch) -> Any:
    window_services.update_window(request.user, window_id, **payload.model_dump(exclude_unset=True))
    return window_services.get_window(window_id)


@router.get(
    "/occurrences",
    response={200: list[OccurrenceOut], **ERRORS},
    summary="Window occurrences in a time span",
)
def list_occurrences(
    request: HttpRequest,
    start: DateTime | None = None,
    end: DateTime | None = None,
    application: str | None = None,
    environment: str | None = None,
) -> Any:
    """Occurrences of the active windows covering the filter, with how many releases each
    holds (holidays, excluded dates and struck plan occurrences left out)."""
    start, end = _span(start, end)
    found = window_services.occurrences_between(
        start, end, application=application, environment=environment
    )
    counts = {
        (row["window_id"], row["occurrence_start"]): row["n"]
        for row in ReleaseSchedule.objects.filter(
            window_id__in={w.pk for w, _o in found},
            occurrence_start__gte=start - timedelta(days=8),
            occurrence_start__lt=end,
        )
        .values("window_id", "occurrence_start")
        .annotate(n=Count("id"))
    }
    return [
        {
            "window_id": w.pk,
            "window": w.name,
            "start": o.start,
            "end": o.end,
            "application": w.application.code if w.application_id else None,
            "environment": w.environment.code if w.environment_id else None,
            "capacity": w.capacity,
            "booked": counts.get((w.pk, o.start), 0),
        }
        for w, o in found
    ]


# ---------------------------------------------------------------- freezes


@router.get("/freezes", response={200: list[FreezeOut], **ERRORS}, summary="Freezes")
def list_freezes(
    request: HttpRequest,
    start: DateTime | None = None,
    end: DateTime | None = None,
    application: str | None = None,
    environment: str | None = None,
) -> Any:
    """Freezes overlapping the span (the coming 30 days by default) that touch the filter."""
    start, end = _span(start, end)
    app = window_services.id_of(Application, application, "code")
    env = window_services.id_of(Environment, environment, "code")
    return freeze_services.freezes_between(start, end, application=app, environment=env)


@router.post("/freezes", response={201: FreezeOut, **WRITE_ERRORS}, summary="Declare a freeze")
def create_freeze(request: HttpRequest, payload: FreezeIn) -> Status:
    freeze = freeze_services.create_freeze(request.user, **payload.model_dump())
    return Status(201, freeze_services.get_freeze(freeze.pk))


@router.get("/freezes/{freeze_id}", response={200: FreezeOut, **ERRORS}, summary="A freeze")
def get_freeze(request: HttpRequest, freeze_id: Id) -> Any:
    return freeze_services.get_freeze(freeze_id)


@router.patch(
    "/freezes/{freeze_id}", response={200: FreezeOut, **WRITE_ERRORS}, summary="Change a freeze"
)
def update_freeze(request: HttpRequest, freeze_id: Id, payload: FreezePatch) -> Any:
    freeze_services.update_freeze(request.user, freeze_id, **payload.model_dump(exclude_unset=True))
    return freeze_services.get_freeze(freeze_id)


@router.post(
    "/freezes/{freeze_id}/lift",
    response={204: None, **WRITE_ERRORS},
    summary="Lift (delete) a freeze",
)
def lift_freeze(request: HttpRequest, freeze_id: Id, payload: LiftIn) -> Status:
    freeze_services.delete_freeze(request.user, freeze_id, reason=payload.reason)
    return Status(204, None)


@router.post(
    "/freezes/{freeze_id}/overrides",
    response={201: OverrideOut, **WRITE_ERRORS},
    summary="Let an approved emergency release through a freeze",
)
def override_freeze(request: HttpRequest, freeze_id: Id, payload: OverrideIn) -> Status:
    """Only for emergency releases approved by their process's emergency approval role."""
    override = freeze_services.override_freeze(
        request.user, payload.release, freeze_id, reason=payload.reason
    )
    return Status(201, override)


# ---------------------------------------------------------------- schedules


@router.get(
    "/schedules",
    response={200: list[ScheduleRow], **ERRORS},
    summary="Releases planned in a time span",
)
def list_schedules(
    request: HttpRequest,
    start: DateTime | None = None,
    end: DateTime | None = None,
    application: str | None = None,
    environment: str | None = None,
) -> Any:
    """Releases the caller may see with planned times in the span, scheduled or not."""
    start, end = _span(start, end)
    queryset = access.visible_releases(request.user).filter(
        planned_start__lt=end, planned_end__gt=start
    )
    if application:
        queryset = queryset.filter(application__code=application)
    if environment:
        queryset = queryset.filter(environment__code=environment)
    rows = queryset.select_related("application", "environment", "schedule").order_by(
        "planned_start", "pk"
    )
    found = []
    for release in rows:
        schedule = getattr(release, "schedule", None)  # a missing one raises AttributeError
        found.append(
            {
                "release": release.number,
                "title": release.title,
                "application": release.application.code,
                "environment": release.environment.code if release.environment_id else None,
                "status": release.status,
                "stage": release.stage,
                "start": release.planned_start,
                "end": release.planned_end,
                "window_id": schedule.window_id if schedule else None,
                "outside_window_reason": schedule.outside_window_reason if schedule else "",
            }
        )
    return found


@router.get(
    "/releases/{ref}/schedule",
    response={200: ScheduleOut, **ERRORS},
    summary="A release's schedule and its conflicts",
)
def get_schedule(request: HttpRequest, ref: str) -> Any:
    return _schedule(request.user, access.get_visible(request.user, ref))


@router.put(
    "/releases/{ref}/schedule",
    response={200: ScheduleOut, **WRITE_ERRORS},
    summary="Schedule or move a release",
)
def put_schedule(request: HttpRequest, ref: str, payload: ScheduleIn) -> Any:
    """Into the window occurrence holding the start (and end); outside one only for an
    approved emergency with a reason. The answer lists the conflicts it is part of."""
    scheduling.schedule_release(request.user, ref, **payload.model_dump())
    return _schedule(request.user, access.get_visible(request.user, ref))


@router.post(
    "/releases/{ref}/schedule/cancel",
    response={200: ScheduleOut, **WRITE_ERRORS},
    summary="Take a release out of its window",
)
def cancel_schedule(request: HttpRequest, ref: str, payload: UnscheduleIn) -> Any:
    release = scheduling.unschedule(request.user, ref, reason=payload.reason)
    return _schedule(request.user, access.get_visible(request.user, release.pk))


# ---------------------------------------------------------------- conflicts


@router.get(
    "/conflicts",
    response={200: list[ConflictOut], **ERRORS},
    summary="Conflicts in a time span",
)
def list_conflicts(
    request: HttpRequest,
    start: DateTime | None = None,
    end: DateTime | None = None,
    application: str | None = None,
    environment: str | None = None,
) -> Any:
    """Overlaps, windows over capacity, releases in freezes or outside windows: each with
    what collides with what and how to resolve it. Only conflicts between releases the
    caller may see."""
    start, end = _span(start, end)
    found = conflict_services.find_conflicts(
        start, end, application=application, environment=environment
    )
    ids = {i for c in found for i in c.release_ids}
    visible = set(
        access.visible_releases(request.user).filter(pk__in=ids).values_list("pk", flat=True)
    )
    return [_conflict(c) for c in found if set(c.release_ids) <= visible]


# ---------------------------------------------------------------- the yearly plan


def _plan(plan: Any) -> dict[str, Any]:
    return {
        "year": plan.year,
        "status": plan.status,
        "published": plan.published,
        "published_by": plan.published_by.username if plan.published_by_id else None,
        "occurrences": plan_services.plan_occurrences(plan),
    }


@router.get("/plans/{year}", response={200: PlanOut, **ERRORS}, summary="A year's window plan")
def get_plan(request: HttpRequest, year: Year) -> Any:
    return _plan(plan_services.get_plan(year))


@router.post(
    "/plans/{year}/generate",
    response={200: PlanOut, **WRITE_ERRORS},
    summary="Generate (or regenerate) a draft plan from the window rules",
)
def generate_plan(request: HttpRequest, year: Year) -> Any:
    return _plan(plan_services.generate_plan(request.user, year))


@router.post(
    "/plans/{year}/publish", response={200: PlanOut, **WRITE_ERRORS}, summary="Publish a plan"
)
def publish_plan(request: HttpRequest, year: Year) -> Any:
    return _plan(plan_services.publish_plan(request.user, year))


@router.post(
    "/plans/occurrences/{occurrence_id}/strike",
    response={200: PlannedOccurrenceOut, **WRITE_ERRORS},
    summary="Strike an occurrence from a draft plan",
)
def strike(request: HttpRequest, occurrence_id: Id, payload: StrikeIn) -> Any:
    return plan_services.strike_occurrence(request.user, occurrence_id, reason=payload.reason)


@router.post(
    "/plans/occurrences/{occurrence_id}/restore",
    response={200: PlannedOccurrenceOut, **WRITE_ERRORS},
    summary="Put a struck occurrence back",
)
def restore(request: HttpRequest, occurrence_id: Id) -> Any:
    return plan_services.restore_occurrence(request.user, occurrence_id)
