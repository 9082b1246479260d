"""Applications and environments: reference data for every signed-in user."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api.matrix import API, Endpoint, PermissionMatrix, World

pytestmark = pytest.mark.django_db


def active_applications(response, world: World) -> None:
    assert response.json() == [
        {"code": "crm", "name": "CRM", "process": "tfdl", "is_active": True},
        {"code": "hr", "name": "HR", "process": "tfdl", "is_active": True},
    ]


def make_environments(world: World) -> None:
    factories.environment("prod")
    factories.environment("test")
    factories.application("old", process="mof", is_active=False)


def environments(response, world: World) -> None:
    assert {e["code"]: e["is_production"] for e in response.json()} == {
        "prod": True,
        "test": False,
    }


class TestReferenceDataEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "applications",
            "GET",
            f"{API}/applications",
            "nobody",
            setup=make_environments,
            check=active_applications,
        ),
        Endpoint(
            "environments",
            "GET",
            f"{API}/applications/environments",
            "nobody",
            setup=make_environments,
            check=environments,
        ),
    )
