"""The home page: a release manager sees how things stand, an approver their inbox first,
everyone their own releases; the query count does not grow with the number of releases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relman.releases import services
from tests import factories
from tests.web.helpers import words

pytestmark = pytest.mark.django_db


def test_a_manager_sees_stages_waiting_steps_and_outcomes(login, manager, release, cab):
    page = words(login(manager).get("/"))
    assert "Open releases by stage" in page and "Release plan 1" in page
    assert "What waits for whom" in page and "CAB member 1" in page
    assert "This quarter's outcomes" in page
    assert "Checkout v2" in page  # they manage it


def test_an_approver_sees_the_inbox_first(login, cab, release):
    html = login(cab).get("/").content.decode()
    assert 'id="home-inbox"' in html and release.number in html.split('id="home-inbox"')[1]
    assert 'id="home-stages"' not in html  # not a manager


def test_someone_without_a_role_sees_only_their_own(login, outsider):
    page = words(login(outsider).get("/"))
    assert "You have no open release." in page and "What waits for whom" not in page


def test_a_cancelled_release_counts_in_the_quarter(login, manager, requester, release):
    services.cancel(manager, release.number, reason="Not needed.", revision=release.revision)
    html = login(manager).get("/").content.decode()
    bars = html.split('id="home-outcomes"')[1].split("</section>")[0]
    assert 'bar-cancelled" style="width: 100%"' in bars


def test_the_query_count_is_constant(login, manager, requester, shop, release):
    client = login(manager)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/").status_code == 200
    for n in range(6):
        factories.release(
            requester,
            shop,
            title=f"More {n}",
            release_manager=manager,
            planned_start=timezone.now() + timedelta(days=n + 1),
            planned_end=timezone.now() + timedelta(days=n + 1, hours=2),
        )
    with CaptureQueriesContext(connection) as seven:
        client.get("/")
    assert len(seven) == len(one), [q["sql"][:90] for q in seven.captured_queries]
