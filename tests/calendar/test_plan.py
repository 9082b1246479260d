"""The yearly window plan (seed 002): generated from the rules, reviewed, published, and then
followed by scheduling and by the calendar."""

from __future__ import annotations

import pytest

from relman.audit.models import AuditEvent
from relman.calendar.models import PlannedOccurrence
from relman.calendar.services import plan, scheduling, windows
from relman.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests import factories
from tests.calendar.conftest import at
from tests.calendar.test_windows import SECOND_AND_FOURTH_THURSDAYS_2027, YEAR_2027

pytestmark = pytest.mark.django_db


def days(found) -> list[str]:
    return [p.starts.astimezone(at("2027-01-01").tzinfo).date().isoformat() for p in found]


def test_generate_lists_the_year_of_every_active_window(manager, upgrade_window):
    windows.create_window(
        manager, name="Old", rrule="FREQ=DAILY", first_date="2027-01-01", start_time="01:00",
        duration_minutes=30, last_date="2027-01-03",
    )  # fmt: skip
    drafted = plan.generate_plan(manager, 2027)
    assert drafted.status == "draft"
    found = plan.plan_occurrences(drafted)
    crm = [p for p in found if p.window == upgrade_window]
    assert days(crm) == SECOND_AND_FOURTH_THURSDAYS_2027
    assert len(found) == 24 + 3
    event = AuditEvent.objects.get(action="plan.generated")
    assert event.after["occurrences"] == 27 and event.after["regenerated"] is False


def test_strike_restore_regenerate_keeps_strikes(manager, upgrade_window):
    drafted = plan.generate_plan(manager, 2027)
    first = plan.plan_occurrences(drafted)[0]
    with pytest.raises(ValidationFailed):
        plan.strike_occurrence(manager, first.pk, reason="")
    plan.strike_occurrence(manager, first.pk, reason="Company anniversary")
    assert AuditEvent.objects.get(action="plan.occurrence_struck").reason == "Company anniversary"
    plan.generate_plan(manager, 2027)
    kept = PlannedOccurrence.objects.get(starts=at("2027-01-14"))
    assert kept.struck_reason == "Company anniversary"
    plan.restore_occurrence(manager, kept.pk)
    kept.refresh_from_db()
    assert kept.struck_reason == ""
    assert AuditEvent.objects.filter(action="plan.occurrence_restored").count() == 1


def test_publish_is_final(manager, upgrade_window):
    with pytest.raises(NotFound):
        plan.publish_plan(manager, 2027)
    plan.generate_plan(manager, 2027)
    published = plan.publish_plan(manager, 2027)
    assert (published.status, published.published_by) == ("published", manager)
    assert AuditEvent.objects.get(action="plan.published").after["occurrences"] == 24
    with pytest.raises(Conflict):
        plan.publish_plan(manager, 2027)
    with pytest.raises(Conflict):
        plan.generate_plan(manager, 2027)
    with pytest.raises(Conflict):
        plan.strike_occurrence(manager, plan.plan_occurrences(published)[0].pk, reason="Late")


def test_scheduling_follows_a_published_plan(manager, requester, crew, feh, upgrade_window):
    drafted = plan.generate_plan(manager, 2027)
    first = plan.plan_occurrences(drafted)[0]
    plan.strike_occurrence(manager, first.pk, reason="Data-centre maintenance")
    release = factories.release(requester, feh)
    scheduling.schedule_release(crew, release, start=at("2027-01-14"))  # a draft binds no one
    scheduling.unschedule(crew, release, reason="Waiting for the plan")
    plan.publish_plan(manager, 2027)
    with pytest.raises(ValidationFailed) as refused:
        scheduling.schedule_release(crew, release, start=at("2027-01-14"))
    assert refused.value.message == (
        "The occurrence of 'CRM upgrade window' on 2027-01-14 19:00 was struck from the 2027 "
        "plan: Data-centre maintenance The next planned occurrence is 2027-01-28 19:00."
    )
    scheduling.schedule_release(crew, release, start=at("2027-01-28"))
    # A window added after publication has no place in the year's plan.
    late = windows.create_window(
        manager, name="Late", rrule="FREQ=WEEKLY;BYDAY=FR", first_date="2027-01-01",
        start_time="19:00", duration_minutes=60,
    )  # fmt: skip
    other = factories.release(requester, feh, title="Other")
    with pytest.raises(ValidationFailed) as refused:
        scheduling.schedule_release(crew, other, start=at("2027-01-15"), window_id=late.pk)
    assert "is not in the published 2027 plan" in refused.value.message
    # The calendar shows only the plan's open occurrences for that year.
    shown = windows.occurrences_between(*YEAR_2027)
    assert len(shown) == 23
    assert at("2027-01-14") not in {o.start for _w, o in shown}


def test_only_calendar_managers_handle_the_plan(feh, upgrade_window, manager):
    someone = factories.user("lou", "release_manager", app=feh)
    with pytest.raises(PermissionDenied):
        plan.generate_plan(someone, 2027)
    drafted = plan.generate_plan(manager, 2027)
    with pytest.raises(PermissionDenied):
        plan.strike_occurrence(someone, plan.plan_occurrences(drafted)[0].pk, reason="x")
    with pytest.raises(PermissionDenied):
        plan.publish_plan(someone, 2027)
    with pytest.raises(ValidationFailed):
        plan.generate_plan(manager, 1066)
