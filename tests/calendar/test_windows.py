"""Release windows: seed 002's evenings for 2027, exclusions and holidays, and the window
services' audit events and refusals."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from relman.audit.models import AuditEvent
from relman.calendar.services import holidays, windows
from relman.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests import factories
from tests.calendar.conftest import SHANGHAI, at

pytestmark = pytest.mark.django_db

# Every second and fourth Thursday of 2027, read off a printed calendar.
SECOND_AND_FOURTH_THURSDAYS_2027 = [
    "2027-01-14", "2027-01-28", "2027-02-11", "2027-02-25", "2027-03-11", "2027-03-25",
    "2027-04-08", "2027-04-22", "2027-05-13", "2027-05-27", "2027-06-10", "2027-06-24",
    "2027-07-08", "2027-07-22", "2027-08-12", "2027-08-26", "2027-09-09", "2027-09-23",
    "2027-10-14", "2027-10-28", "2027-11-11", "2027-11-25", "2027-12-09", "2027-12-23",
]  # fmt: skip

YEAR_2027 = (datetime(2027, 1, 1, tzinfo=SHANGHAI), datetime(2028, 1, 1, tzinfo=SHANGHAI))

HOLIDAYS_ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//holidays//EN
BEGIN:VEVENT
UID:spring@test
DTSTAMP:20260101T000000Z
SUMMARY:Spring Festival
DTSTART;VALUE=DATE:20270205
DTEND;VALUE=DATE:20270212
END:VEVENT
BEGIN:VEVENT
UID:national@test
DTSTAMP:20260101T000000Z
SUMMARY:National Day
DTSTART;VALUE=DATE:20271001
DTEND;VALUE=DATE:20271008
END:VEVENT
BEGIN:VEVENT
UID:late@test
DTSTAMP:20260101T000000Z
SUMMARY:Company day
DTSTART;VALUE=DATE:20271014
DTEND;VALUE=DATE:20271015
END:VEVENT
END:VCALENDAR
"""


def evenings(window) -> list[str]:
    found = windows.occurrences_between(*YEAR_2027, windows=[window])
    return [o.start.astimezone(SHANGHAI).date().isoformat() for _w, o in found]


def test_seed_002_window_lists_every_second_and_fourth_thursday_of_2027(upgrade_window):
    found = windows.occurrences_between(*YEAR_2027, application="crm")
    assert [o.start.date().isoformat() for _w, o in found] == SECOND_AND_FOURTH_THURSDAYS_2027
    for _window, occurrence in found:
        assert occurrence.start.timetz().replace(tzinfo=None) == time(19, 0)
        assert occurrence.start.utcoffset().total_seconds() == 8 * 3600
        assert (occurrence.end - occurrence.start).total_seconds() == 4 * 3600


def test_excluded_dates_and_holidays_remove_their_evenings(manager, upgrade_window):
    calendar = holidays.import_holidays(
        manager, name="China 2027", content=HOLIDAYS_ICS, filename="cn.ics"
    )
    windows.update_window(
        manager, upgrade_window.pk, excluded_dates=["2027-12-23"], holidays=calendar.pk
    )
    upgrade_window.refresh_from_db()
    expected = [
        d
        for d in SECOND_AND_FOURTH_THURSDAYS_2027
        if d not in ("2027-02-11", "2027-10-14", "2027-12-23")
    ]
    assert evenings(upgrade_window) == expected
    rule = windows.rule_of(upgrade_window)
    assert {date(2027, 2, 11), date(2027, 10, 14), date(2027, 12, 23)} <= rule.excluded


def test_a_one_off_window_opens_once(manager):
    window = windows.create_window(
        manager,
        name="Data-centre move",
        rrule="",
        first_date="2027-03-06",
        start_time="08:00",
        duration_minutes=600,
    )
    assert evenings(window) == ["2027-03-06"]


def test_scope_filters_which_windows_apply(manager, feh, prod):
    other = factories.application("hr", process="feh")
    everywhere = windows.create_window(
        manager, name="All", rrule="FREQ=WEEKLY;BYDAY=SA", first_date="2027-01-01",
        start_time="09:00", duration_minutes=60,
    )  # fmt: skip
    for_crm = windows.create_window(
        manager, name="CRM", rrule="FREQ=WEEKLY;BYDAY=SU", first_date="2027-01-01",
        start_time="09:00", duration_minutes=60, application=feh, environment=prod,
        team="Finance",
    )  # fmt: skip
    names = lambda **f: {w.name for w in windows.applicable_windows(**f)}  # noqa: E731
    assert names(application="crm") == {"All", "CRM"}
    assert names(application=other) == {"All"}
    assert names(application="crm", environment="prod", team="Finance") == {"All", "CRM"}
    assert names(team="Sales") == {"All"}
    found = windows.occurrences_between(at("2027-01-01", 0), at("2027-01-11", 0), application=other)
    assert {w.pk for w, _o in found} == {everywhere.pk}
    assert for_crm.team == "Finance"


