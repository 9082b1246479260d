"""CAB meetings: scheduling, the agenda of releases waiting for the board, attendance, the
board's decision on each release, and closing or cancelling a meeting.

Who may do what, in plain words:
- A user may run the CAB (schedule meetings, record attendance, build the agenda, close or
  cancel a meeting) when they are a superuser, or hold `cab_member` or `release_manager`
  for any application.
- The chair of a meeting must hold `cab_member`.
- Only the chair records the board's decisions, and only at a planned meeting whose
  attendance shows a quorum: the chair present and at least one other member present.
- Segregation of duties holds for the board too: the chair may not decide a release they
  requested or manage (the decision service refuses, and so does a deferral here).
- A meeting is seen by those who may run the CAB and by its own members.
These rules, and what the pages, the API and the minutes read, are in `cab_reads.py`.

An approval step marked `cab: true` in the process definition is decided only through a
meeting: approving or rejecting the release's agenda item calls the decision service with
the meeting; deferring leaves the step open, so the release comes back on the next agenda.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.approvals.models import CabAgendaItem, CabAttendance, CabMeeting
from relman.approvals.services.cab_board import (
    APPROVE,
    DECISIONS,
    MAX_MINUTES,
    MAX_TEXT,
    QUORUM_OTHERS,
    REJECT,
    decide_item,
    quorum_problem,
    require_planned,
)
from relman.approvals.services.cab_reads import (
    CAB_ROLES,
    Waiting,
    agenda_of,
    attendance_of,
    cab_step,
    get_meeting,
    may_run_cab,
    meetings_with_counts,
    require_cab,
    visible_meetings,
    waiting,
)
from relman.audit import services as audit
from relman.core import ids, permissions
from relman.core.errors import (
    Conflict,
    ValidationFailed,
    raise_if_invalid,
)
from relman.notifications.services import emit

__all__ = [
    "CAB_ROLES",
    "DECISIONS",
    "QUORUM_OTHERS",
    "Waiting",
    "agenda_of",
    "attendance_of",
    "build_agenda",
    "cab_step",
    "cancel_meeting",
    "close_meeting",
    "decide_item",
    "get_meeting",
    "may_run_cab",
    "meetings_with_counts",
    "quorum_problem",
    "record_attendance",
    "require_cab",
    "schedule_meeting",
    "visible_meetings",
    "waiting",
]


def _user(ref: Any) -> Any | None:
    """An active user by themselves, their username or id; None when there is none."""
    User = get_user_model()
    if isinstance(ref, User):
        return ref if ref.is_active else None
    key = str(ref or "").strip()
    if not key:
        return None
    found = User.objects.filter(username=key, is_active=True).first()
    if found is None and ids.as_id(key):
        found = User.objects.filter(pk=ids.as_id(key), is_active=True).first()
    return found


def _fill_agenda(actor: Any, meeting: CabMeeting) -> list[CabAgendaItem]:
    """Add to a planned meeting's agenda the releases waiting for the CAB that the actor may
    see and that are not already on it, on another planned meeting's agenda, or decided by
    the board since their step opened. Deferred releases come back. Runs in the caller's
    transaction; one audit event per release added, in that release's history."""
    ready = waiting(actor)
    if not ready:
        return []
    ids = [w.release.pk for w in ready]
    busy = set(
        CabAgendaItem.objects.filter(
            release_id__in=ids, meeting__status=CabMeeting.PLANNED, decision=""
        )
        .exclude(meeting=meeting)
        .values_list("release_id", flat=True)
    )
    here = set(meeting.agenda.values_list("release_id", flat=True))
    decided = {
        (row["release_id"], row["stage"], row["step"]): row["last"]
        for row in CabAgendaItem.objects.filter(release_id__in=ids, decision__in=[APPROVE, REJECT])
        .values("release_id", "stage", "step")
        .annotate(last=Max("decided_at"))
    }
    position = meeting.agenda.aggregate(last=Max("position"))["last"] or 0
    added = []
    for row in ready:
        release, pending = row.release, row.pending
        if release.pk in busy or release.pk in here:
            continue
        last = decided.get((release.pk, pending.stage, pending.step))
        if last is not None and last >= pending.opened:
            continue
        position += 1
        item = CabAgendaItem.objects.create(
            meeting=meeting,
            release=release,
            stage=pending.stage,
            step=pending.step,
            position=position,
        )
        audit.record(
            actor,
            "cab.item_added",
            item,
            release=release,
            after={
                "meeting": meeting.pk,
                "meeting_title": meeting.title,
                "starts": meeting.starts,
                "stage": pending.stage,
                "step": pending.step,
                "position": position,
            },
        )
        added.append(item)
        here.add(release.pk)
    return added


