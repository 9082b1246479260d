"""The change API (/api/v1/changes/..., /api/v1/releases/{ref}/changes): every operation for
anonymous, unpermitted and permitted callers; the list's filters, pages and query count."""

from __future__ import annotations

from functools import cached_property

import pytest

from relman.changes import services
from relman.releases import services as releases
from tests import factories
from tests.api.matrix import API, Endpoint, PermissionMatrix, World, call

pytestmark = pytest.mark.django_db

CHANGES = f"{API}/changes"
ONE = f"{CHANGES}/{{number}}"
REFUSED = (("nobody", 403), ("outsider", 403))
HIDDEN = (("outsider", 404), ("nobody", 404))


class ChangesWorld(World):
    """The matrix's world plus crm's change owner (owen) and a CAB member of crm (bea);
    changes are made when first asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.users["changer"] = factories.user("owen", "change_owner", app=self.app)
        self.users["board"] = factories.user("bea", "cab_member", app=self.app)

    def _change(self, title: str, **fields):
        fields.setdefault("submit", True)
        return services.create_change(
            self.users["changer"], title=title, application=self.app, **fields
        )

    @cached_property
    def change(self):
        """A submitted change from Jira."""
        return self._change(
            "Upgrade the CRM database",
            external_system="jira",
            external_key="CRM-7",
            external_url="https://jira.example.com/browse/CRM-7",
        )

    @cached_property
    def draft(self):
        return self._change("A draft", submit=False)

    @cached_property
    def approved(self):
        return services.approve_change(self.users["board"], self._change("Approved one"))

    @cached_property
    def reviewable(self):
        """An approved change carried by a cancelled release: ready for its review."""
        change = services.approve_change(self.users["board"], self._change("Carried"))
        release = factories.release(self.users["requester"], self.app, title="Carrier")
        services.change_release_changes(
            self.users["requester"], release, "add", [change.number], revision=release.revision
        )
        release.refresh_from_db()
        releases.cancel(self.users["crew"], release, revision=release.revision, reason="Moved.")
        return change


@pytest.fixture
def world(db) -> ChangesWorld:
    return ChangesWorld()


def number(attr: str):
    return lambda w: {"number": getattr(w, attr).number}


def revision(w: World) -> int:
    w.release.refresh_from_db()
    return w.release.revision


def carried(w: ChangesWorld) -> dict:
    """The release carrying the change already (for the list, remove and set)."""
    if not getattr(w, "_carried", False):
        services.change_release_changes(
            w.users["requester"], w.release, "add", [w.change.number], revision=revision(w)
        )
        w._carried = True
    return {"ref": w.release.number}


def numbers(response) -> list[str]:
    return [row["number"] for row in response.json()]


class TestChangeEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "list",
            "GET",
            CHANGES,
            "nobody",
            params=lambda w: (w.change, {})[1],
            check=lambda r, w: [c["number"] for c in r.json()["items"]] == [w.change.number],
        ),
        Endpoint(
            "create",
            "POST",
            CHANGES,
            "changer",
            status=201,
            refused=REFUSED,
            body=lambda w: {"title": "New payslips", "application": "crm", "submit": True},
            check=lambda r, w: r.json()["status"] == "submitted",
        ),
        Endpoint("show", "GET", ONE, "nobody", params=number("change")),
        Endpoint(
            "edit",
            "PATCH",
            ONE,
            "changer",
            refused=REFUSED,
            params=number("change"),
            body=lambda w: {"title": "Upgrade the CRM database to 16"},
        ),
        Endpoint(
            "submit", "POST", f"{ONE}/submit", "changer", refused=REFUSED, params=number("draft")
        ),
        Endpoint(
            "approve",
            "POST",
            f"{ONE}/approve",
            "board",
            refused=(*REFUSED, ("changer", 403)),
            params=number("change"),
            body=lambda w: {"note": "Go."},
        ),
        Endpoint(
            "reject",
            "POST",
            f"{ONE}/reject",
            "board",
            refused=REFUSED,
            params=number("change"),
            body=lambda w: {"note": "No backout plan."},
        ),
        Endpoint(
            "cancel",
            "POST",
            f"{ONE}/cancel",
            "changer",
            refused=REFUSED,
            params=number("change"),
            body=lambda w: {"reason": "Not needed."},
        ),
        Endpoint(
            "external",
            "PUT",
            f"{ONE}/external",
            "changer",
            refused=REFUSED,
            params=number("change"),
            body=lambda w: {"state": "In review"},
            check=lambda r, w: r.json()["external_state"] == "In review",
        ),
        Endpoint("reviews", "GET", f"{ONE}/review", "nobody", params=number("reviewable")),
        Endpoint(
            "review",
            "POST",
            f"{ONE}/review",
            "changer",
            status=201,
            refused=REFUSED,
            params=number("reviewable"),
            body=lambda w: {"achieved": "partly", "side_effects": "Slow reports."},
        ),
        Endpoint(
            "release changes",
            "GET",
            f"{API}/releases/{{ref}}/changes",
            "requester",
            refused=HIDDEN,
            params=carried,
            check=lambda r, w: numbers(r) == [w.change.number],
        ),
        Endpoint(
            "add release changes",
            "POST",
            f"{API}/releases/{{ref}}/changes",
            "requester",
            refused=(*HIDDEN, ("auditor", 403)),
            params=lambda w: (w.approved, {"ref": w.release.number})[1],
            body=lambda w: {"revision": revision(w), "changes": [w.approved.number]},
            check=lambda r, w: numbers(r) == [w.approved.number],
        ),
        Endpoint(
            "set release changes",
            "PUT",
            f"{API}/releases/{{ref}}/changes",
            "requester",
            refused=(*HIDDEN, ("auditor", 403)),
            params=lambda w: (w.approved, carried(w))[1],
            body=lambda w: {"revision": revision(w), "changes": [w.approved.number]},
            check=lambda r, w: numbers(r) == [w.approved.number],
        ),
        Endpoint(
            "remove release changes",
            "DELETE",
            f"{API}/releases/{{ref}}/changes",
            "requester",
            refused=(*HIDDEN, ("auditor", 403)),
            params=carried,
            body=lambda w: {"revision": revision(w), "changes": [w.change.number]},
            check=lambda r, w: numbers(r) == [],
        ),
    )


class WebhookRecipes:
    """The webhook takes no token, so it is not in the matrix above; without a secret
    configured (as in the matrix's worlds) every call is refused with 503."""

    endpoints = (
        Endpoint(
            "webhook",
            "POST",
            f"{CHANGES}/webhook/{{system}}",
            "nobody",
            status=503,
            params=lambda w: {"system": "jira"},
            body=lambda w: {"key": "CRM-7", "state": "Done"},
        ),
    )


def test_the_list_filters_and_pages(world, django_assert_max_num_queries):
    for n in range(5):
        world._change(f"Change {n}", submit=n % 2 == 0)
    client = world.client("nobody")
    first = call(client, "GET", CHANGES, query={"limit": 2, "status": "submitted"}).json()
    assert [c["title"] for c in first["items"]] == ["Change 4", "Change 2"]
    second = call(
        client, "GET", CHANGES, query={"limit": 2, "status": "submitted", "cursor": first["next"]}
    ).json()
    assert [c["title"] for c in second["items"]] == ["Change 0"] and second["next"] is None
    other = call(client, "GET", CHANGES, query={"cursor": first["next"]})
    assert other.status_code == 400 and "cursor" in other.json()["errors"]
    assert call(client, "GET", CHANGES, query={"q": "change 3"}).json()["items"][0]["approval"] == (
        "not_requested"
    )
    with django_assert_max_num_queries(6):
        assert len(call(client, "GET", CHANGES, query={"limit": 500}).json()["items"]) == 5


def test_a_bad_link_is_refused_naming_the_field(world):
    response = call(
        world.client("changer"),
        "POST",
        CHANGES,
        body={
            "title": "X",
            "application": "crm",
            "external_system": "jira",
            "external_key": "CRM-9",
            "external_url": "ftp://example.com/x",
        },
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["external_url"]
