"""A release manager reschedules a release on the calendar, in headless Chromium: by picking
another occurrence in the release's small form, then by dragging it onto a window."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from relman.calendar.services import scheduling, windows
from relman.processes import services as processes
from relman.releases.models import Release
from tests import factories
from tests.browser.test_release_flow import PASSWORD, QUICK_PROCESS, launch

SHANGHAI = ZoneInfo("Asia/Shanghai")


def cell(page, day: str):
    return page.locator(f'td.cal-day[data-date="{day}"]')


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_see_a_scheduled_release_and_move_it(live_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "quick.yaml"
    path.write_text(QUICK_PROCESS, encoding="utf-8")
    processes.load_processes(files=[path])
    app = factories.application("web", process="quick")
    manager = factories.user("mia", "release_manager", app=app, display_name="Mia Manager")
    window = windows.create_window(
        factories.admin("cal-admin"),
        name="Thursday window",
        rrule="FREQ=MONTHLY;BYDAY=2TH,4TH",
        first_date=date(2027, 1, 1),
        start_time="19:00",
        duration_minutes=240,
        application=app,
        capacity=2,
    )
    release = factories.release(manager, app, title="Web shop 1.6", release_manager=manager)
    scheduling.schedule_release(
        manager, release, start=datetime(2027, 1, 14, 19, tzinfo=SHANGHAI), window_id=window.pk
    )
    number = release.number
    base = live_server.url

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{base}/login/?next=/calendar/%3Fdate%3D2027-01-10")
            page.fill("#id_username", "mia")
            page.fill("#id_password", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(re.compile(r"/calendar/\?date=2027-01-10$"))
            expect(page.locator("h1")).to_contain_text("January 2027")

            # the release is on the 14th, in the window, which has one of two places booked
            chip = cell(page, "2027-01-14").locator(f'.cal-release[data-number="{number}"]')
            expect(chip).to_contain_text("19:00")
            expect(chip).to_contain_text("Web shop 1.6")
            expect(cell(page, "2027-01-14").locator(".cal-room")).to_have_text("1/2")
            expect(cell(page, "2027-01-28").locator(".cal-room")).to_have_text("0/2")

            # pick the occurrence on the 28th in the release's own form
            chip.locator("summary").click()
            form = chip.locator("form.cal-move-form")
            expect(form).to_be_visible()
            later = form.locator("option", has_text="2027-01-28").get_attribute("value")
            form.locator("select[name=occurrence]").select_option(later)
            form.get_by_role("button", name="Move").click()

            expect(page.locator(".message-success")).to_contain_text(
                f"Release {number} is moved to Thu 2027-01-28 19:00–23:00."
            )
            expect(page).to_have_url(re.compile(r"/calendar/\?date=2027-01-10$"))
            moved = cell(page, "2027-01-28").locator(f'.cal-release[data-number="{number}"]')
            expect(moved).to_be_visible()
            expect(cell(page, "2027-01-14").locator(".cal-release")).to_have_count(0)
            expect(cell(page, "2027-01-28").locator(".cal-room")).to_have_text("1/2")

            # dragging it back onto the window of the 14th posts the same form
            moved.drag_to(cell(page, "2027-01-14").locator(".cal-window"))
            expect(page.locator(".message-success")).to_contain_text(
                f"Release {number} is moved to Thu 2027-01-14 19:00–23:00."
            )
            expect(
                cell(page, "2027-01-14").locator(f'.cal-release[data-number="{number}"]')
            ).to_be_visible()
        finally:
            browser.close()

    release = Release.objects.get(number=number)
    assert release.planned_start == datetime(2027, 1, 14, 19, tzinfo=SHANGHAI)
    moves = release.audit_events.filter(action="release.rescheduled", channel="web")
    assert moves.count() == 2
