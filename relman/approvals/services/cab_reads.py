"""Reading the CAB: who may run it and see its meetings, the releases waiting for the
board, and a meeting's agenda and attendance as the pages, the API and the minutes show
them. The changes are in `cab.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.approvals.models import CabAgendaItem, CabAttendance, CabMeeting, PendingStep
from relman.core import ids, permissions
from relman.core.errors import DomainError, NotFound, PermissionDenied
from relman.processes.definition import ApprovalStep
from relman.processes.messages import role_label, stage_label, step_label
from relman.releases import access
from relman.releases.choices import Status
from relman.releases.models import Release
from relman.releases.services.state import flow_of

# Roles whose holders (anywhere) may run the CAB; the chair must hold the first.
CAB_ROLES = (BuiltinRole.CAB_MEMBER, BuiltinRole.RELEASE_MANAGER)


# ---------------------------------------------------------------- who may


def may_run_cab(user: Any) -> bool:
    """A user may run the CAB when they are a superuser or hold `cab_member` or
    `release_manager` for any application."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or any(permissions.holds_anywhere(user, r) for r in CAB_ROLES)


def require_cab(user: Any) -> None:
    """Refuse those who may not run the CAB."""
    if not may_run_cab(user):
        raise PermissionDenied(_("Only CAB members and release managers may run CAB meetings."))


def visible_meetings(user: Any) -> QuerySet[CabMeeting]:
    """The meetings a user may see: every one for those who may run the CAB, else the
    meetings they are a member of."""
    meetings = CabMeeting.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return meetings.none()
    if may_run_cab(user):
        return meetings
    return meetings.filter(attendance__member=user).distinct()


def get_meeting(user: Any, ref: CabMeeting | int | str, *, for_update: bool = False) -> CabMeeting:
    """The meeting if the user may see it (locked with `for_update`), else NotFound."""
    key = str(ref.pk if isinstance(ref, CabMeeting) else ref)
    if ids.as_id(key) is None:
        raise NotFound(_("CAB meeting %s was not found.") % key)
    meetings = visible_meetings(user).select_related("chair")
    # Lock by id once seen: a member's view is a DISTINCT query, which cannot be locked.
    if for_update and meetings.filter(pk=ids.as_id(key)).exists():
        meetings = CabMeeting.objects.select_related("chair").select_for_update(of=("self",))
    meeting = meetings.filter(pk=ids.as_id(key)).first()
    if meeting is None:
        raise NotFound(_("CAB meeting %s was not found.") % key)
    return meeting


# ---------------------------------------------------------------- what waits for the CAB


@dataclass
class Waiting:
    """A release whose current stage has an open approval step decided by the CAB."""

    release: Release
    pending: PendingStep
    step: ApprovalStep
    step_label: str
    stage_label: str
    meeting: CabMeeting | None = None  # the planned meeting whose agenda holds it


def cab_step(release: Release, stage: str, key: str) -> ApprovalStep | None:
    """The step `key` of the release's stage when it is a CAB step; None otherwise."""
    try:
        _process, variant = flow_of(release)
    except DomainError:
        return None
    found = variant.stage(stage)
    step = found.step(key) if found else None
    return step if step is not None and step.cab else None


def waiting(user: Any = None, releases: QuerySet[Release] | None = None) -> list[Waiting]:
    """The releases waiting for the CAB, oldest step first: open pending steps of their
    current stage marked `cab`. With `user`, only releases that user may see; each with the
    planned meeting whose agenda already holds it, if any. A constant number of queries."""
    pending = PendingStep.objects.filter(
        closed__isnull=True, release__status=Status.IN_PROGRESS
    ).select_related("release", "release__application")
    if user is not None:
        pending = pending.filter(release__in=access.visible_releases(user))
    if releases is not None:
        pending = pending.filter(release__in=releases)
    found: list[Waiting] = []
    for row in pending.order_by("opened", "id"):
        release = row.release
        if row.stage != release.stage:
            continue
        step = cab_step(release, row.stage, row.step)
        if step is None:
            continue
        process, variant = flow_of(release)
        found.append(
            Waiting(
                release=release,
                pending=row,
                step=step,
                step_label=step_label(process, step),
                stage_label=stage_label(variant, row.stage),
            )
        )
    if found:
        planned = {
            item.release_id: item.meeting
            for item in CabAgendaItem.objects.filter(
                release_id__in=[w.release.pk for w in found],
                meeting__status=CabMeeting.PLANNED,
                decision="",
            ).select_related("meeting")
        }
        for row in found:
            row.meeting = planned.get(row.release.pk)
    return found


# ---------------------------------------------------------------- reading a meeting


def meetings_with_counts(user: Any) -> QuerySet[CabMeeting]:
    """The meetings a user may see, newest first, with their agenda and member counts."""
    return (
        CabMeeting.objects.filter(pk__in=visible_meetings(user).values("pk"))
        .select_related("chair")
        .annotate(
            agenda_count=Count("agenda", distinct=True),
            decided_count=Count("agenda", filter=~Q(agenda__decision=""), distinct=True),
            member_count=Count("attendance", distinct=True),
        )
        .order_by("-starts", "-pk")
    )


def agenda_of(meeting: CabMeeting) -> list[CabAgendaItem]:
    """The meeting's agenda in order, each item with its release, application, schedule
    (`release.schedule`, when it has one) and the labels of its stage and step."""
    items = list(
        meeting.agenda.select_related(
            "release",
            "release__application",
            "release__schedule",
            "release__schedule__window",
            "approval",
        ).order_by("position", "pk")
    )
    for item in items:
        item.stage_label, item.step_label = item.stage, item.step
        item.schedule = getattr(item.release, "schedule", None)
        try:
            process, variant = flow_of(item.release)
        except DomainError:
            continue
        stage = variant.stage(item.stage)
        step = stage.step(item.step) if stage else None
        item.stage_label = stage_label(variant, item.stage)
        item.step_label = step_label(process, step) if step else role_label(process, item.step)
    return items


def attendance_of(meeting: CabMeeting) -> list[CabAttendance]:
    """The meeting's members with their attendance, the chair first."""
    rows = list(CabAttendance.objects.filter(meeting=meeting).select_related("member"))
    rows.sort(key=lambda r: (r.member_id != meeting.chair_id, str(r.member).lower()))
    return rows
