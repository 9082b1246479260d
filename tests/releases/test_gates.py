"""The releases app's gates (deliverables, checklist) and the snapshot the gates of a stage
read together: pure evaluation, and a query count that depends on the gates, not the rows."""

from __future__ import annotations

import pytest

from relman.processes.gates import Snapshot, Unmet
from relman.releases import services
from relman.releases.gates import ChecklistGate, DeliverablesGate
from tests import factories

pytestmark = pytest.mark.django_db


def snap(**facts) -> Snapshot:
    return Snapshot("upgrade", "planned", "standard", "plan", **facts)


def test_deliverables_and_checklist_name_each_missing_item():
    assert DeliverablesGate().evaluate(("plan", "risk"), snap(deliverables={"plan"})) == [
        Unmet("deliverable", "risk")
    ]
    assert ChecklistGate().evaluate(("scoped",), snap()) == [Unmet("checklist", "scoped")]
    assert ChecklistGate().evaluate(("scoped",), snap(checklist={"scoped"})) == []


def test_an_undefined_key_is_a_problem_of_the_gate():
    problems = DeliverablesGate().problems(["plan", "nope"], {"deliverables": {"plan": {}}}, [])
    assert [(p.path, p.message) for p in problems] == [
        ((1,), "undefined deliverable 'nope' (add it under 'deliverables')")
    ]


def test_the_snapshot_reads_each_gate_of_the_stage_once(presets, django_assert_num_queries):
    # feh upgrade, PMO review: approvals, checklist, scheduled, and the freeze implied
    # before go-live: one query each, whatever the number of decisions and ticks.
    app = factories.application("crm", process="feh")
    requester = factories.user("rita", "requester", app=app, department="Leasing business")
    crew = factories.crew(app)
    release = factories.walk_to(crew, factories.release(requester, app), "pmo_review")
    with django_assert_num_queries(4):
        snap = services.snapshot(release)
    assert set(snap.facts) == {
        "approvals",
        "eligible",
        "departments_waiting",
        "checklist",
        "schedule",
        "frozen",
    }
