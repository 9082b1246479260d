"""The minutes of a CAB meeting as a PDF (WeasyPrint), in the reader's language."""

from __future__ import annotations

import pytest

from relman.approvals import minutes
from relman.approvals.services import cab
from relman.core.errors import NotFound
from tests import factories
from tests.approvals.cab_setup import CabWorld, pdf_text


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def held(db):
    """A held meeting with a Chinese title: one release approved (scheduled in a window),
    one deferred, and the minutes written."""
    world = CabWorld()
    approved = world.release("Ledger upgrade", risk="high")
    factories.schedule(world.carl, approved)
    deferred = world.release("Reports")
    meeting = world.meeting("变更咨询委员会周会")
    cab.record_attendance(world.chris, meeting, {"chris": True, "mia": False})
    cab.record_attendance(world.chris, meeting, {"mia": True})
    cab.decide_item(world.chris, meeting, approved.number, "approve", "风险可控，同意发布。")
    cab.decide_item(world.chris, meeting, deferred.number, "defer", "Wait for the audit.")
    cab.close_meeting(world.chris, meeting, "Two releases discussed.\n两项发布已讨论。")
    return world, meeting, approved, deferred


def test_the_minutes_in_english(held):
    world, meeting, approved, deferred = held

    pdf = minutes.minutes_pdf(world.chris, meeting.pk, "en")

    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for expected in (
        "CAB meeting minutes",
        "Room 5",
        "Chris Chair",
        "present",
        approved.number,
        "Ledger upgrade",
        "ERP",
        "High",
        "erp upgrade window",
        "approve",
        deferred.number,
        "defer",
        "Wait for the audit.",
        "not scheduled",
        "Two releases discussed.",
    ):
        assert expected in text, expected


def test_the_minutes_in_chinese(held):
    world, meeting, approved, _deferred = held

    pdf = minutes.minutes_pdf(world.chris, meeting.pk, "zh-hans")

    assert pdf.startswith(b"%PDF")
    text = "".join(pdf_text(pdf).split())  # Chinese wraps anywhere: compare without spaces
    assert approved.number in text
    assert "变更咨询委员会周会" in text  # the title, in a CJK font
    assert "风险可控，同意发布。" in text
    assert "风险" in text and "应用系统" in text  # the column headings, translated
    assert "两项发布已讨论" in text


def test_the_minutes_are_for_those_who_may_see_the_meeting(held):
    world, meeting, *_ = held
    with pytest.raises(NotFound):
        minutes.minutes_pdf(world.nina, meeting.pk, "en")
    assert minutes.minutes_pdf(world.mia, meeting.pk, "en").startswith(b"%PDF")


def test_requested_languages_map_to_the_sites_languages():
    assert minutes.language_of("zh-CN") == "zh-hans"
    assert minutes.language_of("zh_Hans") == "zh-hans"
    assert minutes.language_of("en-GB") == "en"
    assert minutes.language_of("fr") == "en"
    assert minutes.language_of(None) == "en"


def test_the_file_name_says_when(held):
    _world, meeting, *_ = held
    assert minutes.filename(meeting).startswith("cab-minutes-20")
    assert minutes.filename(meeting).endswith(f"-{meeting.pk}.pdf")
