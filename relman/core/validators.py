"""Checks of input text shared by the API schemas and filters."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema


def reject_nul(value: Any) -> Any:
    """Refuse text holding a NUL character: PostgreSQL cannot store or compare it, so it would
    fail as a server error instead of a message naming the field."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(_("must not contain NUL characters"))
    return value


# ---------------------------------------------------------------- typed input fields
# Pydantic's lax mode reads 0 or "0.5" as a Unix time, 3.0 and true as the integers 3 and 1.
# The API's documents promise ISO 8601 times and JSON integers, so its input schemas and
# filters use these types, which refuse the rest with a message naming the field.

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")
INT_BOUND = 2**63 - 1


def _iso_text(value: Any) -> Any:
    """Refuse numbers where a date or time is expected (pydantic would take a Unix time)."""
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and _NUMBER.fullmatch(value)
    ):
        raise ValueError(_("an ISO 8601 date or time is expected, not a number"))
    return value


# Dates a release can plausibly have; the margins leave room for date arithmetic (a window
# before, a duration after) that would overflow at the ends of Python's calendar.
YEARS = (1900, 9000)


def _plausible(value: date) -> date:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(
            _("a date between the years %(first)d and %(last)d is expected")
            % {"first": YEARS[0], "last": YEARS[1]}
        )
    return value


def _wall_time(value: time) -> time:
    """A time of day is read in its window's time zone: one with its own zone is refused
    (SQLite cannot store it, and PostgreSQL would shift it)."""
    if value.tzinfo is not None:
        raise ValueError(
            _("a time of day without a zone is expected (the window's time zone applies)")
        )
    return value


def whole_number(value: Any) -> Any:
    """Refuse booleans, fractions written as floats (3.0), non-ASCII digits, and numbers
    the database cannot hold (its integers have 64 bits)."""
    if isinstance(value, bool | float):
        raise ValueError(_("a whole number is expected"))
    if isinstance(value, str) and not re.fullmatch(r"[-+]?[0-9]{1,19}", value.strip()):
        raise ValueError(_("a whole number is expected"))
    if isinstance(value, int | str) and abs(int(value)) > INT_BOUND:
        raise ValueError(
            _("a number between -%(bound)d and %(bound)d is expected") % {"bound": INT_BOUND}
        )
    return value


DateTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_plausible)]
Date = Annotated[date, BeforeValidator(_iso_text), AfterValidator(_plausible)]
# A wall time ("19:00", "19:00:30"): JSON Schema's `format: time` would demand a zone.
TimeOfDay = Annotated[
    time,
    BeforeValidator(_iso_text),
    AfterValidator(_wall_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "examples": ["19:00"],
        }
    ),
]
Integer = Annotated[int, BeforeValidator(whole_number)]


def blank_allowed(schema: dict[str, Any]) -> None:
    """`json_schema_extra` of a filter that takes an empty value for "any" (HTML forms send
    empty fields): the OpenAPI document then says that "" is accepted too."""
    schema.setdefault("anyOf", [{k: schema.pop(k) for k in list(schema) if k != "title"}])
    schema["anyOf"].append({"type": "string", "enum": [""]})
