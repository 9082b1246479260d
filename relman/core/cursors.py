"""Keyset page cursors for the lists built on pydantic filters (the CMDB's items, changes,
the releases behind a KPI figure): signed, holding the last row's ordering value and id,
and bound to the filters they were made under, so that a forged cursor, or one from
another list or other filters, is refused naming the field `cursor`."""

from __future__ import annotations

import hashlib
import json

from django.core import signing
from django.utils.translation import gettext as _
from pydantic import BaseModel

from relman.core.errors import ValidationFailed


def scope_of(filters: BaseModel) -> str:
    """What a cursor is bound to: every filter (not the cursor or the page size)."""
    bound = filters.model_dump(mode="json", exclude={"cursor", "limit"})
    return hashlib.sha256(json.dumps(bound, sort_keys=True).encode()).hexdigest()[:16]


def encode(salt: str, value: str, last_id: int, scope: str = "") -> str:
    """A signed cursor holding the last row's (value, id) and the scope it was made under."""
    return signing.Signer(salt=salt).sign_object([value, last_id, scope], compress=True)


def decode(salt: str, cursor: str, scope: str = "") -> tuple[str, int]:
    """The (value, id) a cursor holds; ValidationFailed naming `cursor` when it is not one of
    this list's, or belongs to other filters."""
    try:
        value, last_id, made_under = signing.Signer(salt=salt).unsign_object(cursor)
        if not isinstance(last_id, int) or isinstance(last_id, bool) or not isinstance(value, str):
            raise ValueError
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise ValidationFailed(
            _("This cursor is not valid; start from the first page."), field="cursor"
        ) from exc
    if made_under != scope:
        raise ValidationFailed(
            _("This cursor belongs to other filters; start from the first page."),
            field="cursor",
        )
    return value, last_id
