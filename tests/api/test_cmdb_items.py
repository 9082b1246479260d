"""The CMDB API (/api/v1/cmdb/...): every operation for anonymous, unpermitted and permitted
callers, the impact of a database, and flat query counts of the list and the detail."""

from __future__ import annotations

import json
from functools import cached_property

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from relman.audit.models import AuditEvent
from relman.cmdb import services as cmdb
from relman.cmdb.models import ConfigurationItem
from tests import factories
from tests.api.matrix import API, Endpoint, PermissionMatrix, World

pytestmark = pytest.mark.django_db

CMDB = f"{API}/cmdb"
WRITE_REFUSED = (("nobody", 403), ("outsider", 403))


class CmdbWorld(World):
    """The matrix's world, plus a configuration librarian (lib) and a small CMDB: the
    database crm-db, the application crm-app that runs on it and is part of the service crm."""

    def __init__(self) -> None:
        super().__init__()
        self.users["librarian"] = factories.librarian("lib")
        factories.team("dba", "Database team")
        factories.environment("prod")
        self.db = factories.ci("crm-db", "database", owner_team="dba", environment="prod")
        self.app_ci = factories.ci("crm-app", "application", application="crm")
        self.service = factories.ci("crm", "service")
        factories.depends(self.app_ci, self.db, "runs_on")
        factories.depends(self.app_ci, self.service, "part_of")
        cmdb.record_deployed_version(None, self.app_ci, application="crm", version="1.0")

    @cached_property
    def relationship(self):
        return factories.depends(self.service, self.db, "depends_on")


@pytest.fixture
def world(db) -> CmdbWorld:
    return CmdbWorld()


def item(w: CmdbWorld) -> dict:
    return {"item_id": w.db.pk}


def listed(response, world) -> None:
    body = response.json()
    assert [row["name"] for row in body["items"]] == ["crm", "crm-app", "crm-db"]
    assert body["next"] is None


def created_item(response, world) -> None:
    body = response.json()
    assert body["name"] == "crm-web" and body["attributes"] == {"cpu": 2}
    assert AuditEvent.objects.filter(action="ci.created", object_id=str(body["id"])).exists()


def detail(response, world) -> None:
    body = response.json()
    assert body["type"] == "database" and body["owner_team"] == "dba"
    assert [(r["kind"], r["item"]) for r in body["depends_on_this"]] == [("runs_on", "crm-app")]
    assert body["this_depends_on"] == []


def impacted(response, world) -> None:
    body = response.json()
    assert body["item"] == "crm-db"
    assert [(row["name"], row["type"], row["path_names"]) for row in body["affected"]] == [
        ("crm-app", "application", ["crm-db", "crm-app"]),
        ("crm", "service", ["crm-db", "crm-app", "crm"]),
    ]
    assert body["affected"][1]["is_service"] is True
    assert body["affected"][1]["hops"][1] == {
        "item_id": world.service.pk,
        "kind": "part_of",
        "reverse": True,
    }


def imported(response, world) -> None:
    assert response.json()["items"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert ConfigurationItem.objects.filter(name="imported-1").exists()


def exported(response, world) -> None:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "database,crm-db,,dba,prod,,active,{}" in response.content.decode()


def upload(w: CmdbWorld) -> dict:
    text = "type,name\nserver,imported-1\n"
    return {"file": SimpleUploadedFile("servers.csv", text.encode()), "what": "items"}


class TestCmdbEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint("types", "GET", f"{CMDB}/types", "nobody"),
        Endpoint(
            "create type",
            "POST",
            f"{CMDB}/types",
            "librarian",
            status=201,
            refused=WRITE_REFUSED,
            body=lambda w: {
                "code": "queue",
                "name": "Queue",
                "schema": {"type": "object", "properties": {"depth": {"type": "integer"}}},
            },
            check=lambda r, w: r.json()["schema"]["properties"] == {"depth": {"type": "integer"}},
        ),
        Endpoint(
            "change type",
            "PATCH",
            f"{CMDB}/types/{{code}}",
            "librarian",
            refused=WRITE_REFUSED,
            params=lambda w: {"code": "document"},
            body=lambda w: {"name": "Documents", "schema": {"type": "object"}},
            check=lambda r, w: r.json()["name"] == "Documents",
        ),
        Endpoint("items", "GET", f"{CMDB}/items", "nobody", check=listed),
        Endpoint(
            "create item",
            "POST",
            f"{CMDB}/items",
            "librarian",
            status=201,
            refused=WRITE_REFUSED,
            body=lambda w: {"type": "server", "name": "crm-web", "attributes": {"cpu": 2}},
            check=created_item,
        ),
        Endpoint("detail", "GET", f"{CMDB}/items/{{item_id}}", "nobody", params=item, check=detail),
        Endpoint(
            "change item",
            "PATCH",
            f"{CMDB}/items/{{item_id}}",
            "librarian",
            refused=WRITE_REFUSED,
            params=item,
            body=lambda w: {"description": "Main CRM database", "status": "maintenance"},
            check=lambda r, w: r.json()["status"] == "maintenance",
        ),
        Endpoint(
            "retire",
            "POST",
            f"{CMDB}/items/{{item_id}}/retire",
            "librarian",
            refused=WRITE_REFUSED,
            params=item,
            body=lambda w: {"reason": "Moved to the cloud."},
            check=lambda r, w: r.json()["status"] == "retired",
        ),
        Endpoint(
            "versions",
            "GET",
            f"{CMDB}/items/{{item_id}}/versions",
            "nobody",
            params=lambda w: {"item_id": w.app_ci.pk},
            check=lambda r, w: [v["version"] for v in r.json()] == ["1.0"],
        ),
        Endpoint(
            "record version",
            "POST",
            f"{CMDB}/items/{{item_id}}/versions",
            "librarian",
            status=201,
            refused=WRITE_REFUSED,
            params=lambda w: {"item_id": w.app_ci.pk},
            body=lambda w: {"application": "crm", "version": "1.1"},
            check=lambda r, w: r.json()["previous_version"] == "1.0",
        ),
        Endpoint(
            "impact",
            "GET",
            f"{CMDB}/items/{{item_id}}/impact",
            "nobody",
            params=item,
            check=impacted,
        ),
        Endpoint(
            "relate",
            "POST",
            f"{CMDB}/relationships",
            "librarian",
            status=201,
            refused=WRITE_REFUSED,
            body=lambda w: {"source": w.service.pk, "kind": "depends_on", "target": w.db.pk},
            check=lambda r, w: r.json()["target_name"] == "crm-db",
        ),
        Endpoint(
            "unrelate",
            "DELETE",
            f"{CMDB}/relationships/{{relationship_id}}",
            "librarian",
            status=204,
            refused=WRITE_REFUSED,
            params=lambda w: {"relationship_id": w.relationship.pk},
        ),
        Endpoint(
            "import",
            "POST",
            f"{CMDB}/import",
            "librarian",
            refused=WRITE_REFUSED,
            body=upload,
            multipart=True,
            check=imported,
        ),
        Endpoint(
            "export",
            "GET",
            f"{CMDB}/export",
            "nobody",
            query={"format": "csv", "what": "items"},
            check=exported,
        ),
    )


