"""Documents made from the record: a release's report and seed 001's forms (task request,
release plan, release evaluation, product delivery list), and the documents of a period
(seed 003's quarterly release analysis, seed 001's release statistics), as PDF, XLSX or
Markdown, in the reader's language.

Each document is built once as facts, texts and tables (`Document`), then written out:
the PDF and the Markdown from Django templates `reports/documents/<name>.html` and `.md`,
which an organisation replaces by putting its own under `$RELMAN_DATA_DIR/templates/`
(searched first, see settings.TEMPLATES); the XLSX from the same tables with openpyxl. The
PDF is made like the CAB minutes: WeasyPrint in a child process with a time limit
(`core.pdf.render_pdf`). A release's documents are for those who may see the release; a
period's cover the releases the reader may see, with the KPI figures of `reports.kpi`.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation

from relman.approvals.minutes import language_of
from relman.releases.access import get_visible
from relman.reports.documents.base import (
    FORMAT_LABELS,
    FORMATS,
    PERIOD_DOCUMENTS,
    RELEASE_DOCUMENTS,
    Document,
    File,
    Table,
    check_format,
    check_name,
)
from relman.reports.documents.period import period_document
from relman.reports.documents.release import release_document
from relman.reports.documents.writers import write, write_xlsx

__all__ = [
    "FORMATS",
    "FORMAT_LABELS",
    "PERIOD_DOCUMENTS",
    "RELEASE_DOCUMENTS",
    "Document",
    "File",
    "Table",
    "period_document",
    "period_file",
    "release_document",
    "release_file",
    "write",
    "write_xlsx",
]


def release_file(user: Any, ref: Any, name: str, fmt: str, language: str | None = None) -> File:
    """A document of a release the user may see (NotFound otherwise), in `language`
    (default: the active one)."""
    check_name(name, RELEASE_DOCUMENTS)
    check_format(fmt)
    release = get_visible(user, ref)
    language = language_of(language or translation.get_language())
    with translation.override(language):
        doc = release_document(user, release, name, language)
    return write(doc, fmt, by=user, language=language)


def period_file(user: Any, name: str, key: str, fmt: str, language: str | None = None) -> File:
    """A period's document over the releases the user may see, in `language`."""
    check_name(name, PERIOD_DOCUMENTS)
    check_format(fmt)
    language = language_of(language or translation.get_language())
    with translation.override(language):
        doc = period_document(user, name, key)
    return write(doc, fmt, by=user, language=language)
