"""Two people acting at once (DESIGN.md rule 6), on PostgreSQL where writers really overlap.

Each thread has its own database connection, so these tests commit for real
(`transaction=True`); tests/conftest.py puts back the rows the migrations made.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from relman.accounts.services import create_token
from relman.audit.models import AuditEvent
from relman.audit.services import verify_chain
from relman.releases import services
from relman.releases.models import Release
from tests import factories

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (set DATABASE_URL=postgres://...): SQLite takes the write "
        "lock up front, so writers queue and never race",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_passwords"),
]


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released together; return each result or exception."""
    barrier = threading.Barrier(count, timeout=30)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # the test fails on it, with the error in its message
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def test_of_two_identical_advances_at_once_exactly_one_wins(app):
    requester = factories.user("rita", "requester", app=app)
    people = [factories.crew(app, "carl"), factories.crew(app, "cora")]
    headers = [
        {"HTTP_AUTHORIZATION": f"Bearer {create_token(None, p, name='race')[1]}"} for p in people
    ]
    release = factories.release(requester, app)
    for _round in range(3):
        factories.meet_gate(people[0], release)
        release.refresh_from_db()
        stage, revision = release.stage, release.revision

        def advance(index: int, number: str = release.number, revision: int = revision) -> Any:
            response = Client(**headers[index]).post(
                f"/api/v1/releases/{number}/actions/advance",
                {"revision": revision},
                content_type="application/json",
            )
            return response.status_code, response.json()

        results = at_once(2, advance)
        assert sorted(status for status, _body in results) == [200, 409], results
        loser = next(body for status, body in results if status == 409)
        assert loser["code"] == "conflict"
        assert "changed by someone else" in loser["detail"]
        assert "Reload it and try again" in loser["detail"]
        release.refresh_from_db()
        assert release.revision == revision + 1
        assert (
            AuditEvent.objects.filter(
                release=release, action="release.advance", before__stage=stage
            ).count()
            == 1
        )
    assert verify_chain().ok


def test_twenty_releases_requested_at_once_get_twenty_gapless_numbers(app):
    requester = factories.user("rita", "requester", app=app)

    def request(index: int) -> str:
        from django.contrib.auth import get_user_model

        actor = get_user_model().objects.get(pk=requester.pk)
        return services.create_release(
            actor, application="crm", title=f"Release {index}", kind="patch"
        ).number

    numbers = at_once(20, request)
    assert not [n for n in numbers if isinstance(n, Exception)], numbers
    year = timezone.localdate().year
    assert sorted(numbers) == [f"REL-{year}-{seq:04}" for seq in range(1, 21)]
    assert Release.objects.count() == 20
    assert AuditEvent.objects.filter(action="release.created").count() == 20
    assert verify_chain().ok
