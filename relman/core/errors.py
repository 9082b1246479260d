"""Domain errors raised by services. The API and the pages turn them into clear messages."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Something a user asked for cannot be done; `message` says why, in their language."""

    status = 400
    code = "invalid"

    def __init__(self, message: Any, *, field: str | None = None, errors: dict | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.errors = errors or ({field: [str(message)]} if field else {})

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "detail": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


class ValidationFailed(DomainError):
    """The input is wrong; `errors` maps each field to its problems."""

    status = 400
    code = "invalid"


def raise_if_invalid(errors: dict[str, list[str]]) -> None:
    """Raise ValidationFailed with every field's problems, its sentence naming the first."""
    if errors:
        field, messages = next(iter(errors.items()))
        raise ValidationFailed(f"{field}: {messages[0]}", errors=errors)


class PermissionDenied(DomainError):
    """The acting user may not do this."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """The object does not exist, or the user may not see it."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """Someone else changed the object first; reload and try again."""

    status = 409
    code = "conflict"


class GateNotMet(DomainError):
    """A stage's exit gate is not met; `unmet` lists what is missing."""

    status = 422
    code = "gate_not_met"

    def __init__(self, message: Any, *, unmet: list[str]):
        super().__init__(message)
        self.unmet = unmet

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "unmet": self.unmet}
