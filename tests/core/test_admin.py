"""Reference data edited in the admin is audited; domain rows are read-only there."""

from __future__ import annotations

import pytest

from relman.audit.models import AuditEvent
from relman.audit.services import verify_chain
from relman.cmdb.models import Application

pytestmark = pytest.mark.django_db


def test_application_edit_in_admin_is_audited(client, admin, presets):
    client.force_login(admin)
    response = client.post(
        "/admin/cmdb/application/add/",
        {
            "code": "wms",
            "name": "Warehouse",
            "process_name": "tfdl",
            "is_active": "on",
            "description": "",
        },
    )
    assert response.status_code == 302, response.content[:500]
    app = Application.objects.get(code="wms")
    event = AuditEvent.objects.get(action="application.created")
    assert event.actor_name == admin.username
    assert event.after["code"] == "wms"
    assert event.object_id == str(app.pk)

    response = client.post(
        f"/admin/cmdb/application/{app.pk}/change/",
        {
            "code": "wms",
            "name": "Warehouse management",
            "process_name": "tfdl",
            "is_active": "on",
            "description": "",
        },
    )
    assert response.status_code == 302
    changed = AuditEvent.objects.get(action="application.changed")
    assert changed.before == {"name": "Warehouse"}
    assert changed.after == {"name": "Warehouse management"}
    assert verify_chain().ok


def test_releases_and_audit_are_read_only_in_admin(client, admin, presets):
    client.force_login(admin)
    assert client.get("/admin/releases/release/add/").status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.get("/admin/releases/release/").status_code == 200
