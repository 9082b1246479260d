"""KPIs and DORA keys (`/api/v1/reports/kpi`) and the releases behind each figure
(`/api/v1/reports/kpi/releases`); the documents made from the record (`reports.documents`):
a release's, for those who may see it, and a period's. Any signed-in user may ask; the
answer covers only the releases they may see (`releases.access.visible_releases`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema

from relman.approvals.minutes import language_of
from relman.core.api import ERRORS
from relman.reports import documents, kpi, waits
from relman.reports.filters import FigureQuery, KpiQuery
from relman.reports.schemas import FigurePage, KpiOut, kpi_payload

router = Router(tags=["reports"])


@router.get("/kpi", response={200: KpiOut, **ERRORS}, summary="KPIs and DORA keys of a period")
def kpi_figures(request: HttpRequest, filters: Query[KpiQuery]) -> dict[str, Any]:
    """Releases closed in the period by outcome, the release success rate (seed 003), by
    kind, emergency share, rollback and on-time rates, lead time, and the four DORA keys
    with their bands, over the releases the caller may see."""
    return kpi_payload(kpi.kpis(request.user, filters))


@router.get(
    "/kpi/releases",
    response={200: FigurePage, **ERRORS},
    summary="The releases behind one figure of a period's KPIs",
)
def kpi_releases(request: HttpRequest, filters: Query[FigureQuery]) -> dict[str, Any]:
    """The releases a figure counts (`figure=succeeded`, `failed`, `counted`, ...), one keyset
    page at a time, ordered by number."""
    queryset = kpi.releases_behind(request.user, filters, filters.figure).select_related(
        "application", "requester"
    )
    rows, next_cursor = filters.page(queryset)
    return {"items": rows, "next": next_cursor}


class WaitOut(Schema):
    key: str = Field(..., description="The stage's key, or the approver's username")
    label: str
    count: int = Field(..., description="Visits of the stage, or decisions of the approver")
    median: float = Field(..., description="Hours")
    p90: float = Field(..., description="Hours")
    total: float = Field(..., description="Hours")


class WaitsOut(Schema):
    stages: list[WaitOut]
    approvers: list[WaitOut]


@router.get(
    "/waits",
    response={200: WaitsOut, **ERRORS},
    summary="Where the releases closed in a period waited: stages and approvers, slowest first",
)
def where_releases_wait(request: HttpRequest, filters: Query[KpiQuery]) -> dict[str, Any]:
    """The time each stage held the releases closed in the period (from the audit log's
    moves) and each approver's time from a step's opening to their decision; the ten
    slowest of each by median, in hours, over the releases the caller may see."""
    return {
        "stages": waits.stage_waits(request.user, filters, get_language() or "en"),
        "approvers": waits.approver_waits(request.user, filters),
    }


def _language(request: HttpRequest, language: str | None) -> str:
    """The language asked for, else the request's (Accept-Language or the pages' choice),
    else the caller's profile's."""
    if not language:
        chosen = request.headers.get("Accept-Language") or request.COOKIES.get(
            settings.LANGUAGE_COOKIE_NAME
        )
        language = get_language() if chosen else getattr(request.user, "language", "")
    return language_of(language)


@router.get(
    "/releases/{ref}/documents/{name}.{format}",
    response={200: None, **ERRORS},
    summary="A document of a release (release report, seed 001's forms)",
)
def release_document(
    request: HttpRequest, ref: str, name: str, format: str, language: str | None = None
) -> HttpResponse:
    """`name`: release_report, task_request, release_plan, release_evaluation or
    delivery_list; `format`: pdf, xlsx or md; `language`: en or zh-hans. For those who may
    see the release."""
    language = _language(request, language)
    return documents.release_file(request.user, ref, name, format, language).response()


@router.get(
    "/quarters/{quarter}/analysis.{format}",
    response={200: None, **ERRORS},
    summary="The quarterly release analysis report (seed 003)",
)
def quarterly_analysis(
    request: HttpRequest, quarter: str, format: str, language: str | None = None
) -> HttpResponse:
    """The KPI figures of the quarter, its releases by outcome and kind, and the review of
    each failed or rolled back release, over the releases the caller may see."""
    language = _language(request, language)
    return documents.period_file(
        request.user, "quarterly_analysis", quarter, format, language
    ).response()


@router.get(
    "/periods/{period}/statistics.{format}",
    response={200: None, **ERRORS},
    summary="The release statistics of a quarter or a month (seed 001)",
)
def release_statistics(
    request: HttpRequest, period: str, format: str, language: str | None = None
) -> HttpResponse:
    """The releases closed in the period (a quarter 2026Q3 or a month 2026-07) with their
    outcomes and kinds, over the releases the caller may see."""
    language = _language(request, language)
    return documents.period_file(
        request.user, "release_statistics", period, format, language
    ).response()
