"""Two people putting one change into two open releases at once, on PostgreSQL where the
writers really overlap: exactly one wins, the other gets a conflict naming the release."""

from __future__ import annotations

import pytest
from django.db import connection

from relman.changes import services
from relman.changes.models import ReleaseChange
from relman.core.errors import Conflict
from tests import factories
from tests.releases.test_concurrency import at_once

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


def test_a_change_added_to_two_open_releases_at_once_lands_in_one(presets):
    shop = factories.application("shop", process="mof")
    crew = [factories.crew(shop, "carl"), factories.crew(shop, "cora")]
    requester = factories.user("rosa", "requester", app=shop)
    targets = [factories.release(requester, shop, title=f"R{i}") for i in range(2)]
    change = factories.approved_change(shop, "Contested")

    def add(index: int):
        release = targets[index]
        return services.change_release_changes(
            crew[index], release.number, "add", [change.number], revision=release.revision
        )

    results = at_once(2, add)
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], Conflict) and won[0].number in lost[0].message
    assert list(ReleaseChange.objects.values_list("release__number", flat=True)) == [won[0].number]
