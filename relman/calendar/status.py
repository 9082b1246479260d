"""Which freezes and windows cover a release (the calendar's gates and services use it)."""

from __future__ import annotations

from django.db.models import Q


def in_scope(release) -> Q:
    """Freezes (or windows) that cover the release: everything, its application or environment."""
    return (Q(application__isnull=True) | Q(application_id=release.application_id)) & (
        Q(environment__isnull=True) | Q(environment_id=release.environment_id)
    )
