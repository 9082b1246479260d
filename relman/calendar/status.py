"""Where a release stands on the calendar, as its process gates need to know."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from relman.calendar.models import Freeze, ReleaseSchedule


def in_scope(release) -> Q:
    """Freezes (or windows) that cover the release: everything, its application or environment."""
    return (Q(application__isnull=True) | Q(application_id=release.application_id)) & (
        Q(environment__isnull=True) | Q(environment_id=release.environment_id)
    )


def schedule_state(release) -> tuple[bool, bool]:
    """(scheduled, frozen): whether the release has a schedule (the scheduling service
    admits only an open window, or an approved emergency outside one), and whether a freeze
    in force now covers it without an override for it."""
    scheduled = ReleaseSchedule.objects.filter(release=release).exists()
    now = timezone.now()
    frozen = (
        Freeze.objects.filter(in_scope(release), starts__lte=now, ends__gt=now)
        .exclude(overrides__release=release)
        .exists()
    )
    return scheduled, frozen
