"""Small builders for test data. Each goes through the services, like a real user would."""

from __future__ import annotations

import itertools
from typing import Any

from relman.accounts import services as accounts
from relman.cmdb.models import Application, Environment
from relman.processes.services import load_processes
from relman.releases import access as releases_access
from relman.releases import services as releases

_n = itertools.count(1)


def processes() -> None:
    """Load the shipped presets (idempotent)."""
    load_processes(files=None)


def application(code: str | None = None, process: str = "tfdl", **extra: Any) -> Application:
    code = code or f"app{next(_n)}"
    app, _created = Application.objects.get_or_create(
        code=code, defaults={"name": code.upper(), "process_name": process, **extra}
    )
    return app


def environment(code: str = "prod") -> Environment:
    env, _created = Environment.objects.get_or_create(
        code=code, defaults={"name": code, "is_production": code == "prod"}
    )
    return env


def user(
    username: str | None = None, *roles: str, app: Application | str | None = None, **extra: Any
):
    """A user holding `roles` for `app` (or for every application when app is None)."""
    made, _password = accounts.create_user(
        None, username=username or f"user{next(_n)}", password="a-Long-pass-123", **extra
    )
    for role in roles:
        accounts.assign_role(None, made, role, app.code if isinstance(app, Application) else app)
    return made


def admin(username: str = "admin"):
    return user(username, is_superuser=True)


def release(requester, app: Application, **fields: Any):
    fields.setdefault("title", "A release")
    fields.setdefault("kind", "upgrade")
    return releases.create_release(requester, application=app, **fields)


# ---------------------------------------------------------------- walking a release through its gates


def upload(name: str = "plan.txt", content: bytes = b"The plan.\n"):
    """An uploaded file as a view would receive it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def _get_or_make_user(username: str, *roles: str, app: Application, **extra: Any):
    from django.contrib.auth import get_user_model

    existing = get_user_model().objects.filter(username=username).first()
    return existing or user(username, *roles, app=app, **extra)


def crew(app: Application, username: str | None = None):
    """A user holding every role the stages of the app's process name, for that app only
    (never `requester`, so they count as an independent approver)."""
    from relman.processes import services as processes

    process = processes.definition(processes.current_version(app.process_name))
    roles = sorted({r for v in process.variants for s in v.stages for r in s.roles} - {"requester"})
    return _get_or_make_user(username or f"crew-{app.code}", *roles, app=app)


def approvers(app: Application, role: str, count: int = 1, department: str = "") -> list:
    """`count` distinct users holding `role` for the app (made once, then reused), of
    `department` when a step asks for one."""
    suffix = f"-d{abs(hash(department)) % 10000}" if department else ""
    return [
        _get_or_make_user(f"{app.code}-{role}{suffix}-{i}", role, app=app, department=department)
        for i in range(1, count + 1)
    ]


def gate_items(release) -> list[tuple[str, str, int]]:
    """The current stage's gate as (kind, key, count): deliverables, approval steps in
    policy order, checklist, the schedule, and the readiness review where the stage asks."""
    from relman.processes import engine

    _process, variant = releases.flow_of(release)
    stage = variant.stage(release.stage)
    snap = releases.snapshot(release)
    return [
        *(("deliverable", d, 1) for d in stage.deliverables),
        *(
            ("approval", s.key, engine.needed(s, snap))
            for s in engine.steps_of(stage, snap)
            if not s.optional
        ),
        *(("checklist", c, 1) for c in stage.checklist),
        *((("schedule", "window", 1),) if stage.scheduled else ()),
        *((("readiness", "review", 1),) if stage.readiness else ()),
        *((("impact", "review", 1),) if stage.option("impact_reviewed") else ()),
        # met by itself while the release touches no configuration item
        *(
            (("cmdb", "updated", 1),)
            if stage.option("cmdb_updated") and release.items.exists()
            else ()
        ),
        *change_items(release, stage, snap),
    ]


def change_items(release, stage, snap) -> list[tuple[str, str, int]]:
    """The unmet parts of the stage's changes_approved and change_reviews gates."""
    from relman.processes.gates import installed

    found = []
    for key in ("changes_approved", "change_reviews"):
        options = stage.option(key)
        if options:
            found += [(u.kind, u.key, 1) for u in installed()[key].evaluate(options, snap)]
    return found


