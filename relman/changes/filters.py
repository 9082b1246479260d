"""The one filter definition of the change list: the API, the pages and the command line
use it. Pages are keyset pages, newest first (by id), with a signed cursor bound to the
filters it was made under."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from relman.changes.choices import Approval, ChangeType, ExternalSystem, Risk, Status
from relman.core.errors import ValidationFailed
from relman.core.validators import Integer, blank_allowed, reject_nul

_CURSOR_SALT = "relman.changes.cursor"


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


class ChangeFilters(BaseModel):
    """Filters and page of the change list. Empty values mean 'any'."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = Field(None, json_schema_extra=blank_allowed)
    type: ChangeType | None = Field(None, json_schema_extra=blank_allowed)
    approval: Approval | None = Field(None, json_schema_extra=blank_allowed)
    risk: Risk | None = Field(None, json_schema_extra=blank_allowed)
    application: str | None = Field(None, max_length=40, description="Application code")
    requester: str | None = Field(None, max_length=150, description="Requester's user name")
    external_system: ExternalSystem | None = Field(None, json_schema_extra=blank_allowed)
    release: str | None = Field(None, max_length=64, description="Carried by this release")
    q: str | None = Field(None, max_length=200, description="Text in the number or title")
    limit: Integer = Field(50, ge=1, le=500)
    cursor: str | None = Field(None, max_length=2048, description="From the previous page's `next`")

    _blank = field_validator(
        "status",
        "type",
        "approval",
        "risk",
        "application",
        "requester",
        "external_system",
        "release",
        "q",
        "cursor",
        mode="before",
    )(_blank_to_none)
    _no_nul = field_validator("application", "requester", "release", "q", "cursor", mode="after")(
        reject_nul
    )

    def apply(self, queryset: QuerySet) -> QuerySet:
        """The queryset filtered and ordered newest first, not yet paged."""
        exact = {
            "status": self.status,
            "type": self.type,
            "approval": self.approval,
            "risk": self.risk,
            "application__code": self.application,
            "requester__username": self.requester,
            "external_system": self.external_system,
            "release_links__release__number": self.release,
        }
        queryset = queryset.filter(**{k: v for k, v in exact.items() if v is not None})
        if self.q and self.q.strip():
            text = self.q.strip()
            queryset = queryset.filter(Q(number__icontains=text) | Q(title__icontains=text))
        return queryset.order_by("-id")

    def page(self, queryset: QuerySet) -> tuple[list, str | None]:
        """One page: rows after the cursor, and the cursor of the next page (or None)."""
        queryset = self.apply(queryset)
        if self.cursor:
            queryset = queryset.filter(id__lt=decode_cursor(self.cursor, self.scope()))
        rows = list(queryset[: self.limit + 1])
        next_cursor = None
        if len(rows) > self.limit:
            rows = rows[: self.limit]
            next_cursor = encode_cursor(rows[-1].pk, self.scope())
        return rows, next_cursor

    def scope(self) -> str:
        """What a cursor is bound to: every filter (not the page size)."""
        bound = self.model_dump(mode="json", exclude={"cursor", "limit"})
        return hashlib.sha256(json.dumps(bound, sort_keys=True).encode()).hexdigest()[:16]

    def query_string(self, **changes: Any) -> str:
        """The filters as a query string (empty ones left out), for the page's links."""
        values = {**self.model_dump(mode="json", exclude={"limit"}), **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def encode_cursor(last_id: int, scope: str = "") -> str:
    """A signed cursor holding the last row's id and the filters it was made under."""
    return signing.Signer(salt=_CURSOR_SALT).sign_object([last_id, scope])


def decode_cursor(cursor: str, scope: str = "") -> int:
    """The id a cursor holds; ValidationFailed naming `cursor` when it is not ours or
    belongs to other filters."""
    try:
        last_id, made_under = signing.Signer(salt=_CURSOR_SALT).unsign_object(cursor)
        if not isinstance(last_id, int) or isinstance(last_id, bool):
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
    return last_id
