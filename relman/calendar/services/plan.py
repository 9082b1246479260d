"""The yearly window plan (seed 002): generate next year's occurrences from the window rules,
review them (strike the ones that cannot be used, with a reason), then publish.

Once a year's plan is published, scheduling into that year uses only its occurrences that
were not struck (see `scheduling.plan_refusal`), and the calendar shows only those.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.calendar.choices import PlanStatus
from relman.calendar.models import PlannedOccurrence, WindowPlan
from relman.calendar.services import windows as window_services
from relman.calendar.services.access import require_calendar_admin
from relman.calendar.services.scheduling import local
from relman.core import ids
from relman.core.errors import Conflict, NotFound, ValidationFailed

FIRST_YEAR, LAST_YEAR = 2000, 2200


def _check_year(year: Any) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(
            _("A year from %(first)d to %(last)d is required.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
            field="year",
        )
    return year


def get_plan(year: int | str) -> WindowPlan:
    """The plan of a year; NotFound when none was generated."""
    year = _check_year(year)
    plan = WindowPlan.objects.filter(year=year).first()
    if plan is None:
        raise NotFound(_("There is no window plan for %d; generate it first.") % year)
    return plan


def plan_occurrences(plan: WindowPlan) -> list[PlannedOccurrence]:
    """The plan's occurrences in time order, with their windows."""
    return list(plan.occurrences.select_related("window").order_by("starts", "window_id"))


def generate_plan(actor: Any, year: int | str) -> WindowPlan:
    """Draft the year's plan from every active window's rule. Regenerating a draft replaces
    its occurrences but keeps the strikes of those that remain; a published plan is final."""
    require_calendar_admin(actor)
    year = _check_year(year)
    # A day's margin either side: each window counts the year in its own time zone.
    start = timezone.make_aware(datetime(year, 1, 1)) - timedelta(days=1)
    end = timezone.make_aware(datetime(year + 1, 1, 1)) + timedelta(days=1)
    found = [
        (window, occurrence)
        for window, occurrence in window_services.occurrences_between(start, end, honour_plan=False)
        if local(occurrence.start, window.time_zone).year == year
    ]
    with transaction.atomic():
        plan, created = WindowPlan.objects.select_for_update().get_or_create(year=year)
        if plan.status == PlanStatus.PUBLISHED:
            raise Conflict(_("The %d plan is published; it can no longer be regenerated.") % year)
        struck = {
            (p.window_id, p.starts): p.struck_reason
            for p in plan.occurrences.exclude(struck_reason="")
        }
        plan.occurrences.all().delete()
        PlannedOccurrence.objects.bulk_create(
            [
                PlannedOccurrence(
                    plan=plan,
                    window=window,
                    starts=occurrence.start,
                    ends=occurrence.end,
                    struck_reason=struck.get((window.pk, occurrence.start), ""),
                )
                for window, occurrence in found
            ]
        )
        plan.save()
        audit.record(
            actor,
            "plan.generated",
            plan,
            after={
                "year": year,
                "occurrences": len(found),
                "windows": len({w.pk for w, _o in found}),
                "kept_strikes": sum(1 for w, o in found if (w.pk, o.start) in struck),
                "regenerated": not created,
            },
        )
    return plan


def _draft_occurrence(occurrence_id: int | str) -> PlannedOccurrence:
    key = str(occurrence_id)
    planned = (
        PlannedOccurrence.objects.select_for_update()
        .select_related("plan", "window")
        .filter(pk=ids.pk_or_none(key))
        .first()
    )
    if planned is None:
        raise NotFound(_("Planned occurrence %s was not found.") % key)
    if planned.plan.status == PlanStatus.PUBLISHED:
        raise Conflict(
            _("The %d plan is published; its occurrences can no longer change.") % planned.plan.year
        )
    return planned


def strike_occurrence(actor: Any, occurrence_id: int | str, *, reason: str) -> PlannedOccurrence:
    """Strike an occurrence from a draft plan, saying why (a holiday, a company event...)."""
    require_calendar_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the occurrence is struck."), field="reason")
    if len(reason) > 500:
        raise ValidationFailed(_("At most %d characters.") % 500, field="reason")
    with transaction.atomic():
        planned = _draft_occurrence(occurrence_id)
        before = planned.struck_reason
        planned.struck_reason = reason
        planned.save(update_fields=["struck_reason"])
        audit.record(
            actor,
            "plan.occurrence_struck",
            planned,
            before={"struck_reason": before},
            after={
                "year": planned.plan.year,
                "window": planned.window_id,
                "starts": planned.starts,
                "struck_reason": reason,
            },
            reason=reason,
        )
    return planned


def restore_occurrence(actor: Any, occurrence_id: int | str) -> PlannedOccurrence:
    """Put a struck occurrence back into a draft plan."""
    require_calendar_admin(actor)
    with transaction.atomic():
        planned = _draft_occurrence(occurrence_id)
        if not planned.struck_reason:
            return planned
        before = planned.struck_reason
        planned.struck_reason = ""
        planned.save(update_fields=["struck_reason"])
        audit.record(
            actor,
            "plan.occurrence_restored",
            planned,
            before={"struck_reason": before},
            after={
                "year": planned.plan.year,
                "window": planned.window_id,
                "starts": planned.starts,
            },
        )
    return planned


def publish_plan(actor: Any, year: int | str) -> WindowPlan:
    """Publish a reviewed draft: from now on the year's scheduling follows it."""
    require_calendar_admin(actor)
    year = _check_year(year)
    with transaction.atomic():
        plan = WindowPlan.objects.select_for_update().filter(year=year).first()
        if plan is None:
            raise NotFound(_("There is no window plan for %d; generate it first.") % year)
        if plan.status == PlanStatus.PUBLISHED:
            raise Conflict(_("The %d plan is already published.") % year)
        plan.status = PlanStatus.PUBLISHED
        plan.published_by = actor if getattr(actor, "pk", None) else None
        plan.published = timezone.now()
        plan.save()
        total = plan.occurrences.count()
        struck = plan.occurrences.exclude(struck_reason="").count()
        audit.record(
            actor,
            "plan.published",
            plan,
            before={"status": PlanStatus.DRAFT},
            after={"status": plan.status, "year": year, "occurrences": total, "struck": struck},
        )
    return plan
