"""The current user: every signed-in user may ask who they are."""

from __future__ import annotations

import pytest

from tests.api.matrix import API, Endpoint, PermissionMatrix, World, call

pytestmark = pytest.mark.django_db

ME = f"{API}/me"


def is_nina(response, world: World) -> None:
    body = response.json()
    assert (body["username"], body["roles"], body["is_superuser"]) == ("nina", [], False)


class TestAccountEndpoints(PermissionMatrix):
    endpoints = (Endpoint("me", "GET", ME, "nobody", check=is_nina),)


def test_me_lists_roles_by_application(world):
    roles = call(world.client("outsider"), "GET", ME).json()["roles"]
    assert sorted((r["role"], r["application"]) for r in roles) == [
        ("release_manager", "hr"),
        ("release_owner", "hr"),
        ("requester", "hr"),
    ]
    audrey = call(world.client("auditor"), "GET", ME).json()["roles"]
    assert audrey == [{"role": "auditor", "application": None}]


def test_a_session_works_as_well_as_a_token(world):
    from django.test import Client

    client = Client()
    client.force_login(world.users["requester"])
    assert call(client, "GET", ME).json()["username"] == "rita"
