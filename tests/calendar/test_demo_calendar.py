"""The demo's calendar: seed 002's windows for the feh applications, holiday-aware, freezes,
and feh's planned releases booked into their windows through the scheduling service."""

from __future__ import annotations

import pytest
from django.utils import timezone

from relman.audit.services import verify_chain
from relman.calendar.models import Freeze, ReleaseSchedule, ReleaseWindow
from relman.demo import load_demo
from relman.releases.models import Release

pytestmark = pytest.mark.django_db


def test_the_demo_books_feh_releases_into_their_windows(fast_passwords):
    load_demo(releases_per_app=4)
    feh_windows = ReleaseWindow.objects.filter(rrule="FREQ=MONTHLY;BYDAY=2TH,4TH")
    assert sorted(feh_windows.values_list("application__code", flat=True)) == [
        "leasing",
        "portal1890",
    ]
    assert all(w.holidays_id and w.capacity == 3 for w in feh_windows)
    assert ReleaseWindow.objects.filter(holidays__isnull=False, application__isnull=True).exists()
    assert Freeze.objects.count() == 3
    assert Freeze.objects.filter(starts__gt=timezone.now()).exists()
    # Every planned feh release past its PMO review went out in (or is booked into) a window
    # of its application.
    planned_feh = Release.objects.filter(
        process__name="feh", method="planned", variant__in=["upgrade_planned", "new_system_planned"]
    ).exclude(stage__in=["planning", "preparation", "approval_project_department", "pmo_review"])
    assert planned_feh.exists()
    for release in planned_feh.exclude(outcome="cancelled"):
        schedule = ReleaseSchedule.objects.get(release=release)
        assert schedule.window.application_id == release.application_id, release.number
        assert schedule.occurrence_start == release.planned_start
    assert ReleaseSchedule.objects.filter(release__status="in_progress").exists()
    assert verify_chain().ok
