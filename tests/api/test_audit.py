"""The audit endpoint: auditors (and administrators) verify the chain; nobody else may."""

from __future__ import annotations

import pytest
from django.db import connection

from relman.audit.models import AuditEvent
from tests import factories
from tests.api.matrix import API, Endpoint, PermissionMatrix, World, call

pytestmark = pytest.mark.django_db

VERIFY = f"{API}/audit/verify"


def verified(response, world: World) -> None:
    body = response.json()
    assert body["ok"] is True
    assert body["checked"] == AuditEvent.objects.count()
    assert (body["problem"], body["seq"]) == ("", None)


class TestAuditEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "verify",
            "GET",
            VERIFY,
            "auditor",
            refused=(("requester", 403), ("crew", 403), ("nobody", 403)),
            check=verified,
        ),
    )


def test_an_administrator_may_verify(world):
    world.users["admin"] = factories.admin()
    assert call(world.client("admin"), "GET", VERIFY).json()["ok"] is True


def test_an_auditor_of_one_application_may_verify(world):
    world.users["app_auditor"] = factories.user("aud2", "auditor", app=world.app)
    assert call(world.client("app_auditor"), "GET", VERIFY).status_code == 200


def test_verify_names_the_edited_event(world):
    seq = AuditEvent.objects.order_by("seq").values_list("seq", flat=True)[2]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET reason = %s WHERE seq = %s", ["forged", seq]
        )
    body = call(world.client("auditor"), "GET", VERIFY).json()
    assert (body["ok"], body["seq"], body["checked"]) == (False, seq, seq - 1)
    assert f"#{seq}" in body["problem"]