def meet(actor, release, kind: str, key: str, count: int = 1) -> None:
    """Meet one part of the current stage's gate: upload the deliverable, tick the item,
    schedule the release into a window, record a go readiness review, or have enough
    independent approvers the step's policy accepts decide it (with its deliverables and
    checks; a CAB step at a CAB meeting)."""
    from relman.approvals.services import decisions, policy
    from relman.processes.definition import INVOLVED

    if kind == "deliverable":
        releases.add_deliverable(
            actor, release, key=key, upload=upload(f"{key}.txt", f"{key}\n".encode())
        )
    elif kind == "checklist":
        releases.complete_checklist_item(actor, release, item=key)
    elif kind == "schedule":
        schedule(actor, release)
    elif kind == "readiness":
        ready(actor, release)
    elif kind == "cmdb":
        if release.items.exists():
            releases.record_deployed(actor, release, version=release.version_number or "1.0")
    elif kind in ("change", "change_review"):
        meet_change(actor, release, kind, key)
    elif kind == "impact":
        release.refresh_from_db()
        _process, variant = releases.flow_of(release)
        role = variant.stage(release.stage).option("impact_reviewed").role
        reviewer = actor if actor.pk != release.requester_id else None
        if reviewer is None or role not in releases_access.release_roles(reviewer, release):
            reviewer = approvers(release.application, role)[0]
        releases.review_impact(reviewer, release)
    else:
        release.refresh_from_db()
        _process, variant = releases.flow_of(release)
        step = variant.stage(release.stage).step(key)
        present = set(release.deliverables.values_list("key", flat=True))
        for d in step.deliverables:
            if d not in present:
                meet(actor, release, "deliverable", d)
        if step.cab:
            hold_cab(release, key)
            return
        done = policy.filled_by(release)
        if step.department == INVOLVED:
            people = involved_approvers(release, step)
        else:
            teams = policy.departments_for(step, release)
            department = teams[0].name if teams else ""
            people = approvers(release.application, step.role, count, department=department)
        if step.count is None and step.department != INVOLVED:
            people = policy.eligible_users(release, step)
        for person in people:
            if person.pk not in done:
                decisions.approve(person, release, step=key, checks=list(step.checks))


def involved_approvers(release, step) -> list:
    """One approver holding the step's role in each involved department still waiting (the
    requester joins a department of their own first when the release involves none)."""
    from relman.accounts import teams
    from relman.approvals.services import policy

    if not releases.involved_departments(release):
        teams.join_department(None, release.requester, f"{release.application.code}-requesters")
    places, filled = policy.department_places(release, step)
    return [
        approvers(release.application, step.role, department=team.name)[0]
        for team in places
        if team.pk not in filled
    ]


def approved_change(app: Application, title: str = "A change", **fields: Any):
    """A change for the app, requested by its change owner and approved by a CAB member."""
    from relman.changes import services as changes

    owner = approvers(app, "change_owner")[0]
    board = approvers(app, "cab_member")[0]
    change = changes.create_change(owner, title=title, application=app, submit=True, **fields)
    return changes.approve_change(board, change, note="Approved.")


def carry_approved_change(actor, release, title: str = "An approved change"):
    """Put an approved change into the release (the mof readiness review's changes_approved
    gate), at its revision."""
    from relman.changes import services as changes

    release.refresh_from_db()
    change = approved_change(release.application, title)
    changes.change_release_changes(
        actor, release, "add", [change.number], revision=release.revision
    )
    release.refresh_from_db()
    return change


def meet_change(actor, release, kind: str, key: str) -> None:
    """Meet a changes_approved part (carry an approved change, or approve the one named) or
    a change_reviews part (review the change named, by the release's application's release
    manager)."""
    from relman.changes import access as change_access
    from relman.changes import services as changes

    release.refresh_from_db()
    if kind == "change" and key == "none":
        change = approved_change(release.application, f"Change for {release.number}")
        editor = actor if releases_access.can_edit(actor, release) else release.requester
        changes.change_release_changes(
            editor, release, "add", [change.number], revision=release.revision
        )
    elif kind == "change":
        change = changes.get_change(key)
        if change.status != "submitted":
            changes.submit_change(change.requester, change)
        board = approvers(release.application, "cab_member")[0]
        changes.approve_change(board, change, note="Approved.")
    else:
        change = changes.get_change(key)
        reviewer = actor
        if not change_access.can_review(reviewer, change, release):
            reviewer = approvers(release.application, "release_manager")[0]
        changes.review_change(reviewer, change, achieved="yes", release=release.number)
    release.refresh_from_db()


def hold_cab(release, key: str):
    """A CAB meeting (a chair and one more member, both present) that approves the release's
    CAB step, through the CAB services."""
    from django.utils import timezone

    from relman.approvals.services import cab

    chair, member = approvers(release.application, "cab_member", 2)
    meeting = cab.schedule_meeting(
        chair, f"CAB for {release.number}", timezone.now(), chair=chair, members=[member]
    )
    cab.record_attendance(chair, meeting, {chair.username: True, member.username: True})
    return cab.decide_item(chair, meeting, release.number, "approve")


