"""The one filter definition of the release list, used by the API, the page and exports."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time
from typing import Any, Literal

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from relman.core.errors import ValidationFailed
from relman.core.validators import Date, Integer, blank_allowed, reject_nul
from relman.releases.choices import Kind, Method, Outcome, ReleaseClass, Status

ORDERINGS = {
    "-created": ("-created", "-id"),
    "created": ("created", "id"),
    "-number": ("-number", "-id"),
    "number": ("number", "id"),
    "-updated": ("-updated", "-id"),
    "title": ("title", "id"),
}
# The columns the list may be ordered by: a page of plain rows must carry them for its cursor.
SORT_COLUMNS = tuple(sorted({fields[0].lstrip("-") for fields in ORDERINGS.values()}))
# Ordering columns whose cursor value is a time.
DATETIME_COLUMNS = {"created", "updated"}
Ordering = Literal["-created", "created", "-number", "number", "-updated", "title"]


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


class ReleaseFilters(BaseModel):
    """Filters, ordering and page of the release list. Empty values mean 'any'."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = Field(None, json_schema_extra=blank_allowed)
    stage: str | None = Field(None, max_length=64)
    kind: Kind | None = Field(None, json_schema_extra=blank_allowed)
    method: Method | None = Field(None, json_schema_extra=blank_allowed)
    release_class: ReleaseClass | None = Field(None, json_schema_extra=blank_allowed)
    outcome: Outcome | None = Field(None, json_schema_extra=blank_allowed)
    application: str | None = Field(None, max_length=40, description="Application code")
    q: str | None = Field(None, max_length=200, description="Text in number, title or version")
    created_from: Date | None = Field(None, json_schema_extra=blank_allowed)
    created_to: Date | None = Field(None, json_schema_extra=blank_allowed)
    planned_from: Date | None = Field(None, json_schema_extra=blank_allowed)
    planned_to: Date | None = Field(None, json_schema_extra=blank_allowed)
    ordering: Ordering = "-created"
    limit: Integer = Field(50, ge=1, le=500)
    cursor: str | None = Field(None, max_length=2048, description="From the previous page's `next`")

    _blank = field_validator(
        "status",
        "stage",
        "kind",
        "method",
        "release_class",
        "outcome",
        "application",
        "q",
        "created_from",
        "created_to",
        "planned_from",
        "planned_to",
        "cursor",
        mode="before",
    )(_blank_to_none)
    _no_nul = field_validator("stage", "application", "q", "cursor", mode="after")(reject_nul)

    def apply(self, queryset: QuerySet) -> QuerySet:
        """The queryset filtered and ordered (not yet paged)."""
        exact = {
            "status": self.status,
            "stage": self.stage,
            "kind": self.kind,
            "method": self.method,
            "release_class": self.release_class,
            "outcome": self.outcome,
            "application__code": self.application,
        }
        queryset = queryset.filter(**{k: v for k, v in exact.items() if v is not None})
        if self.q:
            text = self.q.strip()
            queryset = queryset.filter(
                Q(number__icontains=text)
                | Q(title__icontains=text)
                | Q(version_number__icontains=text)
            )
        tz = timezone.get_current_timezone()
        if self.created_from:
            queryset = queryset.filter(
                created__gte=datetime.combine(self.created_from, time.min, tz)
            )
        if self.created_to:
            queryset = queryset.filter(created__lte=datetime.combine(self.created_to, time.max, tz))
        if self.planned_from:
            queryset = queryset.filter(
                planned_start__gte=datetime.combine(self.planned_from, time.min, tz)
            )
        if self.planned_to:
            queryset = queryset.filter(
                planned_start__lte=datetime.combine(self.planned_to, time.max, tz)
            )
        return queryset.order_by(*ORDERINGS[self.ordering])

    def page(self, queryset: QuerySet) -> tuple[list, str | None]:
        """One page by keyset: rows after the cursor, and the cursor of the next page."""
        queryset = self.apply(queryset)
        field_name, _tie = ORDERINGS[self.ordering]
        column = field_name.lstrip("-")
        descending = field_name.startswith("-")
        if self.cursor:
            try:
                value, last_id = decode_cursor(self.cursor, self.scope())
                if column in DATETIME_COLUMNS:
                    value = datetime.fromisoformat(value)
                    if value.tzinfo is None:
                        raise ValueError("naive time in cursor")
            except CursorScopeError as exc:
                raise ValidationFailed(
                    _(
                        "This cursor belongs to another ordering or other filters; start from "
                        "the first page."
                    ),
                    field="cursor",
                ) from exc
            except ValueError as exc:
                raise ValidationFailed(
                    _("This cursor is not valid; start from the first page."), field="cursor"
                ) from exc
            op = "lt" if descending else "gt"
            # The first, redundant bound lets the database scan the index as a range.
            queryset = queryset.filter(**{f"{column}__{op}e": value}).filter(
                Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": last_id})
            )
        rows = list(queryset[: self.limit + 1])
        next_cursor = None
        if len(rows) > self.limit:
            rows = rows[: self.limit]
            last = rows[-1] if isinstance(rows[-1], dict) else vars(rows[-1])
            next_cursor = encode_cursor(last[column], last["id"], self.scope())
        return rows, next_cursor

    def scope(self) -> str:
        """What a cursor is bound to: the ordering and every filter (not the page size)."""
        bound = self.model_dump(mode="json", exclude={"cursor", "limit"})
        return hashlib.sha256(json.dumps(bound, sort_keys=True).encode()).hexdigest()[:16]

    def query_string(self, **overrides: Any) -> str:
        """These filters as a URL query string (for links to other pages)."""
        from urllib.parse import urlencode

        data = {**self.model_dump(mode="json", exclude_none=True), **overrides}
        data = {
            k: v for k, v in data.items() if v not in (None, "") and not (k == "limit" and v == 50)
        }
        if data.get("ordering") == "-created":
            data.pop("ordering")
        return urlencode(data)


_CURSOR_SALT = "relman.releases.cursor"


def encode_cursor(value: Any, last_id: int, scope: str = "") -> str:
    """A signed cursor holding the last row's (value, id) and the scope it was made under."""
    raw = [value.isoformat() if isinstance(value, datetime) else value, last_id, scope]
    return signing.Signer(salt=_CURSOR_SALT).sign_object(raw, compress=True)


def decode_cursor(cursor: str, scope: str = "") -> tuple[Any, int]:
    """The (value, id) a cursor holds; ValueError when it is not one of ours, and
    CursorScopeError when it was made under another ordering or other filters."""
    try:
        value, last_id, made_under = signing.Signer(salt=_CURSOR_SALT).unsign_object(cursor)
        # Every ordering column is text or a time (as ISO text); anything else is forged.
        if not isinstance(last_id, int) or not isinstance(value, str):
            raise ValueError
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise ValueError("bad cursor") from exc
    if made_under != scope:
        raise CursorScopeError("cursor of another list")
    return value, last_id


class CursorScopeError(ValueError):
    """A genuine cursor, made for another ordering or other filters."""