def test_create_is_audited(manager, feh):
    window = windows.create_window(
        manager,
        name=" Upgrade ",
        rrule="rrule:freq=monthly;byday=2th,4th",
        first_date=date(2027, 1, 1),
        start_time=time(19, 0),
        duration_minutes=240,
        application="crm",
        excluded_dates=["2027-02-11", date(2027, 2, 11)],
    )
    assert window.name == "Upgrade"
    assert window.rrule == "FREQ=MONTHLY;BYDAY=2TH,4TH"
    assert window.excluded_dates == ["2027-02-11"]
    event = AuditEvent.objects.get(action="window.created")
    assert event.actor == manager
    assert event.after["rrule"] == "FREQ=MONTHLY;BYDAY=2TH,4TH"
    assert event.after["start_time"] == "19:00"
    assert event.after["application"] == feh.pk


def test_update_records_only_what_changed(manager, upgrade_window):
    windows.update_window(manager, upgrade_window.pk, capacity=3, name="CRM upgrade window")
    event = AuditEvent.objects.get(action="window.updated")
    assert event.before == {"capacity": 2}
    assert event.after == {"capacity": 3}
    windows.update_window(manager, upgrade_window.pk, capacity=3)
    assert AuditEvent.objects.filter(action="window.updated").count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"rrule": "every thursday"}, "rrule", "FREQ"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule", "RRULE"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Mars/Olympus"),
        ({"duration_minutes": 0}, "duration_minutes", "duration"),
        ({"capacity": 0}, "capacity", "capacity"),
        ({"start_time": "25:00"}, "start_time", "time"),
        ({"excluded_dates": ["someday"]}, "excluded_dates", "someday"),
        ({"application": "nope"}, "application", "nope"),
        ({"last_date": "2026-01-01"}, "last_date", "before the first date"),
    ],
)
def test_bad_windows_are_refused_naming_the_field(manager, changes, field, words):
    values = {
        "name": "W",
        "rrule": "FREQ=WEEKLY",
        "first_date": "2027-01-01",
        "start_time": "19:00",
        "duration_minutes": 60,
        **changes,
    }
    with pytest.raises(ValidationFailed) as refused:
        windows.create_window(manager, **values)
    assert field in refused.value.errors
    assert words in " ".join(refused.value.errors[field])
    assert not AuditEvent.objects.filter(action="window.created").exists()


def test_only_calendar_managers_change_windows(feh, upgrade_window):
    local_manager = factories.user("lou", "release_manager", app=feh)
    requester = factories.user("rita", "requester")
    for person in (local_manager, requester):
        with pytest.raises(PermissionDenied):
            windows.create_window(
                person, name="W", rrule="", first_date="2027-01-01", start_time="19:00",
                duration_minutes=60,
            )  # fmt: skip
        with pytest.raises(PermissionDenied):
            windows.update_window(person, upgrade_window.pk, capacity=9)
    owner = factories.user("olga", "release_owner")
    windows.update_window(owner, upgrade_window.pk, capacity=9)
    windows.update_window(factories.admin(), upgrade_window.pk, capacity=8)


def test_unknown_window_is_not_found(manager):
    with pytest.raises(NotFound):
        windows.update_window(manager, 999, capacity=1)
    with pytest.raises(ValidationFailed):
        windows.update_window(manager, 999, colour="red")


def test_an_inactive_window_has_no_occurrences(manager, upgrade_window):
    windows.update_window(manager, upgrade_window.pk, is_active=False)
    assert windows.occurrences_between(*YEAR_2027) == []


def test_a_bad_rule_or_time_zone_is_refused_in_the_users_language(manager):
    from django.utils import translation

    values = {
        "name": "W",
        "first_date": "2027-01-01",
        "start_time": "19:00",
        "duration_minutes": 60,
    }
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as refused:
        windows.create_window(manager, rrule="every thursday", time_zone="Mars/Olympus", **values)
    assert refused.value.errors["time_zone"] == [
        "未知时区“Mars/Olympus”：请使用 IANA 名称，例如 Asia/Shanghai。"
    ]
    assert refused.value.errors["rrule"][0].startswith("不是可用的 RFC 5545 重复规则")
