"""Release KPIs and the four DORA keys for a period, over the releases a user may see.

A release counts in a period when it was *closed* in it: its status is closed and its end
(`actual_end`: the deployment's end when someone recorded it, else the moment it was
closed, cancelled or rolled back, which the lifecycle stamps) falls in [start, end).

Every figure is worked out in the database with conditional aggregates, so a KPI question
costs the same few queries whatever the number of releases: one for the counts, one for
the durations (the percentiles are computed from that one list), one for the times to
restore, plus the caller's permissions and any team filter. `releases_behind` gives the
releases behind each figure, so every number is one click from its releases.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relman.accounts.models import Team, TeamMembership
from relman.cmdb.models import Application
from relman.core.errors import ValidationFailed
from relman.releases.access import visible_releases
from relman.releases.choices import Kind, Method, Outcome, Status
from relman.releases.models import Release
from relman.reports import periods
from relman.reports.filters import KpiQuery

HOUR = 3600.0
DEPLOYED = (Outcome.SUCCEEDED, Outcome.FAILED, Outcome.ROLLED_BACK)
FAILURES = (Outcome.FAILED, Outcome.ROLLED_BACK)

# seed 003 (TFDL-ITSS-1507): "release success rate = successful releases / all releases × 100 %"
SUCCESS_RATE_FORMULA = gettext_lazy(
    "Release success rate = successful releases / all releases × 100 % (seed 003)"
)


def count_cancelled() -> bool:
    """Whether cancelled releases count among "all releases" of the success rate
    (RELMAN_KPI_COUNT_CANCELLED; off by default: a cancelled release was never deployed)."""
    return bool(getattr(settings, "RELMAN_KPI_COUNT_CANCELLED", False))


def counted_outcomes() -> tuple[str, ...]:
    """The outcomes in the success rate's denominator."""
    return (*DEPLOYED, Outcome.CANCELLED) if count_cancelled() else DEPLOYED


def denominator_text() -> str:
    if count_cancelled():
        return _(
            "All releases = the releases closed in the period: succeeded, failed, rolled back "
            "and cancelled (RELMAN_KPI_COUNT_CANCELLED is on)."
        )
    return _(
        "All releases = the releases closed in the period as succeeded, failed or rolled "
        "back; cancelled releases, never deployed, are left out (RELMAN_KPI_COUNT_CANCELLED)."
    )


# ---------------------------------------------------------------- the DORA bands

# Thresholds after the DORA State of DevOps report 2023: (band, limit) from the best band
# down; a value within a band's limit earns it, the rest is "low".
DEPLOYMENT_FREQUENCY_BANDS = (
    ("elite", 7.0),
    ("high", 1.0),
    ("medium", 12 / 52),
)  # per week, at least
LEAD_TIME_BANDS = (("elite", 24.0), ("high", 7 * 24.0), ("medium", 30 * 24.0))  # hours, below
CHANGE_FAILURE_BANDS = (("elite", 5.0), ("high", 10.0), ("medium", 15.0))  # percent, at most
RESTORE_BANDS = (("elite", 1.0), ("high", 24.0), ("medium", 7 * 24.0))  # hours, below
BAND_LABELS = {
    "elite": gettext_lazy("Elite"),
    "high": gettext_lazy("High"),
    "medium": gettext_lazy("Medium"),
    "low": gettext_lazy("Low"),
}


def band_at_least(value: float | None, bands: Iterable[tuple[str, float]]) -> str | None:
    if value is None:
        return None
    return next((name for name, limit in bands if value >= limit), "low")


def band_below(
    value: float | None, bands: Iterable[tuple[str, float]], *, inclusive=False
) -> str | None:
    if value is None:
        return None
    return next(
        (name for name, limit in bands if value < limit or (inclusive and value == limit)), "low"
    )


# ---------------------------------------------------------------- what each figure counts


def figures() -> dict[str, Q]:
    """Each listable figure as the condition its releases meet, among the releases closed
    in the period (the same conditions the counts use)."""
    on_time_checked = Q(
        actual_start__isnull=False, planned_start__isnull=False, planned_end__isnull=False
    ) & ~Q(outcome=Outcome.CANCELLED)
    return {
        "closed": Q(),
        "succeeded": Q(outcome=Outcome.SUCCEEDED),
        "failed": Q(outcome=Outcome.FAILED),
        "rolled_back": Q(outcome=Outcome.ROLLED_BACK),
        "cancelled": Q(outcome=Outcome.CANCELLED),
        "counted": Q(outcome__in=counted_outcomes()),
        "deployed": Q(outcome__in=DEPLOYED),
        "change_failures": Q(outcome__in=FAILURES),
        "emergency": Q(method=Method.EMERGENCY),
        "on_time_checked": on_time_checked,
        "on_time": on_time_checked
        & Q(actual_start__gte=F("planned_start"), actual_start__lte=F("planned_end")),
        "lead_time": ~Q(outcome=Outcome.CANCELLED),
        **{f"kind_{kind}": Q(kind=kind) for kind in Kind.values},
    }


