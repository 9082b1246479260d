"""Who may decide an approval step, and which steps are open: the rules in one place.

Segregation of duties lives here (DESIGN.md rule 4): nobody decides a release they
requested or manage, nobody fills two places of one stage, and both rules bind a delegate
and the person they stand in for alike.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.accounts.models import RoleAssignment, Team, TeamMembership
from relman.approvals.models import Delegation, PendingStep
from relman.core import permissions
from relman.processes import engine
from relman.processes.definition import INVOLVED, REQUESTER, ApprovalStep, Process, Stage
from relman.processes.messages import role_label
from relman.releases.models import Approval, Release
from relman.releases.services.scope import involved_departments, requester_departments


def departments_for(step: ApprovalStep, release: Release) -> list[Team] | None:
    """The departments the step's approvers must belong to (holding its role there); None
    when any will do. `requester`: the requester's own; otherwise the one named, by code or
    name. (A step of the `involved` departments has a place for each: `department_places`.)
    An empty list means nobody can approve, and the refusal says why."""
    if not step.department:
        return None
    if step.department == REQUESTER:
        return requester_departments(release)
    return list(
        Team.objects.filter(
            Q(code=step.department) | Q(name=step.department), is_active=True
        ).order_by("code")[:1]
    )


def department_places(release: Release, step: ApprovalStep) -> tuple[list[Team], dict[int, int]]:
    """A step for the involved departments: the departments, and which of them its live
    approvals fill (department id -> the person deciding, themselves or through a delegate).
    One person fills one department's place; when a person belongs to several, the places
    are matched so that as many departments as possible are filled."""
    teams = involved_departments(release)
    people = [
        principal or approver
        for approver, principal in Approval.objects.filter(
            release=release,
            stage=release.stage,
            step=step.key,
            decision=Approval.APPROVED,
            voided__isnull=True,
        )
        .order_by("created", "id")
        .values_list("approver_id", "on_behalf_of_id")
    ]
    belongs: dict[int, list[int]] = {}
    for user_id, team_id in TeamMembership.objects.filter(
        user_id__in=people, team__in=teams
    ).values_list("user_id", "team_id"):
        belongs.setdefault(user_id, []).append(team_id)
    filled: dict[int, int] = {}

    def place(person: int, tried: set[int]) -> bool:
        for team in sorted(belongs.get(person, ())):
            if team not in tried:
                tried.add(team)
                if team not in filled or place(filled[team], tried):
                    filled[team] = person
                    return True
        return False

    for person in dict.fromkeys(people):
        place(person, set())
    return teams, filled


def holders(release: Release, role: str) -> Any:
    """The active users holding a role for the release's application."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            role_assignments__in=RoleAssignment.objects.filter(role_id=role).filter(
                Q(application__isnull=True) | Q(application_id=release.application_id)
            ),
        )
        .distinct()
    )


def eligible_users(release: Release, step: ApprovalStep, *, escalated: bool = False) -> list[Any]:
    """Everyone who could fill a place of the step: role, department, and not a party to it."""
    roles = [step.role] + ([step.escalate_to] if escalated and step.escalate_to else [])
    users = get_user_model().objects.none()
    for role in roles:
        users = users | holders(release, role)
    users = users.exclude(pk__in=[release.requester_id, release.release_manager_id or 0])
    if step.department == INVOLVED:
        teams, filled = department_places(release, step)
        users = users.filter(memberships__team__in=[t for t in teams if t.pk not in filled])
    elif (teams := departments_for(step, release)) is not None:
        users = users.filter(memberships__team__in=teams)
    return list(users.distinct().order_by("username"))


def eligible_counts(release: Release, stage: Stage) -> dict[str, int]:
    """For steps that need "all": how many people could approve them (a step of the
    involved departments counts its departments instead: `department_places`)."""
    return {
        step.key: len(eligible_users(release, step))
        for step in stage.approvals
        if step.count is None and step.department != INVOLVED
    }


def active_delegators(user: Any, at: Any = None) -> list[Any]:
    """The people `user` stands in for now."""
    at = at or timezone.now()
    return [
        d.delegator
        for d in Delegation.objects.filter(
            delegate=user, starts__lte=at, ends__gt=at, revoked__isnull=True
        ).select_related("delegator")
        if d.delegator.is_active
    ]


def active_delegates(users: list[Any], at: Any = None) -> list[Any]:
    """The people standing in for any of `users` now."""
    at = at or timezone.now()
    return [
        d.delegate
        for d in Delegation.objects.filter(
            delegator__in=users, starts__lte=at, ends__gt=at, revoked__isnull=True
        ).select_related("delegate")
        if d.delegate.is_active
    ]


