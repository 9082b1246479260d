"""Identifiers as they arrive in URLs, filters and payloads.

An id is ASCII digits only, and small enough for the database's 64-bit integer: Python's
`str.isdigit()` also accepts '¹' and Arabic-Indic digits, which `int()` then refuses or reads
as another number. Every route, filter and service that looks an object up by id or key asks
these functions.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from relman.core.validators import whole_number

MAX_ID = 2**63 - 1
_ASCII_ID = re.compile(r"[0-9]{1,19}")


def as_id(value: Any) -> int | None:
    """The id `value` stands for (an int, or ASCII digits), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    text = str(value)
    if not _ASCII_ID.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def lookup(value: Any, field: str) -> dict[str, Any]:
    """Filter arguments finding an object by id when `value` is one, else by `field`."""
    number = as_id(value)
    return {"pk": number} if number is not None else {field: str(value)}


def pk_or_none(value: Any) -> int:
    """The id for a `.filter(pk=...)` that must find nothing when `value` is not an id."""
    number = as_id(value)
    return number if number is not None else -1


# An id in a path, query or payload of the API: its OpenAPI schema states the bounds, so a
# larger number is refused with 400 naming the field, never a database overflow.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(whole_number)]