# ---------------------------------------------------------------- behaviour through the API


@pytest.fixture
def librarian_client(world, api_client):
    return api_client(world.users["librarian"])


def test_a_bad_attribute_is_a_400_naming_it(world, librarian_client):
    response = librarian_client.post(
        f"{CMDB}/items",
        {"type": "server", "name": "s", "attributes": {"cpu": "x"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "attributes.cpu: 'x' is not of type 'integer'"


def test_an_import_with_a_bad_row_is_refused_naming_its_line(world, librarian_client):
    text = "type,name,owner_team\n" + "".join(f"server,s{n},dba\n" for n in range(999))
    text += "server,bad,xyz\n"
    before = ConfigurationItem.objects.count()
    response = librarian_client.post(
        f"{CMDB}/import",
        {"file": SimpleUploadedFile("s.csv", text.encode()), "what": "items"},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"line 1001, owner_team": ["There is no team 'xyz'."]}
    assert ConfigurationItem.objects.count() == before
    response = librarian_client.post(
        f"{CMDB}/import",
        {"file": SimpleUploadedFile("s.csv", text.encode()[:-15]), "dry_run": "true"},
    )
    assert response.status_code == 400 and "what" in response.json()["errors"]


def test_the_list_filters_and_pages_with_a_cursor(world, api_client):
    client = api_client(world.users["nobody"])
    for n in range(5):
        factories.ci(f"srv-{n}", "server", environment="prod")
    response = client.get(f"{CMDB}/items", {"type": "server", "limit": 2})
    page = response.json()
    assert [row["name"] for row in page["items"]] == ["srv-0", "srv-1"]
    page = client.get(
        f"{CMDB}/items", {"type": "server", "limit": 2, "cursor": page["next"]}
    ).json()
    assert [row["name"] for row in page["items"]] == ["srv-2", "srv-3"]
    response = client.get(f"{CMDB}/items", {"type": "database", "cursor": page["next"]})
    assert response.status_code == 400 and "cursor" in response.json()["errors"]
    names = lambda **q: [r["name"] for r in client.get(f"{CMDB}/items", q).json()["items"]]  # noqa: E731
    assert names(owner_team="dba") == ["crm-db"]
    assert names(environment="prod", q="SRV-4") == ["srv-4"]
    assert names(application="crm") == ["crm-app"]
    assert names(status="active", type="service") == ["crm"]


def test_list_and_detail_queries_do_not_grow_with_rows(
    world, api_client, django_assert_num_queries
):
    client = api_client(world.users["nobody"])
    client.get(f"{CMDB}/items")  # the token's first use is written once

    def count(url: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    list_before, detail_before = count(f"{CMDB}/items"), count(f"{CMDB}/items/{world.db.pk}")
    team = factories.team("ops")
    for n in range(20):
        made = factories.ci(f"more-{n}", "application", owner_team=team, application="crm")
        factories.depends(made, world.db, "runs_on")
        cmdb.record_deployed_version(None, made, application="crm", version=f"{n}")
    for n in range(5):
        cmdb.record_deployed_version(None, world.db, application="crm", version=f"9.{n}")
    assert count(f"{CMDB}/items") == list_before
    assert count(f"{CMDB}/items/{world.db.pk}") == detail_before
    body = client.get(f"{CMDB}/items/{world.db.pk}").json()
    assert len(body["depends_on_this"]) == 21 and len(body["history"]) == 5
    assert [v["version"] for v in body["current_versions"]] == ["9.4"]
    assert body["history"][0]["previous_version"] == "9.3"
    with django_assert_num_queries(list_before):
        client.get(f"{CMDB}/items")


def test_the_export_as_json_imports_again(world, librarian_client):
    response = librarian_client.get(f"{CMDB}/export", {"format": "json", "what": "all"})
    document = response.json()
    assert {"types", "items", "relationships"} <= set(document)
    response = librarian_client.post(
        f"{CMDB}/import",
        {"file": SimpleUploadedFile("cmdb.json", json.dumps(document).encode())},
    )
    assert response.status_code == 200, response.content
    assert response.json()["items"]["unchanged"] == 3
    response = librarian_client.get(f"{CMDB}/export", {"format": "csv", "what": "all"})
    assert response.status_code == 400 and "what" in response.json()["errors"]
