"""What every document is made of (facts, texts, tables), the names and formats there are,
and how a value is written as text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relman.core.errors import ValidationFailed
from relman.reports import kpi

RELEASE_DOCUMENTS = {
    "release_report": gettext_lazy("Release report"),
    "task_request": gettext_lazy("Task request form"),
    "release_plan": gettext_lazy("Release plan"),
    "release_evaluation": gettext_lazy("Release evaluation report"),
    "delivery_list": gettext_lazy("Product delivery list"),
}
# The documents of a period, over the releases the reader may see.
PERIOD_DOCUMENTS = {
    "quarterly_analysis": gettext_lazy("Quarterly release analysis report"),
    "release_statistics": gettext_lazy("Release statistics"),
}
FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown; charset=utf-8",
}
FORMAT_LABELS = {"pdf": "PDF", "xlsx": "XLSX", "md": "Markdown"}

# The audit actions that move a release, in words.
MOVES = {
    "release.created": gettext_lazy("Requested"),
    "release.advance": gettext_lazy("Advanced"),
    "release.return": gettext_lazy("Returned"),
    "release.rollback": gettext_lazy("Rolled back"),
    "release.cancel": gettext_lazy("Cancelled"),
    "release.close": gettext_lazy("Closed"),
    "release.rejected": gettext_lazy("Sent back after a rejection"),
}
# The moves that are a problem of the release (seed 003: "problems and solutions").
PROBLEMS = ("release.return", "release.rollback", "release.rejected")
DASH = "—"


@dataclass
class Table:
    """A titled table of a document: its headers and rows of plain values."""

    title: str
    headers: list[str]
    rows: list[list[Any]]

    @property
    def text_rows(self) -> list[list[str]]:
        return [[text(value) for value in row] for row in self.rows]

    @property
    def md_rows(self) -> list[str]:
        """The rows as Markdown table lines (pipes escaped, lines joined)."""
        return ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in self.text_rows]

    @property
    def md_head(self) -> str:
        heads = " | ".join(md_cell(h) for h in self.headers)
        return f"| {heads} |\n|" + "---|" * len(self.headers)


@dataclass
class Document:
    """One document, ready to be written in any format."""

    name: str
    title: str
    subject: str  # the release's number and title, or the period
    facts: list[tuple[str, Any]] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    stem: str = ""

    @property
    def fact_rows(self) -> list[tuple[str, str]]:
        return [(label, text(value)) for label, value in self.facts]


@dataclass
class File:
    """A written document: its bytes, content type and file name."""

    content: bytes
    content_type: str
    filename: str

    def response(self) -> HttpResponse:
        """The file as a download (the API's and the pages')."""
        response = HttpResponse(self.content, content_type=self.content_type)
        response["Content-Disposition"] = f'attachment; filename="{self.filename}"'
        return response


def text(value: Any) -> str:
    """A cell as text: local times to the minute, nothing as a dash."""
    if value is None or value == "":
        return DASH
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def percent(rate: kpi.Rate) -> str:
    value = DASH if rate.value is None else f"{rate.value:g} %"
    return f"{value} ({rate.numerator}/{rate.denominator})"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationFailed(
            _("There is no format '%(format)s': expected one of %(known)s.")
            % {"format": fmt[:20], "known": ", ".join(FORMATS)},
            field="format",
        )
    return fmt


def check_name(name: str, known: dict[str, Any]) -> str:
    if name not in known:
        raise ValidationFailed(
            _("There is no document '%(name)s': expected one of %(known)s.")
            % {"name": name[:40], "known": ", ".join(known)},
            field="name",
        )
    return name


# ---------------------------------------------------------------- a release's documents
