"""The permission matrix of the API, written once (after NetBox's APIViewTestCases).

Each endpoint is described by an `Endpoint`; a test class that inherits `PermissionMatrix`
and lists its `endpoints` runs every one of them as:

- anonymous (no credentials) and with a revoked token: 401;
- each unpermitted user it names: the status given (403, or 404 when the user may not even
  know the object exists; a list answers 200 but must not show what the user may not see);
- the permitted user: the success status, plus the endpoint's own check of the answer.

Every answer is checked against the OpenAPI document: its status must be declared for that
operation, and an error must be JSON with `code` and `detail`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from django.test import Client

from relman.accounts.services import create_token, revoke_token
from relman.audit.models import AuditEvent
from relman.releases import services as releases
from tests import factories

API = "/api/v1"


@cache
def openapi() -> dict[str, Any]:
    """The published OpenAPI document (fetched once, anonymously)."""
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def declared(method: str, path: str) -> set[int]:
    """The statuses the OpenAPI document declares for an operation."""
    operation = openapi()["paths"][path][method.lower()]
    return {int(code) for code in operation["responses"]}


def check_answer(response: Any, method: str, path: str) -> None:
    """The status is declared for the operation; an error is JSON with code and detail."""
    assert response.status_code in declared(method, path), (
        f"{method} {path} answered {response.status_code}, which its OpenAPI operation does "
        f"not declare ({sorted(declared(method, path))})"
    )
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body["code"], str) and body["code"]
        assert isinstance(body["detail"], str) and body["detail"]
        assert isinstance(body.get("errors") or {}, dict)


def call(
    client: Client,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    body: Any = None,
    query: dict[str, Any] | None = None,
    multipart: bool = False,
) -> Any:
    """Send a request to the operation `path` (an OpenAPI template) and check the answer."""
    url = path.format(**(params or {}))
    if method == "GET":
        response = client.get(url, query or {})
    elif multipart:
        response = client.post(url, body or {})
    else:
        response = client.generic(
            method, url, json.dumps(body or {}), content_type="application/json"
        )
    check_answer(response, method, path)
    return response


class World:
    """The people and objects the matrix acts on: application crm (process tfdl) and hr.

    rita requests releases of crm, carl works in every tfdl stage of crm, olive holds
    release_owner for crm, audrey audits everything, otto holds creating roles for hr only,
    and nina holds no role at all. Objects are made when first asked for.
    """

    def __init__(self) -> None:
        factories.processes()
        self.app = factories.application("crm", process="tfdl")
        self.other_app = factories.application("hr", process="tfdl")
        self.users = {
            "requester": factories.user("rita", "requester", app=self.app),
            "crew": factories.crew(self.app, "carl"),
            "owner": factories.user("olive", "release_owner", app=self.app),
            "auditor": factories.user("audrey", "auditor"),
            "outsider": factories.user(
                "otto", "requester", "release_manager", "release_owner", app=self.other_app
            ),
            "nobody": factories.user("nina"),
        }
        self._clients: dict[str, Client] = {}

    def client(self, who: str) -> Client:
        """A client with a bearer token of the user; `anonymous` sends none."""
        if who not in self._clients:
            headers = {}
            if who != "anonymous":
                _token, secret = create_token(None, self.users[who], name="matrix")
                headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
            self._clients[who] = Client(**headers)
        return self._clients[who]

    def revoked_client(self, who: str) -> Client:
        token, secret = create_token(None, self.users[who], name="revoked")
        revoke_token(None, token.prefix)
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    @cached_property
    def release(self):
        """A crm release in its first stage, with one uploaded file and one comment."""
        release = factories.release(self.users["requester"], self.app, title="Upgrade CRM")
        self.version = releases.add_deliverable(
            self.users["requester"],
            release,
            key="release_plan",
            upload=factories.upload("plan.txt", b"The plan, v1.\n"),
        )
        releases.add_comment(self.users["requester"], release, body="Please review.")
        return release

    @cached_property
    def in_review(self):
        """A crm release in tfdl's plan_review, its department heads' step decided, so that
        it waits for the release owner's approval."""
        release = factories.release(self.users["requester"], self.app, title="Reviewed")
        release = factories.walk_to(self.users["crew"], release, "plan_review")
        factories.meet(self.users["crew"], release, "approval", "department_approver")
        return release


@dataclass(frozen=True)
class Endpoint:
    """One API operation and who may call it."""

    name: str
    method: str
    path: str  # the OpenAPI path template, e.g. "/api/v1/releases/{ref}"
    permitted: str
    status: int = 200
    refused: tuple[tuple[str, int], ...] = ()  # (user, status); 200 = a list that hides it
    params: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    body: Callable[[World], Any] | None = None
    query: dict[str, Any] | None = None
    multipart: bool = False
    setup: Callable[[World], Any] | None = None  # makes what the endpoint must find
    check: Callable[[Any, World], None] | None = None  # on the permitted answer
    hides: Callable[[Any, World], None] | None = None  # on an unpermitted 200 answer

    def send(self, world: World, client: Client) -> Any:
        if self.setup:
            self.setup(world)
        params = self.params(world)  # objects the parameters name are made before the call
        events = AuditEvent.objects.count()
        response = call(
            client,
            self.method,
            self.path,
            params=params,
            body=self.body(world) if self.body else None,
            query=self.query,
            multipart=self.multipart,
        )
        if response.status_code >= 400:
            # Nothing is half-written: a refused call leaves no audit event behind.
            assert AuditEvent.objects.count() == events, (self.name, response.status_code)
        return response


class PermissionMatrix:
    """Inherit and set `endpoints`; tests/api/conftest.py parametrizes these over them."""

    endpoints: tuple[Endpoint, ...] = ()

    def test_anonymous_is_401(self, endpoint: Endpoint, world: World) -> None:
        for client in (world.client("anonymous"), world.revoked_client(endpoint.permitted)):
            response = endpoint.send(world, client)
            assert response.status_code == 401, response.content
            assert response.json()["code"] == "unauthenticated"

    def test_unpermitted_is_refused(self, endpoint: Endpoint, world: World) -> None:
        for who, status in endpoint.refused:
            response = endpoint.send(world, world.client(who))
            assert response.status_code == status, (who, response.content)
            if status == 200:
                assert endpoint.hides is not None
                endpoint.hides(response, world)

    def test_permitted_succeeds(self, endpoint: Endpoint, world: World) -> None:
        response = endpoint.send(world, world.client(endpoint.permitted))
        assert response.status_code == endpoint.status, response.content
        if endpoint.check:
            endpoint.check(response, world)
