"""Writing a document out: PDF and Markdown from the templates, XLSX with openpyxl."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relman.core.pdf import render_pdf
from relman.reports.documents.base import FORMATS, Document, File, check_format


def write_xlsx(doc: Document) -> bytes:
    """The document as a workbook: its facts on the first sheet, one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Summary")[:31]
    sheet.append([doc.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([doc.subject])
    sheet.append([])
    for label, value in doc.facts:
        sheet.append([label, _cell(value)])
    for heading, body in doc.texts:
        sheet.append([heading, body])
    sheet.column_dimensions["A"].width = 36
    sheet.column_dimensions["B"].width = 60
    for index, table in enumerate(doc.tables, start=1):
        tab = book.create_sheet(f"{index} {table.title}"[:31].replace("/", "-"))
        tab.append(table.headers)
        for cell in tab[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            tab.append([_cell(v) for v in row])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None or isinstance(value, int | float):
        return value
    return str(value)


def write(doc: Document, fmt: str, *, by: Any, language: str) -> File:
    """The document in `fmt` (pdf, xlsx or md)."""
    check_format(fmt)
    filename = f"{doc.stem}.{fmt}"
    if fmt == "xlsx":
        return File(write_xlsx(doc), FORMATS[fmt], filename)
    template = f"reports/documents/{doc.name}.{'html' if fmt == 'pdf' else 'md'}"
    context = {"document": doc, "by": by, "made": timezone.now(), **doc.extra}
    with translation.override(language):
        rendered = render_to_string(template, context)
    if fmt == "md":
        return File(rendered.encode("utf-8"), FORMATS[fmt], filename)
    return File(render_pdf(rendered, str(settings.BASE_DIR)), FORMATS[fmt], filename)
