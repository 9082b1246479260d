"""The one filter definition of the outbox list, used by its page, the API and the CLI."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from django.db.models import QuerySet
from pydantic import BaseModel, ConfigDict, Field, field_validator

from relman.core.ids import Id
from relman.core.validators import Integer, blank_allowed, reject_nul
from relman.notifications.choices import UNSENT, ChannelKind, Event, MessageStatus

# `unsent` is pending, sending and failed together: what needs an administrator's eye.
StatusFilter = Literal["pending", "sending", "sent", "failed", "unsent"]


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


class OutboxFilters(BaseModel):
    """Filters and page of the outbox, newest first. Empty values mean 'any'."""

    model_config = ConfigDict(extra="forbid")

    status: StatusFilter | None = Field(None, json_schema_extra=blank_allowed)
    channel: ChannelKind | None = Field(None, json_schema_extra=blank_allowed)
    event: Event | None = Field(None, json_schema_extra=blank_allowed)
    release: str | None = Field(None, max_length=64, description="Release number")
    limit: Integer = Field(50, ge=1, le=500)
    before: Id | None = Field(
        None, description="From the previous page's `next`", json_schema_extra=blank_allowed
    )

    _blank = field_validator("status", "channel", "event", "release", "before", mode="before")(
        _blank_to_none
    )
    _no_nul = field_validator("release", mode="after")(reject_nul)

    def apply(self, queryset: QuerySet) -> QuerySet:
        """The queryset filtered, newest first (not yet paged)."""
        if self.status == "unsent":
            queryset = queryset.filter(status__in=sorted(UNSENT))
        elif self.status:
            queryset = queryset.filter(status=MessageStatus(self.status))
        if self.channel:
            queryset = queryset.filter(channel=self.channel)
        if self.event:
            queryset = queryset.filter(event=self.event)
        if self.release:
            queryset = queryset.filter(release__number=self.release.strip())
        return queryset.order_by("-pk")

    def page(self, queryset: QuerySet) -> tuple[list, int | None]:
        """One page: rows older than `before`, and the `before` of the next page."""
        queryset = self.apply(queryset)
        if self.before:
            queryset = queryset.filter(pk__lt=self.before)
        rows = list(queryset[: self.limit + 1])
        if len(rows) > self.limit:
            rows = rows[: self.limit]
            return rows, rows[-1].pk
        return rows, None

    def query_string(self, **overrides: Any) -> str:
        """These filters as a URL query string (for links to other pages)."""
        data = {**self.model_dump(mode="json", exclude_defaults=True), **overrides}
        return urlencode({k: v for k, v in data.items() if v not in (None, "")})
