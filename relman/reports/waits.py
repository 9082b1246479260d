"""Where releases wait: for the releases closed in a KPI question's period, the time each
spent in each stage (read from the audit log's moves) and how long each approver took to
decide after a step was opened for them. Three queries, whatever the number of releases."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Subquery

from relman.approvals.models import PendingStep
from relman.audit.models import AuditEvent
from relman.processes import services as processes
from relman.processes.definition import pick
from relman.releases.models import Approval
from relman.reports.filters import KpiQuery
from relman.reports.kpi import closed_in, percentile, scoped

# The audit events that move a release out of a stage (its `before` names the stage).
MOVES = ("release.advance", "release.return", "release.rollback", "release.close", "release.cancel")
TOP = 10


@dataclass(frozen=True)
class Wait:
    """One stage (or approver) and the hours spent there, over `count` visits."""

    key: str
    label: str
    count: int
    median: float
    p90: float
    total: float


def _wait(key: str, label: str, hours: list[float]) -> Wait:
    return Wait(
        key,
        label,
        len(hours),
        round(percentile(hours, 0.5), 1),
        round(percentile(hours, 0.9), 1),
        round(sum(hours), 1),
    )


def _hours(start: Any, end: Any) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


def stage_waits(user: Any, question: KpiQuery, language: str) -> list[Wait]:
    """The stages, slowest (by median) first: each visit lasts from the event that brought
    the release there (its creation, or the move before) to the move that took it on."""
    releases = closed_in(scoped(user, question), question.the_period)
    events = (
        AuditEvent.objects.filter(release__in=releases, action__in=("release.created", *MOVES))
        .order_by("release_id", "seq")
        .values_list("release_id", "release__process_id", "action", "created", "before")
    )
    spent: dict[tuple[int, str], list[float]] = defaultdict(list)
    previous: dict[int, Any] = {}
    for release_id, process_id, action, created, before in events.iterator(chunk_size=5000):
        entered = previous.get(release_id)
        stage = (before or {}).get("stage") if action != "release.created" else None
        if entered is not None and stage:
            spent[(process_id, stage)].append(_hours(entered, created))
        previous[release_id] = created
    labels: dict[tuple[int, str], str] = {}
    for process_id, stage in spent:
        process = processes.definition(process_id)
        label = next(
            (
                pick(s.label, language) or s.key
                for v in process.variants
                for s in v.stages
                if s.key == stage
            ),
            stage,
        )
        labels[(process_id, stage)] = f"{label} ({process.name})"
    waits = [_wait(key[1], labels[key], hours) for key, hours in spent.items()]
    return sorted(waits, key=lambda w: (-w.median, w.label))[:TOP]


def approver_waits(user: Any, question: KpiQuery) -> list[Wait]:
    """The approvers, slowest (by median) first: from the opening of the step they decided
    to their decision (a delegate's decision counts for the person they stood in for)."""
    releases = closed_in(scoped(user, question), question.the_period)
    opened = (
        PendingStep.objects.filter(
            release=OuterRef("release"),
            stage=OuterRef("stage"),
            step=OuterRef("step"),
            opened__lte=OuterRef("created"),
        )
        .order_by("-opened")
        .values("opened")[:1]
    )
    rows = (
        Approval.objects.filter(release__in=releases)
        .annotate(opened=Subquery(opened))
        .exclude(opened=None)
        .values_list(
            "approver__username",
            "on_behalf_of__username",
            "approver__display_name",
            "on_behalf_of__display_name",
            "opened",
            "created",
        )
    )
    spent: dict[str, list[float]] = defaultdict(list)
    names: dict[str, str] = {}
    for approver, principal, name, principal_name, began, decided in rows:
        who = principal or approver
        names[who] = (principal_name if principal else name) or who
        spent[who].append(_hours(began, decided))
    waits = [_wait(who, names[who], hours) for who, hours in spent.items()]
    return sorted(waits, key=lambda w: (-w.median, w.label))[:TOP]
