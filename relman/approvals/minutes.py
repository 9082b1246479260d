"""The minutes of a CAB meeting as a document: a PDF made with WeasyPrint (DESIGN.md), in
the reader's language, that people forward and file.

It lists the date, place and chair, the members with their attendance, each release of
the agenda (number, title, application, risk, release window when it is scheduled) with
the board's decision and reason, and the minutes text. Chinese needs a CJK font on the
server (Debian `fonts-noto-cjk` or `fonts-wqy-microhei`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relman.approvals.models import CabMeeting
from relman.approvals.services import cab
from relman.core.pdf import render_pdf

TEMPLATE = "approvals/cab_minutes.html"


def language_of(code: str | None) -> str:
    """One of the site's languages for a requested code ('zh', 'zh-CN' → 'zh-hans')."""
    code = (code or "").strip().lower().replace("_", "-")
    if code.startswith("zh"):
        return "zh-hans"
    known = dict(settings.LANGUAGES)
    if code in known:
        return code
    base = code.split("-")[0]
    return base if base in known else settings.LANGUAGE_CODE


def window_text(item: Any) -> str:
    """Where an agenda item's release is scheduled, in words ('' before it is)."""
    release = item.release
    schedule = getattr(item, "schedule", None)
    if schedule is None or release.planned_start is None:
        return ""
    start = timezone.localtime(release.planned_start)
    end = timezone.localtime(release.planned_end) if release.planned_end else None
    if end is None:
        when = f"{start:%Y-%m-%d %H:%M}"
    elif end.date() == start.date():
        when = f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    else:
        when = f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"
    if schedule.window_id:
        return f"{schedule.window.name}: {when}"
    return _("Outside a window: %s") % when


def minutes_context(meeting: CabMeeting, *, by: Any = None) -> dict[str, Any]:
    """What the minutes show, in the active language."""
    items = cab.agenda_of(meeting)
    for item in items:
        item.window_text = window_text(item)
    attendance = cab.attendance_of(meeting)
    return {
        "meeting": meeting,
        "items": items,
        "attendance": attendance,
        "present": sum(1 for row in attendance if row.present),
        "by": by,
        "made": timezone.now(),
    }


def minutes_html(meeting: CabMeeting, language: str, *, by: Any = None) -> str:
    """The minutes as the HTML the PDF is made from."""
    with translation.override(language_of(language)):
        return render_to_string(TEMPLATE, minutes_context(meeting, by=by))


def minutes_pdf(user: Any, ref: CabMeeting | int | str, language: str | None = None) -> bytes:
    """The minutes of a meeting the user may see, as a PDF in `language` (default: the
    active one). Made in a child process: `TimedOut` (a 503) after
    RELMAN_PDF_TIMEOUT_SECONDS."""
    meeting = cab.get_meeting(user, ref)
    html = minutes_html(meeting, language or translation.get_language() or "en", by=user)
    return render_pdf(html, str(settings.BASE_DIR))


def filename(meeting: CabMeeting) -> str:
    """The PDF's file name: cab-minutes-<date>-<id>.pdf."""
    day = timezone.localtime(meeting.starts).date().isoformat()
    return f"cab-minutes-{day}-{meeting.pk}.pdf"