def scoped(user: Any, question: KpiQuery) -> QuerySet[Release]:
    """The releases the user may see that match the question's filters (any period).
    An unknown application or team is refused naming its field."""
    queryset = visible_releases(user)
    if question.application:
        if not Application.objects.filter(code=question.application).exists():
            raise ValidationFailed(
                _("There is no application '%s'.") % question.application, field="application"
            )
        queryset = queryset.filter(application__code=question.application)
    if question.team:
        team = Team.objects.filter(code=question.team).first()
        if team is None:
            raise ValidationFailed(_("There is no team '%s'.") % question.team, field="team")
        # The requester's team: a member of it or of one of its sub-departments. A subquery,
        # so a requester in two of them is not counted twice.
        members = TeamMembership.objects.filter(Q(team=team) | Q(team__parent=team)).values("user")
        queryset = queryset.filter(requester__in=members)
    exact = {
        "kind": question.kind,
        "method": question.method,
        "release_class": question.release_class,
    }
    return queryset.filter(**{k: v for k, v in exact.items() if v is not None})


def closed_in(queryset: QuerySet[Release], period: periods.Period) -> QuerySet[Release]:
    return queryset.filter(
        status=Status.CLOSED, actual_end__gte=period.start, actual_end__lt=period.end
    )


def releases_behind(user: Any, question: KpiQuery, figure: str) -> QuerySet[Release]:
    """The releases behind one figure of a KPI question (an unknown figure names `figure`)."""
    conditions = figures()
    if figure not in conditions:
        raise ValidationFailed(_("There is no figure '%s'.") % figure, field="figure")
    return closed_in(scoped(user, question), question.the_period).filter(conditions[figure])


# ---------------------------------------------------------------- the answer


@dataclass
class Rate:
    """A share in percent (None when nothing was counted), with what it divides."""

    numerator: int
    denominator: int
    figure: str  # the releases behind the numerator
    of: str  # the releases behind the denominator

    @property
    def value(self) -> float | None:
        if not self.denominator:
            return None
        return round(100 * self.numerator / self.denominator, 1)


@dataclass
class Durations:
    """Hours from one moment to another over some releases: mean, median and 90th percentile."""

    hours: list[float]
    figure: str

    @property
    def count(self) -> int:
        return len(self.hours)

    @property
    def mean(self) -> float | None:
        return round(statistics.fmean(self.hours), 1) if self.hours else None

    @property
    def median(self) -> float | None:
        return round(statistics.median(self.hours), 1) if self.hours else None

    @property
    def p90(self) -> float | None:
        return round(percentile(self.hours, 0.9), 1) if self.hours else None


