"""The home page: how things stand, for the person who opens it.

A release manager (or owner, administrator) sees the releases by stage and status, what
waits for whom, this week's and next week's windows and freezes, and the quarter's
outcomes; an approver sees their inbox first; everyone sees their own releases. A constant
number of queries, whatever the number of releases.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Min, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from relman.accounts.choices import BuiltinRole
from relman.accounts.models import Role
from relman.approvals.models import PendingStep
from relman.approvals.services.inbox import inbox
from relman.calendar.services.freezes import freezes_between
from relman.calendar.services.windows import occurrences_between
from relman.core import permissions
from relman.processes.definition import pick
from relman.processes.messages import step_label
from relman.releases import access
from relman.releases.choices import Outcome, Status
from relman.web.views import stage_label

MANAGING = {
    BuiltinRole.RELEASE_MANAGER,
    BuiltinRole.RELEASE_OWNER,
    BuiltinRole.RELEASE_ADMINISTRATOR,
}


def quarter_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    month = 3 * ((local.month - 1) // 3) + 1
    return local.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def week_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def by_stage(visible: Any, language: str | None) -> list[dict[str, Any]]:
    """Open releases per stage (labelled from each process), most first: one query."""
    rows = (
        visible.filter(status=Status.IN_PROGRESS)
        .values("process_id", "variant", "stage")
        .annotate(n=Count("id"))
    )
    merged: dict[str, int] = {}
    for row in rows:
        label = stage_label(row["process_id"], row["variant"], row["stage"], language)
        merged[label] = merged.get(label, 0) + row["n"]
    return [{"label": k, "n": v} for k, v in sorted(merged.items(), key=lambda kv: -kv[1])]


def waiting(visible: Any) -> list[dict[str, Any]]:
    """Open approval steps of the current stages, per role, with the oldest: two queries."""
    rows = (
        PendingStep.objects.filter(
            closed__isnull=True,
            release__status=Status.IN_PROGRESS,
            release__in=visible,
            stage=F("release__stage"),
        )
        .values("role")
        .annotate(n=Count("id"), oldest=Min("opened"), escalated=Count("escalated"))
        .order_by("-n", "role")
    )
    rows = list(rows)
    names = {r.code: str(r) for r in Role.objects.filter(code__in=[row["role"] for row in rows])}
    return [{**row, "label": names.get(row["role"], row["role"])} for row in rows]


def outcomes(visible: Any, since: datetime) -> list[dict[str, Any]]:
    """Releases closed since `since` by outcome, with each one's share: one query."""
    counts = dict(
        visible.filter(status=Status.CLOSED, actual_end__gte=since)
        .values_list("outcome")
        .annotate(n=Count("id"))
    )
    total = sum(counts.values())
    return [
        {
            "key": key,
            "label": label,
            "n": counts.get(key, 0),
            "share": round(100 * counts.get(key, 0) / total) if total else 0,
        }
        for key, label in Outcome.choices
    ]


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    language = get_language()
    visible = access.visible_releases(user)
    roles = {role for role, _app in permissions.assignments(user)}
    managing = user.is_superuser or bool(roles & MANAGING)
    mine = (
        visible.filter(Q(requester=user) | Q(release_manager=user), status=Status.IN_PROGRESS)
        .select_related("application")
        .order_by("planned_start", "-id")[:10]
    )
    mine = list(mine)
    for release in mine:
        release.stage_label = stage_label(
            release.process_id, release.variant, release.stage, language
        )
    waiting_for_me = inbox(user)[:8]
    for item in waiting_for_me:
        item.stage_text = pick(item.stage.label, language)
        item.step_text = step_label(item.process, item.step)
    context: dict[str, Any] = {
        "managing": managing,
        "inbox": waiting_for_me,
        "mine": mine,
    }
    if managing:
        start = week_start(now)
        context.update(
            counts=dict(visible.values_list("status").annotate(n=Count("id"))),
            stages=by_stage(visible, language),
            waiting=waiting(visible),
            windows=occurrences_between(start, start + timedelta(days=14))[:20],
            freezes=list(freezes_between(start, start + timedelta(days=14))[:10]),
            outcomes=outcomes(visible, quarter_start(now)),
            quarter=quarter_start(now),
            week=start,
        )
    return render(request, "web/home.html", context)
