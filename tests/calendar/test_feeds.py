"""The iCalendar feeds (relman/calendar/feeds.py, ics.py, services/feeds.py).

Every feed is parsed with `icalendar` AND with `vobject` (an independent parser), and the
seed 002 window ("every second and fourth Thursday, 19:00-23:00 Asia/Shanghai") is checked
against the 2027 dates listed here with the standard library's `calendar` module.
"""

from __future__ import annotations

import calendar as stdlib_calendar
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from dateutil.rrule import rruleset, rrulestr
from django.test import Client
from typer.testing import CliRunner

import relman.calendar
from relman.approvals.services import decisions
from relman.audit.models import AuditEvent
from relman.calendar.models import FeedToken
from relman.calendar.services import freezes, plan, scheduling, windows
from relman.calendar.services.feeds import (
    create_feed_token,
    feed_path,
    revoke_feed_token,
    user_for_feed,
)
from relman.calendar.services.holidays import import_holidays
from relman.cli import output
from relman.core.errors import NotFound, PermissionDenied
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHIPPED = Path(relman.calendar.__file__).parent / "data" / "cn-holidays-2027.ics"
# The Spring Festival break (shipped holiday file) covers the second Thursday of February;
# 2027-12-23, the fourth Thursday of December, is excluded by hand.
HOLIDAY_THURSDAY = date(2027, 2, 11)
EXCLUDED_THURSDAY = date(2027, 12, 23)


def second_and_fourth_thursdays(year: int) -> list[date]:
    """Listed with the standard library, independently of dateutil and of relman."""
    found = []
    for month in range(1, 13):
        thursdays = [
            day
            for day in stdlib_calendar.Calendar().itermonthdates(year, month)
            if day.month == month and day.weekday() == stdlib_calendar.THURSDAY
        ]
        found += [thursdays[1], thursdays[3]]
    return found


EXPECTED_2027 = [
    d for d in second_and_fourth_thursdays(2027) if d not in {HOLIDAY_THURSDAY, EXCLUDED_THURSDAY}
]


def at(day: date, hour: int = 19) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI)


# ---------------------------------------------------------------- parsing, twice


class Feed:
    """A feed parsed by both parsers, with lookups by UID."""

    def __init__(self, body: bytes):
        self.body = body
        self.ical = icalendar.Calendar.from_ical(body)
        self.vobj = vobject.readOne(body.decode("utf-8"))
        self.events = {str(e["UID"]): e for e in self.ical.walk("VEVENT")}
        self.vevents = {v.uid.value: v for v in getattr(self.vobj, "vevent_list", [])}
        assert self.events.keys() == self.vevents.keys()

    @property
    def uids(self) -> set[str]:
        return set(self.events)


def get_feed(client: Client, url: str, **headers: str) -> Feed:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Feed(response.content)


def icalendar_dates(event: icalendar.Event, year: int) -> list[datetime]:
    """The event's openings in a year, expanded from what `icalendar` parsed (RRULE, EXDATE)."""
    start = event.decoded("DTSTART")
    rules = rruleset()
    rules.rrule(rrulestr(event["RRULE"].to_ical().decode(), dtstart=start))
    exdates = event.get("EXDATE", [])
    for group in exdates if isinstance(exdates, list) else [exdates]:
        for item in group.dts:
            rules.exdate(item.dt)
    return rules.between(
        datetime(year, 1, 1, tzinfo=SHANGHAI), datetime(year + 1, 1, 1, tzinfo=SHANGHAI), inc=True
    )


def vobject_dates(vevent, year: int) -> list[datetime]:
    """The event's openings in a year, as vobject expands them itself."""
    rules = vevent.getrruleset(addRDate=True)
    return list(
        rules.between(
            datetime(year, 1, 1, tzinfo=SHANGHAI),
            datetime(year + 1, 1, 1, tzinfo=SHANGHAI),
            inc=True,
        )
    )


def local(moments: list[datetime]) -> list[tuple[date, time]]:
    return [(m.astimezone(SHANGHAI).date(), m.astimezone(SHANGHAI).time()) for m in moments]


# ---------------------------------------------------------------- data


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def prod(db):
    return factories.environment("prod")


@pytest.fixture
def holidays(admin):
    return import_holidays(
        admin, name="cn-2027", content=SHIPPED.read_bytes(), filename=SHIPPED.name
    )


@pytest.fixture
def seed_window(admin, app, holidays):
    """Seed 002's upgrade window for crm, defined once."""
    return windows.create_window(
        admin,
        name="CRM upgrade window",
        rrule="FREQ=MONTHLY;BYDAY=2TH,4TH",
        first_date="2027-01-01",
        start_time="19:00",
        duration_minutes=240,
        time_zone="Asia/Shanghai",
        application=app,
        excluded_dates=[EXCLUDED_THURSDAY],
        holidays=holidays,
    )


