"""KPIs and DORA keys (`/api/v1/reports/kpi`) and the releases behind each figure
(`/api/v1/reports/kpi/releases`). Any signed-in user may ask; the answer covers only the
releases they may see (`releases.access.visible_releases`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from relman.core.api import ERRORS
from relman.reports import kpi
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
