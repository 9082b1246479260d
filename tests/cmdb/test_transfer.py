"""Import and export of the CMDB: all or nothing, every problem by line and field, bulk
writes, one audit event, and a round trip that changes nothing."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from relman.audit.models import AuditEvent
from relman.cmdb import transfer
from relman.cmdb.models import CIType, ConfigurationItem, Relationship
from relman.core.errors import PermissionDenied, ValidationFailed
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "type,name,description,owner_team,environment,application,status,attributes\n"


def items_csv(count: int, bad: dict[int, str] | None = None) -> bytes:
    """`count` servers; `bad` maps a row number (1-based) to its owner team."""
    lines = [HEADER]
    for n in range(1, count + 1):
        team = (bad or {}).get(n, "ops")
        lines.append(
            f'server,srv-{n:05},Server {n},{team},prod,,active,"{{""cpu"": {n % 64 + 1}}}"\n'
        )
    return "".join(lines).encode()


def run_import(data: bytes, what: str | None = "items", **kwargs):
    return transfer.import_file(None, io.BytesIO(data), what=what, **kwargs)


@pytest.fixture
def reference():
    factories.team("ops", "Operations")
    factories.environment("prod")


def test_one_bad_row_among_1000_refuses_the_file_naming_its_line_and_field(reference):
    factories.ci("srv-00001", "server", description="Already here")
    before = (ConfigurationItem.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as refused:
        run_import(items_csv(1000, bad={733: "xyz"}))
    # the header is line 1, so row 733 is line 734
    assert refused.value.errors == {"line 734, owner_team": ["There is no team 'xyz'."]}
    assert "line 734, owner_team: There is no team 'xyz'." in refused.value.message
    assert (ConfigurationItem.objects.count(), AuditEvent.objects.count()) == before
    assert ConfigurationItem.objects.get(name="srv-00001").description == "Already here"


def test_every_problem_is_collected_up_to_the_cap(reference):
    data = items_csv(10, bad={2: "a", 9: "b"}).replace(b'"{""cpu"": 5}"', b'"{""cpu"": ""x""}"')
    with pytest.raises(ValidationFailed) as refused:
        run_import(data)
    assert list(refused.value.errors) == [
        "line 3, owner_team",
        "line 5, attributes.cpu",
        "line 10, owner_team",
    ]
    with pytest.raises(ValidationFailed) as refused:
        run_import(items_csv(transfer.MAX_ERRORS + 50, bad=dict.fromkeys(range(1, 300), "x")))
    assert len(refused.value.errors) == transfer.MAX_ERRORS
    assert f"{transfer.MAX_ERRORS + 50} problem(s)" in refused.value.message
    assert not ConfigurationItem.objects.exists()


def test_an_import_upserts_by_type_and_name_in_bulk_with_one_audit_event(
    reference, django_assert_max_num_queries
):
    factories.ci("srv-00002", "server", description="Old")
    data = items_csv(2000)
    with django_assert_max_num_queries(40):
        report = run_import(data, filename="servers.csv")
    assert vars(report.items) == {"created": 1999, "updated": 1, "unchanged": 0}
    assert ConfigurationItem.objects.get(name="srv-00002").description == "Server 2"
    assert ConfigurationItem.objects.get(name="srv-00007").attributes == {"cpu": 8}
    [event] = AuditEvent.objects.filter(action="cmdb.imported")
    assert event.after["sha256"] == hashlib.sha256(data).hexdigest() == report.sha256
    assert event.after["items"] == {"created": 1999, "updated": 1, "unchanged": 0}
    assert event.after["file"] == "servers.csv"
    again = run_import(data)
    assert vars(again.items) == {"created": 0, "updated": 0, "unchanged": 2000}


def test_a_dry_run_reports_and_writes_nothing(reference):
    report = run_import(items_csv(5), dry_run=True)
    assert report.dry_run and report.items.created == 5
    assert not ConfigurationItem.objects.exists()
    assert not AuditEvent.objects.filter(action="cmdb.imported").exists()


def test_relationships_import_by_names_with_new_and_existing_items(reference):
    factories.ci("db-1", "database")
    document = {
        "types": [
            {"code": "queue", "name": "Queue", "schema": {"type": "object"}, "is_service": False}
        ],
        "items": [
            {"type": "application", "name": "crm-app"},
            {"type": "queue", "name": "orders", "owner_team": "ops"},
        ],
        "relationships": [
            {
                "source_type": "application",
                "source": "crm-app",
                "kind": "runs_on",
                "target_type": "database",
                "target": "db-1",
            },
            {
                "source_type": "application",
                "source": "crm-app",
                "kind": "connects_to",
                "target_type": "queue",
                "target": "orders",
            },
        ],
    }
    report = run_import(json.dumps(document).encode(), what=None, filename="cmdb.json")
    assert report.counts() == {
        "types": {"created": 1, "updated": 0, "unchanged": 0},
        "items": {"created": 2, "updated": 0, "unchanged": 0},
        "relationships": {"created": 2, "updated": 0, "unchanged": 0},
    }
    assert ConfigurationItem.objects.get(name="orders").type.code == "queue"
    assert Relationship.objects.filter(source__name="crm-app", target__name="db-1").exists()
    csv_rows = (
        b"source_type,source,kind,target_type,target\n"
        b"application,crm-app,runs_on,database,db-1\n"
        b"application,crm-app,likes,database,db-1\n"
        b"application,ghost,runs_on,database,db-1\n"
        b"application,crm-app,runs_on,application,crm-app\n"
    )
    with pytest.raises(ValidationFailed) as refused:
        run_import(csv_rows, what="relationships")
    assert refused.value.errors == {
        "line 3, kind": [
            "'likes' is not a relationship kind; use one of: depends_on, runs_on, part_of, "
            "connects_to."
        ],
        "line 4, source": ["There is no application named 'ghost'."],
        "line 5, target": ["An item cannot be related to itself."],
    }


def test_export_and_import_again_is_a_round_trip(reference):
    factories.application("crm")
    team = factories.team("dba")
    db = factories.ci("db-1", "database", owner_team=team, attributes={"engine": "postgres"})
    app = factories.ci("crm-app", "application", application="crm", environment="prod")
    factories.depends(app, db, "runs_on")
    factories.depends(app, factories.ci("crm", "service", status="planned"), "part_of")
    documents = {
        what: transfer.export(what, "csv")[0] for what in ("types", "items", "relationships")
    }
    whole, content_type, name = transfer.export("all", "json")
    assert content_type == "application/json" and name == "cmdb-all.json"
    assert documents["items"].splitlines()[0] == HEADER.strip()
    assert "database,db-1,,dba,,,active" in documents["items"]
    assert "application,crm-app,runs_on,database,db-1" in documents["relationships"]
    snapshot = list(ConfigurationItem.objects.values().order_by("id"))
    for what in ("types", "items", "relationships"):
        report = run_import(documents[what].encode(), what=what)
        assert getattr(report, what).created == 0, what
        assert getattr(report, what).updated == 0, what
    assert run_import(whole.encode(), what=None).items.unchanged == 3
    assert list(ConfigurationItem.objects.values().order_by("id")) == snapshot

    # into an empty CMDB: the JSON file brings everything back
    Relationship.objects.all().delete()
    ConfigurationItem.objects.all().delete()
    report = run_import(whole.encode(), what=None)
    assert (report.items.created, report.relationships.created) == (3, 2)
    assert transfer.export("all", "json")[0] == whole


def test_bad_files_are_refused_naming_the_file(reference, settings):
    for data, what, words in [
        (b"", "items", "empty"),
        (b"\xff\xfe", "items", "not UTF-8"),
        (b"name,colour\nx,red\n", "items", "unknown column(s) colour"),
        (b"type\nserver\n", "items", "missing column(s) name"),
        (b"{", None, "not valid JSON"),
        (b'{"items": 3}', None, "A list is expected"),
        (b'{"things": []}', None, "Unknown key(s)"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            run_import(data, what=what, filename="f.json" if what is None else "f.csv")
        assert words in refused.value.message, data
    with pytest.raises(ValidationFailed) as refused:
        run_import(items_csv(2), what=None, filename="f.csv")
    assert refused.value.errors == {"what": [refused.value.message]}
    settings.RELMAN_CMDB_IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationFailed) as refused:
        run_import(items_csv(5))
    assert "larger than" in refused.value.errors["file"][0]
    settings.RELMAN_CMDB_IMPORT_MAX_BYTES = 10**6
    settings.RELMAN_CMDB_IMPORT_MAX_ROWS = 3
    with pytest.raises(ValidationFailed) as refused:
        run_import(items_csv(5))
    assert "more than 3 rows" in refused.value.errors["file"][0]


def test_a_type_file_changes_schemas_and_the_items_follow_them(reference):
    data = (
        b"code,name,description,is_service,schema\n"
        b'server,Server,,false,"{""type"": ""object"", ""required"": [""cpu""]}"\n'
    )
    assert run_import(data, what="types").types.updated == 1
    assert CIType.objects.get(code="server").schema["required"] == ["cpu"]
    with pytest.raises(ValidationFailed) as refused:
        run_import(HEADER.encode() + b"server,s1,,,,,active,{}\n")
    assert refused.value.errors == {"line 2, attributes": ["'cpu' is a required property"]}


def test_only_librarians_import(presets):
    with pytest.raises(PermissionDenied):
        transfer.import_file(factories.user("nina"), io.BytesIO(items_csv(1)), what="items")
