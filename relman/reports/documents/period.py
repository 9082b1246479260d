"""The documents of a period: seed 003's quarterly analysis, seed 001's release statistics."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from relman.audit.models import AuditEvent
from relman.core.errors import ValidationFailed
from relman.releases.choices import Kind, Outcome
from relman.releases.models import Release
from relman.reports import kpi, periods
from relman.reports.documents.base import (
    MOVES,
    PERIOD_DOCUMENTS,
    PROBLEMS,
    Document,
    Table,
    percent,
    text,
)
from relman.reports.filters import KpiQuery


def _period(key: str, *, quarter_only: bool) -> periods.Period:
    field_name = "quarter" if quarter_only else "period"
    try:
        period = periods.parse(key)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=field_name) from exc
    if quarter_only and not periods.QUARTER.fullmatch(key.strip()):
        raise ValidationFailed(
            _("'%s' is not a quarter: expected one such as 2026Q3.") % key[:40], field="quarter"
        )
    return period


def _release_rows(releases: QuerySet[Release]) -> list[list[Any]]:
    return [
        [
            r.number,
            r.title,
            r.application.code,
            r.get_kind_display(),
            r.get_method_display(),
            r.get_release_class_display(),
            r.get_outcome_display(),
            r.actual_end,
        ]
        for r in releases
    ]


def _release_headers() -> list[str]:
    return [
        _("Number"),
        _("Title"),
        _("Application"),
        _("Kind"),
        _("Method"),
        _("Class"),
        _("Outcome"),
        _("Ended"),
    ]


def period_document(user: Any, name: str, key: str) -> Document:
    """One of PERIOD_DOCUMENTS over the releases the user may see, in the active language:
    the figures are those of `reports.kpi`."""
    period = _period(key, quarter_only=name == "quarterly_analysis")
    question = KpiQuery(period=period.key)
    result = kpi.kpis(user, question)
    closed = (
        kpi.releases_behind(user, question, "closed")
        .select_related("application")
        .order_by("actual_end", "number")
    )
    outcomes = Table(
        _("Releases by outcome"),
        [_("Outcome"), _("Releases")],
        [[Outcome(o).label, n] for o, n in result.outcomes.items()],
    )
    kinds = Table(
        _("Releases by kind"),
        [_("Kind"), _("Releases")],
        [[Kind(k).label, n] for k, n in result.by_kind.items()],
    )
    facts: list[tuple[str, Any]] = [
        (_("Period"), period.key),
        (_("From"), period.first_day.isoformat()),
        (_("To"), period.last_day.isoformat()),
        (_("Releases closed"), result.closed),
        (_("Release success rate"), percent(result.success_rate)),
    ]
    title = str(PERIOD_DOCUMENTS[name])
    doc = Document(name, title, period.key, stem=f"{period.key}-{name}")
    doc.extra = {"period": period, "kpis": result}
    if name == "quarterly_analysis":
        doc.facts = [
            *facts,
            (_("Emergency share"), percent(result.emergency_share)),
            (_("Rollback rate"), percent(result.rollback_rate)),
            (_("On-time rate"), percent(result.on_time_rate)),
            (_("Change failure rate"), percent(result.change_failure_rate)),
            (_("Lead time, median (hours)"), result.lead_time.median),
            (_("Lead time, 90th percentile (hours)"), result.lead_time.p90),
            (_("Deployment frequency (per week)"), result.deployment_frequency),
            (_("Time to restore, median (hours)"), result.time_to_restore.median),
        ]
        doc.texts = [(_("How the success rate is counted"), str(kpi.SUCCESS_RATE_FORMULA))]
        failures = list(
            kpi.releases_behind(user, question, "change_failures")
            .select_related("application")
            .order_by("actual_end", "number")
        )
        reasons: dict[int, list[str]] = {}
        events = AuditEvent.objects.filter(
            release__in=[r.pk for r in failures],
            action__in=(*PROBLEMS, "release.close"),
        ).order_by("seq")
        for event in events:
            if event.reason:
                reasons.setdefault(event.release_id, []).append(
                    f"{MOVES[event.action]} ({text(event.created)}): {event.reason}"
                )
        doc.tables = [
            outcomes,
            kinds,
            Table(
                _("Review of the failed and rolled back releases"),
                [*_release_headers(), _("Reasons")],
                [
                    [*row, "; ".join(reasons.get(r.pk, [])) or _("none recorded")]
                    for r, row in zip(failures, _release_rows(failures), strict=True)
                ],
            ),
        ]
    else:
        doc.facts = facts
        doc.tables = [
            outcomes,
            kinds,
            Table(_("Releases closed in the period"), _release_headers(), _release_rows(closed)),
        ]
    return doc


# ---------------------------------------------------------------- writing them out
