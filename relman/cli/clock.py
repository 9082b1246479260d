"""Times as the `relman` command prints them: in the user's time zone from the server (saved
at `relman login` from their profile), never the client machine's, with the zone named;
`relman --utc ...` (or RELMAN_UTC=1) prints UTC."""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relman.cli.client import config_path, read_config


def zone() -> tzinfo:
    """The zone to print in: UTC when asked, else the saved login's, else UTC."""
    return _zone(str(config_path()), os.environ.get("RELMAN_UTC", ""))


@cache
def _zone(_path: str, utc: str) -> tzinfo:
    """Read once per login file and choice (a table prints many times)."""
    if utc not in ("", "0"):
        return UTC
    name = read_config().get("time_zone") or ""
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def when(value: str | None, *, seconds: bool = False) -> str:
    """An API date-time (ISO 8601) in the user's zone, to the minute, with the zone's name."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone())
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return f"{local:{shape}} {local.tzname()}"
