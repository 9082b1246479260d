"""Holiday calendars imported from ICS files (relman/calendar/services/holidays.py), the shipped
Chinese example, and `relman calendar holidays-import`."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from typer.testing import CliRunner

import relman.calendar
from relman.audit.models import AuditEvent
from relman.calendar.models import Holiday, HolidayCalendar
from relman.calendar.services import windows
from relman.calendar.services.holidays import import_holidays
from relman.cli import output
from relman.core.errors import PermissionDenied, ValidationFailed
from tests import factories

SHIPPED = Path(relman.calendar.__file__).parent / "data" / "cn-holidays-2027.ics"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def ics(*events: str) -> bytes:
    """A small VCALENDAR holding the given VEVENT bodies."""
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:e{i}@test\r\nDTSTAMP:20260101T000000Z\r\n{e}END:VEVENT\r\n"
        for i, e in enumerate(events)
    )
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n".encode()
    )


@pytest.fixture
def shipped(admin):
    return import_holidays(
        admin, name="cn-2027", content=SHIPPED.read_bytes(), filename=SHIPPED.name
    )


# ---------------------------------------------------------------- the shipped example file


def test_the_shipped_file_says_it_is_an_example_to_replace_and_opens_in_both_parsers():
    content = SHIPPED.read_bytes()

    cal = icalendar.Calendar.from_ical(content)
    description = str(cal["X-WR-CALDESC"])
    assert "EXAMPLE" in description
    assert "State Council" in description
    assert "国务院" in description
    summaries = [str(e["SUMMARY"]) for e in cal.walk("VEVENT")]
    assert "春节 Spring Festival" in summaries
    assert "国庆节 National Day" in summaries
    assert all(type(e.decoded("DTSTART")) is date for e in cal.walk("VEVENT"))

    parsed = vobject.readOne(content.decode())
    assert len(parsed.vevent_list) == len(summaries) == 7
    assert {str(v.summary.value) for v in parsed.vevent_list} == set(summaries)


def test_importing_the_shipped_file_stores_every_day_of_every_break(shipped, admin):
    days = dict(Holiday.objects.filter(calendar=shipped).values_list("date", "name"))

    # New Year 1, Spring Festival 7, Qingming 1, Labour Day 5, Dragon Boat 1, Mid-Autumn 1,
    # National Day 7.
    assert len(days) == 23
    assert days[date(2027, 1, 1)] == "元旦 New Year's Day"
    assert [d for d in days if d.month == 2] == [date(2027, 2, d) for d in range(5, 12)]
    assert days[date(2027, 2, 11)] == "春节 Spring Festival"  # the second Thursday of February
    assert date(2027, 2, 12) not in days  # DTEND is exclusive
    assert [d for d in days if d.month == 10] == [date(2027, 10, d) for d in range(1, 8)]
    assert shipped.source == SHIPPED.name
    assert len(shipped.sha256) == 64
    event = AuditEvent.objects.get(action="holidays.imported")
    assert event.actor_name == admin.username
    assert event.after["days"] == 23
    assert event.after["first"] == "2027-01-01"
    assert event.after["last"] == "2027-10-07"


def test_a_window_using_the_holidays_skips_the_thursday_in_the_spring_festival(shipped, admin):
    window = windows.create_window(
        admin,
        name="Upgrade window",
        rrule="FREQ=MONTHLY;BYDAY=2TH,4TH",
        first_date="2027-01-01",
        start_time="19:00",
        duration_minutes=240,
        holidays=shipped,
    )

    found = windows.occurrences_between(
        datetime(2027, 2, 1, tzinfo=SHANGHAI), datetime(2027, 3, 1, tzinfo=SHANGHAI)
    )

    assert [o.start for w, o in found if w == window] == [
        datetime.combine(date(2027, 2, 25), time(19), SHANGHAI)
    ]


def test_importing_again_under_the_same_name_replaces_the_days(shipped, admin):
    again = import_holidays(
        admin,
        name="cn-2027",
        content=ics("SUMMARY:Only day\r\nDTSTART;VALUE=DATE:20270301\r\n"),
        filename="fixed.ics",
    )

    assert again.pk == shipped.pk
    assert list(again.holidays.values_list("date", "name")) == [(date(2027, 3, 1), "Only day")]
    assert again.source == "fixed.ics"
    assert HolidayCalendar.objects.count() == 1
    event = AuditEvent.objects.filter(action="holidays.imported").order_by("-seq").first()
    assert event.before["days"] == 23
    assert event.after["days"] == 1


# ---------------------------------------------------------------- what counts as a holiday


def test_timed_and_cancelled_events_are_left_out_and_shared_days_keep_both_names(admin):
    calendar = import_holidays(
        admin,
        name="mixed",
        content=ics(
            "SUMMARY:Meeting\r\nDTSTART:20270301T090000Z\r\nDTEND:20270301T100000Z\r\n",
            "SUMMARY:Cancelled\r\nSTATUS:CANCELLED\r\nDTSTART;VALUE=DATE:20270302\r\n",
            "SUMMARY:Bridge\r\nDTSTART;VALUE=DATE:20270303\r\nDURATION:P2D\r\n",
            "SUMMARY:Other name\r\nDTSTART;VALUE=DATE:20270304\r\n",
        ),
        filename="mixed.ics",
    )

    assert list(calendar.holidays.values_list("date", "name")) == [
        (date(2027, 3, 3), "Bridge"),
        (date(2027, 3, 4), "Bridge / Other name"),
    ]


def test_a_bounded_yearly_holiday_is_expanded_less_its_exdates(admin):
    calendar = import_holidays(
        admin,
        name="yearly",
        content=ics(
            "SUMMARY:New Year\r\nDTSTART;VALUE=DATE:20270101\r\nRRULE:FREQ=YEARLY;COUNT=3\r\n"
            "EXDATE;VALUE=DATE:20280101\r\n"
        ),
        filename="yearly.ics",
    )

    assert list(calendar.holidays.values_list("date", flat=True)) == [
        date(2027, 1, 1),
        date(2029, 1, 1),
    ]


# ---------------------------------------------------------------- refusals name the file


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"Date,Name\n2027-01-01,New Year\n", "not an iCalendar (.ics) file"),
        (b"", "not an iCalendar (.ics) file"),
        (
            ics("SUMMARY:Stand-up\r\nDTSTART:20270301T090000Z\r\n"),
            "no all-day events (DTSTART;VALUE=DATE) in 1 events",
        ),
        (
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n",
            "no all-day events",
        ),
        (
            ics("SUMMARY:Broken\r\nDTSTART;VALUE=DATE:2027013\r\n"),
            "the event 'Broken' has a DTSTART that is not a date",
        ),
        (
            ics("SUMMARY:Forever\r\nDTSTART;VALUE=DATE:20270101\r\nRRULE:FREQ=YEARLY\r\n"),
            "the event 'Forever' repeats for ever",
        ),
        (
            ics("SUMMARY:Summer\r\nDTSTART;VALUE=DATE:20270601\r\nDTEND;VALUE=DATE:20270901\r\n"),
            "the event 'Summer' lasts 92 days",
        ),
    ],
)
def test_a_file_that_is_not_a_holiday_calendar_is_refused_naming_it(admin, content, words):
    with pytest.raises(ValidationFailed) as refused:
        import_holidays(admin, name="bad", content=content, filename="holidays-2027.csv")

    assert refused.value.message.startswith("holidays-2027.csv: ")
    assert words in refused.value.message
    assert refused.value.errors["file"] == [refused.value.message]
    assert not HolidayCalendar.objects.exists()
    assert not AuditEvent.objects.filter(action="holidays.imported").exists()


def test_a_name_is_required(admin):
    with pytest.raises(ValidationFailed) as refused:
        import_holidays(admin, name=" ", content=SHIPPED.read_bytes(), filename=SHIPPED.name)

    assert refused.value.errors.keys() == {"name"}


def test_only_calendar_managers_import_holidays(app):
    someone = factories.user("pat", "release_manager", app=app)  # for one application only
    global_manager = factories.user("gail", "release_manager")

    with pytest.raises(PermissionDenied):
        import_holidays(someone, name="cn", content=SHIPPED.read_bytes(), filename=SHIPPED.name)
    calendar = import_holidays(
        global_manager, name="cn", content=SHIPPED.read_bytes(), filename=SHIPPED.name
    )

    assert calendar.holidays.count() == 23


# ---------------------------------------------------------------- relman calendar holidays-import


@pytest.fixture
def run(monkeypatch, tmp_path):
    monkeypatch.setenv("RELMAN_LANGUAGE", "en")
    for console in (output.out, output.err):
        monkeypatch.setattr(console, "_width", 200)
    from relman.cli.main import app as relman_app

    def invoke(*args: str):
        return CliRunner().invoke(relman_app, ["calendar", *args])

    return invoke


def test_the_command_imports_the_shipped_file(run, db):
    result = run("holidays-import", "cn-2027", str(SHIPPED))

    assert result.exit_code == 0, result.output
    assert "Imported 23 holidays into 'cn-2027' (2027-01-01 to 2027-10-07)" in result.stdout
    assert AuditEvent.objects.get(action="holidays.imported").channel == "cli"


def test_the_command_names_the_file_it_refuses(run, db, tmp_path):
    bad = tmp_path / "holidays.csv"
    bad.write_text("Date,Name\n2027-01-01,New Year\n")

    result = run("holidays-import", "cn", str(bad))
    missing = run("holidays-import", "cn", str(tmp_path / "nowhere.ics"))

    assert result.exit_code == 1
    assert f"{bad}: not an iCalendar (.ics) file" in result.stderr
    assert missing.exit_code == 1
    assert f"Cannot read {tmp_path / 'nowhere.ics'}" in missing.stderr
