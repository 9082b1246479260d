"""Demo data: environments, applications, people and a year of releases in every process.

`load_demo()` is what `relman demo` and `relman setup --demo` call. Releases are made the
way people make them, through the services (create, deliver, tick, approve, move on), so
the audit chain, numbering and permissions are the real ones. Only environments and
applications, reference data without a service yet, are written with the ORM.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.accounts import services as accounts
from relman.accounts.choices import CREATORS, BuiltinRole
from relman.audit.models import AuditEvent
from relman.cmdb.models import Application, Environment
from relman.demo.calendar import create_calendar, draft_next_year
from relman.demo.cast import (
    APPLICATIONS,
    DEMO_PROCESSES,
    MARKER,
    People,
    check_usernames_free,
    create_applications,
    create_environments,
    create_people,
)
from relman.demo.cmdb import load as load_cmdb
from relman.demo.texts import title
from relman.demo.walk import (
    CANCEL,
    IN_PROGRESS,
    Plan,
    SimulatedClock,
    World,
    flows,
    office_hours,
    run_all,
)
from relman.notifications.models import Message
from relman.processes import services as processes
from relman.processes.definition import Process
from relman.processes.models import ProcessVersion
from relman.releases.choices import Kind, Method, Outcome, ReleaseClass, Risk, Status
from relman.releases.models import DeliverableVersion, Release

__all__ = ["DemoSummary", "load_demo"]

YEAR = timedelta(days=365)
# How a release is drawn when no particular flow is wanted: kind, method and class weights.
KIND_WEIGHTS = {Kind.UPGRADE: 45, Kind.PATCH: 25, Kind.NEW_SYSTEM: 10, Kind.DOCUMENTS: 20}
CLASS_WEIGHTS = {ReleaseClass.MINOR: 25, ReleaseClass.STANDARD: 55, ReleaseClass.MAJOR: 20}
EMERGENCY_SHARE = 0.12


@dataclass(frozen=True)
class DemoSummary:
    """What `load_demo` made. Its text names the demo users and, once, their password."""

    skipped: bool
    environments: int = 0
    applications: int = 0
    users: tuple[str, ...] = ()
    releases: int = 0
    outcomes: tuple[tuple[str, int], ...] = ()  # (outcome or "in_progress", count)
    deliverables: int = 0
    audit_events: int = 0
    seconds: float = 0.0
    password: str = field(default="", repr=False)

    def __str__(self) -> str:
        if self.skipped:
            return (
                _("Demo data is already loaded (the application '%s' exists); nothing was changed.")
                % MARKER
            )
        labels = {**dict(Outcome.choices), IN_PROGRESS: Status.IN_PROGRESS.label}
        outcomes = ", ".join(f"{labels.get(k, k)}: {n}" for k, n in self.outcomes)
        made = _(
            "%(releases)d releases over the past year (%(outcomes)s); %(applications)d "
            "applications, %(environments)d environments, %(users)d users, %(deliverables)d "
            "deliverable versions, %(events)d audit events. Took %(seconds).1f s."
        ) % {
            "releases": self.releases,
            "outcomes": outcomes,
            "applications": self.applications,
            "environments": self.environments,
            "users": len(self.users),
            "deliverables": self.deliverables,
            "events": self.audit_events,
            "seconds": self.seconds,
        }
        lines = [made, _("Demo users: %s.") % ", ".join(self.users)]
        if self.password:
            lines.append(
                _("Their shared password: %s (shown only now; write it down).") % self.password
            )
        return "\n".join(lines)


def load_demo(*, seed: int = 2026, releases_per_app: int | None = None) -> DemoSummary:
    """Load the demo data, unless it is there already (the application 'crm' exists).

    Makes four environments, eight applications (two for each of the mof, hhlc, feh and
    tfdl processes), a user for every role, and about twelve months of releases — every flow
    of every process and every outcome, with some still in progress — from `seed`, so two
    loads on the same day make the same history. `releases_per_app` makes fewer (or more).

    The history is written under a simulated clock (see `walk.SimulatedClock`): the services
    stamp `timezone.now()`, which is patched for the duration, so this must not run while the
    same process serves requests. Everything is written in one transaction: a failure leaves
    nothing half-loaded.
    """
    started = time.monotonic()
    if Application.objects.filter(code=MARKER).exists():
        return DemoSummary(skipped=True)
    if releases_per_app is not None and releases_per_app < 0:
        raise ValueError("releases_per_app must not be negative")
    check_usernames_free()
    rng = random.Random(seed)
    # The history ends at the start of today (local time), so the same seed on the same day
    # makes the same history whatever the hour.
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    password = secrets.token_urlsafe(12)
    events_before = AuditEvent.objects.count()
    last_message = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    environments_before = Environment.objects.count()
    applications_before = Application.objects.count()
    clock = SimulatedClock(today - YEAR - timedelta(days=14))
    with (
        mock.patch("django.utils.timezone.now", new=clock),
        _hashing_once(password),
        transaction.atomic(),
    ):
        accounts.ensure_builtin_roles()
        missing = set(DEMO_PROCESSES) - set(
            ProcessVersion.objects.filter(name__in=DEMO_PROCESSES).values_list("name", flat=True)
        )
        if missing:
            processes.load_processes()
        definitions = {
            name: processes.definition(processes.current_version(name)) for name in DEMO_PROCESSES
        }
        environments = create_environments()
        apps = create_applications()
        people = create_people(password, definitions.values())
        load_cmdb(seed)
        calendar = create_calendar(people, apps, environments, today, clock.at)
        plans = plan_releases(rng, apps, definitions, people, environments, today, releases_per_app)
        world = World(
            clock=clock,
            rng=rng,
            people=people,
            deadline=today - timedelta(hours=1),
            calendar=calendar,
        )
        run_all(world, plans)
        draft_next_year(calendar, today)
        # The history is simulated: nobody waited for its notifications, so none are sent.
        Message.objects.filter(pk__gt=last_message).delete()
    made = Release.objects.filter(application__code__in=[a.code for a in APPLICATIONS])
    outcomes = Counter(outcome or IN_PROGRESS for outcome in made.values_list("outcome", flat=True))
    order = [*Outcome.values, IN_PROGRESS]
    return DemoSummary(
        skipped=False,
        environments=Environment.objects.count() - environments_before,
        applications=Application.objects.count() - applications_before,
        users=tuple(people.users),
        releases=sum(outcomes.values()),
        outcomes=tuple((k, outcomes[k]) for k in order if outcomes[k]),
        deliverables=DeliverableVersion.objects.filter(deliverable__release__in=made).count(),
        audit_events=AuditEvent.objects.count() - events_before,
        seconds=round(time.monotonic() - started, 1),
        password=password,
    )


def _hashing_once(password: str) -> contextlib.AbstractContextManager:
    """While the demo users are made, hash their shared password once, not once per user.

    PBKDF2 is slow on purpose (about 0.3 s a time); thirty users would spend ten seconds
    hashing the same password. The stored value is an ordinary Django hash, so signing in
    works as usual; other passwords are hashed normally.
    """
    hashed = make_password(password)

    def make(raw: str | None, *args: Any, **kwargs: Any) -> str:
        if raw == password and not args and not kwargs:
            return hashed
        return make_password(raw, *args, **kwargs)

    return mock.patch("django.contrib.auth.base_user.make_password", new=make)


# ---------------------------------------------------------------- planning


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _likelihood(kind: str, method: str, release_class: str) -> float:
    """How often such a release happens (a major patch or a major emergency: never)."""
    if release_class == ReleaseClass.MAJOR and (kind == Kind.PATCH or method == Method.EMERGENCY):
        return 0.0
    share = EMERGENCY_SHARE if method == Method.EMERGENCY else 1 - EMERGENCY_SHARE
    return KIND_WEIGHTS[kind] * CLASS_WEIGHTS[release_class] * share


def _combos(rng: random.Random, process: Process, count: int) -> list[tuple[str, str, str]]:
    """`count` (kind, method, class) choices for a process: one for each of its flows first
    (so every variant and every skipped-stage pattern shows), the rest drawn by weight."""
    chosen = [
        rng.choices(combos, weights=[_likelihood(*c) or 1e-6 for c in combos])[0]
        for _flow, combos in sorted(flows(process).items())
    ]
    rng.shuffle(chosen)
    chosen = chosen[:count]
    while len(chosen) < count:
        method = Method.EMERGENCY if rng.random() < EMERGENCY_SHARE else Method.PLANNED
        combo = (_weighted(rng, KIND_WEIGHTS), method, _weighted(rng, CLASS_WEIGHTS))
        if _likelihood(*combo):
            chosen.append(combo)
    rng.shuffle(chosen)
    return chosen


def _quotas(total: int) -> list[tuple[str, int]]:
    """How many releases end each way other than succeeding (at least one each)."""
    if total == 0:
        return []
    return [
        (IN_PROGRESS, min(25, max(1, round(total * 0.10)))),
        (Outcome.ROLLED_BACK, max(1, round(total * 0.06))),
        (Outcome.CANCELLED, max(1, round(total * 0.06))),
        (Outcome.FAILED, max(1, round(total * 0.05))),
    ]


def _feasible(plan: Plan, outcome: str) -> bool:
    if outcome == Outcome.ROLLED_BACK:
        return plan.ends_rolled_back_at() is not None
    if outcome == Outcome.CANCELLED:
        return any(CANCEL in plan.offers(i) for i in range(len(plan.keys)))
    return True


def _shape(rng: random.Random, plan: Plan, today: datetime) -> None:
    """Choose when the release is requested and its detours (returns, rollbacks, stop)."""
    returns = plan.return_choices()
    early_returns = [r for r in returns if r[0] < plan.deploy_index] or returns
    if plan.outcome == IN_PROGRESS:
        if early_returns and rng.random() < 0.35:
            plan.return_from, plan.return_to = rng.choice(early_returns)
            low = plan.keys.index(plan.return_to)
        else:
            low = 0
        plan.stop_at = rng.randint(low, len(plan.keys) - 1)
        # Those past their deployment started long enough ago to have reached it.
        past = plan.stop_at > plan.deploy_index
        moment = today - timedelta(days=rng.uniform(25, 40) if past else rng.uniform(2, 30))
    else:
        latest = today - timedelta(days=7 if plan.emergency else 50)
        moment = today - YEAR + (latest - (today - YEAR)) * rng.random()
        if plan.outcome == Outcome.CANCELLED:
            plan.stop_at = rng.choice(
                [i for i in range(len(plan.keys)) if CANCEL in plan.offers(i)]
            )
        if plan.outcome == Outcome.SUCCEEDED:
            if early_returns and rng.random() < 0.15:
                plan.return_from, plan.return_to = rng.choice(early_returns)
            plan.rollback_detour = bool(plan.rollback_target()) and rng.random() < 0.5
    if not plan.emergency:
        moment = office_hours(moment, rng)
    plan.created = moment


def _bump(version: list[int], kind: str, release_class: str) -> str:
    if kind == Kind.DOCUMENTS:
        return ""
    if kind == Kind.PATCH:
        version[2] += 1
    elif kind == Kind.NEW_SYSTEM or release_class == ReleaseClass.MAJOR:
        version[:] = [version[0] + 1, 0, 0]
    else:
        version[1:] = [version[1] + 1, 0]
    return ".".join(map(str, version))


def plan_releases(
    rng: random.Random,
    apps: dict[str, Application],
    definitions: dict[str, Process],
    people: People,
    environments: dict[str, Environment],
    today: datetime,
    releases_per_app: int | None,
) -> list[Plan]:
    """Decide every release before any is made, sorted by when it is requested."""
    counts = {
        spec.code: releases_per_app if releases_per_app is not None else rng.randint(19, 24)
        for spec in APPLICATIONS
    }
    plans: list[Plan] = []
    for name in DEMO_PROCESSES:
        specs = [s for s in APPLICATIONS if s.process == name]
        slots = [s for s in specs for _n in range(counts[s.code])]
        for spec, combo in zip(slots, _combos(rng, definitions[name], len(slots)), strict=True):
            plans.append(Plan(spec, apps[spec.code], definitions[name], *combo))
    order = plans[:]
    rng.shuffle(order)
    for outcome, count in _quotas(len(plans)):
        for plan in order:
            if count and not plan.outcome and _feasible(plan, outcome):
                plan.outcome, count = outcome, count - 1
    for plan in plans:
        plan.outcome = plan.outcome or Outcome.SUCCEEDED
        _shape(rng, plan, today)
    detours = [p for p in plans if p.outcome == Outcome.SUCCEEDED and p.rollback_target()]
    if detours and not any(p.rollback_detour for p in detours):
        detours[0].rollback_detour = True  # show a rollback that returns and then succeeds
    plans.sort(key=lambda p: p.created)
    versions = {s.code: list(s.version) for s in APPLICATIONS}
    for plan in plans:
        code = plan.app.code
        requesters = people.holders(BuiltinRole.REQUESTER, code)
        managers = people.holders(BuiltinRole.PROJECT_MANAGER, code)
        if managers and BuiltinRole.PROJECT_MANAGER in CREATORS and rng.random() < 0.2:
            requesters = managers
        plan.requester = rng.choice(requesters)
        plan.manager = rng.choice(people.holders(BuiltinRole.RELEASE_MANAGER, code))
        plan.title = title(code, plan.kind, rng, plan.created)
        plan.version = _bump(versions[code], plan.kind, plan.release_class)
        if plan.kind != Kind.DOCUMENTS:
            plan.environment = environments["prod" if rng.random() < 0.9 else "staging"]
        plan.risk = (
            rng.choice([Risk.HIGH, Risk.CRITICAL])
            if plan.release_class == ReleaseClass.MAJOR
            else Risk.HIGH
            if plan.emergency
            else Risk.LOW
            if plan.release_class == ReleaseClass.MINOR
            else rng.choice([Risk.LOW, Risk.MEDIUM, Risk.MEDIUM])
        )
    return plans
