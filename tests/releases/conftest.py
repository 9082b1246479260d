"""The people and the release most release tests start from (process tfdl, application crm)."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def requester(app):
    """Holds `requester` for crm, in the Sales department: may request releases and edit
    their own."""
    return factories.user("rita", "requester", app=app, department="Sales")


@pytest.fixture
def crew(app):
    """Holds every stage role of tfdl for crm: does the work of a release."""
    return factories.crew(app, "carl")


@pytest.fixture
def auditor(presets):
    """Holds `auditor` for every application: sees everything, changes nothing."""
    return factories.user("audrey", "auditor")


@pytest.fixture
def other_app(presets):
    return factories.application("hr", process="tfdl")


@pytest.fixture
def outsider(other_app):
    """Holds every creating role, but for another application only."""
    return factories.user("otto", "requester", "release_manager", "release_owner", app=other_app)


@pytest.fixture
def release(requester, app):
    return factories.release(requester, app, title="Upgrade CRM to 5.2", version_number="5.2.0")