# ---------------------------------------------------------------- scheduling


def schedule_meeting(
    actor: Any,
    title: str,
    starts: datetime | None,
    location: str = "",
    chair: Any = None,
    members: list[Any] | tuple[Any, ...] = (),
) -> CabMeeting:
    """Schedule a CAB meeting chaired by a `cab_member`, invite its members (users or
    usernames; the chair is always one), build its agenda from the releases waiting for
    the CAB, and tell the members."""
    require_cab(actor)
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    location = (location or "").strip()
    if not title:
        errors.setdefault("title", []).append(_("Give the meeting a title."))
    elif len(title) > 200:
        errors.setdefault("title", []).append(_("At most 200 characters."))
    if not isinstance(starts, datetime):
        errors.setdefault("starts", []).append(_("Give the date and time the meeting starts."))
    elif timezone.is_naive(starts):
        starts = timezone.make_aware(starts)
    if len(location) > 200:
        errors.setdefault("location", []).append(_("At most 200 characters."))
    chair_user = _user(chair)
    if chair_user is None:
        errors.setdefault("chair", []).append(
            _("There is no active user '%s'.") % (getattr(chair, "username", chair) or "")
            if chair
            else _("Name the chair of the meeting.")
        )
    elif not permissions.holds_anywhere(chair_user, BuiltinRole.CAB_MEMBER):
        errors.setdefault("chair", []).append(
            _("%(who)s does not hold the role '%(role)s', so may not chair the CAB.")
            % {"who": chair_user, "role": BuiltinRole.CAB_MEMBER.label}
        )
    people = [chair_user] if chair_user else []
    for ref in members or ():
        person = _user(ref)
        if person is None:
            errors.setdefault("members", []).append(
                _("There is no active user '%s'.") % getattr(ref, "username", ref)
            )
        elif all(person.pk != p.pk for p in people):
            people.append(person)
    if chair_user and len(people) < 1 + QUORUM_OTHERS and "members" not in errors:
        errors.setdefault("members", []).append(
            _("Invite at least one member besides the chair: the board decides with a quorum.")
        )
    raise_if_invalid(errors)
    with transaction.atomic():
        meeting = CabMeeting.objects.create(
            title=title, starts=starts, location=location, chair=chair_user
        )
        CabAttendance.objects.bulk_create(
            [CabAttendance(meeting=meeting, member=person) for person in people]
        )
        items = _fill_agenda(actor, meeting)
        numbers = [item.release.number for item in items]
        audit.record(
            actor,
            "cab.scheduled",
            meeting,
            after={
                "title": title,
                "starts": starts,
                "location": location,
                "chair": chair_user.username,
                "members": [p.username for p in people],
                "agenda": numbers,
            },
        )
        emit(
            "cab.scheduled",
            None,
            actor=actor,
            data={
                "date": starts,
                "meeting": meeting.pk,
                "title": title,
                "location": location,
                "agenda": numbers,
            },
            users=people,
        )
    return meeting


