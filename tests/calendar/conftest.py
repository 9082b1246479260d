"""Fixtures of the calendar tests: a feh application (seed 002) with its upgrade window."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from relman.calendar.services import windows
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 19, minute: int = 0) -> datetime:
    """A Shanghai time on an ISO day."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), SHANGHAI).replace(
        hour=hour, minute=minute
    )


@pytest.fixture
def manager(db):
    """A release manager for every application: manages the calendar."""
    return factories.user("marta", "release_manager")


@pytest.fixture
def feh(presets):
    return factories.application("crm", process="feh")


@pytest.fixture
def prod(db):
    return factories.environment("prod")


@pytest.fixture
def crew(feh):
    return factories.crew(feh)


@pytest.fixture
def upgrade_window(manager, feh):
    """Seed 002: every 2nd and 4th Thursday, 19:00-23:00 Shanghai, for crm, two per evening."""
    return windows.create_window(
        manager,
        name="CRM upgrade window",
        rrule=factories.SEED_002_RULE,
        first_date="2027-01-01",
        start_time="19:00",
        duration_minutes=240,
        application=feh,
        capacity=2,
    )


@pytest.fixture
def requester(feh):
    return factories.user("rita", "requester", app=feh, department="Leasing business")
