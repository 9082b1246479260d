"""Seed 000's CAB, end to end: MOF releases reach the readiness review, a meeting is
scheduled and finds them on its agenda, attendance is taken, the chair approves one (its
CAB step is met) and defers the other (it comes back on the next meeting's agenda), the
meeting is closed and its minutes exported.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from relman.approvals import minutes
from relman.approvals.services import cab
from relman.releases import services as releases
from tests import factories
from tests.approvals.cab_setup import CabWorld, pdf_text


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


def cab_gate(user, release) -> dict:
    state = releases.release_state(user, release)
    return next(item for item in state.gate if item["kind"] == "approval" and item["cab"])


@pytest.mark.django_db
def test_a_mof_release_is_decided_by_the_cab():
    world = CabWorld()
    first = world.release("ERP ledger 2.0")
    factories.schedule(world.carl, first)
    second = world.release("ERP reports")
    assert not cab_gate(world.carl, first)["met"]
    assert [w.release.number for w in cab.waiting(world.chris)] == [first.number, second.number]

    meeting = world.meeting("CAB 2026-W47")
    assert [i.release.number for i in cab.agenda_of(meeting)] == [first.number, second.number]

    cab.record_attendance(world.chris, meeting, {"chris": True, "mia": True})
    cab.decide_item(world.chris, meeting, first.number, "approve", "Backout tested.")
    cab.decide_item(world.chris, meeting, second.number, "defer", "Needs the Q4 freeze first.")

    gate = cab_gate(world.carl, first)
    assert gate["met"] and (gate["have"], gate["needed"]) == (1, 1)
    assert not cab_gate(world.carl, second)["met"]
    assert [w.release.number for w in cab.waiting(world.chris)] == [second.number]

    cab.close_meeting(world.chris, meeting, "Approved the ledger; deferred the reports.")
    following = world.meeting("CAB 2026-W48", days=8)
    assert [i.release.number for i in cab.agenda_of(following)] == [second.number]

    pdf = minutes.minutes_pdf(world.chris, meeting.pk, "en")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for expected in (
        first.number,
        second.number,
        "ERP ledger 2.0",
        "Backout tested.",
        "Needs the Q4 freeze first.",
        "Approved the ledger; deferred the reports.",
        "erp upgrade window",  # the approved release's scheduled window
    ):
        assert expected in text, expected
    with translation.override("zh-hans"):
        assert "风险" in pdf_text(minutes.minutes_pdf(world.chris, meeting.pk))
