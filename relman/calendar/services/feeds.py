"""The iCalendar feeds' services: personal feed secrets, and what each feed shows.

Calendar clients (Outlook, Thunderbird, Apple and Google Calendar) subscribe to a plain URL
and cannot send an Authorization header, so a personal feed's secret travels in its path.
Only its SHA-256 is stored. A user has one live feed URL: making a new one revokes the old.

The read-only half picks a feed's windows, freezes and scheduled releases for a reader, with
the same visibility rules as the release list (`releases.access`); `calendar.ics` turns them
into iCalendar and `calendar.feeds` serves them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.calendar import recurrence
from relman.calendar.choices import PlanStatus
from relman.calendar.models import (
    FeedToken,
    Freeze,
    PlannedOccurrence,
    ReleaseWindow,
    WindowPlan,
)
from relman.calendar.services import windows as windows_service
from relman.cmdb.models import Application
from relman.core import ids, permissions
from relman.core.errors import Conflict, NotFound, PermissionDenied
from relman.processes import services as processes
from relman.processes.definition import pick
from relman.releases import access
from relman.releases.choices import Status
from relman.releases.models import Release

# Feed secrets start with this, so a leaked one is recognisable (API tokens start with rmt_).
SECRET_PREFIX = "rmf_"
# Feeds show freezes and releases planned up to this many days ago.
FEED_PAST_DAYS = 90


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_self_or_admin(actor: Any, user: Any) -> None:
    """Users manage their own feed tokens; administrators anyone's; the server CLI (no actor)
    runs as the system."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    if getattr(actor, "pk", None) != getattr(user, "pk", None):
        raise PermissionDenied(_("You may manage only your own calendar feed."))


def feed_path(secret: str) -> str:
    """The path of the personal feed for a secret, e.g. /calendar/feeds/personal/rmf_....ics."""
    return reverse("calendar-feeds:personal", kwargs={"secret": secret})


def create_feed_token(actor: Any, user: Any) -> tuple[FeedToken, str]:
    """Make a personal feed secret for `user` (revoking their earlier ones) and return it with
    the token; the secret is shown only now."""
    _require_self_or_admin(actor, user)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        revoked = FeedToken.objects.filter(user=user, revoked__isnull=True).update(
            revoked=now, updated=now
        )
        token = FeedToken.objects.create(user=user, key_hash=_hash(secret))
        audit.record(
            actor,
            "feed_token.created",
            token,
            after={"user": user.username, "revoked_earlier": revoked},
        )
    return token, secret


def revoke_feed_token(actor: Any, token_id: int | str) -> FeedToken:
    """Revoke a personal feed secret: its URL answers 404 from now on."""
    key = str(token_id)
    with transaction.atomic():
        token = (
            FeedToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=ids.pk_or_none(key))
            .first()
        )
        if token is None or (
            actor is not None and token.user_id != actor.pk and not actor.is_superuser
        ):
            raise NotFound(_("Calendar feed token %s was not found.") % key)
        if token.revoked:
            raise Conflict(_("The calendar feed token was already revoked."))
        token.revoked = timezone.now()
        token.save(update_fields=["revoked", "updated"])
        audit.record(actor, "feed_token.revoked", token, after={"user": token.user.username})
    return token


def revoke_feed_tokens_of(actor: Any, user: Any) -> int:
    """Revoke every live feed secret of a user; how many there were."""
    _require_self_or_admin(actor, user)
    count = 0
    for token_id in FeedToken.objects.filter(user=user, revoked__isnull=True).values_list(
        "pk", flat=True
    ):
        revoke_feed_token(actor, token_id)
        count += 1
    return count


