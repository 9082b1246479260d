"""The API docs render from the server's own files, with every other address blocked, as on
an intranet or an air-gapped site."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.test_release_flow import launch


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_the_operations_offline(live_server):
    from playwright.sync_api import expect, sync_playwright

    own = urlsplit(live_server.url).netloc
    blocked: list[str] = []

    def only_the_server(route):
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.route("**/*", only_the_server)
        try:
            page.goto(f"{live_server.url}/api/v1/docs")
            expect(page.locator(".opblock").first).to_be_visible(timeout=15000)
            assert page.locator(".opblock").count() > 50
            expect(page.get_by_text("/api/v1/releases").first).to_be_visible()
            expect(page.locator(".errors-wrapper")).to_have_count(0)  # the document parsed
        finally:
            browser.close()
    assert blocked == []
