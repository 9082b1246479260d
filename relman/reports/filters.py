"""The one definition of a KPI question's input: its period and filters, read strictly by the
API, the dashboard and the command line alike; and the keyset page of the releases behind a
figure (ordered by number, like the CMDB's items by name)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from relman.core import cursors
from relman.core.validators import Date, Integer, blank_allowed, reject_nul
from relman.releases.choices import Kind, Method, ReleaseClass
from relman.reports import periods

_CURSOR_SALT = "relman.reports.cursor"

# The figures whose releases can be listed: each names the set of releases behind it
# (see kpi.FIGURES and docs/reports.md).
Figure = Literal[
    "closed",
    "succeeded",
    "failed",
    "rolled_back",
    "cancelled",
    "counted",
    "deployed",
    "change_failures",
    "emergency",
    "on_time",
    "on_time_checked",
    "lead_time",
    "kind_new_system",
    "kind_upgrade",
    "kind_patch",
    "kind_documents",
]


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


class KpiQuery(BaseModel):
    """A KPI question: the period (quarter, month, or from/to dates in the server's time
    zone; the current quarter when none) and optional filters. Empty values mean 'any'."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    period: str | None = Field(
        None, max_length=40, description="A quarter (2026Q3) or a month (2026-07)"
    )
    from_: Date | None = Field(
        None,
        alias="from",
        description="First day of a custom period",
        json_schema_extra=blank_allowed,
    )
    to: Date | None = Field(
        None,
        description="Last day of a custom period",
        json_schema_extra=blank_allowed,
        validate_default=True,
    )
    application: str | None = Field(None, max_length=40, description="Application code")
    team: str | None = Field(None, max_length=40, description="The requester's team (code)")
    kind: Kind | None = Field(None, json_schema_extra=blank_allowed)
    method: Method | None = Field(None, json_schema_extra=blank_allowed)
    release_class: ReleaseClass | None = Field(None, alias="class", json_schema_extra=blank_allowed)

    _blank = field_validator(
        "period",
        "from_",
        "to",
        "application",
        "team",
        "kind",
        "method",
        "release_class",
        mode="before",
    )(_blank_to_none)
    _no_nul = field_validator("period", "application", "team", mode="after")(reject_nul)

    @field_validator("period", mode="after")
    @classmethod
    def _a_period(cls, value: str | None) -> str | None:
        if value is not None:
            periods.parse(value)  # ValueError naming the expected forms
        return value

    @field_validator("to", mode="after")
    @classmethod
    def _a_range(cls, value: date | None, info: ValidationInfo) -> date | None:
        first = info.data.get("from_")
        if info.data.get("period") and (first or value):
            raise ValueError(_("give either a period or 'from' and 'to' dates, not both"))
        if first or value:
            periods.parse(None, first, value)
        return value

    @property
    def the_period(self) -> periods.Period:
        return periods.parse(self.period, self.from_, self.to)

    def filters(self) -> dict[str, str]:
        """The filters in use, by their query names."""
        values = {
            "application": self.application,
            "team": self.team,
            "kind": self.kind,
            "method": self.method,
            "class": self.release_class,
        }
        return {k: str(v) for k, v in values.items() if v is not None}

    def query(self, **overrides: Any) -> dict[str, str]:
        """The question as query parameters (for links to its figures' releases)."""
        data = {**self.the_period.query(), **self.filters(), **overrides}
        return {k: v for k, v in data.items() if v not in (None, "")}


class FigureQuery(KpiQuery):
    """The releases behind one figure of a KPI question, one keyset page at a time."""

    figure: Figure
    limit: Integer = Field(50, ge=1, le=500)
    cursor: str | None = Field(None, max_length=2048, description="From the previous page's `next`")

    _blank_cursor = field_validator("cursor", mode="before")(_blank_to_none)
    _no_nul_cursor = field_validator("cursor", mode="after")(reject_nul)

    def scope(self) -> str:
        return cursors.scope_of(self)

    def page(self, queryset: QuerySet) -> tuple[list, str | None]:
        """One page ordered by (number, id): rows after the cursor, and the next cursor."""
        queryset = queryset.order_by("number", "id")
        if self.cursor:
            number, last_id = cursors.decode(_CURSOR_SALT, self.cursor, self.scope())
            # The first, redundant bound lets the database scan the index as a range.
            queryset = queryset.filter(number__gte=number).filter(
                Q(number__gt=number) | Q(number=number, id__gt=last_id)
            )
        rows = list(queryset[: self.limit + 1])
        next_cursor = None
        if len(rows) > self.limit:
            rows = rows[: self.limit]
            next_cursor = cursors.encode(_CURSOR_SALT, rows[-1].number, rows[-1].pk, self.scope())
        return rows, next_cursor
