"""API schemas of the reports: a KPI question's answer and the releases behind a figure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from relman.reports.kpi import (
    BUCKET_LABELS,
    SUCCESS_RATE_FORMULA,
    Durations,
    Kpis,
    Rate,
    count_cancelled,
    denominator_text,
    distribution,
)


class PeriodOut(Schema):
    key: str = Field(..., examples=["2026Q3"])
    start: datetime
    end: datetime = Field(..., description="Exclusive")


class RateOut(Schema):
    value: float | None = Field(..., description="Percent, one decimal; null when nothing counted")
    numerator: int
    denominator: int
    figure: str = Field(..., description="The figure listing the releases of the numerator")
    of: str = Field(..., description="The figure listing the releases of the denominator")


class BucketOut(Schema):
    bucket: str
    label: str
    count: int


class DurationsOut(Schema):
    count: int
    mean_hours: float | None
    median_hours: float | None
    p90_hours: float | None
    figure: str


class LeadTimeOut(DurationsOut):
    distribution: list[BucketOut]


class FrequencyOut(Schema):
    value: float | None = Field(..., description="Succeeded deployments per week")
    succeeded: int
    weeks: float = Field(..., description="Weeks of the period elapsed so far")
    band: str | None
    figure: str = "succeeded"


class BandedDurationsOut(DurationsOut):
    band: str | None


class RestoreOut(BandedDurationsOut):
    unrestored: int = Field(..., description="Failures not yet followed by a success")


class BandedRateOut(RateOut):
    band: str | None


class DoraOut(Schema):
    deployment_frequency: FrequencyOut
    lead_time_for_changes: BandedDurationsOut
    change_failure_rate: BandedRateOut
    time_to_restore: RestoreOut


class SuccessRateOut(RateOut):
    formula: str
    counts: str = Field(..., description="What counts in the denominator")


class KpiOut(Schema):
    period: PeriodOut
    filters: dict[str, str]
    count_cancelled: bool
    closed: int
    outcomes: dict[str, int]
    by_kind: dict[str, int]
    success_rate: SuccessRateOut
    emergency_share: RateOut
    rollback_rate: RateOut
    on_time_rate: RateOut
    lead_time: LeadTimeOut
    dora: DoraOut


class FigureRow(Schema):
    number: str
    title: str
    application: str
    kind: str
    method: str
    release_class: str
    outcome: str
    requester: str
    created: datetime
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None

    @staticmethod
    def resolve_application(obj: Any) -> str:
        return obj.application.code

    @staticmethod
    def resolve_requester(obj: Any) -> str:
        return obj.requester.username


class FigurePage(Schema):
    items: list[FigureRow]
    next: str | None = Field(None, description="Cursor of the next page; null on the last")


def _rate(rate: Rate, **extra: Any) -> dict[str, Any]:
    return {
        "value": rate.value,
        "numerator": rate.numerator,
        "denominator": rate.denominator,
        "figure": rate.figure,
        "of": rate.of,
        **extra,
    }


def _durations(durations: Durations, **extra: Any) -> dict[str, Any]:
    return {
        "count": durations.count,
        "mean_hours": durations.mean,
        "median_hours": durations.median,
        "p90_hours": durations.p90,
        "figure": durations.figure,
        **extra,
    }


def kpi_payload(result: Kpis) -> dict[str, Any]:
    """The answer as the API gives it (and `relman report kpi --json` prints)."""
    bands = result.bands()
    return {
        "period": {
            "key": result.period.key,
            "start": result.period.start,
            "end": result.period.end,
        },
        "filters": result.question.filters(),
        "count_cancelled": count_cancelled(),
        "closed": result.closed,
        "outcomes": result.outcomes,
        "by_kind": result.by_kind,
        "success_rate": _rate(
            result.success_rate, formula=str(SUCCESS_RATE_FORMULA), counts=denominator_text()
        ),
        "emergency_share": _rate(result.emergency_share),
        "rollback_rate": _rate(result.rollback_rate),
        "on_time_rate": _rate(result.on_time_rate),
        "lead_time": _durations(
            result.lead_time,
            distribution=[
                {"bucket": key, "label": str(BUCKET_LABELS[key]), "count": n}
                for key, n in distribution(result.lead_time.hours)
            ],
        ),
        "dora": {
            "deployment_frequency": {
                "value": result.deployment_frequency,
                "succeeded": result.outcomes["succeeded"],
                "weeks": result.weeks,
                "band": bands["deployment_frequency"],
            },
            "lead_time_for_changes": _durations(
                result.lead_time_for_changes, band=bands["lead_time_for_changes"]
            ),
            "change_failure_rate": _rate(
                result.change_failure_rate, band=bands["change_failure_rate"]
            ),
            "time_to_restore": _durations(
                result.time_to_restore, band=bands["time_to_restore"], unrestored=result.unrestored
            ),
        },
    }
