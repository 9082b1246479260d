"""Audit events as CSV and JSON, for a release's history and for auditors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from relman.audit.models import AuditEvent

COLUMNS = [
    "seq",
    "created",
    "actor_name",
    "channel",
    "action",
    "object_type",
    "object_id",
    "release_number",
    "before",
    "after",
    "reason",
    "request_id",
    "prev_hash",
    "hash",
]


def as_dict(event: AuditEvent) -> dict[str, Any]:
    return {column: getattr(event, column) for column in COLUMNS}


def to_json(events: Iterable[AuditEvent]) -> str:
    return json.dumps(
        [as_dict(e) for e in events], cls=DjangoJSONEncoder, ensure_ascii=False, indent=1
    )


def to_csv(events: Iterable[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for event in events:
        row = as_dict(event)
        for key in ("before", "after"):
            row[key] = (
                json.dumps(row[key], cls=DjangoJSONEncoder, ensure_ascii=False)
                if row[key] is not None
                else ""
            )
        row["created"] = event.created.isoformat()
        writer.writerow([row[c] for c in COLUMNS])
    return out.getvalue()
