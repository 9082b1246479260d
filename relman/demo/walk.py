"""A year of releases, each walked through its process by the services, on a simulated clock.

Every release is planned first (flow, outcome, dates, detours), then walked by a generator
that performs one step (a service call or a few) and yields when it wants to act next. A
scheduler runs the steps of all releases in the order of their simulated times, so the audit
chain's times only increase. Nothing here knows a stage name: each stage's gate is read from
the process definition and met by users who hold the stage's roles.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.utils import timezone

import relman.demo.texts as texts
from relman.approvals.services import cab, decisions, policy, readiness
from relman.changes import services as changes
from relman.cmdb.models import Application, Environment
from relman.demo.cast import AppSpec, People
from relman.processes import engine
from relman.processes.definition import (
    ADVANCE,
    CANCEL,
    CLOSE,
    RETURN,
    ROLLBACK,
    Process,
    Stage,
    Variant,
    pick,
)
from relman.releases import services as releases
from relman.releases.choices import Kind, Method, Outcome, ReleaseClass, Risk

IN_PROGRESS = "in_progress"
TICK = timedelta(seconds=1)


class SimulatedClock:
    """Stands in for `django.utils.timezone.now` while the demo history is written.

    Why simulate: the services stamp rows and audit events with `timezone.now()`, so a demo
    written in seconds would show a year of releases all made today. Patching `now` with a
    constant would give every event the same time. This clock returns the simulated moment and
    moves it on by a second at every reading, so events keep distinct, increasing times; the
    scheduler moves it forward (never back) to each step's time.
    """

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        self.at += TICK
        return self.at

    def advance_to(self, moment: datetime) -> None:
        """Jump to `moment` unless the clock is already past it."""
        self.at = max(self.at, moment)


def active_keys(variant: Variant, kind: str, method: str, release_class: str) -> list[str]:
    """The stages a release of this kind, method and class goes through."""
    snap = engine.Snapshot(kind, method, release_class, stage="")
    return [s.key for s in engine.active_stages(variant, snap)]


def stage_offers(variant: Variant, key: str, kind: str, method: str, release_class: str) -> tuple:
    """The transitions a stage offers to a release of this kind, method and class."""
    snap = engine.Snapshot(kind, method, release_class, stage=key)
    return engine.transitions_of(variant, variant.stage(key), snap)


def flows(process: Process) -> dict[tuple[str, tuple[str, ...]], list[tuple[str, str, str]]]:
    """Each distinct flow of a process (its variant and active stages), with the kind, method
    and class combinations that select it."""
    found: dict[tuple[str, tuple[str, ...]], list[tuple[str, str, str]]] = {}
    for kind in Kind.values:
        for method in Method.values:
            for cls in ReleaseClass.values:
                variant = process.choose_variant(kind, method, cls)
                if variant is not None:
                    key = (variant.key, tuple(active_keys(variant, kind, method, cls)))
                    found.setdefault(key, []).append((kind, method, cls))
    return found


@dataclass
class Plan:
    """What will happen to one release, decided before it is walked."""

    spec: AppSpec
    app: Application
    process: Process
    kind: str
    method: str
    release_class: str
    outcome: str = ""
    created: datetime | None = None
    stop_at: int = -1  # cancelled / in progress: the stage index where the walk stops
    return_from: int = -1  # a return to an earlier stage from this stage index
    return_to: str = ""
    rollback_detour: bool = False  # use a stage's rollback_to once
    requester: Any = None
    manager: Any = None
    title: str = ""
    version: str = ""
    environment: Environment | None = None
    risk: str = Risk.MEDIUM
    variant: Variant = field(init=False)
    keys: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.variant = self.process.choose_variant(self.kind, self.method, self.release_class)
        self.keys = active_keys(self.variant, self.kind, self.method, self.release_class)

    def offers(self, index: int) -> tuple:
        """The transitions the stage at `index` offers this release."""
        return stage_offers(
            self.variant, self.keys[index], self.kind, self.method, self.release_class
        )

    @property
    def deploy_index(self) -> int:
        """The deployment stage: the first whose rollback ends the release, else the first
        that offers a rollback, else the last."""
        ending = self.ends_rolled_back_at()
        if ending is not None:
            return ending
        found = [i for i in range(len(self.keys)) if ROLLBACK in self.offers(i)]
        return found[0] if found else len(self.keys) - 1

    def ends_rolled_back_at(self) -> int | None:
        """The first stage whose rollback ends the release, if any."""
        for i, key in enumerate(self.keys):
            stage = self.variant.stage(key)
            if ROLLBACK in self.offers(i) and stage.rollback_to not in self.keys:
                return i
        return None

    def rollback_target(self) -> str | None:
        """Where the flow's first returning rollback goes (a stage's rollback_to), if any."""
        for i, key in enumerate(self.keys):
            target = self.variant.stage(key).rollback_to
            if target in self.keys and ROLLBACK in self.offers(i):
                return target
        return None

    def return_choices(self) -> list[tuple[int, str]]:
        """(stage index, target) pairs a return can take."""
        snap = engine.Snapshot(self.kind, self.method, self.release_class, stage="")
        found = []
        for i, key in enumerate(self.keys):
            if RETURN in self.offers(i):
                stage = self.variant.stage(key)
                found += [(i, t) for t in engine.return_targets(self.variant, stage, snap)]
        return found

    @property
    def emergency(self) -> bool:
        return self.method == Method.EMERGENCY


def office_hours(moment: datetime, rng: random.Random) -> datetime:
    """The moment, or the start of the next working period (Monday-Friday, 9:00-18:00)."""
    local = timezone.localtime(moment)
    if local.weekday() < 5 and 9 <= local.hour < 18:
        return moment
    day = local.date() if local.hour < 9 else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime.combine(day, time(9), tzinfo=local.tzinfo)
    return start + timedelta(minutes=rng.randint(0, 150))


@dataclass
class World:
    """What every walk shares: the clock, the dice, the people and the time limit."""

    clock: SimulatedClock
    rng: random.Random
    people: People
    deadline: datetime
    calendar: Any = None  # relman.demo.calendar.DemoCalendar: windows to book into

    def office(self, moment: datetime) -> datetime:
        return office_hours(moment, self.rng)


class Walk:
    """One release walked through its process by the services, step by step."""

    def __init__(self, world: World, plan: Plan) -> None:
        self.world, self.plan, self.rng = world, plan, world.rng
        self.release: Any = None
        self.approved: set[int] = set()
        self.revise: set[str] = set()
        self.deploying = False  # in the deployment window: work goes on after hours
        self.language = "zh-hans" if plan.spec.chinese else "en"
        # Flows whose gate asks for a window are booked through the scheduling service.
        self.books_window = world.calendar is not None and any(
            s.scheduled for s in plan.variant.stages
        )

    # ------------------------------------------------------------ time

    def later(self, low_hours: float, high_hours: float, *, office: bool = True) -> datetime:
        """A moment some hours from now (moved into working hours for planned releases)."""
        moment = self.world.clock.at + timedelta(hours=self.rng.uniform(low_hours, high_hours))
        if office and not self.plan.emergency:
            moment = self.world.office(moment)
        return moment

    def soon(self) -> datetime:
        """The next item of the same piece of work: minutes later."""
        if self.plan.emergency or self.deploying:
            return self.later(0.03, 0.4, office=False)
        return self.later(0.05, 2.0)

    # ------------------------------------------------------------ who acts

    def doers(self, stage: Stage) -> list[Any]:
        """The people who may act in a stage: holders of its roles for this application, and
        the release's own requester and manager when their role is among them."""
        plan, found = self.plan, {}
        for role in stage.roles:
            if role not in ("requester", "release_manager"):
                for user in self.world.people.holders(role, plan.app.code):
                    found[user.pk] = user
        if "requester" in stage.roles:
            found[plan.requester.pk] = plan.requester
        if "release_manager" in stage.roles:
            found[plan.manager.pk] = plan.manager
        return [found[k] for k in sorted(found)]

    def worker(self, stage: Stage) -> Any:
        """Who does a stage's work: usually a specialist, sometimes the release manager."""
        doers = self.doers(stage)
        specialists = [u for u in doers if u.pk != self.plan.manager.pk]
        if specialists and (self.rng.random() < 0.8 or len(specialists) == len(doers)):
            return self.rng.choice(specialists)
        return self.plan.manager

    def mover(self, stage: Stage) -> Any:
        """Who moves the release on: its manager when the stage lets them, else a doer."""
        doers = self.doers(stage)
        if any(u.pk == self.plan.manager.pk for u in doers):
            return self.plan.manager
        return self.rng.choice(doers)

    # ------------------------------------------------------------ one piece of work each

    def deliver(self, stage: Stage, key: str, note: str = "") -> None:
        actor = self.worker(stage)
        label = pick(self.plan.process.deliverables.get(key), self.language) or key
        if "package" in key or self.rng.random() < 0.2:
            releases.add_deliverable(
                actor, self.release, key=key, url=texts.link(key, self.release), note=note
            )
            return
        upload, name = texts.document(key, label, self.release, self.plan.spec.chinese, self.rng)
        releases.add_deliverable(
            actor, self.release, key=key, upload=upload, filename=name, note=note
        )

    def tick(self, stage: Stage, item: str) -> None:
        note = (
            self.rng.choice(texts.TICK_NOTES[self.plan.spec.chinese])
            if self.rng.random() < 0.2
            else ""
        )
        releases.complete_checklist_item(self.worker(stage), self.release, item=item, note=note)

    def approve(self, stage: Stage, key: str) -> None:
        """One approval of the step by someone the policy lets decide it who has not decided
        in this stage yet, confirming the step's checks; with nobody left, or a step only a
        CAB meeting decides, the gate stays unmet and `advance` says so."""
        step = stage.step(key)
        if step is None or step.cab:
            return
        present = set(self.release.deliverables.values_list("key", flat=True))
        for deliverable in step.deliverables:
            if deliverable not in present:
                self.deliver(stage, deliverable)
        candidates = [
            u for u in policy.eligible_users(self.release, step) if u.pk not in self.approved
        ]
        if not candidates:
            return
        approver = self.rng.choice(candidates)
        comment = self.rng.choice(texts.APPROVAL_COMMENTS[self.plan.spec.chinese])
        decisions.approve(
            approver, self.release, step=key, comment=comment, checks=list(step.checks)
        )
        self.approved.add(approver.pk)

    def review_readiness(self, stage: Stage) -> None:
        """A go readiness review: every release criterion met, on the evidence the process
        suggests (the demo's deliverables and ticks), with a note where there is none."""
        process, _variant = releases.flow_of(self.release)
        note = "证据见附件" if self.plan.spec.chinese else "Checked at the review"
        criteria = {c.key: {"met": True, "note": note} for c in process.readiness_criteria}
        readiness.record_review(self.worker(stage), self.release, decision="go", criteria=criteria)

    def hold_cab(self, step: Any) -> None:
        """A CAB meeting for the release: chaired by one CAB member with another present,
        it approves the release's CAB step."""
        board = [
            u
            for u in self.world.people.holders(step.role, self.plan.app.code)
            if u.pk not in (self.plan.requester.pk, self.plan.manager.pk)
        ]
        if len(board) < 2:
            return
        chair, member = board[0], board[1]
        title = (
            "变更咨询委员会例会 " if self.plan.spec.chinese else "CAB meeting "
        ) + self.release.number
        meeting = cab.schedule_meeting(
            chair, title, self.world.clock.at, chair=chair, members=[member]
        )
        cab.record_attendance(chair, meeting, {chair.username: True, member.username: True})
        cab.decide_item(chair, meeting, self.release, "approve", "")
        minutes = "同意发布。" if self.plan.spec.chinese else "The board approved the release."
        cab.close_meeting(chair, meeting, minutes)

    def change_board(self, requester: Any) -> list[Any]:
        """The CAB members of the application who may decide a change `requester` raised."""
        return [
            u
            for u in self.world.people.holders("cab_member", self.plan.app.code)
            if u.pk != requester.pk
        ]

    def bundle_changes(self, key: str) -> None:
        """The release carries one to three changes its change owner raised and the CAB
        approved (`key` "none"); or the CAB approves the change `key` it carries."""
        if key != "none":
            change = changes.get_change(key)
            board = self.change_board(change.requester)
            if board and change.status == "submitted":
                changes.approve_change(self.rng.choice(board), change)
            return
        owners = self.world.people.holders("change_owner", self.plan.app.code)
        owner = self.rng.choice(owners) if owners else self.plan.requester
        numbers = []
        for part in range(1, self.rng.randint(1, 3) + 1):
            title = (
                f"{self.plan.title}（变更 {part}）"
                if self.plan.spec.chinese
                else f"{self.plan.title} (change {part})"
            )
            change = changes.create_change(
                owner,
                title=title,
                application=self.plan.app,
                risk=self.plan.risk,
                submit=True,
            )
            board = self.change_board(owner)
            if board:
                changes.approve_change(self.rng.choice(board), change)
            numbers.append(change.number)
        self.release = changes.change_release_changes(
            self.plan.manager, self.release, "add", numbers, revision=self.release.revision
        )

    def review_change(self, key: str) -> None:
        """The release manager reviews a change the release carried: usually it achieved its
        aim."""
        achieved = "yes" if self.rng.random() < 0.85 else "partly"
        if self.plan.spec.chinese:
            effects = "未发现副作用。" if achieved == "yes" else "部分报表需人工补录。"
        else:
            effects = "None seen." if achieved == "yes" else "Some reports had to be re-run."
        changes.review_change(
            self.plan.manager,
            key,
            achieved=achieved,
            side_effects=effects,
            release=self.release.number,
        )

    def work(self, stage: Stage, *, partial: bool = False) -> Iterator[datetime]:
        """Meet the stage's gate item by item (or only part of it), with time between items."""
        if stage.key in self.revise and stage.deliverables:
            self.revise.discard(stage.key)
            note = "根据退回意见修订" if self.plan.spec.chinese else "Revised after the return"
            self.deliver(stage, self.rng.choice(stage.deliverables), note=note)
            yield self.soon()
        unmet = engine.unmet_gate(stage, releases.snapshot(self.release))
        order = {
            "deliverable": 0,
            "checklist": 1,
            "approval": 2,
            "schedule": 3,
            "readiness": 4,
            "change": 5,
            "change_review": 6,
            "cmdb": 7,
        }
        items = sorted(unmet, key=lambda u: order[u.kind])
        if partial:
            items = items[: self.rng.randint(0, max(0, len(items) - 1))]
        for item in items:
            if item.kind == "deliverable":
                self.deliver(stage, item.key)
            elif item.kind == "checklist":
                self.tick(stage, item.key)
            elif item.kind == "schedule":
                self.schedule(self.world.clock.at)
            elif item.kind == "readiness":
                self.review_readiness(stage)
            elif item.kind == "change":
                self.bundle_changes(item.key)
            elif item.kind == "change_review":
                self.review_change(item.key)
            elif item.kind == "cmdb":  # seed 003 5.1.9: the configuration library updated
                releases.record_deployed(self.worker(stage), self.release, items=[item.key])
            elif stage.step(item.key).cab:
                self.hold_cab(stage.step(item.key))
            else:
                for _n in range(item.needed - item.have):
                    self.approve(stage, item.key)
            if self.rng.random() < 0.6:
                yield self.soon()

    def remark(self, stage: Stage) -> None:
        """Now and then someone comments on the release."""
        if self.rng.random() < 0.12:
            author = self.rng.choice([self.plan.requester, *self.doers(stage)])
            body = self.rng.choice(texts.REMARKS[self.plan.spec.chinese])
            releases.add_comment(author, self.release, body=body)

    # ------------------------------------------------------------ moves

    def move(self, stage: Stage, action: str, **kwargs: Any) -> None:
        self.release = releases.transition(
            self.mover(stage), self.release, action, revision=self.release.revision, **kwargs
        )

    def window_after(self, moment: datetime) -> tuple[datetime, datetime]:
        """The first deployment window after a moment: within hours for an emergency, else a
        release evening (Thursdays for feh, as its guide says; Tuesdays and Thursdays else)."""
        plan = self.plan
        if plan.emergency:
            start = moment + timedelta(hours=self.rng.uniform(1, 6))
            start = start.replace(minute=0 if start.minute < 30 else 30, second=0, microsecond=0)
            return start, start + timedelta(hours=2)
        windows = (3,) if plan.process.name == "feh" else (1, 3)
        local = timezone.localtime(moment)
        start = local.replace(hour=20, minute=0, second=0, microsecond=0)
        while start.weekday() not in windows or start <= moment:
            start += timedelta(days=1)
        start = start.astimezone(UTC)  # as the clock gives it, so the audit shows one zone
        return start, start + timedelta(hours=6 if plan.release_class == ReleaseClass.MAJOR else 3)

    def schedule(self, moment: datetime) -> None:
        """The release manager books (or moves) the deployment window: into the next free
        occurrence of the application's release window when its flow asks for one."""
        from relman.demo.calendar import book, book_times

        calendar = self.world.calendar
        if self.books_window and book(calendar, self.plan.manager, self.release, moment):
            self.release.refresh_from_db()
            return
        start, end = self.window_after(moment)
        reason = (
            texts.reason("emergency", self.plan.spec.chinese, self.rng)
            if (self.plan.emergency)
            else ""
        )
        if calendar is not None and book_times(self.plan.manager, self.release, start, end, reason):
            self.release.refresh_from_db()
            return
        self.release = releases.update_release(
            self.plan.manager,
            self.release,
            revision=self.release.revision,
            planned_start=start,
            planned_end=end,
        )

    def run(self) -> Iterator[datetime]:
        """The walk: yields the moment of its next step until the release reaches its outcome."""
        plan, rng, chinese = self.plan, self.rng, self.plan.spec.chinese
        self.release = releases.create_release(
            plan.requester,
            application=plan.app,
            title=plan.title,
            kind=plan.kind,
            method=plan.method,
            release_class=plan.release_class,
            version_number=plan.version,
            environment=plan.environment,
            release_manager=plan.manager,
            risk=plan.risk,
            **texts.details(chinese, plan.spec.name, plan.kind, rng),
        )
        # A release of a new version changes its application in production: the CMDB shows
        # its impact, the departments it involves approve it, and its version lands there.
        if plan.version:
            self.release = releases.change_items(
                plan.requester,
                self.release,
                "add",
                [f"application:{plan.app.code}-prod"],
                revision=self.release.revision,
            )
        returned = rolled = started = False
        deploy = plan.deploy_index
        while True:
            stage = plan.variant.stage(self.release.stage)
            index = plan.keys.index(stage.key)
            self.approved = set()
            self.deploying = False
            yield self.later(0.5, 4) if plan.emergency else self.later(2, 30)
            self.remark(stage)
            stopping = index == plan.stop_at and (plan.return_from < 0 or returned)
            if stopping and plan.outcome == IN_PROGRESS:
                yield from self.work(stage, partial=True)
                return
            if stopping and plan.outcome == Outcome.CANCELLED:
                yield from self.work(stage, partial=True)
                yield self.later(1, 24)
                self.move(stage, CANCEL, reason=texts.reason("cancel", chinese, rng))
                return
            if index == deploy and not started and self.release.planned_start:
                if self.release.planned_start < self.world.clock.at + timedelta(hours=1):
                    self.schedule(self.world.clock.at)  # the walk slipped: the next window
                yield self.release.planned_start + timedelta(minutes=rng.randint(0, 25))
                self.deploying = True
                self.release = releases.update_release(
                    plan.manager,
                    self.release,
                    revision=self.release.revision,
                    actual_start=self.world.clock.at,
                )
                started = True
            if index == plan.return_from and not returned:
                yield from self.work(stage, partial=True)
                yield self.soon()
                self.move(
                    stage,
                    RETURN,
                    target=plan.return_to,
                    reason=texts.reason("return", chinese, rng),
                )
                self.revise.add(plan.return_to)
                returned = True
                continue
            if ROLLBACK in plan.offers(index):
                target = stage.rollback_to if stage.rollback_to in plan.keys else None
                if target and plan.rollback_detour and not rolled:
                    yield from self.work(stage, partial=True)
                    reason = texts.reason("rollback_detour", chinese, rng)
                    self.move(stage, ROLLBACK, reason=reason)
                    self.revise.add(target)
                    rolled = True
                    continue
                if target is None and plan.outcome == Outcome.ROLLED_BACK:
                    yield from self.work(stage, partial=True)
                    self.move(stage, ROLLBACK, reason=texts.reason("rollback", chinese, rng))
                    return
            last = index == len(plan.keys) - 1
            if last and plan.outcome == Outcome.FAILED:
                yield from self.work(stage, partial=True)
                yield self.soon()
                self.move(
                    stage, CLOSE, outcome=Outcome.FAILED, reason=texts.reason("fail", chinese, rng)
                )
                return
            yield from self.work(stage)
            if index == 0 and self.release.planned_start is None:
                lead = plan.deploy_index * self.rng.uniform(1.2, 2.0)
                self.schedule(self.world.clock.at + timedelta(days=lead))
            yield self.soon()
            if last:
                self.move(stage, CLOSE, outcome=Outcome.SUCCEEDED)
                return
            deploying_next = plan.variant.stage(plan.keys[index + 1]).deployment
            if deploying_next and not (yield from self.wait_out_freeze(stage)):
                return  # frozen until past the end of the history: still in progress
            self.move(stage, ADVANCE)

    def wait_out_freeze(self, stage: Stage) -> Iterator[datetime]:
        """Before deploying: wait for a freeze to end, or (an emergency) override it with a
        reason. Returns False when the freeze outlasts the history."""
        from relman.demo.calendar import blocking_freeze, override

        while (freeze := blocking_freeze(self.release, self.world.clock.at)) is not None:
            if self.plan.emergency:
                override(self.plan.manager, self.release, freeze, self.plan.spec.chinese)
                self.release.refresh_from_db()
                yield self.soon()
                continue
            if freeze.ends >= self.world.deadline:
                return False
            yield self.world.office(freeze.ends + timedelta(minutes=self.rng.randint(5, 90)))
        return True


def run_all(world: World, plans: list[Plan]) -> int:
    """Walk every release, interleaving their steps in time order; return how many steps ran."""
    deadline = world.deadline
    queue = [(plan.created, n, Walk(world, plan).run()) for n, plan in enumerate(plans)]
    heapq.heapify(queue)
    steps = 0
    while queue:
        moment, n, walk = heapq.heappop(queue)
        world.clock.advance_to(moment)
        try:
            following = next(walk)
        except StopIteration:
            continue
        steps += 1
        if following > deadline:
            # Never write the future: close in on the deadline instead.
            following = world.clock.at + max((deadline - world.clock.at) / 3, TICK)
        heapq.heappush(queue, (following, n, walk))
    return steps
