"""The tracker webhook: signed with HMAC-SHA256 over the raw body, refused when unsigned,
wrongly signed, replayed outside its time window, too large, or when no secret is set."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from relman.audit.models import AuditEvent
from relman.changes import services
from relman.changes.webhook import sign
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

SECRET = "s3cret-for-tests"
URL = "/api/v1/changes/webhook/jira"


@pytest.fixture
def change(presets, settings):
    settings.RELMAN_CHANGE_WEBHOOK_SECRET = SECRET
    app = factories.application("shop", process="mof")
    owner = factories.user("owen", "change_owner", app=app)
    return services.create_change(
        owner, title="Payroll", application=app, external_system="jira", external_key="PAY-1"
    )


def post(body: bytes, **headers):
    return Client().post(URL, body, content_type="application/json", **headers)


def body(state: str = "Approved", **extra) -> bytes:
    return json.dumps({"key": "PAY-1", "state": state, **extra}).encode()


def test_a_signed_call_refreshes_the_external_state(change):
    raw = body(url="https://jira.example.com/browse/PAY-1")
    response = post(raw, HTTP_X_RELMAN_SIGNATURE=sign(SECRET, raw))
    assert response.status_code == 200, response.content
    assert response.json()["external_state"] == "Approved"
    change.refresh_from_db()
    assert (change.external_state, change.external_url) == (
        "Approved",
        "https://jira.example.com/browse/PAY-1",
    )
    event = AuditEvent.objects.get(action="change.external_refreshed")
    assert event.actor is None and event.reason == "webhook:jira"
    assert event.after["external_state"] == "Approved"


def test_a_signed_call_with_a_timestamp_signs_both(change):
    raw, now = body(), str(int(time.time()))
    good = sign(SECRET, raw, now)
    assert post(raw, HTTP_X_RELMAN_SIGNATURE=good, HTTP_X_RELMAN_TIMESTAMP=now).status_code == 200
    # the body's signature alone does not cover the timestamp
    later = str(int(now) + 1)
    response = post(raw, HTTP_X_RELMAN_SIGNATURE=good, HTTP_X_RELMAN_TIMESTAMP=later)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("headers", "word"),
    [
        ({}, "not signed"),
        ({"HTTP_X_RELMAN_SIGNATURE": "sha256=" + "0" * 64}, "does not match"),
        ({"HTTP_X_RELMAN_SIGNATURE": sign("another secret", body())}, "does not match"),
        ({"HTTP_X_RELMAN_SIGNATURE": sign(SECRET, body("Rejected"))}, "does not match"),
    ],
    ids=["missing", "garbage", "other secret", "other body"],
)
def test_a_badly_signed_call_is_refused_and_changes_nothing(change, headers, word):
    events = AuditEvent.objects.count()
    response = post(body(), **headers)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature" and word in response.json()["detail"]
    change.refresh_from_db()
    assert change.external_state == "" and AuditEvent.objects.count() == events


def test_a_replayed_call_is_refused_outside_its_window_and_harmless_inside(change):
    old = str(int(time.time()) - 3600)
    raw = body()
    response = post(
        raw, HTTP_X_RELMAN_SIGNATURE=sign(SECRET, raw, old), HTTP_X_RELMAN_TIMESTAMP=old
    )
    assert response.status_code == 401 and "seconds old" in response.json()["detail"]
    # Replaying an older state than the one recorded changes nothing.
    newer = body("Done", updated="2030-01-02T10:00:00Z")
    assert post(newer, HTTP_X_RELMAN_SIGNATURE=sign(SECRET, newer)).status_code == 200
    older = body("In progress", updated="2030-01-01T10:00:00Z")
    assert post(older, HTTP_X_RELMAN_SIGNATURE=sign(SECRET, older)).status_code == 200
    change.refresh_from_db()
    assert change.external_state == "Done"
    assert AuditEvent.objects.filter(action="change.external_refreshed").count() == 1


def test_no_secret_no_webhook(change, settings):
    settings.RELMAN_CHANGE_WEBHOOK_SECRET = ""
    raw = body()
    response = post(raw, HTTP_X_RELMAN_SIGNATURE=sign(SECRET, raw))
    assert response.status_code == 503 and response.json()["code"] == "not_configured"


def test_a_large_body_an_unknown_issue_and_a_bad_body(change, settings):
    settings.RELMAN_CHANGE_WEBHOOK_MAX_BYTES = 100
    raw = body(state="x" * 90)
    assert post(raw, HTTP_X_RELMAN_SIGNATURE=sign(SECRET, raw)).status_code == 413
    settings.RELMAN_CHANGE_WEBHOOK_MAX_BYTES = 65536
    unknown = json.dumps({"key": "PAY-404", "state": "Done"}).encode()
    assert post(unknown, HTTP_X_RELMAN_SIGNATURE=sign(SECRET, unknown)).status_code == 404
    broken = b"[1, 2"
    response = post(broken, HTTP_X_RELMAN_SIGNATURE=sign(SECRET, broken))
    assert response.status_code == 400 and "request" in response.json()["errors"]
