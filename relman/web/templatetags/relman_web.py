"""Small template helpers of the pages: status badges, checksums, audit rows."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from relman.core.choices import Channel
from relman.releases.choices import OUTCOME_COLOURS, Outcome, Status
from relman.web.history import AUDIT_ACTIONS

register = template.Library()


@register.simple_tag
def status_badge(release: Any) -> str:
    """The release's status, or its outcome once closed, as a coloured badge."""
    if release.status == Status.CLOSED and release.outcome:
        colour = OUTCOME_COLOURS.get(release.outcome, "grey")
        label = Outcome(release.outcome).label
    else:
        colour, label = "blue", Status(release.status).label
    return format_html('<span class="badge badge-{}">{}</span>', colour, label)


@register.filter
def short_sha(value: str) -> str:
    """The first 12 characters of a checksum."""
    return (value or "")[:12]


@register.filter
def audit_label(action: str) -> str:
    """An audit action code in words."""
    return str(AUDIT_ACTIONS.get(action, action))


@register.filter
def channel_label(channel: str) -> str:
    """An audit channel in words."""
    try:
        return str(Channel(channel).label)
    except ValueError:
        return channel
