"""An approver works through their inbox in headless Chromium: approve, then reject."""

from __future__ import annotations

import re

import pytest

from relman.approvals.services import decisions
from relman.releases import services as releases
from relman.releases.models import Approval
from tests import factories
from tests.browser.test_release_flow import PASSWORD, launch


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_department_head_approves_and_the_owner_rejects_from_the_inbox(live_server):
    from playwright.sync_api import expect, sync_playwright

    factories.processes()
    app = factories.application("crm", process="tfdl")
    requester = factories.user("rita", "requester", app=app, department="Sales")
    crew = factories.crew(app)
    head = factories.user(
        "hana", "department_approver", app=app, display_name="Hana Head", department="Sales"
    )
    finance = factories.user("fred", "department_approver", app=app, department="Finance")
    factories.user("olive", "release_owner", app=app, display_name="Olive Owner")
    release = factories.release(requester, app)
    ledger = factories.ci("ledger-db", "database", owner_team="finance")
    releases.change_items(requester, release, "add", [ledger.pk])
    release = factories.walk_to(crew, release, "plan_review")
    # The plan review's chain: a head of each involved department (Finance, which owns the
    # database the release touches, and the requester's Sales: Hana), then the owner.
    decisions.approve(finance, release, step="department_approver")
    base = live_server.url

    def log_in(page, username: str) -> None:
        page.goto(f"{base}/approvals/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{base}/approvals/")

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            log_in(page, "hana")
            expect(page.locator("main")).to_contain_text("Department approver")
            page.get_by_role("form", name=f"Approve {release.number}").get_by_role(
                "button", name="Approve"
            ).click()
            expect(page.locator(".message-success")).to_contain_text(release.number)
            expect(page.get_by_role("form", name=f"Approve {release.number}")).to_have_count(0)

            page = browser.new_page(viewport={"width": 1280, "height": 900})
            log_in(page, "olive")
            expect(page.locator("main")).to_contain_text("Release owner")
            reject = page.get_by_role("form", name=f"Reject {release.number}")
            # Chromium itself refuses a rejection without a reason (the field is required).
            comment = reject.locator("textarea[name=comment]")
            assert comment.evaluate("e => e.validity.valueMissing") is True
            reject.get_by_role("button", name="Reject").click()
            expect(page).to_have_url(f"{base}/approvals/")
            expect(page.locator(".message-success")).to_have_count(0)  # nothing was sent
            comment.fill("The backout plan misses the DB.")
            reject.get_by_role("button", name="Reject").click()
            expect(page.locator(".message-success")).to_contain_text(
                f"Your rejection of {release.number} is recorded"
            )
            page.goto(f"{base}/releases/{release.number}/")
            expect(page.locator(".stage-current")).not_to_contain_text("Release plan review")
            expect(page.locator("#history")).to_contain_text("Rejected")
            expect(page).to_have_url(re.compile(release.number))
        finally:
            browser.close()

    release.refresh_from_db()
    assert release.stage != "plan_review"
    decided = Approval.objects.filter(release=release, approver=head).get()
    assert decided.decision == "approved" and decided.voided is not None  # voided by the return
    rejected = Approval.objects.get(release=release, decision="rejected")
    assert rejected.comment == "The backout plan misses the DB."
