"""Item types, items, relationships and deployed versions: written through the services,
checked against the type's schema, audited, refused clearly and only to those who may."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from relman.audit.models import AuditEvent
from relman.cmdb import services as cmdb
from relman.cmdb.models import CIType, ConfigurationItem, DeployedVersion, Relationship
from relman.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_built_in_types_come_with_the_migrations():
    kinds = dict(CIType.objects.values_list("code", "is_service"))
    assert {
        "application",
        "service",
        "server",
        "database",
        "network_device",
        "workstation",
        "document",
    } <= set(kinds)
    assert kinds["service"] and not kinds["server"]


def test_attributes_are_checked_against_the_schema_naming_the_attribute():
    with pytest.raises(ValidationFailed) as refused:
        cmdb.create_item(None, type="server", name="web-1", attributes={"cpu": "x"})
    assert refused.value.message == "attributes.cpu: 'x' is not of type 'integer'"
    assert refused.value.errors == {"attributes.cpu": ["'x' is not of type 'integer'"]}
    assert not ConfigurationItem.objects.exists()

    item = cmdb.create_item(None, type="server", name="web-1", attributes={"cpu": 4})
    with pytest.raises(ValidationFailed) as refused:
        cmdb.update_item(None, item.pk, attributes={"cpu": 0, "memory_gb": "lots"})
    assert set(refused.value.errors) == {"attributes.cpu", "attributes.memory_gb"}
    item.refresh_from_db()
    assert item.attributes == {"cpu": 4}


def test_a_type_change_checks_the_attributes_against_the_new_type():
    item = cmdb.create_item(None, type="document", name="runbook", attributes={"url": "x"})
    cmdb.update_type(
        None,
        "document",
        schema={"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
    )
    with pytest.raises(ValidationFailed) as refused:
        cmdb.update_item(None, item.pk, attributes={})
    assert refused.value.message == "attributes: 'url' is a required property"


def test_a_schema_is_validated_as_a_json_schema_when_saved():
    with pytest.raises(ValidationFailed) as refused:
        cmdb.create_type(
            None,
            code="lb",
            name="Load balancer",
            schema={"type": "object", "properties": {"vip": {"type": "adress"}}},
        )
    assert "schema" in refused.value.errors
    assert "properties/vip/type" in refused.value.errors["schema"][0]
    for schema, words in [
        ({"type": "string"}, "must describe an object"),
        ({"$ref": "https://example.com/s.json"}, "only to its own parts"),
        ({"description": "x" * 70_000}, "at most 65536"),
        ([], "must be a JSON object"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            cmdb.create_type(None, code="lb", name="LB", schema=schema)
        assert words in refused.value.errors["schema"][0], schema
    assert not CIType.objects.filter(code="lb").exists()


def test_a_schema_change_that_existing_items_fail_is_refused_naming_them():
    cmdb.create_item(None, type="server", name="web-1", attributes={"os": "linux"})
    with pytest.raises(ValidationFailed) as refused:
        cmdb.update_type(
            None,
            "server",
            schema={"type": "object", "properties": {"os": {"enum": ["aix"]}}},
        )
    assert "'web-1' (attributes.os:" in refused.value.errors["schema"][0]


def test_create_type_and_item_are_audited_with_codes():
    team = factories.team("dba", "Database team")
    factories.environment("prod")
    factories.application("crm")
    kind = cmdb.create_type(None, code="lb", name="Load balancer", schema={"type": "object"})
    item = cmdb.create_item(
        None,
        type="lb",
        name="lb-1",
        owner_team="dba",
        environment="prod",
        application="crm",
        status="planned",
    )
    assert (item.type, item.owner_team, item.status) == (kind, team, "planned")
    event = AuditEvent.objects.get(action="ci.created")
    assert event.after["owner_team"] == "dba" and event.after["type"] == "lb"
    assert AuditEvent.objects.filter(action="citype.created").exists()
    cmdb.update_item(None, item.pk, owner_team=None, description="Front door")
    event = AuditEvent.objects.get(action="ci.changed")
    assert event.before == {"owner_team": "dba", "description": ""}
    assert event.after == {"owner_team": None, "description": "Front door"}
    cmdb.retire_item(None, item.pk, reason="Replaced.")
    assert ConfigurationItem.objects.get(pk=item.pk).status == "retired"
    assert AuditEvent.objects.get(action="ci.retired").reason == "Replaced."


def test_every_bad_field_is_named():
    factories.ci("db-1", "database")
    with pytest.raises(ValidationFailed) as refused:
        cmdb.create_item(
            None,
            type="database",
            name="db-1",
            owner_team="xyz",
            environment="nowhere",
            application="nope",
            status="gone",
        )
    errors = refused.value.errors
    assert errors["owner_team"] == ["There is no team 'xyz'."]
    assert set(errors) == {"owner_team", "environment", "application", "status", "name"}
    with pytest.raises(ValidationFailed) as refused:
        cmdb.create_item(None, type="nothing", name="x")
    assert refused.value.errors == {"type": ["There is no item type 'nothing'."]}


def test_who_may_write_the_cmdb(presets):
    librarian = factories.librarian()
    local = factories.user("lou", "configuration_librarian", app=factories.application("crm"))
    nobody = factories.user("nina")
    for refused in (local, nobody):
        with pytest.raises(PermissionDenied):
            cmdb.create_item(refused, type="server", name="s")
        with pytest.raises(PermissionDenied):
            cmdb.create_type(refused, code="x", name="X")
    item = cmdb.create_item(librarian, type="server", name="s")
    assert AuditEvent.objects.get(action="ci.created").actor_name == "lib"
    cmdb.create_item(factories.admin(), type="server", name="t")
    with pytest.raises(PermissionDenied):
        cmdb.retire_item(nobody, item.pk)


def test_relationships_refuse_self_and_duplicates_and_allow_cycles():
    app = factories.ci("app", "application")
    db = factories.ci("db", "database")
    rel = cmdb.add_relationship(None, app, "runs_on", db.pk)
    assert AuditEvent.objects.get(action="relationship.added").after["target_name"] == "db"
    with pytest.raises(ValidationFailed) as refused:
        cmdb.add_relationship(None, app.pk, "runs_on", db.pk)
    assert "already" in refused.value.errors["target"][0]
    with pytest.raises(ValidationFailed) as refused:
        cmdb.add_relationship(None, app.pk, "runs_on", app.pk)
    assert refused.value.errors == {"target": ["An item cannot be related to itself."]}
    with pytest.raises(ValidationFailed) as refused:
        cmdb.add_relationship(None, app.pk, "likes", 999999)
    assert set(refused.value.errors) == {"kind", "target"}
    cmdb.add_relationship(None, db.pk, "depends_on", app.pk)  # a cycle is allowed
    assert Relationship.objects.count() == 2
    cmdb.remove_relationship(None, rel.pk)
    assert AuditEvent.objects.get(action="relationship.removed").before["source_name"] == "app"
    with pytest.raises(NotFound):
        cmdb.remove_relationship(None, rel.pk)


def test_recording_a_version_closes_the_current_one_and_links_it():
    crm = factories.application("crm")
    server = factories.ci("crm-1", "server")
    then = timezone.now() - timedelta(days=3)
    first = cmdb.record_deployed_version(
        None, server.pk, application="crm", version="1.0", installed=then
    )
    second = cmdb.record_deployed_version(None, server, application=crm, version="1.1")
    first.refresh_from_db()
    assert first.removed == second.installed and second.previous == first
    assert DeployedVersion.objects.filter(ci=server, removed__isnull=True).get() == second
    event = AuditEvent.objects.filter(action="deployed_version.recorded").last()
    assert (event.before, event.after["version"]) == ({"version": "1.0"}, "1.1")
    with pytest.raises(ValidationFailed) as refused:
        cmdb.record_deployed_version(
            None, server.pk, application="crm", version="0.9", installed=then
        )
    assert "installed later" in refused.value.errors["installed"][0]
    with pytest.raises(ValidationFailed) as refused:
        cmdb.record_deployed_version(None, server.pk, application="nope", version="")
    assert set(refused.value.errors) == {"application", "version"}
