"""The calendar pages: month, week and list views, their conflicts, and scheduling from the
calendar and from the release page. Data is made through the calendar's services."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relman.calendar.models import ReleaseSchedule
from relman.calendar.services import conflicts, freezes, scheduling, windows
from relman.releases.models import Release
from tests import factories
from tests.web.helpers import text

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Every second and fourth Thursday, 19:00-23:00: in January 2027 the 14th and the 28th.
SECOND_AND_FOURTH_THURSDAY = "FREQ=MONTHLY;BYDAY=2TH,4TH"


def at(day: int, hour: int, minute: int = 0, month: int = 1, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def value(window, start: datetime) -> str:
    """An occurrence as the forms name it."""
    return f"{window.pk}@{start.astimezone(UTC).isoformat()}"


@pytest.fixture
def admin(db):
    return factories.admin("cal-admin")


@pytest.fixture
def window(admin, shop):
    return windows.create_window(
        admin,
        name="Thursday window",
        rrule=SECOND_AND_FOURTH_THURSDAY,
        first_date=date(2027, 1, 1),
        start_time="19:00",
        duration_minutes=240,
        application=shop,
        capacity=3,
    )


@pytest.fixture
def scheduled(manager, release, window):
    """The release booked into the window on 2027-01-14."""
    scheduling.schedule_release(manager, release, start=at(14, 19), window_id=window.pk)
    release.refresh_from_db()
    return release


def another(requester, shop, manager, title: str = "Another release", **fields):
    return factories.release(requester, shop, title=title, release_manager=manager, **fields)


def month(client, day: str = "2027-01-10", **query) -> str:
    response = client.get("/calendar/", {"date": day, **query})
    assert response.status_code == 200
    return text(response)


# ---------------------------------------------------------------- who may see what


def test_anonymous_is_sent_to_log_in(login, release):
    response = login().get("/calendar/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/calendar/"
    moved = login().post(f"/calendar/releases/{release.number}/schedule/", {"occurrence": "x"})
    assert moved.status_code == 302 and moved["Location"].startswith("/login/")
    assert not ReleaseSchedule.objects.exists()


def test_a_user_sees_only_the_releases_they_may_see(
    login, requester, outsider, admin, manager, scheduled, window
):
    hidden_app = factories.application("vault", process="mini")
    vault_manager = factories.user("vic", "release_manager", app=hidden_app)
    vault_window = windows.create_window(
        admin,
        name="Vault window",
        rrule=SECOND_AND_FOURTH_THURSDAY,
        first_date=date(2027, 1, 1),
        start_time="19:00",
        duration_minutes=240,
        application=hidden_app,
    )
    hidden = factories.release(vault_manager, hidden_app, title="Secret vault change")
    scheduling.schedule_release(vault_manager, hidden, start=at(14, 19), window_id=vault_window.pk)

    mine = month(login(requester))
    assert scheduled.number in mine and "Checkout v2" in mine
    assert hidden.number not in mine and "Secret vault change" not in mine

    everything = month(login(admin))
    assert scheduled.number in everything and hidden.number in everything

    nothing = month(login(outsider))
    assert scheduled.number not in nothing and hidden.number not in nothing
    # windows are not secret: the outsider still sees when releases may happen
    assert "Thursday window" in nothing


# ---------------------------------------------------------------- the three views


@pytest.fixture
def freeze(admin, shop):
    return freezes.create_freeze(
        admin,
        name="Spring Festival",
        reason="Chinese New Year: the shop is at its busiest",
        starts=at(20, 0),
        ends=at(22, 0),
        application=shop,
    )


def test_the_month_shows_windows_freezes_and_releases(login, requester, scheduled, freeze):
    page = month(login(requester))
    assert "January 2027" in page
    # both Thursday occurrences, one of three places booked on the 14th
    assert re.search(r'data-date="2027-01-14".*?Thursday window.*?>1/3<', page, re.S)
    assert re.search(r'data-date="2027-01-28".*?Thursday window.*?>0/3<', page, re.S)
    # the freeze is hatched on its days, its reason on hover
    assert re.search(r'class="cal-day[^"]*is-frozen[^"]*" data-date="2027-01-20"', page)
    assert re.search(r'class="cal-day[^"]*is-frozen[^"]*" data-date="2027-01-21"', page)
    assert not re.search(r'class="cal-day[^"]*is-frozen[^"]*" data-date="2027-01-22"', page)
    assert 'title="Freeze: Spring Festival — Chinese New Year: the shop is at its busiest' in page
    # the release links to its page, coloured as in progress
    assert f'href="/releases/{scheduled.number}/"' in page
    assert re.search(rf'class="cal-release cal-blue"\s+data-number="{scheduled.number}"', page)
    assert "No conflicts" not in page and 'id="conflicts"' not in page


def test_today_is_marked_in_the_month(login, requester):
    today = timezone.localdate().isoformat()
    page = month(login(requester), day=today)
    assert re.search(rf'class="cal-day[^"]*is-today[^"]*" data-date="{today}"', page)
    assert page.count("is-today") == 1


def test_the_week_shows_hours_windows_freezes_and_releases(login, requester, scheduled, freeze):
    page = month(login(requester), day="2027-01-14", view="week")
    assert "Week of 2027-01-11 – 2027-01-17" in page
    assert "00:00" in page and "23:00" in page
    assert "Thursday window" in page and scheduled.number in page
    # 19:00 is 79.167% down the day; four hours are 16.667% of it
    assert "top:79.167%;height:16.667%" in page
    other = month(login(requester), day="2027-01-21", view="week")
    assert "Spring Festival" in other and "cal-freeze-block" in other
    assert scheduled.number not in other


def test_the_list_shows_the_month_in_order(login, requester, manager, shop, scheduled, freeze):
    later = another(requester, shop, manager, title="Later release")
    window = scheduled.schedule.window
    scheduling.schedule_release(manager, later, start=at(28, 19), window_id=window.pk)
    page = month(login(requester), day="2027-01-01", view="list")
    order = [
        page.index('data-date="2027-01-14"'),
        page.index(scheduled.number),
        page.index('data-date="2027-01-20"'),
        page.index("Spring Festival"),
        page.index('data-date="2027-01-28"'),
        page.index(later.number),
    ]
    assert order == sorted(order)
    assert "1 of 3 places booked" in page
    assert "Chinese New Year: the shop is at its busiest" in page


def test_a_closed_release_is_coloured_by_its_outcome(login, requester, manager, scheduled):
    from relman.releases import services

    services.cancel(manager, scheduled, revision=scheduled.revision, reason="Not needed")
    page = month(login(requester))
    assert re.search(
        rf'class="cal-release cal-grey[^"]*is-cancelled"\s+data-number="{scheduled.number}"', page
    )
    # a cancelled release gives its place back, and cannot be moved any more
    assert ">0/3<" in page and "cal-move" not in page


def test_the_calendar_filters_by_application_environment_and_team(
    login, admin, requester, scheduled, window
):
    crm = factories.application("crm", process="mini")
    crm_manager = factories.user("cris", "release_manager", app=crm, department="CRM team")
    prod = factories.environment("prod")
    crm_window = windows.create_window(
        admin,
        name="CRM production window",
        rrule="FREQ=WEEKLY;BYDAY=FR",
        first_date=date(2027, 1, 1),
        start_time="21:00",
        duration_minutes=120,
        application=crm,
        environment=prod,
        team="CRM team",
    )
    crm_release = factories.release(crm_manager, crm, title="CRM change", environment=prod)
    scheduling.schedule_release(crm_manager, crm_release, start=at(15, 21), window_id=crm_window.pk)
    client = login(admin)

    both = month(client)
    assert scheduled.number in both and crm_release.number in both

    shop_only = month(client, application="shop")
    assert scheduled.number in shop_only and "Thursday window" in shop_only
    assert crm_release.number not in shop_only and "CRM production window" not in shop_only

    production = month(client, environment="prod")
    assert crm_release.number in production and "CRM production window" in production
    assert scheduled.number not in production

    team = month(client, team="CRM team")
    assert crm_release.number in team and scheduled.number not in team
    assert '<option value="CRM team" selected>' in team


def test_bad_query_values_are_ignored_with_a_message(login, requester):
    page = month(login(requester), day="2027-13-45", view="year", application="nope")
    assert "'2027-13-45' is not a valid value for the filter 'Date'; it was ignored." in page
    assert "'year' is not a valid value for the filter 'View'; it was ignored." in page
    assert "'nope' is not a valid value for the filter 'Application'; it was ignored." in page


def test_previous_next_and_today_keep_the_view_and_filters(login, requester, shop):
    page = month(login(requester), day="2027-01-10", view="week", application="shop")
    assert 'href="/calendar/?view=week&date=2027-01-03&application=shop" rel="prev"' in page
    assert 'href="/calendar/?view=week&date=2027-01-17&application=shop" rel="next"' in page
    monthly = month(login(requester), day="2027-01-31")
    assert 'href="/calendar/?view=month&date=2026-12-01" rel="prev"' in monthly
    assert 'href="/calendar/?view=month&date=2027-02-01" rel="next"' in monthly


# ---------------------------------------------------------------- conflicts


def assert_conflict_shown(page: str, kind: str, numbers: list[str]) -> None:
    """The conflict of that kind is listed with its message and resolution, and each of its
    releases is marked on the grid."""
    found = [
        c
        for c in conflicts.find_conflicts(at(1, 0), at(1, 0, month=2))
        if c.kind == kind and set(numbers) <= set(c.release_numbers)
    ]
    assert found, f"no {kind} conflict among {numbers}"
    conflict = found[0]
    assert conflict.message and conflict.message in page
    assert conflict.resolution and conflict.resolution in page
    assert f'data-kind="{kind}"' in page
    for number in numbers:
        assert re.search(
            rf'class="cal-release [^"]*has-conflict[^"]*"\s+data-number="{number}"', page
        )


def test_overlapping_releases_show_as_a_conflict(
    login, requester, manager, shop, scheduled, window
):
    second = another(requester, shop, manager)
    scheduling.schedule_release(
        manager, second, start=at(14, 20), end=at(14, 22), window_id=window.pk
    )
    page = month(login(requester))
    assert "Overlapping releases" in page
    assert f"{scheduled.number} and {second.number} both change shop" in page
    assert_conflict_shown(page, "overlap", [scheduled.number, second.number])


def test_a_window_over_capacity_shows_as_a_conflict(
    login, admin, requester, manager, shop, scheduled, window
):
    second = another(requester, shop, manager)
    scheduling.schedule_release(manager, second, start=at(14, 19), window_id=window.pk)
    windows.update_window(admin, window.pk, capacity=1)
    page = month(login(requester))
    assert "Window over capacity" in page and ">2/1<" in page
    assert_conflict_shown(page, "over_capacity", [scheduled.number, second.number])


def test_a_release_in_a_freeze_shows_as_a_conflict(login, admin, requester, shop, scheduled):
    freezes.create_freeze(
        admin, name="Audit week", reason="Year-end audit", starts=at(14, 0), ends=at(15, 0)
    )
    page = month(login(requester))
    assert "Inside a freeze" in page and "Audit week" in page
    assert_conflict_shown(page, "in_freeze", [scheduled.number])


def test_a_release_outside_any_window_shows_as_a_conflict(
    login, admin, requester, scheduled, window
):
    windows.update_window(admin, window.pk, is_active=False)
    page = month(login(requester))
    assert "Outside any release window" in page
    assert_conflict_shown(page, "outside_window", [scheduled.number])


def test_the_release_page_lists_its_conflicts(login, admin, requester, scheduled):
    freezes.create_freeze(
        admin, name="Audit week", reason="Year-end audit", starts=at(14, 0), ends=at(15, 0)
    )
    page = text(login(requester).get(f"/releases/{scheduled.number}/"))
    assert 'id="schedule"' in page and 'data-kind="in_freeze"' in page
    assert "falls in the freeze 'Audit week'" in page


# ---------------------------------------------------------------- scheduling


def schedule(client, release, **data):
    return client.post(
        f"/calendar/releases/{release.number}/schedule/",
        {"revision": release.revision, **data},
    )


def test_the_release_page_offers_the_next_occurrences(login, manager, auditor, release, window):
    now = timezone.now()
    page = text(login(manager).get(f"/releases/{release.number}/"))
    assert "Not scheduled yet." in page
    assert f'action="/calendar/releases/{release.number}/schedule/"' in page
    upcoming = windows.occurrences_between(now, now + (at(1, 0, year=2028) - at(1, 0)))
    first = upcoming[0][1]
    assert f'value="{value(window, first.start)}"' in page
    assert "Thursday window · 0/3 booked" in page
    panel = page[page.index('id="schedule"') :]
    panel = panel[: panel.index("</section>")]
    assert 'name="csrfmiddlewaretoken"' in panel
    # an auditor sees the panel but no form
    read_only = text(login(auditor).get(f"/releases/{release.number}/"))
    assert 'id="schedule"' in read_only
    assert f'action="/calendar/releases/{release.number}/schedule/"' not in read_only


def test_scheduling_from_the_release_page(login, manager, release, window):
    client = login(manager)
    response = schedule(client, release, occurrence=value(window, at(14, 19)))
    assert response.status_code == 302
    assert response["Location"] == f"/releases/{release.number}/#schedule"
    release.refresh_from_db()
    assert release.planned_start == at(14, 19) and release.planned_end == at(14, 23)
    assert release.schedule.window == window
    event = release.audit_events.get(action="release.scheduled")
    assert event.channel == "web" and event.actor == manager
    page = text(client.get(response["Location"]))
    assert f"Release {release.number} is scheduled for Thu 2027-01-14 19:00–23:00." in page
    assert "In the window “Thursday window”." in page


def test_an_auditor_may_not_schedule(login, auditor, release, window):
    client = login(auditor)
    response = schedule(client, release, occurrence=value(window, at(14, 19)))
    page = text(client.get(response["Location"]))
    assert f"You may not change release {release.number}." in page
    assert not ReleaseSchedule.objects.filter(release=release).exists()


def test_a_planned_release_is_refused_outside_a_window(login, manager, release, window):
    client = login(manager)
    response = schedule(
        client, release, start="2027-01-15T10:00", end="2027-01-15T12:00", reason="Hurry"
    )
    page = text(client.get(response["Location"]))
    assert (
        f"No release window covering {release.number} is open from 2027-01-15 10:00 to "
        "2027-01-15 12:00. The next one is 'Thursday window' on 2027-01-28 19:00. Only an "
        "emergency release with its approval may be scheduled outside a window."
    ) in page
    assert not ReleaseSchedule.objects.filter(release=release).exists()
    release.refresh_from_db()
    assert release.planned_start is None


def test_an_emergency_is_scheduled_outside_a_window_with_its_reason(
    login, requester, manager, shop, window
):
    urgent = another(requester, shop, manager, title="Hotfix", method="emergency", kind="patch")
    client = login(manager)
    page = text(client.get(f"/releases/{urgent.number}/"))
    assert "Schedule outside a window…" in page
    response = schedule(
        client,
        urgent,
        start="2027-01-15T10:00",
        end="2027-01-15T12:00",
        reason="Card payments fail",
    )
    page = text(client.get(response["Location"]))
    assert f"Release {urgent.number} is scheduled for Fri 2027-01-15 10:00–12:00." in page
    assert "Outside any window (emergency)." in page and "Card payments fail" in page
    urgent.refresh_from_db()
    assert urgent.schedule.window is None
    assert urgent.schedule.outside_window_reason == "Card payments fail"


def test_moving_a_release_from_the_calendar(login, manager, scheduled, window):
    client = login(manager)
    here = "/calendar/?date=2027-01-10"
    before = text(client.get(here))
    assert f'action="/calendar/releases/{scheduled.number}/schedule/"' in before
    assert f'<option value="{value(window, at(14, 19))}" selected>' in before
    assert f'value="{value(window, at(28, 19))}"' in before

    response = schedule(client, scheduled, occurrence=value(window, at(28, 19)), next=here)
    assert response.status_code == 302 and response["Location"] == here
    after = text(client.get(here))
    assert f"Release {scheduled.number} is moved to Thu 2027-01-28 19:00–23:00." in after
    assert re.search(rf'data-date="2027-01-28".*?data-number="{scheduled.number}"', after, re.S)
    assert not re.search(
        rf'data-date="2027-01-14"((?!data-date=).)*data-number="{scheduled.number}"', after, re.S
    )
    assert (
        Release.objects.get(pk=scheduled.pk)
        .audit_events.filter(action="release.rescheduled")
        .exists()
    )


def test_a_stale_move_is_refused_with_a_conflict_message(login, manager, scheduled, window):
    client = login(manager)
    response = client.post(
        f"/calendar/releases/{scheduled.number}/schedule/",
        {"revision": scheduled.revision - 1, "occurrence": value(window, at(28, 19))},
    )
    page = text(client.get(response["Location"]))
    assert "was changed by someone else" in page
    assert "This page now shows the latest state; check it." in page
    assert Release.objects.get(pk=scheduled.pk).planned_start == at(14, 19)


def test_a_full_occurrence_is_refused_naming_the_next_free_one(
    login, admin, requester, manager, shop, scheduled, window
):
    windows.update_window(admin, window.pk, capacity=1)
    second = another(requester, shop, manager)
    client = login(manager)
    page = text(client.get("/calendar/?date=2027-01-10"))
    # the full occurrence cannot be picked for another release
    assert re.search(
        rf'<option value="{re.escape(value(window, at(14, 19)))}" disabled>', page
    ) or (second.number not in page)
    response = schedule(client, second, occurrence=value(window, at(14, 19)))
    page = text(client.get(response["Location"]))
    assert "The window 'Thursday window' on 2027-01-14 19:00 is full (capacity 1)." in page
    assert "Its next free occurrence is 2027-01-28 19:00." in page


def test_unscheduling_needs_a_reason(login, manager, scheduled):
    client = login(manager)
    refused = client.post(f"/calendar/releases/{scheduled.number}/unschedule/", {"reason": ""})
    assert "Reason: This field is required." in text(client.get(refused["Location"]))
    response = client.post(
        f"/calendar/releases/{scheduled.number}/unschedule/", {"reason": "Postponed by the CAB"}
    )
    page = text(client.get(response["Location"]))
    assert f"Release {scheduled.number} is no longer scheduled." in page
    assert not ReleaseSchedule.objects.filter(release=scheduled).exists()


def test_a_bad_occurrence_or_return_address_is_handled(login, manager, release, window):
    client = login(manager)
    response = schedule(client, release, occurrence="nonsense", next="https://evil.example/")
    assert response["Location"] == f"/releases/{release.number}/#schedule"
    page = text(client.get(response["Location"]))
    assert "Window: Pick a window occurrence from the list." in page
    nothing = schedule(client, release)
    assert "Pick a window occurrence, or give a start time for an emergency." in text(
        client.get(nothing["Location"])
    )


def test_a_release_the_user_may_not_see_is_404(login, outsider, release, window):
    response = schedule(login(outsider), release, occurrence=value(window, at(14, 19)))
    assert response.status_code == 404


# ---------------------------------------------------------------- language and cost


def test_the_calendar_in_chinese(login, requester, scheduled, freeze):
    client = login(requester)
    client.cookies["django_language"] = "zh-hans"
    page = month(client)
    assert '<html lang="zh-hans">' in page
    assert "2027年1月" in page and "星期一" in page
    assert "日历" in page and "月" in page and "今天" in page
    assert scheduled.number in page and "Spring Festival" in page
    for view in ("week", "list"):
        assert scheduled.number in month(client, day="2027-01-14", view=view)


@pytest.mark.parametrize("view", ["month", "week", "list"])
def test_the_query_count_does_not_grow_with_the_releases(
    login, admin, requester, manager, shop, window, view, django_assert_max_num_queries
):
    windows.update_window(admin, window.pk, capacity=None)
    client = login(requester)
    path = f"/calendar/?view={view}&date=2027-01-14"

    def book(count: int) -> None:
        for n in range(count):
            made = another(requester, shop, manager, title=f"Release {n}")
            scheduling.schedule_release(manager, made, start=at(14, 19), window_id=window.pk)

    book(2)
    client.get(path)  # warm the caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(path).status_code == 200
    book(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = text(client.get(path))
    assert page.count('data-number="') >= 12