@pytest.fixture
def other_app(presets):
    return factories.application("hr", process="tfdl")


@pytest.fixture
def other_window(admin, other_app):
    return windows.create_window(
        admin,
        name="HR window",
        rrule="FREQ=WEEKLY;BYDAY=TU",
        first_date="2027-01-01",
        start_time="20:00",
        duration_minutes=60,
        application=other_app,
    )


@pytest.fixture
def rita(app):
    return factories.user("rita", "requester", app=app, department="Ops")


@pytest.fixture
def release(rita, app, prod, seed_window):
    """rita's upgrade of crm, scheduled into the window's first opening (2027-01-14 19:00)."""
    made = factories.release(rita, app, title="CRM 5.2", environment=prod)
    scheduling.schedule_release(rita, made, start=at(date(2027, 1, 14)))
    made.refresh_from_db()
    return made


def app_url(code: str = "crm") -> str:
    return f"/calendar/feeds/application/{code}.ics"


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


# ---------------------------------------------------------------- the seed 002 window


def test_the_stdlib_list_is_what_the_test_claims():
    listed = second_and_fourth_thursdays(2027)
    assert len(listed) == 24
    assert listed[:4] == [
        date(2027, 1, 14),
        date(2027, 1, 28),
        date(2027, 2, 11),
        date(2027, 2, 25),
    ]
    assert HOLIDAY_THURSDAY in listed and EXCLUDED_THURSDAY in listed
    assert len(EXPECTED_2027) == 22


def test_the_seed_window_expands_to_the_right_2027_evenings_in_both_parsers(
    admin_client, seed_window
):
    feed = get_feed(admin_client, app_url())

    event = feed.events[f"window-{seed_window.pk}@relman"]
    assert event.decoded("DTSTART") == at(date(2027, 1, 14))
    assert str(event["DTSTART"].params["TZID"]) == "Asia/Shanghai"
    assert event.decoded("DTEND") == at(date(2027, 1, 14), 23)
    assert event["RRULE"].to_ical() == b"FREQ=MONTHLY;BYDAY=2TH,4TH"
    assert "Asia/Shanghai" in [str(tz["TZID"]) for tz in feed.ical.walk("VTIMEZONE")]
    exdates = {item.dt for item in event["EXDATE"].dts}
    assert at(HOLIDAY_THURSDAY) in exdates and at(EXCLUDED_THURSDAY) in exdates
    expected = [(day, time(19)) for day in EXPECTED_2027]
    # Expanded from what icalendar read ...
    assert local(icalendar_dates(event, 2027)) == expected
    # ... and by vobject itself, from its own parse.
    vevent = feed.vevents[f"window-{seed_window.pk}@relman"]
    assert local(vobject_dates(vevent, 2027)) == expected
    assert vevent.dtend.value - vevent.dtstart.value == timedelta(hours=4)
    assert (HOLIDAY_THURSDAY, time(19)) not in local(vobject_dates(vevent, 2027))
    # ... and relman's own expansion agrees.
    ours = windows.occurrences_between(at(date(2027, 1, 1), 0), at(date(2028, 1, 1), 0))
    assert [(o.start.date(), o.start.time()) for w, o in ours if w == seed_window] == expected


def test_a_last_date_becomes_the_rules_until(admin_client, seed_window, admin):
    windows.update_window(admin, seed_window.pk, last_date="2027-06-30")

    feed = get_feed(admin_client, app_url())

    event = feed.events[f"window-{seed_window.pk}@relman"]
    assert event["RRULE"]["UNTIL"][0] == datetime(2027, 6, 30, 15, 59, 59, tzinfo=ZoneInfo("UTC"))
    expected = [(d, time(19)) for d in EXPECTED_2027 if d <= date(2027, 6, 30)]
    assert local(icalendar_dates(event, 2027)) == expected
    assert local(vobject_dates(feed.vevents[f"window-{seed_window.pk}@relman"], 2027)) == expected


