"""Fixtures of the API tests, and the parametrization of the permission matrix."""

from __future__ import annotations

import pytest

from tests.api.matrix import World


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test of a `PermissionMatrix` class once per endpoint it lists; the
    unpermitted test only for endpoints that refuse someone."""
    if "endpoint" not in metafunc.fixturenames or metafunc.cls is None:
        return
    endpoints = metafunc.cls.endpoints
    if metafunc.function.__name__ == "test_unpermitted_is_refused":
        endpoints = tuple(e for e in endpoints if e.refused)
    metafunc.parametrize("endpoint", endpoints, ids=[e.name for e in endpoints])


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def world(db) -> World:
    return World()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Drop the unpermitted test of a matrix whose endpoints are open to every signed-in user,
    rather than report it skipped."""
    items[:] = [
        item
        for item in items
        if not (
            item.originalname == "test_unpermitted_is_refused"
            and any(
                "empty parameter set" in str(m.kwargs.get("reason", ""))
                for m in item.iter_markers("skip")
            )
        )
    ]
