"""Request middleware: tags every request with an id and its channel for the audit log, and
shows times in the signed-in user's time zone."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from relman.core.choices import Channel
from relman.core.context import acting_through

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Run each request inside an action context; echo its id in `X-Request-ID`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        channel = Channel.API if request.path.startswith("/api/") else Channel.WEB
        if request.headers.get("X-Relman-Client") == "cli":
            channel = Channel.CLI
        request.request_id = request_id
        with acting_through(channel, request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class UserTimeZoneMiddleware:
    """Pages render times in the signed-in user's time zone (their profile's, else the
    organisation's). API answers carry their offset and need none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.time_zone:
            timezone.activate(ZoneInfo(user.time_zone))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
