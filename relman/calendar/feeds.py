"""iCalendar feeds that calendar clients subscribe to: plain `text/calendar` at stable URLs.

    /calendar/feeds/application/<code>.ics   an application's windows, freezes and releases
    /calendar/feeds/team/<team>.ics          a team's (department's) releases and windows
    /calendar/feeds/personal/<secret>.ics    the releases a person requested, manages or may
                                             approve now, with their windows and freezes

Who may read them:

* The personal feed is authorised by its secret alone (made by `relman calendar feed-token`
  or the user): calendar clients cannot send headers. An unknown or revoked secret is 404.
* Application and team feeds need a user, from the first of: the session cookie (a logged-in
  browser), `Authorization: Bearer rmt_...` (an API token), or `?token=<personal feed secret>`
  (for calendar clients, which can only subscribe to a URL; the feed secret is read-only and
  revocable, unlike an API token, which never goes in a URL). With none of them the answer is
  401; with an unknown or revoked `?token=` it is 404, like the personal feed. Releases in
  them are the ones that user may see; an application they hold no role for is 404.

Every feed answers with an ETag (a hash of the document) and Last-Modified (the latest change
recorded in the audit log, which every change writes), and honours If-None-Match and
If-Modified-Since with 304 Not Modified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from relman.accounts.services import user_for_token
from relman.audit.models import AuditEvent
from relman.calendar import ics
from relman.calendar.services import feeds as feed_service
from relman.core.errors import NotFound

CONTENT_TYPE = "text/calendar; charset=utf-8"


def _plain(status: int, message: str, **headers: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _not_found() -> HttpResponse:
    return _plain(404, _("No such calendar feed."))


def _last_change() -> datetime | None:
    """When anything last changed: every service records its change in the audit log."""
    return AuditEvent.objects.order_by("-seq").values_list("created", flat=True).first()


def _feed_user(request: HttpRequest) -> tuple[Any | None, HttpResponse | None]:
    """The user reading an application or team feed, or the refusal to send."""
    secret = request.GET.get("token")
    if secret is not None:
        user = feed_service.user_for_feed(secret)
        return (user, None) if user is not None else (None, _not_found())
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        user = user_for_token(header[7:].strip())
        if user is not None:
            return user, None
    elif request.user.is_authenticated:
        return request.user, None
    return None, _plain(
        401,
        _(
            "Log in, send an API token (Authorization: Bearer), or add ?token= with your "
            "personal calendar-feed secret (relman calendar feed-token)."
        ),
        WWW_Authenticate='Bearer realm="relman calendar"',
    )


def _respond(
    request: HttpRequest, user: Any, read: Callable[[], feed_service.FeedContent], filename: str
) -> HttpResponse:
    """Build the feed in the reader's language and answer it (or 304 when unchanged)."""
    language = (
        translation.get_language()
        if getattr(request.user, "pk", None) == user.pk
        else getattr(user, "language", None) or translation.get_language()
    )
    with translation.override(language):
        try:
            content = read()
        except NotFound:
            return _not_found()

        def release_url(release: Any) -> str:
            return request.build_absolute_uri(reverse("web:release-detail", args=[release.number]))

        body = ics.build_feed(content, release_url=release_url)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    last_modified = _last_change()
    timestamp = int(last_modified.timestamp()) if last_modified else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=timestamp)
    response = not_modified or HttpResponse(body, content_type=CONTENT_TYPE)
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(timestamp)
    # Personal data: browsers may keep it, shared proxies may not.
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Vary"] = "Cookie, Authorization"
    return response


@require_safe
def application_feed(request: HttpRequest, code: str) -> HttpResponse:
    """The feed of one application's windows, freezes and scheduled releases."""
    user, refusal = _feed_user(request)
    if refusal is not None:
        return refusal
    return _respond(request, user, lambda: feed_service.application_feed(user, code), f"{code}.ics")


@require_safe
def team_feed(request: HttpRequest, team: str) -> HttpResponse:
    """The feed of one team's (department's) scheduled releases and its windows."""
    user, refusal = _feed_user(request)
    if refusal is not None:
        return refusal
    return _respond(request, user, lambda: feed_service.team_feed(user, team), "team.ics")


@require_safe
def personal_feed(request: HttpRequest, secret: str) -> HttpResponse:
    """A person's feed, authorised by the secret in its URL; 404 when unknown or revoked."""
    user = feed_service.user_for_feed(secret)
    if user is None:
        return _not_found()
    return _respond(request, user, lambda: feed_service.personal_feed(user), "relman.ics")
