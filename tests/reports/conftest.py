"""A history of releases with known outcomes and dates, for the KPI tests.

Releases are requested through the service, then given their past (the times the lifecycle
would have stamped over months) with one UPDATE: a test cannot wait a quarter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from relman.releases.models import Release
from tests import factories


def at(text: str) -> datetime:
    """A wall time in the server's zone."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.get_default_timezone())


@dataclass
class Spec:
    """One release of the history: what the KPIs will read."""

    app: str
    outcome: str  # "" while in progress
    ended: str
    lead_hours: float  # request -> end
    kind: str = "upgrade"
    method: str = "planned"
    release_class: str = "standard"
    planned: tuple[float, float] | None = None  # window, hours before the end
    started: float | None = None  # actual start, hours before the end
    by: str = "rita"
    number: str = ""

    @property
    def end(self) -> datetime:
        return at(self.ended)

    @property
    def created(self) -> datetime:
        return self.end - timedelta(hours=self.lead_hours)


HISTORY = [
    # crm, 2026Q3
    Spec("crm", "succeeded", "2026-07-01T00:00", 30, planned=(10, 2), started=8),
    Spec("crm", "succeeded", "2026-07-10T12:00", 100, kind="patch", planned=(10, 2), started=12),
    Spec("crm", "failed", "2026-07-20T10:00", 50, planned=(5, 1), started=4),
    Spec("crm", "succeeded", "2026-07-21T16:00", 6, kind="patch", method="emergency"),
    Spec(
        "crm", "rolled_back", "2026-08-05T09:00", 400, kind="new_system", planned=(6, 2), started=3
    ),
    Spec("crm", "succeeded", "2026-08-05T10:30", 2, kind="patch", method="emergency", by="rob"),
    Spec("crm", "cancelled", "2026-08-15T09:00", 20),
    Spec("crm", "succeeded", "2026-09-02T20:00", 800, release_class="major", by="rob"),
    Spec("crm", "succeeded", "2026-09-30T23:59", 170, kind="documents"),
    Spec("crm", "failed", "2026-09-29T08:00", 60, by="rob"),  # restored only in Q4
    # crm, outside 2026Q3
    Spec("crm", "succeeded", "2026-06-30T23:30", 40),
    Spec("crm", "failed", "2026-05-10T10:00", 40),
    Spec("crm", "succeeded", "2026-10-01T00:00", 40),  # restores the failure of 09-29
    Spec("crm", "succeeded", "2025-12-01T10:00", 40),
    Spec("crm", "", "2026-08-01T10:00", 40),  # still in progress
    # hr, which vera may not see
    Spec("hr", "succeeded", "2026-07-15T10:00", 10, by="otto"),
    Spec("hr", "failed", "2026-07-16T10:00", 10, by="otto"),
]


@dataclass
class History:
    specs: list[Spec]
    viewer: object  # vera, release manager of crm: sees crm only
    admin: object
    users: dict


def build(specs: list[Spec], users: dict, apps: dict) -> None:
    for spec in specs:
        release = factories.release(users[spec.by], apps[spec.app])
        spec.number = release.number
        fields = {
            "created": spec.created,
            "kind": spec.kind,
            "method": spec.method,
            "release_class": spec.release_class,
            "planned_start": spec.end - timedelta(hours=spec.planned[0]) if spec.planned else None,
            "planned_end": spec.end - timedelta(hours=spec.planned[1]) if spec.planned else None,
            "actual_start": spec.end - timedelta(hours=spec.started) if spec.started else None,
        }
        if spec.outcome:
            fields.update(status="closed", outcome=spec.outcome, actual_end=spec.end)
        Release.objects.filter(pk=release.pk).update(**fields)


@pytest.fixture
def history(presets, fast_passwords) -> History:
    apps = {"crm": factories.application("crm"), "hr": factories.application("hr")}
    users = {
        "rita": factories.user("rita", "requester", app=apps["crm"]),
        "rob": factories.user("rob", "requester", app=apps["crm"]),
        "otto": factories.user("otto", "requester", app=apps["hr"]),
    }
    web = factories.team("web", "Web department", members=[users["rita"]])
    factories.team("nobody-team", "Empty team")
    del web
    viewer = factories.user("vera", "release_manager", app=apps["crm"])
    specs = [Spec(**vars(spec)) for spec in HISTORY]
    build(specs, users, apps)
    return History(specs, viewer, factories.admin("ada"), users)
