"""The gates whose facts the calendar owns: the release scheduled, and no freeze in force.

Each is one `processes.gates.Gate`, listed in `settings.RELMAN_GATES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relman.calendar.models import Freeze, ReleaseSchedule
from relman.calendar.status import in_scope
from relman.processes.definition import Stage
from relman.processes.gates import BaseGate, Snapshot, Unmet, Words
from relman.processes.messages import stage_label
from relman.releases.models import Release

WINDOW, PROJECT = "window", "project"
EMERGENCY = "emergency"


@dataclass(frozen=True)
class Scheduling:
    """The options of the `scheduled` gate: what a schedule must be to count.

    `window`: in an occurrence of a release window (an approved emergency release may be
    scheduled outside one); `project`: at the go-live time the project team sets, in a
    window or not (seed 002 section 6.2: new systems).
    """

    by: str = WINDOW


def schedule_basis(schedule: ReleaseSchedule | None) -> str | None:
    """How a release is scheduled: "window", "emergency" or "project"; None when it is not."""
    if schedule is None:
        return None
    if schedule.window_id:
        return WINDOW
    return PROJECT if schedule.set_by_project else EMERGENCY


class ScheduledGate(BaseGate):
    """`scheduled: true` (in a release window) or `scheduled: {by: project}` (at the time
    the project team sets): the release has a schedule of that kind."""

    key = "scheduled"
    schema = {
        "description": (
            "The release must be scheduled: true (or {by: window}) in an open release window "
            "(or, as an emergency, outside one); {by: project} at the go-live time the project "
            "team sets, in a window or not."
        ),
        "oneOf": [
            {"type": "boolean"},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["by"],
                "properties": {"by": {"enum": [WINDOW, PROJECT]}},
            },
        ],
    }
    kind_label = gettext_lazy("Schedule")

    def options(self, raw: Any) -> Scheduling | None:
        if isinstance(raw, Mapping):
            return Scheduling(by=raw.get("by", WINDOW))
        return Scheduling() if raw else None

    def read(self, release: Release, stage: Stage, options: Any) -> Mapping[str, Any]:
        schedule = ReleaseSchedule.objects.filter(release=release).first()
        return {"schedule": schedule_basis(schedule)}

    def evaluate(self, options: Scheduling, snap: Snapshot) -> list[Unmet]:
        basis = snap.fact("schedule")
        if options.by == PROJECT:
            return [] if basis else [Unmet("schedule", PROJECT)]
        return [] if basis in (WINDOW, EMERGENCY) else [Unmet("schedule", WINDOW)]

    def describe(self, unmet: Unmet, words: Words) -> str:
        params = {"stage": stage_label(words.variant, words.stage)}
        if unmet.key == PROJECT:
            return (
                _(
                    "Stage '%(stage)s' needs the release scheduled in an open release window "
                    "or at the go-live time the project team set."
                )
                % params
            )
        return (
            _("Stage '%(stage)s' needs the release scheduled in an open release window.") % params
        )

    def items(
        self, options: Scheduling, snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        if options.by == PROJECT:
            key, label = PROJECT, _("Scheduled in a window or at the project team's time")
        else:
            key, label = WINDOW, _("Scheduled in an open release window")
        return [
            {
                "kind": "schedule",
                "key": key,
                "label": label,
                "met": not unmet,
            }
        ]


class FreezeGate(BaseGate):
    """No freeze in force covers the release (without an override for it). Implied on the
    stage before a `deployment: true` stage: the advance into deployment is refused with
    its own message ("frozen"), not as an unmet gate."""

    key = "freeze"
    schema = {
        "type": "boolean",
        "description": (
            "Leaving the stage is refused while a freeze covers the release; implied before "
            "every 'deployment: true' stage."
        ),
    }
    refusal = "frozen"

    def options(self, raw: Any) -> bool:
        return bool(raw)

    def implied(self, stage: Stage, following: Stage | None) -> str | None:
        """Before a deployment stage, the freeze applies; the options name that stage."""
        return following.key if following is not None and following.deployment else None

    def read(self, release: Release, stage: Stage, options: Any) -> Mapping[str, Any]:
        now = timezone.now()
        frozen = (
            Freeze.objects.filter(in_scope(release), starts__lte=now, ends__gt=now)
            .exclude(overrides__release=release)
            .exists()
        )
        return {"frozen": frozen}

    def evaluate(self, options: bool | str, snap: Snapshot) -> list[Unmet]:
        """Unmet while frozen, naming the stage that cannot start: the deployment stage it
        is implied for, or (declared `freeze: true`) the stage itself."""
        if not snap.fact("frozen", False):
            return []
        return [Unmet("freeze", snap.stage if options is True else options)]

    def describe(self, unmet: Unmet, words: Words) -> str:
        return _(
            "A freeze is in force for this release: '%(target)s' cannot start until it ends "
            "or an emergency override is recorded."
        ) % {"target": stage_label(words.variant, unmet.key)}

    def items(
        self, options: bool | str, snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        return []  # shown on the calendar, and as the refusal of the advance
