"""The reports pages: the KPI dashboard (`/reports/`) and the releases behind one of its
figures (`/reports/releases/`). Any signed-in user may open them; every figure covers only
the releases they may see. The figures come from `reports.kpi`, the same as the API's."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pydantic
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from relman.accounts.models import Team
from relman.cmdb.models import Application
from relman.core.errors import DomainError, ValidationFailed
from relman.releases.choices import Kind, Method, Outcome, ReleaseClass
from relman.reports import kpi, waits
from relman.reports.documents.figure import figure_file
from relman.reports.filters import FigureQuery, KpiQuery
from relman.web.charts import bars
from relman.web.documents import period_links

QUESTION_FIELDS = ("period", "from", "to", "application", "team", "kind", "method", "class")


def parse_question(query: QueryDict, model: type[KpiQuery] = KpiQuery) -> tuple[Any, list[str]]:
    """The question from a query string; a bad value is dropped with a message naming its
    field, so bad input never breaks the page."""
    names = (*QUESTION_FIELDS, "figure", "cursor") if model is FigureQuery else QUESTION_FIELDS
    data = {name: query.get(name) for name in names if name in query}
    problems: list[str] = []
    for _attempt in range(len(data) + 1):
        try:
            return model(**data), problems
        except pydantic.ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
            bad = {
                "from" if name == "from_" else "class" if name == "release_class" else name
                for name in bad
            } & set(data)
            if not bad:
                break
            for name in sorted(bad):
                problems.append(
                    _("'%(value)s' is not a valid value for '%(field)s'; it was ignored.")
                    % {"value": str(data.pop(name))[:60], "field": name}
                )
    return None, problems


def _link(question: KpiQuery, figure: str) -> str:
    return urlencode(question.query(figure=figure))


def _hours(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The KPIs of a period, with the success rate of the last eight quarters, the releases
    by kind, the lead-time distribution and the DORA keys; every figure links to its releases."""
    question, problems = parse_question(request.GET)
    if question is None:
        question = KpiQuery()
    try:
        result = kpi.kpis(request.user, question)
    except DomainError as exc:
        problems.append(exc.message)
        question = KpiQuery(period=question.period, from_=question.from_, to=question.to)
        result = kpi.kpis(request.user, question)
    quarters = kpi.success_by_quarter(request.user, question)
    trend = bars(
        [row["rate"].value for row in quarters],
        [row["period"].key for row in quarters],
        [
            urlencode({**question.query(), "period": row["period"].key, "figure": "counted"})
            for row in quarters
        ],
        maximum=100,
        unit="%",
    )
    lead = kpi.distribution(result.lead_time.hours)
    lead_chart = bars(
        [n for _key, n in lead],
        [str(kpi.BUCKET_LABELS[key]) for key, _n in lead],
        [_link(question, "lead_time")] * len(lead),
    )
    kinds = dict(Kind.choices)
    bands = result.bands()
    language = get_language() or "en"
    context = {
        "question": question,
        "stage_waits": waits.stage_waits(request.user, question, language),
        "approver_waits": waits.approver_waits(request.user, question),
        "values": {
            **question.query(),
            "from": question.from_.isoformat() if question.from_ else "",
            "to": question.to.isoformat() if question.to else "",
        },
        "problems": problems,
        "result": result,
        "formula": kpi.SUCCESS_RATE_FORMULA,
        "denominator": kpi.denominator_text(),
        "outcomes": [
            {"key": key, "label": label, "n": result.outcomes[key], "query": _link(question, key)}
            for key, label in Outcome.choices
        ],
        "closed_query": _link(question, "closed"),
        "rates": [
            {
                "label": label,
                "rate": rate,
                "query": _link(question, rate.figure),
                "of_query": _link(question, rate.of),
            }
            for label, rate in (
                (_("Release success rate"), result.success_rate),
                (_("Emergency share"), result.emergency_share),
                (_("Rollback rate"), result.rollback_rate),
                (_("On-time rate"), result.on_time_rate),
            )
        ],
        "by_kind": [
            {"label": kinds[key], "n": n, "query": _link(question, f"kind_{key}")}
            for key, n in result.by_kind.items()
        ],
        "lead": {
            "mean": _hours(result.lead_time.mean),
            "median": _hours(result.lead_time.median),
            "p90": _hours(result.lead_time.p90),
            "count": result.lead_time.count,
            "query": _link(question, "lead_time"),
        },
        "dora": [
            {
                "label": _("Deployment frequency"),
                "value": "–"
                if result.deployment_frequency is None
                else f"{result.deployment_frequency:g}",
                "unit": _("succeeded per week"),
                "band": bands["deployment_frequency"],
                "query": _link(question, "succeeded"),
            },
            {
                "label": _("Lead time for changes"),
                "value": _hours(result.lead_time_for_changes.median),
                "unit": _("hours (median)"),
                "band": bands["lead_time_for_changes"],
                "query": _link(question, "succeeded"),
            },
            {
                "label": _("Change failure rate"),
                "value": "–"
                if result.change_failure_rate.value is None
                else f"{result.change_failure_rate.value:g}",
                "unit": "%",
                "band": bands["change_failure_rate"],
                "query": _link(question, "change_failures"),
            },
            {
                "label": _("Time to restore"),
                "value": _hours(result.time_to_restore.median),
                "unit": _("hours (median)"),
                "band": bands["time_to_restore"],
                "query": _link(question, "change_failures"),
            },
        ],
        "band_labels": kpi.BAND_LABELS,
        "documents": period_links(result.period.key),
        "trend": trend,
        "lead_chart": lead_chart,
        "applications": Application.objects.order_by("code").only("code", "name"),
        "teams": Team.objects.filter(is_active=True).order_by("code").only("code", "name"),
        "choices": {
            "kind": Kind.choices,
            "method": Method.choices,
            "class": ReleaseClass.choices,
        },
    }
    return render(request, "web/reports.html", context)


@require_GET
@login_required
def figure_releases(request: HttpRequest) -> HttpResponse:
    """The releases behind one figure of the dashboard, one keyset page at a time."""
    question, problems = parse_question(request.GET, FigureQuery)
    rows: list[Any] = []
    next_query = ""
    if question is not None:
        try:
            queryset = kpi.releases_behind(request.user, question, question.figure)
            rows, next_cursor = question.page(queryset.select_related("application", "requester"))
            if next_cursor:
                next_query = urlencode(question.query(figure=question.figure, cursor=next_cursor))
        except DomainError as exc:
            problems.append(exc.message)
    if question is None and not problems:
        problems.append(_("Say which figure to list, such as figure=succeeded."))
    context = {
        "question": question,
        "problems": problems,
        "rows": rows,
        "next_query": next_query,
        "this_query": urlencode(question.query(figure=question.figure)) if question else "",
        "back": urlencode(question.query()) if question is not None else "",
    }
    status = 400 if question is None or (problems and not rows) else 200
    return render(request, "web/report_releases.html", context, status=status)


@require_GET
@login_required
def figure_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every release behind one figure as CSV or XLSX; a bad question shows the list page
    with its problems."""
    question, problems = parse_question(request.GET, FigureQuery)
    if question is None or problems:
        return figure_releases(request)
    try:
        made = figure_file(request.user, question, question.figure, fmt)
    except ValidationFailed as exc:
        raise Http404(exc.message) from exc
    return made.response()