def build_agenda(actor: Any, meeting: CabMeeting | int) -> list[CabAgendaItem]:
    """Add the releases that have come to wait for the CAB since the meeting was scheduled
    (deferred ones included) to a planned meeting's agenda; returns the items added."""
    require_cab(actor)
    with transaction.atomic():
        meeting = get_meeting(actor, meeting, for_update=True)
        require_planned(meeting)
        items = _fill_agenda(actor, meeting)
        if items:
            audit.record(
                actor,
                "cab.agenda_built",
                meeting,
                after={"added": [item.release.number for item in items]},
            )
    return items


# ---------------------------------------------------------------- the meeting


def record_attendance(
    actor: Any, meeting: CabMeeting | int, attendance: dict[str, bool]
) -> CabMeeting:
    """Record who of the invited members attended (username: present or not)."""
    require_cab(actor)
    if not attendance:
        raise ValidationFailed(_("Say who attended."), field="attendance")
    with transaction.atomic():
        meeting = get_meeting(actor, meeting, for_update=True)
        require_planned(meeting)
        rows = {
            row.member.username: row
            for row in CabAttendance.objects.filter(meeting=meeting).select_related("member")
        }
        unknown = [name for name in attendance if name not in rows]
        if unknown:
            raise ValidationFailed(
                _("%(names)s is not a member of this meeting. Its members: %(members)s.")
                % {"names": ", ".join(unknown), "members": ", ".join(sorted(rows))},
                field="attendance",
            )
        before, after = {}, {}
        for name, present in attendance.items():
            row = rows[name]
            if row.present is not None and row.present == bool(present):
                continue
            before[name], after[name] = row.present, bool(present)
            row.present = bool(present)
            row.save(update_fields=["present"])
        if after:
            audit.record(actor, "cab.attendance", meeting, before=before, after=after)
    return meeting


def close_meeting(actor: Any, meeting: CabMeeting | int, minutes: str) -> CabMeeting:
    """Record the minutes and mark a planned meeting held. Releases left undecided go back
    to waiting and join the next meeting's agenda."""
    require_cab(actor)
    minutes = (minutes or "").strip()
    if not minutes:
        raise ValidationFailed(_("Write the minutes of the meeting."), field="minutes")
    if len(minutes) > MAX_MINUTES:
        raise ValidationFailed(_("At most %d characters.") % MAX_MINUTES, field="minutes")
    with transaction.atomic():
        meeting = get_meeting(actor, meeting, for_update=True)
        require_planned(meeting)
        if not CabAttendance.objects.filter(meeting=meeting, present__isnull=False).exists():
            raise ValidationFailed(
                _("Record the meeting's attendance before closing it."), field="attendance"
            )
        items = list(meeting.agenda.select_related("release"))
        meeting.status = CabMeeting.HELD
        meeting.minutes = minutes
        meeting.save(update_fields=["status", "minutes", "updated"])
        audit.record(
            actor,
            "cab.held",
            meeting,
            before={"status": CabMeeting.PLANNED},
            after={
                "status": CabMeeting.HELD,
                "decisions": {i.release.number: i.decision for i in items if i.decision},
                "undecided": [i.release.number for i in items if not i.decision],
            },
            reason=minutes[:500],
        )
    return meeting


def cancel_meeting(actor: Any, meeting: CabMeeting | int, reason: str) -> CabMeeting:
    """Cancel a planned meeting on which nothing was decided; its releases go back to
    waiting for the next meeting."""
    require_cab(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the meeting is cancelled."), field="reason")
    if len(reason) > MAX_TEXT:
        raise ValidationFailed(_("At most %d characters.") % MAX_TEXT, field="reason")
    with transaction.atomic():
        meeting = get_meeting(actor, meeting, for_update=True)
        require_planned(meeting)
        if meeting.agenda.exclude(decision="").exists():
            raise Conflict(
                _("The board already decided at this meeting: close it with its minutes instead.")
            )
        meeting.status = CabMeeting.CANCELLED
        meeting.save(update_fields=["status", "updated"])
        audit.record(
            actor,
            "cab.cancelled",
            meeting,
            before={"status": CabMeeting.PLANNED},
            after={"status": CabMeeting.CANCELLED},
            reason=reason,
        )
    return meeting