def with_delegates(users: list[Any], at: Any = None) -> list[Any]:
    """The users and the people standing in for them now, each once: whom to tell of a step."""
    everyone = [*users, *active_delegates(users, at)]
    return list({u.pk: u for u in everyone}.values())


def refusal(
    process: Process,
    release: Release,
    step: ApprovalStep,
    actor: Any,
    principal: Any,
    *,
    escalated: bool = False,
    filled: set[int] = frozenset(),
) -> str | None:
    """Why `actor`, deciding for `principal` (themselves or the person they stand in for),
    may not decide the step; None when they may. `filled` holds the ids of the people who
    already decided in this stage, themselves or through a delegate."""
    for person in {actor.pk: actor, principal.pk: principal}.values():
        if person.pk == release.requester_id:
            return _("%(who)s requested release %(number)s, so may not approve it.") % {
                "who": person,
                "number": release.number,
            }
        if person.pk == release.release_manager_id:
            return _("%(who)s manages release %(number)s, so may not approve it.") % {
                "who": person,
                "number": release.number,
            }
        if person.pk in filled:
            return _("%(who)s already decided in this stage; one person fills one place.") % {
                "who": person
            }
    roles = permissions.roles_of(principal, release.application_id)
    allowed = {step.role} | ({step.escalate_to} if escalated and step.escalate_to else set())
    if not roles & allowed:
        return _("%(who)s does not hold the role '%(role)s' for this application.") % {
            "who": principal,
            "role": role_label(process, step.role),
        }
    return _department_refusal(release, step, principal)


def _department_refusal(release: Release, step: ApprovalStep, principal: Any) -> str | None:
    """Why `principal` may not fill a place of the step for lack of the right department."""
    if step.department == INVOLVED:
        teams, filled = department_places(release, step)
        if not teams:
            return _("Release %s involves no department, so no department can approve.") % (
                release.number
            )
        open_teams = [t for t in teams if t.pk not in filled]
        mine = set(
            TeamMembership.objects.filter(user=principal, team__in=open_teams).values_list(
                "team_id", flat=True
            )
        )
        if not mine:
            return _(
                "The step waits for an approver of each department involved; "
                "%(who)s belongs to none of those still waiting: %(departments)s."
            ) % {"who": principal, "departments": ", ".join(t.name for t in open_teams)}
        return None
    teams = departments_for(step, release)
    if teams is None:
        return None
    if not teams:
        if step.department == REQUESTER:
            return _("The requester has no department, so no department head can approve.")
        return _("There is no active department '%s'.") % step.department
    if not TeamMembership.objects.filter(user=principal, team__in=teams).exists():
        return _("Only approvers of the department '%(department)s' may decide this step.") % {
            "department": ", ".join(t.name for t in teams)
        }
    return None


def escalated_steps(release: Release) -> set[str]:
    """The open steps of the release's current stage that expired and escalated."""
    return set(
        PendingStep.objects.filter(
            release=release, stage=release.stage, closed__isnull=True, escalated__isnull=False
        ).values_list("step", flat=True)
    )


def filled_by(release: Release) -> set[int]:
    """The people who already decided in the release's current stage (live decisions)."""
    rows = Approval.objects.filter(
        release=release, stage=release.stage, voided__isnull=True
    ).values_list("approver_id", "on_behalf_of_id")
    return {pk for pair in rows for pk in pair if pk}


def sync_steps(release: Release, stage: Stage | None, snap: engine.Snapshot) -> list[tuple]:
    """Make the open PendingStep rows match the steps open now; return the newly opened
    (pending, step) pairs so the caller can tell their approvers."""
    now = timezone.now()
    open_now = {s.key: s for s in engine.open_steps(stage, snap)} if stage and snap.is_open else {}
    current = {
        p.step: p
        for p in PendingStep.objects.filter(release=release, closed__isnull=True)
        if p.stage == release.stage
    }
    PendingStep.objects.filter(release=release, closed__isnull=True).exclude(
        stage=release.stage, step__in=list(open_now)
    ).update(closed=now)
    opened = []
    for key, step in open_now.items():
        if key in current:
            continue
        expires = now + timedelta(hours=step.expires_after) if step.expires_after else None
        remind = (
            expires - timedelta(hours=step.remind_before)
            if expires and step.remind_before
            else None
        )
        pending = PendingStep.objects.create(
            release=release,
            stage=release.stage,
            step=key,
            role=step.role,
            escalate_role=step.escalate_to or "",
            opened=now,
            expires_at=expires,
            remind_at=remind,
        )
        opened.append((pending, step))
    return opened
