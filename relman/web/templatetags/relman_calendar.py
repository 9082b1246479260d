"""The release page's "Schedule" panel, rendered from `relman.web.calendar`."""

from __future__ import annotations

from typing import Any

from django import template

from relman.web.calendar import views as calendar

register = template.Library()


@register.inclusion_tag("web/calendar_schedule_panel.html", takes_context=True)
def schedule_panel(context: template.Context, release: Any) -> dict[str, Any]:
    """Where the release is scheduled, its conflicts, and the forms to (re)schedule it."""
    request = context["request"]
    return {
        **calendar.schedule_panel(request.user, release),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
