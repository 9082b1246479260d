"""Writing and verifying the audit log. Every service records its action through `record`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit.models import AuditEvent, ChainHead
from relman.core import context

GENESIS = "0" * 64


class _Encoder(DjangoJSONEncoder):
    """Times in UTC, whatever zone the caller used, so equal instants read the same."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime) and o.tzinfo is not None:
            o = o.astimezone(UTC)
        return super().default(o)


def _plain(value: Any) -> Any:
    """Turn dates, decimals and lazy strings into plain JSON values, as they will be stored."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=_Encoder))


def content_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """The SHA-256 of an event's content and the hash of the event before it."""
    body = json.dumps({**fields, "prev_hash": prev_hash}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    """The fields of an event that its hash covers."""
    return {
        "seq": event.seq,
        "created": event.created.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "channel": event.channel,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": str(event.object_id),
        "release_id": event.release_id,
        "release_number": event.release_number,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "request_id": event.request_id,
    }


def record(
    actor: Any,
    action: str,
    obj: Any,
    *,
    release: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append an event to the chain. Must run inside the transaction that made the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    head, _created = ChainHead.objects.select_for_update().get_or_create(pk=1)
    ctx = context.current()
    event = AuditEvent(
        seq=head.seq + 1,
        created=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "system",
        channel=ctx.channel,
        action=action,
        object_type=obj._meta.label_lower if hasattr(obj, "_meta") else str(type(obj).__name__),
        object_id=str(getattr(obj, "pk", obj)),
        release=release,
        release_number=getattr(release, "number", "") or "",
        before=_plain(before),
        after=_plain(after),
        reason=reason or "",
        request_id=ctx.request_id,
        prev_hash=head.hash,
    )
    event.hash = content_hash(hashed_fields(event), head.hash)
    event.save()
    head.seq, head.hash = event.seq, event.hash
    head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain: how many events, and the first broken one."""

    checked: int
    ok: bool
    problem: str = ""
    seq: int | None = None


def verify_chain() -> Verification:
    """Walk the whole chain in order and name the first event edited, removed or reordered."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return Verification(
                checked,
                False,
                _("Event #%(expected)d is missing: the chain jumps from #%(prev)d to #%(seq)d.")
                % {"expected": expected_seq, "prev": expected_seq - 1, "seq": event.seq},
                expected_seq,
            )
        if event.prev_hash != prev_hash:
            return Verification(
                checked,
                False,
                _("Event #%(seq)d does not follow #%(prev)d: removed or reordered events.")
                % {"seq": event.seq, "prev": event.seq - 1},
                event.seq,
            )
        if content_hash(hashed_fields(event), event.prev_hash) != event.hash:
            return Verification(
                checked,
                False,
                _("Event #%(seq)d (%(action)s) was edited: its content no longer matches its hash.")
                % {"seq": event.seq, "action": event.action},
                event.seq,
            )
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = ChainHead.objects.filter(pk=1).first()
    if head and (head.seq, head.hash) != (expected_seq - 1, prev_hash):
        return Verification(
            checked,
            False,
            _("The chain ends at #%(last)d but its head records #%(head)d: events were removed.")
            % {"last": expected_seq - 1, "head": head.seq},
            expected_seq,
        )
    return Verification(checked, True)