def percentile(values: list[float], q: float) -> float:
    """The q-quantile, interpolated linearly between the closest ranks (numpy's default)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


# Buckets of the lead-time distribution, as (key, upper bound in hours); the last is open.
LEAD_TIME_BUCKETS = (
    ("1d", 24.0),
    ("3d", 72.0),
    ("1w", 168.0),
    ("2w", 336.0),
    ("4w", 672.0),
    ("more", None),
)
BUCKET_LABELS = {
    "1d": gettext_lazy("under a day"),
    "3d": gettext_lazy("1–3 days"),
    "1w": gettext_lazy("3–7 days"),
    "2w": gettext_lazy("1–2 weeks"),
    "4w": gettext_lazy("2–4 weeks"),
    "more": gettext_lazy("over 4 weeks"),
}


def distribution(hours: list[float]) -> list[tuple[str, int]]:
    counts = {key: 0 for key, _limit in LEAD_TIME_BUCKETS}
    for value in hours:
        key = next(k for k, limit in LEAD_TIME_BUCKETS if limit is None or value < limit)
        counts[key] += 1
    return list(counts.items())


@dataclass
class Kpis:
    """The answer to a KPI question."""

    period: periods.Period
    question: KpiQuery
    outcomes: dict[str, int]
    by_kind: dict[str, int]
    success_rate: Rate
    emergency_share: Rate
    rollback_rate: Rate
    on_time_rate: Rate
    lead_time: Durations
    weeks: float
    change_failure_rate: Rate
    lead_time_for_changes: Durations
    time_to_restore: Durations
    unrestored: int

    @property
    def closed(self) -> int:
        return sum(self.outcomes.values())

    @property
    def deployment_frequency(self) -> float | None:
        if self.weeks <= 0:
            return None
        return round(self.outcomes[Outcome.SUCCEEDED] / self.weeks, 2)

    def bands(self) -> dict[str, str | None]:
        return {
            "deployment_frequency": band_at_least(
                self.deployment_frequency, DEPLOYMENT_FREQUENCY_BANDS
            ),
            "lead_time_for_changes": band_below(self.lead_time_for_changes.median, LEAD_TIME_BANDS),
            "change_failure_rate": band_below(
                self.change_failure_rate.value, CHANGE_FAILURE_BANDS, inclusive=True
            ),
            "time_to_restore": band_below(self.time_to_restore.median, RESTORE_BANDS),
        }


def _hours(start: Any, end: Any) -> float:
    return (end - start).total_seconds() / HOUR


def kpis(user: Any, question: KpiQuery) -> Kpis:
    """The KPIs and DORA keys of a question, over the releases `user` may see."""
    period = question.the_period
    releases = closed_in(scoped(user, question), period)
    conditions = figures()
    counts = releases.aggregate(
        **{name: Count("id", filter=condition) for name, condition in conditions.items()}
    )
    # Lead time request -> close of every release closed (but not cancelled) in the period;
    # lead time for changes: the same for the succeeded ones.
    durations = list(
        releases.filter(conditions["lead_time"]).values_list("created", "actual_end", "outcome")
    )
    lead = [_hours(created, ended) for created, ended, _o in durations]
    for_changes = [
        _hours(created, ended) for created, ended, o in durations if o == Outcome.SUCCEEDED
    ]
    # Time to restore: from a failure's end to the end of the next succeeded release of the
    # same application (any kind or method: the fix is often an emergency patch).
    next_success = (
        visible_releases(user)
        .filter(
            application_id=OuterRef("application_id"),
            status=Status.CLOSED,
            outcome=Outcome.SUCCEEDED,
            actual_end__gt=OuterRef("actual_end"),
        )
        .order_by("actual_end")
        .values("actual_end")[:1]
    )
    failures = list(
        releases.filter(outcome__in=FAILURES)
        .annotate(restored=Subquery(next_success))
        .values_list("actual_end", "restored")
    )
    restore = [_hours(ended, restored) for ended, restored in failures if restored is not None]
    elapsed_end = min(period.end, max(timezone.now(), period.start))
    deployed = counts["deployed"]
    return Kpis(
        period=period,
        question=question,
        outcomes={o: counts[o] for o in Outcome.values},
        by_kind={k: counts[f"kind_{k}"] for k in Kind.values},
        success_rate=Rate(counts["succeeded"], counts["counted"], "succeeded", "counted"),
        emergency_share=Rate(counts["emergency"], counts["closed"], "emergency", "closed"),
        rollback_rate=Rate(counts["rolled_back"], deployed, "rolled_back", "deployed"),
        on_time_rate=Rate(
            counts["on_time"], counts["on_time_checked"], "on_time", "on_time_checked"
        ),
        lead_time=Durations(lead, "lead_time"),
        weeks=round((elapsed_end - period.start).total_seconds() / (7 * 86400), 2),
        change_failure_rate=Rate(
            counts["change_failures"], deployed, "change_failures", "deployed"
        ),
        lead_time_for_changes=Durations(for_changes, "succeeded"),
        time_to_restore=Durations(restore, "change_failures"),
        unrestored=len(failures) - len(restore),
    )


def success_by_quarter(user: Any, question: KpiQuery, count: int = 8) -> list[dict[str, Any]]:
    """The success rate of the `count` quarters up to the question's, oldest first: one query
    (two conditional counts per quarter), the question's filters applied."""
    quarters = periods.previous_quarters(question.the_period, count)
    releases = scoped(user, question).filter(
        status=Status.CLOSED,
        actual_end__gte=quarters[0].start,
        actual_end__lt=quarters[-1].end,
    )
    counted = counted_outcomes()
    aggregates = {}
    for i, quarter in enumerate(quarters):
        within = Q(actual_end__gte=quarter.start, actual_end__lt=quarter.end)
        aggregates[f"s{i}"] = Count("id", filter=within & Q(outcome=Outcome.SUCCEEDED))
        aggregates[f"c{i}"] = Count("id", filter=within & Q(outcome__in=counted))
    counts = releases.aggregate(**aggregates)
    return [
        {
            "period": quarter,
            "rate": Rate(counts[f"s{i}"], counts[f"c{i}"], "succeeded", "counted"),
        }
        for i, quarter in enumerate(quarters)
    ]