def test_an_opening_struck_out_of_the_published_plan_is_excluded_from_the_feed(
    admin_client, seed_window, admin
):
    plan.generate_plan(admin, 2027)
    struck = seed_window.pk, at(date(2027, 1, 28))
    occurrence = plan.get_plan(2027).occurrences.get(window_id=struck[0], starts=struck[1])
    plan.strike_occurrence(admin, occurrence.pk, reason="Year-end closing")
    plan.publish_plan(admin, 2027)

    feed = get_feed(admin_client, app_url())

    vevent = feed.vevents[f"window-{seed_window.pk}@relman"]
    expected = [(d, time(19)) for d in EXPECTED_2027 if d != date(2027, 1, 28)]
    assert local(vobject_dates(vevent, 2027)) == expected
    assert local(icalendar_dates(feed.events[f"window-{seed_window.pk}@relman"], 2027)) == expected


def test_a_window_keeps_its_wall_clock_time_across_daylight_saving_in_both_parsers(
    admin_client, admin, app
):
    berlin = ZoneInfo("Europe/Berlin")
    window = windows.create_window(
        admin,
        name="Berlin Thursday window",
        rrule="FREQ=WEEKLY;BYDAY=TH",
        first_date="2027-03-11",
        last_date="2027-04-08",
        start_time="19:00",
        duration_minutes=60,
        time_zone="Europe/Berlin",
    )
    # Summer time starts on 2027-03-28: the UTC hour moves, the local hour does not.
    expected = [(date(2027, 3, 11) + timedelta(weeks=n), time(19)) for n in range(5)]

    feed = get_feed(admin_client, app_url())

    uid = f"window-{window.pk}@relman"
    assert "Europe/Berlin" in [str(tz["TZID"]) for tz in feed.ical.walk("VTIMEZONE")]
    by_vobject = list(feed.vevents[uid].getrruleset(addRDate=True))
    event = feed.events[uid]
    by_icalendar = list(
        rrulestr(event["RRULE"].to_ical().decode(), dtstart=event.decoded("DTSTART"))
    )
    for found in (by_vobject, by_icalendar):
        assert [(m.astimezone(berlin).date(), m.astimezone(berlin).time()) for m in found] == (
            expected
        )
    utc = sorted({m.astimezone(ZoneInfo("UTC")).hour for m in by_vobject})
    assert utc == [17, 18]  # 19:00 CEST and 19:00 CET


# ---------------------------------------------------------------- who may read an application feed


def test_an_anonymous_application_feed_is_refused(client, seed_window):
    response = client.get(app_url())

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"BEGIN:VCALENDAR" not in response.content


def test_a_bad_bearer_token_is_refused(client, seed_window):
    response = client.get(app_url(), HTTP_AUTHORIZATION="Bearer rmt_nope_nope")

    assert response.status_code == 401


def test_an_application_feed_opens_with_a_session_a_bearer_token_or_a_feed_secret(
    api_client, release, rita, seed_window
):
    logged_in = Client()
    logged_in.force_login(rita)
    _token, secret = create_feed_token(rita, rita)

    by_session = get_feed(logged_in, app_url())
    by_token = get_feed(api_client(rita), app_url())
    by_secret = get_feed(Client(), f"{app_url()}?token={secret}")

    expected = {f"window-{seed_window.pk}@relman", f"release-{release.number}@relman"}
    assert by_session.uids == by_token.uids == by_secret.uids == expected


def test_a_revoked_or_unknown_feed_secret_on_an_application_feed_is_404(rita, seed_window):
    token, secret = create_feed_token(rita, rita)
    revoke_feed_token(rita, token.pk)

    assert Client().get(f"{app_url()}?token={secret}").status_code == 404
    assert Client().get(f"{app_url()}?token=rmf_unknown").status_code == 404


def test_an_application_the_user_holds_no_role_for_is_404(other_app, seed_window, app):
    stranger = factories.user("sam", "requester", app=other_app)
    client = Client()
    client.force_login(stranger)

    assert client.get(app_url("crm")).status_code == 404
    assert client.get(app_url("nosuchapp")).status_code == 404
    assert client.get(app_url("hr")).status_code == 200


def test_releases_in_an_application_feed_are_those_the_reader_may_see(
    release, app, seed_window, presets
):
    auditor = factories.user("audrey", "auditor")  # sees every release
    client = Client()
    client.force_login(auditor)

    feed = get_feed(client, app_url())

    assert f"release-{release.number}@relman" in feed.uids


# ---------------------------------------------------------------- what the events say


