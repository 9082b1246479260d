"""The hash chain of the audit log: every edit, removal or reordering is found and named."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection

from relman.audit import services as audit
from relman.audit.models import AuditEvent, ChainHead
from relman.audit.services import GENESIS, Verification, verify_chain
from relman.releases import services as releases
from tests import factories

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def chain(app, fast_passwords) -> list[AuditEvent]:
    """A few events of every kind: processes loaded, users made, a release requested and
    commented on."""
    requester = factories.user("rita", "requester", app=app)
    release = factories.release(requester, app)
    releases.add_comment(requester, release, body="First remark, 第一条")
    releases.add_comment(requester, release, body="Second remark")
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) >= 8
    return events


def sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def middle(events: list[AuditEvent]) -> int:
    return events[len(events) // 2].seq


def test_each_event_holds_the_hash_of_the_one_before(chain):
    assert chain[0].prev_hash == GENESIS
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in chain}) == len(chain)
    head = ChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (chain[-1].seq, chain[-1].hash)


def test_an_untouched_chain_verifies(chain):
    assert verify_chain() == Verification(checked=len(chain), ok=True)


def test_an_empty_chain_verifies(db):
    assert verify_chain() == Verification(checked=0, ok=True)


def test_the_hash_covers_the_content(chain):
    event = chain[-1]
    assert audit.content_hash(audit.hashed_fields(event), event.prev_hash) == event.hash
    event.reason = "something else"
    assert audit.content_hash(audit.hashed_fields(event), event.prev_hash) != event.hash


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "approved by the board (not really)"),
        ("actor_name", "someone_else"),
        ("action", "release.deleted"),
        ("release_number", "REL-1999-0001"),
        ("after", '{"body": "a forged remark"}'),
    ],
)
def test_an_edited_event_is_named(chain, column, value):
    seq = middle(chain)
    sql(f"UPDATE {TABLE} SET {column} = %s WHERE seq = %s", [value, seq])
    result = verify_chain()
    assert not result.ok
    assert result.seq == seq
    assert f"#{seq}" in result.problem
    assert "edited" in result.problem
    assert result.checked == seq - 1


def test_an_event_rewritten_with_a_fresh_hash_breaks_the_next_link(chain):
    seq = middle(chain)
    event = AuditEvent.objects.get(seq=seq)
    event.reason = "rewritten"
    new_hash = audit.content_hash(audit.hashed_fields(event), event.prev_hash)
    sql(f"UPDATE {TABLE} SET reason = %s, hash = %s WHERE seq = %s", ["rewritten", new_hash, seq])
    result = verify_chain()
    assert (result.ok, result.seq) == (False, seq + 1)
    assert f"#{seq + 1}" in result.problem


def test_a_deleted_middle_event_is_named_as_a_gap(chain):
    seq = middle(chain)
    sql(f"DELETE FROM {TABLE} WHERE seq = %s", [seq])
    result = verify_chain()
    assert (result.ok, result.seq) == (False, seq)
    assert f"#{seq} is missing" in result.problem
    assert f"from #{seq - 1} to #{seq + 1}" in result.problem


def test_a_deleted_first_event_is_named(chain):
    sql(f"DELETE FROM {TABLE} WHERE seq = %s", [1])
    result = verify_chain()
    assert (result.ok, result.seq) == (False, 1)
    assert "#1 is missing" in result.problem


def test_a_deleted_last_event_is_named_by_the_head(chain):
    last = chain[-1].seq
    sql(f"DELETE FROM {TABLE} WHERE seq = %s", [last])
    result = verify_chain()
    assert not result.ok
    assert result.checked == last - 1
    assert f"ends at #{last - 1}" in result.problem
    assert f"head records #{last}" in result.problem


def test_swapped_events_are_found(chain):
    first, second = middle(chain), middle(chain) + 1
    parking = chain[-1].seq + 1000
    sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [parking, first])
    sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [first, second])
    sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [second, parking])
    result = verify_chain()
    assert (result.ok, result.seq) == (False, first)
    assert f"#{first}" in result.problem


def test_new_events_after_verification_extend_the_chain(chain):
    before = verify_chain().checked
    factories.user("newcomer")
    assert verify_chain() == Verification(checked=before + 1, ok=True)
    assert AuditEvent.objects.order_by("-seq").first().action == "user.created"
