"""The yearly window plan (seed 002) as a spreadsheet people forward, and as iCalendar.

The XLSX has one sheet with headers in Chinese and English (it goes to both audiences at
once, whatever the exporter's language): one row per opening, in time order, with its date,
weekday, start and end in the window's own time zone, the window, its scope, and why a
reviewer struck it out. Struck-out rows stay in the sheet, greyed and crossed out, so the
review is visible. The ICS has one VEVENT per opening that was not struck out.
"""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from relman.calendar import ics
from relman.calendar.models import PlannedOccurrence, WindowPlan

# (English, Chinese) per column; the sheet shows "中文 English".
HEADERS = [
    ("Date", "日期"),
    ("Weekday", "星期"),
    ("Start", "开始"),
    ("End", "结束"),
    ("Time zone", "时区"),
    ("Window", "发布窗口"),
    ("Scope", "范围"),
    ("Capacity", "容量"),
    ("Struck out because", "取消原因"),
]
WIDTHS = [12, 12, 8, 8, 16, 32, 28, 10, 40]
WEEKDAYS = [
    ("Mon", "周一"),
    ("Tue", "周二"),
    ("Wed", "周三"),
    ("Thu", "周四"),
    ("Fri", "周五"),
    ("Sat", "周六"),
    ("Sun", "周日"),
]
STATUS = {"draft": ("draft", "草稿"), "published": ("published", "已发布")}
EVERYTHING = ("all", "全部")


def plan_rows(plan: WindowPlan) -> list[PlannedOccurrence]:
    """The plan's openings in time order, with their windows' scope loaded."""
    return list(
        plan.occurrences.select_related("window__application", "window__environment").order_by(
            "starts", "window__name", "pk"
        )
    )


def bilingual(pair: tuple[str, str]) -> str:
    """'中文 English', as the sheet writes its headers."""
    english, chinese = pair
    return f"{chinese} {english}"


def scope_cell(window: object) -> str:
    """Where a window applies: 'crm · prod · Ops', or '全部 all'."""
    parts = []
    if getattr(window, "application_id", None):
        parts.append(window.application.code)  # type: ignore[attr-defined]
    if getattr(window, "environment_id", None):
        parts.append(window.environment.code)  # type: ignore[attr-defined]
    if getattr(window, "team", ""):
        parts.append(window.team)  # type: ignore[attr-defined]
    return " · ".join(parts) if parts else bilingual(EVERYTHING)


def plan_xlsx(plan: WindowPlan) -> bytes:
    """The plan as an XLSX workbook of one sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"{plan.year} 发布窗口 Windows"[:31]
    sheet.append([bilingual(h) for h in HEADERS])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    struck_font = Font(strike=True, color="808080")
    for row_number, occurrence in enumerate(plan_rows(plan), start=2):
        window = occurrence.window
        tz = ZoneInfo(window.time_zone)
        start: datetime = occurrence.starts.astimezone(tz)
        end: datetime = occurrence.ends.astimezone(tz)
        sheet.append(
            [
                start.date(),
                bilingual(WEEKDAYS[start.weekday()]),
                start.time().replace(tzinfo=None),
                end.time().replace(tzinfo=None)
                if end.date() == start.date()
                else end.replace(tzinfo=None),
                window.time_zone,
                window.name,
                scope_cell(window),
                window.capacity,
                occurrence.struck_reason,
            ]
        )
        sheet.cell(row_number, 1).number_format = "yyyy-mm-dd"
        sheet.cell(row_number, 3).number_format = "hh:mm"
        sheet.cell(row_number, 4).number_format = (
            "hh:mm" if end.date() == start.date() else "yyyy-mm-dd hh:mm"
        )
        if occurrence.struck_reason:
            for cell in sheet[row_number]:
                cell.font = struck_font
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    status = STATUS.get(plan.status, (plan.status, plan.status))
    book.properties.title = f"{plan.year} 发布窗口计划 Release window plan {plan.year}"
    book.properties.subject = bilingual(status)
    book.properties.creator = "relman"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def plan_ics(plan: WindowPlan) -> bytes:
    """The plan as iCalendar: one VEVENT per opening that was not struck out."""
    cal = ics.new_calendar(
        _("Release window plan %d") % plan.year,
        _("The release windows of %(year)d (%(status)s).")
        % {"year": plan.year, "status": plan.get_status_display()},
    )
    for occurrence in plan_rows(plan):
        if not occurrence.struck_reason:
            cal.add_component(ics.occurrence_event(occurrence, year=plan.year))
    return ics.to_bytes(cal)
