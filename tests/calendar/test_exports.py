"""The yearly window plan as XLSX and ICS (relman/calendar/exports.py) and
`relman calendar plan-export`."""

from __future__ import annotations

import calendar as stdlib_calendar
import io
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from openpyxl import load_workbook
from typer.testing import CliRunner

import relman.calendar
from relman.calendar import exports
from relman.calendar.services import plan, windows
from relman.calendar.services.holidays import import_holidays
from relman.cli import output
from relman.core.errors import NotFound

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHIPPED = Path(relman.calendar.__file__).parent / "data" / "cn-holidays-2027.ics"
STRUCK_DAY = date(2027, 1, 28)


def expected_days() -> list[date]:
    """2nd and 4th Thursdays of 2027 (standard library), less the Spring Festival Thursday."""
    days = []
    for month in range(1, 13):
        thursdays = [
            d
            for d in stdlib_calendar.Calendar().itermonthdates(2027, month)
            if d.month == month and d.weekday() == stdlib_calendar.THURSDAY
        ]
        days += [thursdays[1], thursdays[3]]
    return [d for d in days if d != date(2027, 2, 11)]


@pytest.fixture
def seed_plan(admin, app, db):
    """Seed 002's window for crm with the shipped holidays, its 2027 plan drafted and one
    evening struck out."""
    holidays = import_holidays(
        admin, name="cn-2027", content=SHIPPED.read_bytes(), filename=SHIPPED.name
    )
    window = windows.create_window(
        admin,
        name="CRM upgrade window",
        rrule="FREQ=MONTHLY;BYDAY=2TH,4TH",
        first_date="2027-01-01",
        start_time="19:00",
        duration_minutes=240,
        application=app,
        team="Ops",
        capacity=2,
        holidays=holidays,
    )
    drafted = plan.generate_plan(admin, 2027)
    occurrence = drafted.occurrences.get(
        window=window, starts=datetime.combine(STRUCK_DAY, time(19), SHANGHAI)
    )
    plan.strike_occurrence(admin, occurrence.pk, reason="Year-end closing 年终结账")
    return plan.get_plan(2027)


def test_the_xlsx_has_bilingual_headers_and_one_row_per_opening(seed_plan):
    book = load_workbook(io.BytesIO(exports.plan_xlsx(seed_plan)))

    assert len(book.worksheets) == 1
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "日期 Date",
        "星期 Weekday",
        "开始 Start",
        "结束 End",
        "时区 Time zone",
        "发布窗口 Window",
        "范围 Scope",
        "容量 Capacity",
        "取消原因 Struck out because",
    )
    body = rows[1:]
    assert [r[0].date() for r in body] == expected_days()  # a date cell, read back as datetime
    assert {r[1] for r in body} == {"周四 Thu"}
    assert {(r[2], r[3]) for r in body} == {(time(19), time(23))}
    assert {r[4:8] for r in body} == {("Asia/Shanghai", "CRM upgrade window", "crm · Ops", 2)}
    struck = [r for r in body if r[8]]
    assert [(r[0].date(), r[8]) for r in struck] == [(STRUCK_DAY, "Year-end closing 年终结账")]
    struck_row = next(i for i, r in enumerate(body, start=2) if r[8])
    assert sheet.cell(struck_row, 1).font.strike
    assert not sheet.cell(2, 1).font.strike
    assert sheet.freeze_panes == "A2"


def test_the_ics_has_one_event_per_opening_not_struck_in_both_parsers(seed_plan):
    content = exports.plan_ics(seed_plan)

    cal = icalendar.Calendar.from_ical(content)
    starts = sorted(e.decoded("DTSTART") for e in cal.walk("VEVENT"))
    wanted = [datetime.combine(d, time(19), SHANGHAI) for d in expected_days() if d != STRUCK_DAY]
    assert starts == wanted
    uids = [str(e["UID"]) for e in cal.walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    assert uids[0].startswith("plan-2027-window-") and uids[0].endswith("-20270114T1900@relman")
    parsed = vobject.readOne(content.decode())
    assert sorted(v.dtstart.value for v in parsed.vevent_list) == wanted
    assert {v.dtend.value - v.dtstart.value for v in parsed.vevent_list} == {
        datetime(2027, 1, 1, 23) - datetime(2027, 1, 1, 19)
    }
    assert exports.plan_ics(seed_plan) == content  # stable: the same plan, the same bytes


def test_an_empty_plan_exports_headers_only(admin, db):
    empty = plan.generate_plan(admin, 2030)

    rows = list(load_workbook(io.BytesIO(exports.plan_xlsx(empty))).active.iter_rows())

    assert len(rows) == 1
    assert icalendar.Calendar.from_ical(exports.plan_ics(empty)).walk("VEVENT") == []


def test_a_year_without_a_plan_is_not_found(db):
    with pytest.raises(NotFound):
        plan.get_plan(2031)


# ---------------------------------------------------------------- relman calendar plan-export


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setenv("RELMAN_LANGUAGE", "en")
    for console in (output.out, output.err):
        monkeypatch.setattr(console, "_width", 200)
    from relman.cli.main import app as relman_app

    def invoke(*args: str):
        return CliRunner().invoke(relman_app, ["calendar", *args])

    return invoke


def test_the_command_writes_the_xlsx_and_the_ics(run, seed_plan, tmp_path):
    sheet, feed = tmp_path / "plan.xlsx", tmp_path / "plan.ics"

    result = run("plan-export", "2027", "--xlsx", str(sheet), "--ics", str(feed))

    assert result.exit_code == 0, result.output
    assert f"Wrote the 2027 plan to {sheet}." in result.stdout
    assert load_workbook(sheet).active.max_row == 1 + len(expected_days())
    assert len(vobject.readOne(feed.read_text("utf-8")).vevent_list) == len(expected_days()) - 1


def test_the_command_needs_a_file_and_a_plan(run, db, tmp_path):
    nothing = run("plan-export", "2027")
    no_plan = run("plan-export", "2031", "--xlsx", str(tmp_path / "x.xlsx"))

    assert nothing.exit_code == 2
    assert "Give --xlsx FILE, --ics FILE or both." in nothing.stderr
    assert no_plan.exit_code == 1
    assert "There is no window plan for 2031" in no_plan.stderr
    assert not (tmp_path / "x.xlsx").exists()
