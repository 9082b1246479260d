"""The release list: who sees what, filters, keyset pages, htmx, query count, Chinese."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.web.helpers import text

pytestmark = pytest.mark.django_db


def test_anonymous_is_redirected_to_log_in(login, release):
    response = login().get("/releases/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_user_without_roles_sees_no_releases(login, outsider, release):
    response = login(outsider).get("/releases/")
    assert response.status_code == 200
    assert release.number not in text(response)
    assert "No releases match these filters." in text(response)


def test_the_list_shows_a_release_row(login, requester, release):
    page = text(login(requester).get("/releases/"))
    assert f'href="/releases/{release.number}/"' in page
    assert "Checkout v2" in page
    assert "Release plan" in page  # stage label from the process
    assert "badge-blue" in page and "In progress" in page
    assert "Rita Requester" in page
    assert "Upgrade" in page and "Planned" in page and "Standard" in page


def test_filters_narrow_the_list(login, requester, shop):
    first = factories.release(requester, shop, title="Alpha", kind="patch")
    second = factories.release(requester, shop, title="Beta", kind="upgrade")
    client = login(requester)
    page = text(client.get("/releases/", {"kind": "patch"}))
    assert first.number in page and second.number not in page
    page = text(client.get("/releases/", {"q": "beta"}))
    assert second.number in page and first.number not in page
    page = text(client.get("/releases/", {"status": "closed"}))
    assert first.number not in page and second.number not in page
    page = text(client.get("/releases/", {"application": "shop", "stage": "plan"}))
    assert first.number in page and second.number in page


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"created_from": "yesterday"}, "Created from"),
        ({"status": "sleeping"}, "Status"),
        ({"limit": "0"}, "Rows per page"),
        ({"cursor": "not-a-cursor"}, "Page"),
    ],
)
def test_bad_filter_input_names_the_field_and_never_fails(login, requester, release, params, field):
    response = login(requester).get("/releases/", params)
    assert response.status_code == 200
    page = text(response)
    assert field in page
    assert "callout-error" in page
    assert release.number in page  # the bad filter is dropped, the rest still works


def test_keyset_pages_follow_the_next_cursor(login, requester, shop):
    made = [factories.release(requester, shop, title=f"R{i}") for i in range(3)]
    client = login(requester)
    response = client.get("/releases/", {"limit": 2})
    page = text(response)
    assert made[2].number in page and made[1].number in page and made[0].number not in page
    cursor = response.context["next_query"]
    assert "cursor=" in cursor and "Next page" in page
    page = text(client.get(f"/releases/?{cursor}"))
    assert made[0].number in page and made[2].number not in page
    assert "Next page" not in page and "First page" in page


def test_htmx_gets_only_the_table(login, requester, release):
    response = login(requester).get("/releases/", {"q": "Checkout"}, HTTP_HX_REQUEST="true")
    page = text(response)
    assert "<html" not in page
    assert page.startswith('<div id="release-table"')
    assert release.number in page
    assert "HX-Request" in response["Vary"]
    assert response["HX-Push-Url"] == "/releases/?q=Checkout"


def test_the_filter_form_works_with_and_without_javascript(login, requester, release):
    page = text(login(requester).get("/releases/"))
    assert '<form class="filters" method="get" action="/releases/"' in page
    assert 'hx-get="/releases/"' in page and 'hx-push-url="true"' in page
    assert 'hx-target="#release-table"' in page


def test_the_query_count_does_not_grow_with_rows(
    login, requester, shop, django_assert_max_num_queries
):
    factories.release(requester, shop, title="one")
    client = login(requester)
    client.get("/releases/")  # warm the process definition cache
    with CaptureQueriesContext(connection) as few:
        client.get("/releases/")
    for i in range(15):
        factories.release(requester, shop, title=f"more {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/releases/")
    assert len(response.context["rows"]) == 16


def test_the_chinese_list_renders(login, requester, release):
    response = login(requester, HTTP_ACCEPT_LANGUAGE="zh-hans").get("/releases/")
    assert response.status_code == 200
    page = text(response)
    assert '<html lang="zh-hans">' in page
    assert "发布计划" in page  # the stage label from the process, in Chinese
