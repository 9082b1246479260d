"""The board's decisions at a CAB meeting: the quorum, and approving, rejecting or deferring
each release of the agenda (the rules are in `cab.py`'s docstring; the meetings themselves,
their agenda and attendance, are in `cab.py`)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.approvals.models import CabAgendaItem, CabAttendance, CabMeeting, PendingStep
from relman.approvals.services import decisions, policy
from relman.approvals.services.cab_reads import (
    cab_step,
    get_meeting,
)
from relman.audit import services as audit
from relman.core import ids
from relman.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from relman.releases import access
from relman.releases.choices import Status
from relman.releases.models import Release
from relman.releases.services.state import flow_of

APPROVE, REJECT, DEFER = CabAgendaItem.APPROVE, CabAgendaItem.REJECT, CabAgendaItem.DEFER
DECISIONS = (APPROVE, REJECT, DEFER)
# The quorum: the chair present, and this many other members present.
QUORUM_OTHERS = 1
MAX_TEXT = 5000
MAX_MINUTES = 50000


def require_planned(meeting: CabMeeting) -> None:
    """Refuse a meeting that is no longer planned (cancelled, or held and closed)."""
    if meeting.status == CabMeeting.CANCELLED:
        raise Conflict(_("The CAB meeting '%s' was cancelled.") % meeting.title)
    if meeting.status == CabMeeting.HELD:
        raise Conflict(_("The CAB meeting '%s' was held and its record is closed.") % meeting.title)


def quorum_problem(meeting: CabMeeting) -> str | None:
    """Why the meeting may not decide yet (no attendance, chair absent, no quorum); None
    when it may. The quorum is the chair and at least one other member present."""
    rows = list(CabAttendance.objects.filter(meeting=meeting).values_list("member_id", "present"))
    if all(present is None for _member, present in rows):
        return _("Record the meeting's attendance before deciding.")
    if not any(member == meeting.chair_id and present for member, present in rows):
        return _("The chair, %s, is not recorded as present.") % meeting.chair
    others = sum(1 for member, present in rows if present and member != meeting.chair_id)
    if others < QUORUM_OTHERS:
        return (
            _("No quorum: besides the chair, at least %d member must be present.") % QUORUM_OTHERS
        )
    return None


def _agenda_item(meeting: CabMeeting, ref: Release | str | int) -> CabAgendaItem:
    key = str(ref.pk if isinstance(ref, Release) else ref).strip()
    number = ids.as_id(key)
    lookup = Q(release_id=number) if number else Q(release__number=key)
    item = (
        CabAgendaItem.objects.select_for_update(of=("self",))
        .filter(lookup, meeting=meeting)
        .select_related("release")
        .first()
    )
    if item is None:
        raise NotFound(_("Release %s is not on the agenda of this meeting.") % key)
    return item


def _still_waiting(item: CabAgendaItem, release: Release) -> None:
    """The release still waits at the item's step: open, in that stage, the step open."""
    if release.status != Status.IN_PROGRESS:
        raise Conflict(_("Release %s is closed.") % release.number)
    waiting_now = PendingStep.objects.filter(
        release=release, stage=item.stage, step=item.step, closed__isnull=True
    ).exists()
    if release.stage != item.stage or not waiting_now:
        raise Conflict(
            _("Release %s no longer waits for the CAB at this step: it moved on meanwhile.")
            % release.number
        )


def decide_item(
    actor: Any,
    meeting: CabMeeting | int,
    release: Release | str | int,
    decision: str,
    reason: str = "",
    *,
    checks: list[str] | None = None,
) -> CabAgendaItem:
    """Record the board's decision on a release of the agenda: approve or reject its CAB
    step (an approval decision made by the chair for the meeting), or defer it with a
    reason (the step stays open and the release returns on the next agenda)."""
    if decision not in DECISIONS:
        raise ValidationFailed(_("Decide 'approve', 'reject' or 'defer'."), field="decision")
    reason = (reason or "").strip()
    if decision in (REJECT, DEFER) and not reason:
        raise ValidationFailed(
            _("A rejection needs a reason.")
            if decision == REJECT
            else _("A deferral needs a reason."),
            field="reason",
        )
    if len(reason) > MAX_TEXT:
        raise ValidationFailed(_("At most %d characters.") % MAX_TEXT, field="reason")
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("Only the chair records the CAB's decisions."))
    with transaction.atomic():
        meeting = get_meeting(actor, meeting, for_update=True)
        require_planned(meeting)
        if actor.pk != meeting.chair_id:
            raise PermissionDenied(
                _("Only the chair, %s, records the CAB's decisions.") % meeting.chair
            )
        item = _agenda_item(meeting, release)
        if item.decision:
            raise Conflict(
                _("The CAB already decided release %(number)s at this meeting: %(decision)s.")
                % {"number": item.release.number, "decision": item.get_decision_display()}
            )
        problem = quorum_problem(meeting)
        if problem:
            raise ValidationFailed(problem, field="attendance")
        target = access.get_visible(actor, item.release_id, for_update=True)
        _still_waiting(item, target)
        approval = None
        if decision == DEFER:
            _may_defer(actor, target, item)
        else:
            comment = reason or _("Approved at the CAB meeting '%s'.") % meeting.title
            decide = decisions.approve if decision == APPROVE else decisions.reject
            approval = decide(
                actor, target, step=item.step, comment=comment, checks=checks, cab_meeting=meeting
            )
        item.decision = decision
        item.reason = reason
        item.decided_at = timezone.now()
        item.approval = approval
        item.save(update_fields=["decision", "reason", "decided_at", "approval"])
        audit.record(
            actor,
            "cab.decided",
            item,
            release=target,
            after={
                "meeting": meeting.pk,
                "meeting_title": meeting.title,
                "stage": item.stage,
                "step": item.step,
                "decision": decision,
                "approval": approval.pk if approval else None,
            },
            reason=reason,
        )
    return item


def _may_defer(actor: Any, release: Release, item: CabAgendaItem) -> None:
    """A deferral is a decision too: the same people may make it as may approve."""
    process, _variant = flow_of(release)
    step = cab_step(release, item.stage, item.step)
    if step is None:
        raise Conflict(_("Release %s no longer waits for the CAB.") % release.number)
    why = policy.refusal(
        process,
        release,
        step,
        actor,
        actor,
        escalated=item.step in policy.escalated_steps(release),
    )
    if why:
        raise PermissionDenied(why)
