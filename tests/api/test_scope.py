"""The scope endpoints of a release: touched items, departments, impact and its review,
deployed versions. Permissions, answers and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relman.releases import services
from tests import factories
from tests.api.matrix import API, Endpoint, PermissionMatrix, World, call

pytestmark = pytest.mark.django_db

ONE = f"{API}/releases/{{ref}}"
READERS = (("outsider", 404), ("nobody", 404))
WRITERS = (("outsider", 404), ("nobody", 404), ("auditor", 403))


def cmdb(world: World) -> None:
    """crm-db <- crm-app (runs on) <- crm-portal (a service owned by WEB); the release
    touches crm-db; the ops department exists."""
    if getattr(world, "_cmdb", None):
        return
    web = factories.team("web")
    db = factories.ci("crm-db", "database")
    app = factories.ci("crm-app", "server")
    portal = factories.ci("crm-portal", "service", owner_team=web)
    factories.depends(app, db, "runs_on")
    factories.depends(portal, app)
    factories.team("ops")
    services.change_items(world.users["requester"], world.release, "set", ["crm-db"])
    world._cmdb = {"db": db, "app": app, "portal": portal}


def ref(world: World) -> dict[str, str]:
    cmdb(world)
    return {"ref": world.release.number}


def revision(world: World) -> int:
    world.release.refresh_from_db()
    return world.release.revision


def names(response) -> list[str]:
    return [row["name"] for row in response.json()]


def impact_shown(response, world: World) -> None:
    body = response.json()
    assert [r["name"] for r in body["touched"]] == ["crm-db"]
    portal = next(r for r in body["affected"] if r["name"] == "crm-portal")
    assert portal == {
        "id": world._cmdb["portal"].pk,
        "name": "crm-portal",
        "type": "service",
        "type_name": "Service",
        "is_service": True,
        "owner_team": "WEB",
        "depth": 2,
        "path": ["crm-db", "crm-app", "crm-portal"],
        "via": ["runs_on", "depends_on"],
    }
    assert body["owner_teams"] == ["WEB"]


def reviewed(response, world: World) -> None:
    review = response.json()["review"]
    assert review["reviewer"] == "carl" and review["current"] is True


class TestScopeEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "items",
            "GET",
            f"{ONE}/items",
            "requester",
            refused=READERS,
            params=ref,
            check=lambda r, w: names(r) == ["crm-db"],
        ),
        Endpoint(
            "set items",
            "PUT",
            f"{ONE}/items",
            "requester",
            refused=WRITERS,
            params=ref,
            body=lambda w: {"revision": revision(w), "items": ["crm-app", "crm-db"]},
            check=lambda r, w: names(r) == ["crm-app", "crm-db"],
        ),
        Endpoint(
            "add items",
            "POST",
            f"{ONE}/items",
            "requester",
            refused=WRITERS,
            params=ref,
            body=lambda w: {"revision": revision(w), "items": ["crm-portal"]},
            check=lambda r, w: names(r) == ["crm-db", "crm-portal"],
        ),
        Endpoint(
            "remove items",
            "DELETE",
            f"{ONE}/items",
            "requester",
            refused=WRITERS,
            params=ref,
            body=lambda w: {"revision": revision(w), "items": ["crm-db"]},
            check=lambda r, w: names(r) == [],
        ),
        Endpoint(
            "teams",
            "GET",
            f"{ONE}/teams",
            "requester",
            refused=READERS,
            params=ref,
        ),
        Endpoint(
            "set teams",
            "PUT",
            f"{ONE}/teams",
            "requester",
            refused=WRITERS,
            params=ref,
            body=lambda w: {"revision": revision(w), "teams": ["ops", "web"]},
            check=lambda r, w: [t["code"] for t in r.json()] == ["ops", "web"],
        ),
        Endpoint(
            "add teams",
            "POST",
            f"{ONE}/teams",
            "requester",
            refused=WRITERS,
            params=ref,
            body=lambda w: {"revision": revision(w), "teams": ["ops"]},
            check=lambda r, w: [t["code"] for t in r.json()] == ["ops"],
        ),
        Endpoint(
            "remove teams",
            "DELETE",
            f"{ONE}/teams",
            "requester",
            refused=WRITERS,
            params=ref,
            setup=lambda w: (
                cmdb(w),
                services.change_teams(w.users["requester"], w.release, "add", ["ops"]),
            ),
            body=lambda w: {"revision": revision(w), "teams": ["ops"]},
            check=lambda r, w: r.json() == [],
        ),
        Endpoint(
            "impact",
            "GET",
            f"{ONE}/impact",
            "requester",
            refused=READERS,
            params=ref,
            check=impact_shown,
        ),
        Endpoint(
            "review impact",
            "POST",
            f"{ONE}/impact/review",
            "crew",
            status=201,
            refused=(*WRITERS, ("requester", 403)),
            params=ref,
            body=lambda w: {"note": "Seen with the DBAs"},
            check=reviewed,
        ),
        Endpoint(
            "versions",
            "GET",
            f"{ONE}/deployed-versions",
            "requester",
            refused=READERS,
            params=ref,
        ),
        Endpoint(
            "record versions",
            "POST",
            f"{ONE}/deployed-versions",
            "crew",
            refused=WRITERS,
            params=ref,
            body=lambda w: {"version": "5.2"},
            check=lambda r, w: [(v["ci"], v["version"]) for v in r.json()] == [("crm-db", "5.2")],
        ),
    )


def test_a_stale_revision_is_409_and_a_bad_name_400_naming_the_field():
    world = World()
    params = ref(world)
    client = world.client("requester")
    stale = call(
        client, "POST", f"{ONE}/items", params=params, body={"revision": 1, "items": ["crm-app"]}
    )
    assert stale.status_code == 409
    bad = call(
        client,
        "POST",
        f"{ONE}/items",
        params=params,
        body={"revision": revision(world), "items": ["nowhere"]},
    )
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"items": ["There is no configuration item 'nowhere'."]}
    wrong = call(client, "POST", f"{ONE}/items", params=params, body={"revision": "x", "items": []})
    assert wrong.status_code == 400
    nul = call(
        client,
        "POST",
        f"{ONE}/items",
        params=params,
        body={"revision": revision(world), "items": ["db\u0000"]},
    )
    assert nul.status_code == 400 and "items" in nul.json()["errors"]


def test_the_impact_answer_costs_the_same_queries_for_a_bigger_graph():
    world = World()
    params = ref(world)
    client = world.client("requester")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert call(client, "GET", f"{ONE}/impact", params=params).status_code == 200
        return len(queries)

    count()  # the token's first use is recorded once
    small = count()
    for n in range(8):
        node = factories.ci(f"node-{n}", "server")
        factories.depends(node, world._cmdb["db"], "runs_on")
        factories.depends(factories.ci(f"svc-{n}", "service"), node)
    services.change_items(world.users["requester"], world.release, "add", ["node-1", "node-2"])
    assert count() == small
