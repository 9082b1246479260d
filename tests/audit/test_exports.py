"""Audit events as CSV and JSON: every column, values as stored, Chinese kept readable."""

from __future__ import annotations

import csv
import io
import json

import pytest

from relman.audit.exports import COLUMNS, to_csv, to_json
from relman.audit.models import AuditEvent
from relman.releases import services as releases
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(app, fast_passwords):
    requester = factories.user("rita", "requester", app=app)
    release = factories.release(requester, app, title="升级 CRM")
    releases.add_comment(requester, release, body='Quotes " and, commas; 中文')
    return release.audit_events.order_by("seq")


def test_csv_has_a_header_and_one_row_per_event(events):
    rows = list(csv.DictReader(io.StringIO(to_csv(events))))
    assert list(rows[0]) == COLUMNS
    assert [int(r["seq"]) for r in rows] == [e.seq for e in events]
    created, comment = rows
    assert (created["action"], comment["action"]) == ("release.created", "comment.added")
    assert json.loads(comment["after"]) == {"body": 'Quotes " and, commas; 中文'}
    assert comment["before"] == ""
    assert comment["hash"] == events.last().hash
    assert json.loads(created["after"])["title"] == "升级 CRM"


def test_json_holds_every_column_as_stored(events):
    data = json.loads(to_json(events))
    assert [set(item) for item in data] == [set(COLUMNS)] * 2
    assert data[1]["after"] == {"body": 'Quotes " and, commas; 中文'}
    assert data[1]["prev_hash"] == data[0]["hash"]
    assert "中文" in to_json(events)


def test_an_empty_export_is_just_the_header(db):
    assert to_csv(AuditEvent.objects.none()).strip() == ",".join(COLUMNS)
    assert json.loads(to_json(AuditEvent.objects.none())) == []
