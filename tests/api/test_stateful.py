"""Sequences of API calls on releases, drawn by Hypothesis' stateful testing.

Requests, edits (some with a stale revision), comments, advances, returns and cancellations
by the requester, the crew of every stage and an outsider, in any order. After every step:
each answer is a status its OpenAPI operation declares, an error is JSON with code and detail,
a release's revision grew by exactly one per change and by none per refusal, a refusal wrote
no audit event, and the audit chain verifies.
"""

from __future__ import annotations

import json
import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from relman.audit.models import AuditEvent
from relman.audit.services import verify_chain
from relman.releases.models import Release
from tests import factories
from tests.api.matrix import check_answer

API = "/api/v1"
STEPS = int(os.environ.get("RELMAN_STATEFUL_STEPS", "20"))
EXAMPLES = int(os.environ.get("RELMAN_STATEFUL_EXAMPLES", "25"))

titles = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60)


class Setting:
    """Application crm (process tfdl): rita requests, carl works in every stage, otto holds
    roles for hr only."""

    def __init__(self) -> None:
        from django.test import Client

        from relman.accounts.services import create_token

        factories.processes()
        app = factories.application("crm", process="tfdl")
        users = {
            "rita": factories.user("rita", "requester", app=app),
            "carl": factories.crew(app, "carl"),
            "otto": factories.user("otto", "requester", app=factories.application("hr")),
        }
        self.clients = {}
        for name, user in users.items():
            _token, secret = create_token(None, user, name="stateful")
            self.clients[name] = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


class ReleaseLifecycle(RuleBasedStateMachine):
    """The model: the revision of every release made, as the machine last saw it."""

    releases = Bundle("releases")

    # The people and their API clients, made once by the test (`Setting`), shared by examples.
    setting: Setting

    @initialize()
    def start(self) -> None:
        """Each example runs in a savepoint of its own, rolled back at its end."""
        self.savepoint = transaction.savepoint()
        self.clients = self.setting.clients
        self.revisions: dict[str, int] = {}

    def teardown(self) -> None:
        if hasattr(self, "savepoint"):
            transaction.savepoint_rollback(self.savepoint)

    def send(self, who: str, method: str, template: str, body: dict, **params: str) -> object:
        """Call the operation `template` (an OpenAPI path) and check the answer against it."""
        response = self.clients[who].generic(
            method,
            f"{API}{template.format(**params)}",
            json.dumps(body),
            content_type="application/json",
        )
        check_answer(response, method, f"{API}{template}")
        return response

    def expect(self, number: str, response, events_before: int) -> None:
        """A change adds one to the revision and writes events; a refusal changes nothing."""
        release = Release.objects.get(number=number)
        if response.status_code < 300:
            assert release.revision in (self.revisions[number], self.revisions[number] + 1)
        else:
            assert release.revision == self.revisions[number], response.content
            assert AuditEvent.objects.count() == events_before, response.content
        self.revisions[number] = release.revision

    @rule(target=releases, title=titles)
    def request(self, title: str):
        body = {"application": "crm", "title": title, "kind": "upgrade"}
        events = AuditEvent.objects.count()
        response = self.clients["rita"].post(
            f"{API}/releases", json.dumps(body), content_type="application/json"
        )
        check_answer(response, "POST", f"{API}/releases")
        if not title.strip():
            assert response.status_code == 400 and "title" in response.json()["errors"]
            assert AuditEvent.objects.count() == events
            return "REL-none"
        assert response.status_code == 201, response.content
        number = response.json()["number"]
        assert response.json()["revision"] == 1
        self.revisions[number] = 1
        return number

    @rule(number=releases, title=titles, stale=st.booleans(), who=st.sampled_from(["rita", "otto"]))
    def edit(self, number: str, title: str, stale: bool, who: str):
        if number not in self.revisions:
            return
        revision = self.revisions[number] - (1 if stale and self.revisions[number] > 1 else 0)
        events = AuditEvent.objects.count()
        response = self.send(
            who, "PATCH", "/releases/{ref}", {"revision": revision, "title": title}, ref=number
        )
        if not title.strip():  # bad input is refused first, whoever sends it
            assert response.status_code == 400
        elif who == "otto":  # never a hint that it exists
            assert response.status_code == 404
        elif revision != self.revisions[number]:
            assert response.status_code == 409
        self.expect(number, response, events)

    @rule(number=releases, body=titles)
    def comment(self, number: str, body: str):
        if number not in self.revisions:
            return
        events = AuditEvent.objects.count()
        response = self.send("rita", "POST", "/releases/{ref}/comments", {"body": body}, ref=number)
        self.expect(number, response, events)

    @rule(
        number=releases,
        action=st.sampled_from(["advance", "return", "cancel"]),
        who=st.sampled_from(["rita", "carl"]),
    )
    def act(self, number: str, action: str, who: str):
        if number not in self.revisions:
            return
        events = AuditEvent.objects.count()
        body = {"revision": self.revisions[number], "reason": "Stateful test"}
        response = self.send(
            who, "POST", "/releases/{ref}/actions/{action}", body, ref=number, action=action
        )
        self.expect(number, response, events)

    @invariant()
    def the_audit_chain_verifies(self):
        if hasattr(self, "savepoint"):
            result = verify_chain()
            assert result.ok, result


@pytest.mark.django_db
def test_release_call_sequences_keep_their_invariants(fast_passwords):
    from hypothesis.stateful import run_state_machine_as_test

    ReleaseLifecycle.setting = Setting()
    run_state_machine_as_test(
        ReleaseLifecycle,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            # Shrinking a failing sequence replays it hundreds of times: CI reports it as found.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
