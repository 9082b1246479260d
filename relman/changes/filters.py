"""The one filter definition of the change list: the API, the pages and the command line
use it. Pages are keyset pages, newest first (by id), with a signed cursor bound to the
filters it was made under."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from pydantic import BaseModel, ConfigDict, Field, field_validator

from relman.changes.choices import Approval, ChangeType, ExternalSystem, Risk, Status
from relman.core import cursors
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
            _number, last_id = cursors.decode(_CURSOR_SALT, self.cursor, self.scope())
            queryset = queryset.filter(id__lt=last_id)
        rows = list(queryset[: self.limit + 1])
        next_cursor = None
        if len(rows) > self.limit:
            rows = rows[: self.limit]
            next_cursor = cursors.encode(_CURSOR_SALT, rows[-1].number, rows[-1].pk, self.scope())
        return rows, next_cursor

    def scope(self) -> str:
        return cursors.scope_of(self)

    def query_string(self, **changes: Any) -> str:
        """The filters as a query string (empty ones left out), for the page's links."""
        values = {**self.model_dump(mode="json", exclude={"limit"}), **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})