def test_a_scheduled_release_is_a_single_event_with_a_stable_uid(admin_client, release):
    feed = get_feed(admin_client, app_url())

    uid = f"release-{release.number}@relman"
    event = feed.events[uid]
    assert event.decoded("DTSTART") == at(date(2027, 1, 14))
    assert event.decoded("DTEND") == at(date(2027, 1, 14), 23)
    assert str(event["SUMMARY"]) == f"{release.number} CRM 5.2 (crm)"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert [str(c) for c in event["CATEGORIES"].cats] == ["Release", "In progress"]
    assert str(event["URL"]).endswith(f"/releases/{release.number}/")
    assert "Window: CRM upgrade window" in str(event["DESCRIPTION"])
    assert "Stage: Release plan" in str(event["DESCRIPTION"])
    assert "RRULE" not in event
    vevent = feed.vevents[uid]
    assert vevent.dtstart.value == at(date(2027, 1, 14))
    assert vevent.summary.value == f"{release.number} CRM 5.2 (crm)"
    assert int(vevent.sequence.value) == release.revision


def test_a_moved_release_keeps_its_uid_and_raises_its_sequence(admin_client, release, rita):
    before = get_feed(admin_client, app_url()).events[f"release-{release.number}@relman"]

    scheduling.schedule_release(rita, release, start=at(date(2027, 1, 28)))

    after = get_feed(admin_client, app_url()).events[f"release-{release.number}@relman"]
    assert after.decoded("DTSTART") == at(date(2027, 1, 28))
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")


def test_freezes_over_the_application_are_in_its_feed_and_others_are_not(
    admin_client, admin, seed_window, other_app
):
    year_end = freezes.create_freeze(
        admin,
        name="Year-end freeze",
        reason="Financial closing",
        starts=at(date(2027, 12, 20), 0),
        ends=at(date(2028, 1, 4), 0),
    )
    crm_only = freezes.create_freeze(
        admin,
        name="CRM migration",
        reason="Database move",
        starts=at(date(2027, 3, 1), 0),
        ends=at(date(2027, 3, 8), 0),
        application="crm",
    )
    hr_only = freezes.create_freeze(
        admin,
        name="HR payroll",
        reason="Payroll run",
        starts=at(date(2027, 3, 25), 0),
        ends=at(date(2027, 3, 27), 0),
        application=other_app,
    )

    feed = get_feed(admin_client, app_url())

    assert f"freeze-{year_end.pk}@relman" in feed.uids
    assert f"freeze-{crm_only.pk}@relman" in feed.uids
    assert f"freeze-{hr_only.pk}@relman" not in feed.uids
    event = feed.events[f"freeze-{year_end.pk}@relman"]
    assert str(event["SUMMARY"]) == "Freeze: Year-end freeze"
    assert "Financial closing" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == at(date(2027, 12, 20), 0)
    vevent = feed.vevents[f"freeze-{crm_only.pk}@relman"]
    assert vevent.dtend.value == at(date(2027, 3, 8), 0)


# ---------------------------------------------------------------- caching


