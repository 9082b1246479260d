"""A release manager's first release, driven through the real pages in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relman.processes import services as processes
from relman.releases.models import Release
from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "a-Long-pass-123"

# Two stages; the first one's gate is a single deliverable and a single checklist item.
QUICK_PROCESS = """
name: quick
label: {en: Quick release, zh-hans: 快速发布}
deliverables:
  release_plan: {en: Release plan, zh-hans: 发布方案}
checklist:
  plan_reviewed: {en: Plan reviewed, zh-hans: 方案已评审}
variants:
  - key: standard
    label: {en: Standard flow, zh-hans: 标准流程}
    stages:
      - key: plan
        label: {en: Planning, zh-hans: 规划}
        roles: [requester, release_manager]
        gates:
          deliverables: [release_plan]
          checklist: [plan_reviewed]
      - key: deploy
        label: {en: Deployment, zh-hans: 部署}
        roles: [requester, release_manager]
"""


def launch(playwright):
    """Debian's Chromium, never a downloaded browser."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(apt-get install chromium)."
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_request_upload_tick_advance_and_see_the_audit(live_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "quick.yaml"
    path.write_text(QUICK_PROCESS, encoding="utf-8")
    processes.load_processes(files=[path])
    app = factories.application("web", process="quick")
    factories.user("bruno", "requester", app=app, display_name="Bruno Browser")
    plan = tmp_path / "release-plan.txt"
    plan.write_text("Deploy the web shop at 20:00; back out by redeploying 1.4.\n")
    base = live_server.url

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{base}/releases/")
            expect(page).to_have_url(re.compile(r"/login/"))
            page.fill("#id_username", "bruno")
            page.fill("#id_password", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(f"{base}/releases/")
            expect(page.locator(".who")).to_have_text("Bruno Browser")

            page.locator("nav.nav").get_by_role("link", name="New release").click()
            page.select_option("#id_application", label="web · WEB")
            page.fill("#id_title", "Web shop 1.5")
            page.select_option("#id_kind", "upgrade")
            page.fill("#id_version_number", "1.5.0")
            page.get_by_role("button", name="Request release").click()
            expect(page.locator(".message-success")).to_contain_text("in stage 'Planning'")
            expect(page.locator("h1")).to_contain_text("Web shop 1.5")
            expect(page.locator(".stage-current")).to_contain_text("Planning")
            expect(page.locator("#gate")).to_contain_text(
                "Stage 'Planning' needs the deliverable 'Release plan'."
            )

            upload = page.locator("form.upload")
            upload.locator("select[name=key]").select_option("release_plan")
            upload.locator("input[name=file]").set_input_files(str(plan))
            upload.locator("input[name=note]").fill("First draft")
            upload.get_by_role("button", name="Upload").click()
            expect(page.locator(".message-success")).to_contain_text(
                "Version 1 of 'Release plan' is added."
            )
            expect(page.locator("#deliverables")).to_contain_text("release-plan.txt")

            page.locator("#gate").get_by_role("button", name="Done").click()
            expect(page.locator(".message-success")).to_contain_text("Checklist item done.")
            expect(page.locator("#gate .callout-ok")).to_be_visible()

            page.get_by_role("button", name="Advance to 'Deployment'").click()
            expect(page.locator(".message-success")).to_contain_text("is now in stage 'Deployment'")
            expect(page.locator(".stage-current")).to_contain_text("Deployment")
            expect(page.locator(".stage-done")).to_contain_text("Planning")
            history = page.locator("#history")
            expect(history).to_contain_text("Advanced")
            expect(history).to_contain_text("Deliverable added")
            expect(history).to_contain_text("Checklist item done")
            expect(history.locator("tbody tr").last).to_contain_text("bruno")
            number = page.locator("h1 .number").inner_text()

            # The list filters without a full reload (htmx) and keeps the URL shareable.
            page.goto(f"{base}/releases/")
            page.fill("input[name=q]", "no such release")
            expect(page.locator("#release-table")).to_contain_text("No releases match")
            expect(page).to_have_url(re.compile(r"q=no\+such\+release"))
            page.fill("input[name=q]", "Web shop")
            expect(page.locator("#release-table")).to_contain_text(number)
        finally:
            browser.close()

    release = Release.objects.get(number=number)
    assert release.stage == "deploy"
    assert release.audit_events.filter(action="release.advance", channel="web").exists()