def ready(actor, release):
    """A go readiness review of the current stage, every criterion met (noted so), recorded
    through the readiness service."""
    from relman.approvals.services import readiness

    process, _variant = releases.flow_of(release)
    criteria = {c.key: {"met": True, "note": "ok"} for c in process.readiness_criteria}
    return readiness.record_review(actor, release, decision="go", criteria=criteria)


# Seed 002's upgrade window: the evenings of the 2nd and 4th Thursday, 19:00-23:00.
SEED_002_RULE = "FREQ=MONTHLY;BYDAY=2TH,4TH"


def release_window(app: Application, **fields: Any):
    """A window covering the app (made once): seed 002's by default, from this month on."""
    from django.utils import timezone

    from relman.calendar.models import ReleaseWindow
    from relman.calendar.services import windows

    found = windows.applicable_windows(application=app).filter(application=app).first()
    if found is not None and not fields:
        return found
    fields.setdefault("name", f"{app.code} upgrade window")
    fields.setdefault("rrule", SEED_002_RULE)
    fields.setdefault("first_date", timezone.localdate().replace(day=1))
    fields.setdefault("start_time", "19:00")
    fields.setdefault("duration_minutes", 240)
    fields.setdefault("application", app)
    existing = ReleaseWindow.objects.filter(name=fields["name"]).first()
    return existing or windows.create_window(calendar_admin(), **fields)


def calendar_admin():
    """A superuser who manages windows, freezes and plans (made once)."""
    from django.contrib.auth import get_user_model

    existing = get_user_model().objects.filter(username="calendar-admin").first()
    return existing or user("calendar-admin", is_superuser=True)


def schedule(actor, release, after=None):
    """Schedule the release into the next occurrence with room of a window covering it,
    making seed 002's window for its application when none covers it."""
    from django.utils import timezone

    from relman.calendar.services import scheduling, windows

    release.refresh_from_db()
    if not windows.windows_for_release(release).exists():
        release_window(release.application)
    found = scheduling.next_open(release, after or timezone.now())
    assert found is not None, f"no window with room for {release.number}"
    window, occurrence = found
    return scheduling.schedule_release(actor, release, start=occurrence.start, window_id=window.pk)


def meet_gate(actor, release):
    """Meet the whole gate of the release's current stage."""
    for kind, key, count in gate_items(release):
        meet(actor, release, kind, key, count)
    release.refresh_from_db()
    return release


def walk_to(actor, release, stage: str):
    """Meet each gate and advance until the release is in `stage`."""
    release.refresh_from_db()
    while release.stage != stage:
        meet_gate(actor, release)
        release = releases.advance(actor, release, revision=release.revision)
    return release


# ---------------------------------------------------------------- the CMDB


def ci_type(code: str, **fields: Any):
    """An item type (the built-in ones exist after migrating; transactional tests flush them)."""
    from relman.cmdb.models import CIType

    fields.setdefault("name", code.replace("_", " ").title())
    fields.setdefault("is_service", code == "service")
    kind, _created = CIType.objects.get_or_create(code=code, defaults=fields)
    return kind


def ci(name: str, type: str = "server", **fields: Any):
    """A configuration item of the type `type` (a code), made through the service;
    `owner_team`, `environment` and `application` are objects or codes."""
    from relman.cmdb import services as cmdb

    ci_type(type)
    return cmdb.create_item(None, type=type, name=name, **fields)


def depends(source, target, kind: str = "depends_on"):
    """`source` depends on (runs on, is part of, connects to) `target`, through the service."""
    from relman.cmdb import services as cmdb

    return cmdb.add_relationship(None, source, kind, target)


def team(code: str, name: str | None = None, *, head=None, members=()):
    """A department with a head and members (made with the ORM; the teams' services are
    tested in tests/accounts)."""
    from relman.accounts.models import Team, TeamMembership

    made, _created = Team.objects.get_or_create(code=code, defaults={"name": name or code.upper()})
    if head is not None:
        TeamMembership.objects.get_or_create(team=made, user=head, defaults={"is_head": True})
    for member in members:
        TeamMembership.objects.get_or_create(team=made, user=member)
    return made


def deployed(item, app: Application, version: str, **extra: Any):
    """A current deployed version of `app` on `item`, recorded by hand (no release)."""
    from django.utils import timezone

    from relman.cmdb.models import DeployedVersion

    extra.setdefault("installed", timezone.now())
    return DeployedVersion.objects.create(ci=item, application=app, version=version, **extra)


def librarian(username: str = "lib"):
    """A configuration librarian for every application."""
    return user(username, "configuration_librarian")