def test_an_unchanged_feed_answers_304_and_a_change_gives_a_new_etag(admin_client, release, rita):
    first = admin_client.get(app_url())
    etag, modified = first["ETag"], first["Last-Modified"]

    assert admin_client.get(app_url(), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert admin_client.get(app_url(), HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert admin_client.get(app_url()).content == first.content  # byte-identical

    scheduling.schedule_release(rita, release, start=at(date(2027, 1, 28)))
    changed = admin_client.get(app_url(), HTTP_IF_NONE_MATCH=etag)

    assert changed.status_code == 200
    assert changed["ETag"] != etag
    Feed(changed.content)


# ---------------------------------------------------------------- the personal feed


def test_a_personal_feed_shows_the_users_releases_and_the_windows_and_freezes_over_them(
    release, rita, seed_window, other_window, admin, other_app
):
    hr_freeze = freezes.create_freeze(
        admin,
        name="HR payroll",
        reason="Payroll run",
        starts=at(date(2027, 3, 25), 0),
        ends=at(date(2027, 3, 27), 0),
        application=other_app,
    )
    everything = freezes.create_freeze(
        admin,
        name="Spring Festival",
        reason="Holiday",
        starts=at(date(2027, 2, 4), 0),
        ends=at(date(2027, 2, 12), 0),
    )
    _token, secret = create_feed_token(rita, rita)

    feed = get_feed(Client(), feed_path(secret))

    assert feed.uids == {
        f"release-{release.number}@relman",
        f"window-{seed_window.pk}@relman",
        f"freeze-{everything.pk}@relman",
    }
    assert f"window-{other_window.pk}@relman" not in feed.uids
    assert f"freeze-{hr_freeze.pk}@relman" not in feed.uids
    assert str(feed.ical["X-WR-CALNAME"]) == "My releases (rita)"


def test_a_personal_feed_shows_releases_the_user_may_approve_now(release, app, crew_user):
    factories.walk_to(crew_user, release, "plan_review")
    approver = factories.user("dana", "department_approver", app=app, department="Ops")
    bystander = factories.user("bob", "tester", app=app)
    _t, approver_secret = create_feed_token(None, approver)
    _t, bystander_secret = create_feed_token(None, bystander)

    approver_feed = get_feed(Client(), feed_path(approver_secret))
    bystander_feed = get_feed(Client(), feed_path(bystander_secret))

    assert f"release-{release.number}@relman" in approver_feed.uids
    assert f"release-{release.number}@relman" not in bystander_feed.uids

    decisions.approve(approver, release, step="department_approver")
    after = get_feed(Client(), feed_path(approver_secret))
    assert f"release-{release.number}@relman" not in after.uids


@pytest.fixture
def crew_user(app):
    return factories.crew(app, "carl")


def test_a_revoked_or_unknown_personal_secret_is_404(rita, release):
    token, secret = create_feed_token(rita, rita)
    assert Client().get(feed_path(secret)).status_code == 200

    revoke_feed_token(rita, token.pk)

    assert Client().get(feed_path(secret)).status_code == 404
    assert Client().get(feed_path("rmf_" + "x" * 43)).status_code == 404
    assert Client().get("/calendar/feeds/personal/whatever.ics").status_code == 404


def test_a_new_personal_secret_replaces_the_old_one(rita):
    _old, old_secret = create_feed_token(rita, rita)
    _new, new_secret = create_feed_token(rita, rita)

    assert user_for_feed(old_secret) is None
    assert user_for_feed(new_secret) == rita
    assert FeedToken.objects.filter(user=rita, revoked__isnull=True).count() == 1
    assert FeedToken.objects.get(pk=_new.pk).key_hash != new_secret  # only the hash is kept
    created = AuditEvent.objects.filter(action="feed_token.created").order_by("-seq").first()
    assert created.after == {"user": "rita", "revoked_earlier": 1}


def test_people_manage_only_their_own_feed_secrets(rita, app, admin):
    other = factories.user("otto", "requester", app=app)
    token, _secret = create_feed_token(rita, rita)

    with pytest.raises(PermissionDenied):
        create_feed_token(other, rita)
    with pytest.raises(NotFound):
        revoke_feed_token(other, token.pk)
    revoke_feed_token(admin, token.pk)

    assert AuditEvent.objects.filter(action="feed_token.revoked", actor=admin).exists()


def test_a_deactivated_user_has_no_feed(rita, release):
    _token, secret = create_feed_token(rita, rita)
    rita.is_active = False
    rita.save()

    assert Client().get(feed_path(secret)).status_code == 404


# ---------------------------------------------------------------- the team feed


def test_a_team_feed_lists_the_teams_releases(admin_client, release, seed_window, client):
    feed = get_feed(admin_client, "/calendar/feeds/team/Ops.ics")

    assert f"release-{release.number}@relman" in feed.uids
    assert f"window-{seed_window.pk}@relman" in feed.uids
    assert str(feed.ical["X-WR-CALNAME"]) == "Releases of team Ops"
    assert admin_client.get("/calendar/feeds/team/Nobody.ics").status_code == 404
    assert client.get("/calendar/feeds/team/Ops.ics").status_code == 401


# ---------------------------------------------------------------- relman calendar feed-token


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setenv("RELMAN_LANGUAGE", "en")
    for console in (output.out, output.err):
        monkeypatch.setattr(console, "_width", 200)
    from relman.cli.main import app as relman_app

    def invoke(*args: str):
        return CliRunner().invoke(relman_app, ["calendar", *args])

    return invoke


def test_the_command_prints_a_working_feed_path_once_and_revokes_it(run, rita, release):
    made = run("feed-token", "rita")

    assert made.exit_code == 0, made.output
    path = made.stdout.strip()
    assert path.startswith("/calendar/feeds/personal/rmf_") and path.endswith(".ics")
    assert "shown only now" in made.stderr
    assert get_feed(Client(), path).uids >= {f"release-{release.number}@relman"}

    revoked = run("feed-token", "rita", "--revoke")

    assert revoked.exit_code == 0, revoked.output
    assert "Revoked 1 calendar feed URL(s) of rita." in revoked.stdout
    assert Client().get(path).status_code == 404
    assert run("feed-token", "nobody").exit_code == 1


def test_a_feed_read_with_a_secret_speaks_its_owners_language(release, rita):
    rita.language = "zh-hans"
    rita.save()
    _token, secret = create_feed_token(rita, rita)

    feed = get_feed(Client(), feed_path(secret))

    description = str(feed.events[f"release-{release.number}@relman"]["DESCRIPTION"])
    assert "制定发布方案" in description  # the stage's Chinese name from the process
