"""Checks of input text shared by the API schemas and filters."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def reject_nul(value: Any) -> Any:
    """Refuse text holding a NUL character: PostgreSQL cannot store or compare it, so it would
    fail as a server error instead of a message naming the field."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(_("must not contain NUL characters"))
    return value
