"""The releases behind one KPI figure as a file (CSV or XLSX), for a spreadsheet: the same
releases the page and the API list, every one of them, not a page."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils.translation import gettext as _

from relman.core.errors import ValidationFailed
from relman.reports import kpi
from relman.reports.documents.base import Document, File, Table, text
from relman.reports.documents.writers import write_xlsx
from relman.reports.filters import KpiQuery

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_ROWS = 200_000


def figure_file(user: Any, question: KpiQuery, figure: str, fmt: str) -> File:
    """Every release behind `figure` of the question that `user` may see, in `fmt`."""
    if fmt not in FORMATS:
        raise ValidationFailed(
            _("There is no format '%(format)s': expected one of %(known)s.")
            % {"format": fmt[:20], "known": ", ".join(FORMATS)},
            field="format",
        )
    releases = (
        kpi.releases_behind(user, question, figure)
        .select_related("application", "requester")
        .order_by("number", "id")[:MAX_ROWS]
    )
    headers = [
        _("Number"),
        _("Title"),
        _("Application"),
        _("Kind"),
        _("Method"),
        _("Class"),
        _("Outcome"),
        _("Requester"),
        _("Requested"),
        _("Actual start"),
        _("Actual end"),
    ]
    rows = [
        [
            r.number,
            r.title,
            r.application.code,
            r.get_kind_display(),
            r.get_method_display(),
            r.get_release_class_display(),
            r.get_outcome_display(),
            str(r.requester),
            r.created,
            r.actual_start,
            r.actual_end,
        ]
        for r in releases
    ]
    stem = f"{question.the_period.key}-{figure}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(
            [text(v) if v is None or not isinstance(v, str) else v for v in row] for row in rows
        )
        # A byte order mark, so that spreadsheet programs read the Chinese as UTF-8.
        return File(("\ufeff" + out.getvalue()).encode("utf-8"), FORMATS["csv"], f"{stem}.csv")
    title = _("Releases behind “%(figure)s”, %(period)s") % {
        "figure": figure,
        "period": question.the_period.key,
    }
    doc = Document(
        name="figure",
        title=title,
        subject=question.the_period.key,
        tables=[Table(title, headers, rows)],
        stem=stem,
    )
    return File(write_xlsx(doc), FORMATS["xlsx"], f"{stem}.xlsx")