def user_for_feed(secret: str) -> Any | None:
    """The active user a feed secret belongs to; None if it is unknown or revoked."""
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = (
        FeedToken.objects.select_related("user")
        .filter(key_hash=_hash(secret), revoked__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    return token.user


# ---------------------------------------------------------------- what a feed shows (read-only)


@dataclass
class FeedContent:
    """What goes into one feed: windows (with their rules), freezes and scheduled releases."""

    name: str
    description: str
    windows: list[ReleaseWindow] = field(default_factory=list)
    rules: dict[int, recurrence.WindowRule] = field(default_factory=dict)
    # Openings withheld by a published yearly plan, by window id (they become EXDATEs).
    struck: dict[int, list[datetime]] = field(default_factory=dict)
    freezes: list[Freeze] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    # Each release's current stage, by release id, in the reader's language.
    stage_labels: dict[int, str] = field(default_factory=dict)


def horizon() -> datetime:
    """Feeds show freezes and releases from this long ago on (windows repeat anyway)."""
    return timezone.now() - timedelta(days=FEED_PAST_DAYS)


def _scheduled(queryset: QuerySet[Release]) -> QuerySet[Release]:
    """Scheduled releases planned since the horizon, loaded as the iCalendar builder reads them."""
    return (
        queryset.filter(schedule__isnull=False, planned_start__gte=horizon())
        .select_related("application", "environment", "schedule__window")
        .order_by("planned_start", "pk")
    )


def _with_releases(content: FeedContent, releases: QuerySet[Release]) -> FeedContent:
    """The scheduled ones of `releases`, with their stages' names in the active language."""
    content.releases = list(_scheduled(releases))
    language = get_language()
    for release in content.releases:
        variant = processes.definition(release.process_id).variant(release.variant)
        stage = variant.stage(release.stage) if variant is not None else None
        content.stage_labels[release.pk] = (
            pick(stage.label, language) if stage is not None else release.stage
        )
    return content


def _unplanned_openings(
    windows: list[ReleaseWindow], rules: dict[int, recurrence.WindowRule]
) -> dict[int, list[datetime]]:
    """Openings a window's rule has in a year with a published plan that the plan does not
    offer (struck out, or not in it), by window: feeds exclude them, as scheduling does."""
    published = dict(
        WindowPlan.objects.filter(status=PlanStatus.PUBLISHED).values_list("year", "pk")
    )
    if not published or not windows:
        return {}
    offered = set(
        PlannedOccurrence.objects.filter(
            plan_id__in=published.values(), window_id__in=[w.pk for w in windows], struck_reason=""
        ).values_list("window_id", "starts")
    )
    unplanned: dict[int, list[datetime]] = {}
    for window in windows:
        tz = recurrence.check_time_zone(window.time_zone)
        for year in published:
            start = datetime(year, 1, 1, tzinfo=tz)
            end = datetime(year + 1, 1, 1, tzinfo=tz)
            for opening in recurrence.occurrences(rules[window.pk], start, end):
                if opening.start >= start and (window.pk, opening.start) not in offered:
                    unplanned.setdefault(window.pk, []).append(opening.start)
    return unplanned


def _with_windows(content: FeedContent, windows: Iterable[ReleaseWindow]) -> FeedContent:
    content.windows = sorted(windows, key=lambda w: w.pk)
    content.rules = windows_service.rules_of(content.windows)
    content.struck = _unplanned_openings(content.windows, content.rules)
    return content


def _covers(window: ReleaseWindow, scope: tuple[int, int | None, str]) -> bool:
    """Whether the window applies to releases of an (application, environment, team): the
    rule of `windows.windows_for_release`."""
    application_id, environment_id, team = scope
    return (
        window.application_id in (None, application_id)
        and window.environment_id in (None, environment_id)
        and window.team in ("", team)
    )


def _freezes(*, applications: set[int] | None, environments: set[int] | None) -> QuerySet[Freeze]:
    """Freezes in force since the horizon covering any of the applications and environments
    (freezes for everything always; None: no narrowing)."""
    queryset = Freeze.objects.filter(ends__gte=horizon()).select_related(
        "application", "environment"
    )
    if applications is not None:
        queryset = queryset.filter(Q(application__isnull=True) | Q(application_id__in=applications))
    if environments is not None:
        queryset = queryset.filter(Q(environment__isnull=True) | Q(environment_id__in=environments))
    return queryset.order_by("starts", "pk")


def may_see_application(user: Any, application: Application) -> bool:
    """A user may read an application's feed when they may see its releases: a superuser,
    a holder of some role for every application, or of a role for that application."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(permissions.roles_of(user, application.pk))


def application_feed(user: Any, code: str) -> FeedContent:
    """The windows, freezes and scheduled releases of one application, as `user` sees them."""
    application = Application.objects.filter(code=code).first()
    if application is None or not may_see_application(user, application):
        raise NotFound(_("Application %s was not found.") % code)
    content = FeedContent(
        name=_("Releases of %s") % application.code,
        description=_("Release windows, freezes and scheduled releases of %s (relman).")
        % application,
    )
    _with_windows(content, windows_service.applicable_windows(application=application))
    content.freezes = list(_freezes(applications={application.pk}, environments=None))
    _with_releases(content, access.visible_releases(user).filter(application=application))
    return content


def team_exists(team: str) -> bool:
    """A team is a department: someone belongs to it, or a window is scoped to it."""
    return (
        get_user_model().objects.filter(department=team).exists()
        or ReleaseWindow.objects.filter(team=team).exists()
    )


def team_feed(user: Any, team: str) -> FeedContent:
    """The releases requested by a team (a department) that `user` may see, the windows that
    apply to the team, and the freezes over those releases' applications and environments."""
    team = (team or "").strip()
    if not team or not getattr(user, "is_authenticated", False) or not team_exists(team):
        raise NotFound(_("Team %s was not found.") % team)
    content = FeedContent(
        name=_("Releases of team %s") % team,
        description=_("Release windows, freezes and scheduled releases of team %s (relman).")
        % team,
    )
    _with_releases(content, access.visible_releases(user).filter(requester__department=team))
    _with_windows(content, windows_service.applicable_windows(team=team))
    content.freezes = list(
        _freezes(
            applications={r.application_id for r in content.releases},
            environments={r.environment_id for r in content.releases if r.environment_id},
        )
    )
    return content


def approvable_now(user: Any, releases: QuerySet[Release]) -> set[int]:
    """The ids of the releases with an approval step the user may decide now (their inbox)."""
    from relman.approvals.services.inbox import inbox  # approvals build on the calendar

    return {item.release.pk for item in inbox(user, releases)}


def personal_feed(user: Any) -> FeedContent:
    """A person's feed: the releases they requested, manage or may approve now (scheduled
    ones appear as events), and the windows and freezes that apply to those releases."""
    content = FeedContent(
        name=_("My releases (%s)") % user.username,
        description=_(
            "Releases %s requested, manages or may approve, with their windows and freezes "
            "(relman)."
        )
        % user.username,
    )
    visible = access.visible_releases(user)
    current = visible.filter(Q(status=Status.IN_PROGRESS) | Q(planned_start__gte=horizon()))
    mine = current.filter(
        Q(requester=user) | Q(release_manager=user) | Q(pk__in=approvable_now(user, current))
    ).select_related("application", "environment", "requester")
    concerned = list(mine)
    _with_releases(content, mine)
    windows = windows_service.applicable_windows()
    scopes = {(r.application_id, r.environment_id, r.requester.department or "") for r in concerned}
    _with_windows(content, [w for w in windows if any(_covers(w, s) for s in scopes)])
    content.freezes = (
        list(
            _freezes(
                applications={r.application_id for r in concerned},
                environments={r.environment_id for r in concerned if r.environment_id},
            )
        )
        if concerned
        else []
    )
    return content
