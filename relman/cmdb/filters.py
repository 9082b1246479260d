"""The one filter definition of the configuration item list: the API, the pages, the
command line and exports use it. Pages are keyset pages ordered by (name, id), with a
signed cursor bound to the filters it was made under."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from pydantic import BaseModel, ConfigDict, Field, field_validator

from relman.cmdb.models import ConfigurationItem
from relman.core import cursors
from relman.core.validators import Integer, blank_allowed, reject_nul

Status = ConfigurationItem.Status
_CURSOR_SALT = "relman.cmdb.cursor"


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


class ItemFilters(BaseModel):
    """Filters and page of the configuration item list. Empty values mean 'any'."""

    model_config = ConfigDict(extra="forbid")

    type: str | None = Field(None, max_length=40, description="Item type code")
    owner_team: str | None = Field(None, max_length=40, description="Owner team code")
    environment: str | None = Field(None, max_length=40, description="Environment code")
    status: Status | None = Field(None, json_schema_extra=blank_allowed)
    application: str | None = Field(None, max_length=40, description="Application code")
    q: str | None = Field(None, max_length=200, description="Text in the name")
    limit: Integer = Field(50, ge=1, le=500)
    cursor: str | None = Field(None, max_length=2048, description="From the previous page's `next`")

    _blank = field_validator(
        "type", "owner_team", "environment", "status", "application", "q", "cursor", mode="before"
    )(_blank_to_none)
    _no_nul = field_validator(
        "type", "owner_team", "environment", "application", "q", "cursor", mode="after"
    )(reject_nul)

    def apply(self, queryset: QuerySet) -> QuerySet:
        """The queryset filtered and ordered by (name, id), not yet paged."""
        exact = {
            "type__code": self.type,
            "owner_team__code": self.owner_team,
            "environment__code": self.environment,
            "status": self.status,
            "application__code": self.application,
        }
        queryset = queryset.filter(**{k: v for k, v in exact.items() if v is not None})
        if self.q and self.q.strip():
            queryset = queryset.filter(name__icontains=self.q.strip())
        return queryset.order_by("name", "id")

    def page(self, queryset: QuerySet) -> tuple[list, str | None]:
        """One page: rows after the cursor, and the cursor of the next page (or None)."""
        queryset = self.apply(queryset)
        if self.cursor:
            name, last_id = cursors.decode(_CURSOR_SALT, self.cursor, self.scope())
            # The first, redundant bound lets the database scan the index as a range.
            queryset = queryset.filter(name__gte=name).filter(
                Q(name__gt=name) | Q(name=name, id__gt=last_id)
            )
        rows = list(queryset[: self.limit + 1])
        next_cursor = None
        if len(rows) > self.limit:
            rows = rows[: self.limit]
            last = rows[-1]
            next_cursor = cursors.encode(_CURSOR_SALT, last.name, last.pk, self.scope())
        return rows, next_cursor

    def scope(self) -> str:
        return cursors.scope_of(self)
