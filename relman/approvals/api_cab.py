"""CAB endpoints (/api/v1/cab/...): meetings, their agenda and attendance, the board's
decision per release, closing with minutes, and the minutes as a PDF.

Every signed-in user may list the meetings they may see (all of them for CAB members and
release managers, else those they are a member of) and the releases waiting for the CAB
that they may see; the services decide who may change what.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from ninja import Router, Schema, Status

from relman.approvals import minutes as cab_minutes
from relman.approvals.models import CabMeeting
from relman.approvals.services import cab
from relman.core.api import ERRORS, WRITE_ERRORS
from relman.core.ids import Id
from relman.core.validators import DateTime

router = Router(tags=["cab"])


# ---------------------------------------------------------------- schemas


class MeetingIn(Schema):
    """A meeting to schedule; the agenda is built from the releases waiting for the CAB."""

    title: str
    starts: DateTime
    location: str = ""
    chair: str
    members: list[str] = []


class MeetingOut(Schema):
    id: int
    title: str
    starts: datetime
    location: str
    chair: str
    chair_name: str
    status: str
    agenda_count: int
    decided_count: int
    member_count: int


class AttendanceOut(Schema):
    username: str
    name: str
    chair: bool
    present: bool | None


class AgendaItemOut(Schema):
    position: int
    release: str
    title: str
    application: str
    risk: str
    stage: str
    stage_label: str
    step: str
    step_label: str
    window: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    decision: str
    reason: str
    decided_at: datetime | None
    approval_id: int | None


class MeetingDetail(MeetingOut):
    minutes: str
    quorum: bool
    quorum_problem: str | None
    can_decide: bool
    attendance: list[AttendanceOut]
    agenda: list[AgendaItemOut]


class WaitingOut(Schema):
    release: str
    title: str
    application: str
    risk: str
    stage: str
    stage_label: str
    step: str
    step_label: str
    waiting_since: datetime
    meeting_id: int | None
    meeting_title: str | None


class AttendanceIn(Schema):
    """Who attended, by username: true present, false absent."""

    attendance: dict[str, bool]


class DecisionIn(Schema):
    """approve, reject (with a reason) or defer (with a reason)."""

    decision: str
    reason: str = ""
    checks: list[str] = []


class MinutesIn(Schema):
    minutes: str


class CancelIn(Schema):
    reason: str


# ---------------------------------------------------------------- shaping answers


def _item(item: Any) -> dict[str, Any]:
    release = item.release
    return {
        "position": item.position,
        "release": release.number,
        "title": release.title,
        "application": release.application.code,
        "risk": release.risk,
        "stage": item.stage,
        "stage_label": item.stage_label,
        "step": item.step,
        "step_label": item.step_label,
        "window": cab_minutes.window_text(item) or None,
        "planned_start": release.planned_start,
        "planned_end": release.planned_end,
        "decision": item.decision,
        "reason": item.reason,
        "decided_at": item.decided_at,
        "approval_id": item.approval_id,
    }


def _summary(
    meeting: CabMeeting, *, agenda_count: int, decided_count: int, member_count: int
) -> dict[str, Any]:
    """A meeting as the list shows it."""
    return {
        "id": meeting.pk,
        "title": meeting.title,
        "starts": meeting.starts,
        "location": meeting.location,
        "chair": meeting.chair.username,
        "chair_name": str(meeting.chair),
        "status": meeting.status,
        "agenda_count": agenda_count,
        "decided_count": decided_count,
        "member_count": member_count,
    }


def detail(user: Any, ref: CabMeeting | int) -> dict[str, Any]:
    """A meeting as the API shows it: its agenda, attendance and whether it may decide."""
    meeting = cab.get_meeting(user, ref)
    agenda = cab.agenda_of(meeting)
    attendance = cab.attendance_of(meeting)
    problem = cab.quorum_problem(meeting)
    return {
        **_summary(
            meeting,
            agenda_count=len(agenda),
            decided_count=sum(1 for i in agenda if i.decision),
            member_count=len(attendance),
        ),
        "minutes": meeting.minutes,
        "quorum": problem is None,
        "quorum_problem": problem,
        "can_decide": meeting.status == CabMeeting.PLANNED and user.pk == meeting.chair_id,
        "attendance": [
            {
                "username": row.member.username,
                "name": str(row.member),
                "chair": row.member_id == meeting.chair_id,
                "present": row.present,
            }
            for row in attendance
        ],
        "agenda": [_item(item) for item in agenda],
    }


# ---------------------------------------------------------------- endpoints


@router.get("/meetings", response={200: list[MeetingOut], **ERRORS}, summary="CAB meetings")
def list_meetings(request: HttpRequest, status: str | None = None) -> Any:
    """The meetings you may see, newest first (all of them for CAB members and release
    managers; else those you are a member of). Filter by status: planned, held, cancelled."""
    meetings = cab.meetings_with_counts(request.user)
    if status:
        meetings = meetings.filter(status=status)
    return [
        _summary(
            m,
            agenda_count=m.agenda_count,
            decided_count=m.decided_count,
            member_count=m.member_count,
        )
        for m in meetings
    ]


@router.post(
    "/meetings", response={201: MeetingDetail, **WRITE_ERRORS}, summary="Schedule a CAB meeting"
)
def create_meeting(request: HttpRequest, payload: MeetingIn) -> Status:
    """Schedule a meeting: its agenda is built from the releases waiting for the CAB, and
    its members are told."""
    meeting = cab.schedule_meeting(
        request.user,
        payload.title,
        payload.starts,
        payload.location,
        payload.chair,
        payload.members,
    )
    return Status(201, detail(request.user, meeting.pk))


@router.get(
    "/meetings/{meeting_id}", response={200: MeetingDetail, **ERRORS}, summary="A CAB meeting"
)
def get_meeting(request: HttpRequest, meeting_id: Id) -> dict[str, Any]:
    return detail(request.user, meeting_id)


@router.post(
    "/meetings/{meeting_id}/agenda",
    response={200: MeetingDetail, **WRITE_ERRORS},
    summary="Add the releases now waiting to the agenda",
)
def refresh_agenda(request: HttpRequest, meeting_id: Id) -> dict[str, Any]:
    cab.build_agenda(request.user, meeting_id)
    return detail(request.user, meeting_id)


@router.post(
    "/meetings/{meeting_id}/attendance",
    response={200: MeetingDetail, **WRITE_ERRORS},
    summary="Record attendance",
)
def record_attendance(
    request: HttpRequest, meeting_id: Id, payload: AttendanceIn
) -> dict[str, Any]:
    cab.record_attendance(request.user, meeting_id, payload.attendance)
    return detail(request.user, meeting_id)


@router.post(
    "/meetings/{meeting_id}/agenda/{ref}/decision",
    response={200: AgendaItemOut, **WRITE_ERRORS},
    summary="Record the board's decision on a release",
)
def decide(request: HttpRequest, meeting_id: Id, ref: str, payload: DecisionIn) -> Any:
    """Only the chair, with a quorum present. approve and reject decide the release's CAB
    approval step; defer leaves it open for the next meeting. reject and defer need a reason."""
    item = cab.decide_item(
        request.user,
        meeting_id,
        ref,
        payload.decision,
        payload.reason,
        checks=payload.checks or None,
    )
    found = next(i for i in cab.agenda_of(item.meeting) if i.pk == item.pk)
    return _item(found)


@router.post(
    "/meetings/{meeting_id}/close",
    response={200: MeetingDetail, **WRITE_ERRORS},
    summary="Close a meeting with its minutes",
)
def close_meeting(request: HttpRequest, meeting_id: Id, payload: MinutesIn) -> dict[str, Any]:
    cab.close_meeting(request.user, meeting_id, payload.minutes)
    return detail(request.user, meeting_id)


@router.post(
    "/meetings/{meeting_id}/cancel",
    response={200: MeetingDetail, **WRITE_ERRORS},
    summary="Cancel a meeting",
)
def cancel_meeting(request: HttpRequest, meeting_id: Id, payload: CancelIn) -> dict[str, Any]:
    cab.cancel_meeting(request.user, meeting_id, payload.reason)
    return detail(request.user, meeting_id)


@router.get(
    "/meetings/{meeting_id}/minutes.pdf",
    response={200: None, **ERRORS},
    summary="The minutes as a PDF",
)
def minutes_pdf(request: HttpRequest, meeting_id: Id, language: str | None = None) -> HttpResponse:
    """The minutes in `language` (en or zh-hans); by default in the language of the request
    (Accept-Language or the pages' choice), else your profile's."""
    if not language:
        chosen = request.headers.get("Accept-Language") or request.COOKIES.get(
            settings.LANGUAGE_COOKIE_NAME
        )
        language = get_language() if chosen else getattr(request.user, "language", "")
    pdf = cab_minutes.minutes_pdf(request.user, meeting_id, cab_minutes.language_of(language))
    meeting = cab.get_meeting(request.user, meeting_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{cab_minutes.filename(meeting)}"'
    return response


@router.get(
    "/waiting", response={200: list[WaitingOut], **ERRORS}, summary="Releases waiting for the CAB"
)
def list_waiting(request: HttpRequest) -> Any:
    """The releases you may see whose current stage waits for a CAB decision, oldest first,
    each with the planned meeting whose agenda holds it."""
    return [
        {
            "release": w.release.number,
            "title": w.release.title,
            "application": w.release.application.code,
            "risk": w.release.risk,
            "stage": w.pending.stage,
            "stage_label": w.stage_label,
            "step": w.pending.step,
            "step_label": w.step_label,
            "waiting_since": w.pending.opened,
            "meeting_id": w.meeting.pk if w.meeting else None,
            "meeting_title": w.meeting.title if w.meeting else None,
        }
        for w in cab.waiting(request.user)
    ]
