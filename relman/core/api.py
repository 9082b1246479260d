"""What every API router shares: the error schema and the 4xx responses to declare."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    """Every error: a code, a sentence, and per-field messages where fields were wrong."""

    code: str
    detail: str
    errors: dict[str, list[str]] | None = None
    unmet: list[str] | None = None


ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: ErrorOut, 422: ErrorOut}
