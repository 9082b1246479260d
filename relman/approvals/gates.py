"""The gates whose facts the approvals app owns: approval steps and the readiness review.

Each is one `processes.gates.Gate`, listed in `settings.RELMAN_GATES`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from django.db.models import Count
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from relman.approvals.services.inbox import InboxItem, inbox
from relman.approvals.services.policy import department_places, eligible_counts
from relman.approvals.services.readiness_reads import is_ready
from relman.processes import engine
from relman.processes.definition import INVOLVED, ApprovalStep, Stage, approval_steps, pick
from relman.processes.gates import BaseGate, Problem, Snapshot, Unmet, Words
from relman.processes.messages import stage_label, step_label
from relman.releases.models import Approval, Release

SCHEMA_PATH = Path(__file__).with_name("gate_schemas.json")


@cache
def _schemas() -> dict[str, Any]:
    """The JSON Schemas of the approvals gates' options (with `$defs` of their own)."""
    return json.loads(SCHEMA_PATH.read_text())


class ApprovalsGate(BaseGate):
    """`approvals: [...]`: the approval policy. Steps run in sequence by group (a countersign
    chain), each needing its count of live approvals; optional steps never hold the gate."""

    key = "approvals"
    schema = _schemas()["approvals"]
    kind_label = gettext_lazy("Approval")

    def options(self, raw: Any) -> tuple[ApprovalStep, ...]:
        return approval_steps(raw)

    def problems(
        self, raw: Any, definition: Mapping[str, Any], earlier: Sequence[str]
    ) -> list[Problem]:
        return step_problems(raw or [], definition, earlier)

    def read(self, release: Release, stage: Stage, options: Any) -> Mapping[str, Any]:
        approvals = dict(
            Approval.objects.filter(
                release=release,
                stage=release.stage,
                decision=Approval.APPROVED,
                voided__isnull=True,
            )
            .values_list("step")
            .annotate(n=Count("id"))
            .values_list("step", "n")
        )
        eligible, waiting = eligible_counts(release, stage), {}
        for step in stage.approvals:
            if step.department == INVOLVED:
                teams, filled = department_places(release, step)
                approvals[step.key], eligible[step.key] = len(filled), len(teams)
                waiting[step.key] = tuple(t.name for t in teams if t.pk not in filled)
        return {"approvals": approvals, "eligible": eligible, "departments_waiting": waiting}

    def evaluate(self, options: tuple[ApprovalStep, ...], snap: Snapshot) -> list[Unmet]:
        unmet = []
        for step in options:
            if not step.applies_to(snap.kind, snap.method, snap.release_class):
                continue
            have, need = engine.have(step, snap), engine.needed(step, snap)
            if not step.optional and have < need:
                waiting = snap.fact("departments_waiting", {}).get(step.key, ())
                unmet.append(Unmet("approval", step.key, need, have, waiting=waiting))
        return unmet

    def describe(self, unmet: Unmet, words: Words) -> str:
        stage = words.variant.stage(words.stage)
        step = stage.step(unmet.key) if stage else None
        if unmet.waiting:
            return _(
                "Stage '%(stage)s' needs an approval by '%(role)s' for each department "
                "involved; it waits for: %(departments)s."
            ) % {
                "stage": stage_label(words.variant, words.stage),
                "role": step_label(words.process, step) if step else unmet.key,
                "departments": ", ".join(unmet.waiting),
            }
        return _("Stage '%(stage)s' needs %(needed)d approval(s) by '%(role)s' (has %(have)d).") % {
            "stage": stage_label(words.variant, words.stage),
            "role": step_label(words.process, step) if step else unmet.key,
            "needed": unmet.needed,
            "have": unmet.have,
        }

    def items(
        self, options: tuple[ApprovalStep, ...], snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        process, language = words.process, get_language()
        stage = words.variant.stage(words.stage)
        open_keys = {s.key for s in engine.open_steps(stage, snap)}
        return [
            {
                "kind": "approval",
                "key": step.key,
                "label": step_label(process, step),
                "needed": engine.needed(step, snap),
                "have": engine.have(step, snap),
                "met": engine.step_done(step, snap),
                "optional": step.optional,
                "open": step.key in open_keys,
                "group": step.group,
                "cab": step.cab,
                "checks": [
                    {"key": c, "label": pick(process.checklist.get(c), language) or c}
                    for c in step.checks
                ],
                "deliverables": [
                    {"key": d, "label": pick(process.deliverables.get(d), language) or d}
                    for d in step.deliverables
                ],
            }
            for step in engine.steps_of(stage, snap)
        ]

    def actionable(
        self, user: Any, release: Release, stage: Stage, options: Any
    ) -> list[InboxItem]:
        """The steps of the stage `user` may decide now (for themselves or by delegation)."""
        return inbox(user, Release.objects.filter(pk=release.pk))


class ReadinessGate(BaseGate):
    """`readiness: true`: the stage's latest live readiness review decided "go" against the
    process's `readiness_criteria`."""

    key = "readiness"
    schema = _schemas()["readiness"]
    kind_label = gettext_lazy("Readiness")

    def options(self, raw: Any) -> bool:
        return bool(raw)

    def problems(
        self, raw: Any, definition: Mapping[str, Any], earlier: Sequence[str]
    ) -> list[Problem]:
        if raw and not definition.get("readiness_criteria"):
            return [
                Problem(
                    (),
                    _("a readiness review needs 'readiness_criteria' at the top of the file"),
                )
            ]
        return []

    def read(self, release: Release, stage: Stage, options: Any) -> Mapping[str, Any]:
        return {"ready": is_ready(release)}

    def evaluate(self, options: bool, snap: Snapshot) -> list[Unmet]:
        return [] if snap.fact("ready", False) else [Unmet("readiness", "review")]

    def describe(self, unmet: Unmet, words: Words) -> str:
        return _("Stage '%(stage)s' needs a readiness review decided 'go'.") % {
            "stage": stage_label(words.variant, words.stage)
        }

    def items(
        self, options: bool, snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        return [
            {
                "kind": "readiness",
                "key": "review",
                "label": _("Readiness review decided 'go'"),
                "met": not unmet,
            }
        ]


def step_problems(
    entries: list[Any], definition: Mapping[str, Any], earlier: Sequence[str]
) -> list[Problem]:
    """References of an approval policy: roles, checks, deliverables, reject targets."""
    roles = set(definition.get("roles") or {})
    deliverables = set(definition.get("deliverables") or {})
    checklist = set(definition.get("checklist") or {})
    found: list[Problem] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        group = entry.get("parallel", [entry])
        for p_index, step in enumerate(group):
            spath = (index, "parallel", p_index) if "parallel" in entry else (index,)
            key = step.get("key") or step["role"]
            if key in seen:
                found.append(
                    Problem(
                        (*spath, "key"),
                        _("two steps of this stage are called '%s'; give one a 'key'") % key,
                    )
                )
            seen.add(key)
            for field_path, role in ((("role",), step["role"]),) + (
                ((("expires", "escalate_to"), step["expires"]["escalate_to"]),)
                if "expires" in step
                else ()
            ):
                if role not in roles:
                    found.append(Problem((*spath, *field_path), _("unknown role '%s'") % role))
            for name, known, hint in (
                (
                    "checks",
                    checklist,
                    _("undefined checklist item '%s' (add it under 'checklist')"),
                ),
                (
                    "deliverables",
                    deliverables,
                    _("undefined deliverable '%s' (add it under 'deliverables')"),
                ),
            ):
                for i, item in enumerate(step.get(name, [])):
                    if item not in known:
                        found.append(Problem((*spath, name, i), hint % item))
            if "reject_to" in step and step["reject_to"] not in earlier:
                found.append(
                    Problem(
                        (*spath, "reject_to"),
                        _("'%s' is not an earlier stage of this flow") % step["reject_to"],
                    )
                )
            if step.get("department") == INVOLVED and "count" in step:
                found.append(
                    Problem(
                        (*spath, "count"),
                        _(
                            "a step for the involved departments needs one approver from each "
                            "of them; leave out 'count'"
                        ),
                    )
                )
            expires = step.get("expires") or {}
            if expires.get("remind_before_hours", 0) >= expires.get("after_hours", 1):
                found.append(
                    Problem(
                        (*spath, "expires", "remind_before_hours"),
                        _("the reminder must come before the step expires"),
                    )
                )
    return found
