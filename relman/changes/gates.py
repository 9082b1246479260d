"""The gates whose facts the changes app owns: every change a release carries approved by
change management, and every one reviewed after the deployment.

Each is one `processes.gates.Gate`, listed in `settings.RELMAN_GATES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relman.changes.choices import Approval
from relman.changes.models import ChangeReview, ReleaseChange
from relman.processes.definition import Stage
from relman.processes.gates import BaseGate, Snapshot, Unmet, Words
from relman.processes.messages import stage_label
from relman.releases.models import Release

SWITCH = {
    "oneOf": [
        {"type": "boolean"},
        {"type": "object", "additionalProperties": False, "properties": {}},
    ]
}


@dataclass(frozen=True)
class ChangeUnmet(Unmet):
    """An unmet part naming one change: its number is the key, its title and approval
    state come along for the sentence."""

    title: str = field(default="", compare=False)
    approval: str = field(default="", compare=False)


@dataclass(frozen=True)
class ChangesApprovedOptions:
    """`changes_approved: true` or `{min_changes: N}`: the release carries at least N
    changes (1 by default), each approved by change management."""

    min_changes: int = 1


def _carried(release: Release) -> tuple[tuple[int, str, str, str], ...]:
    """(id, number, title, approval) of each change the release carries, by number."""
    return tuple(
        ReleaseChange.objects.filter(release=release)
        .order_by("change__number")
        .values_list("change_id", "change__number", "change__title", "change__approval")
    )


def _approval_label(value: str) -> str:
    try:
        return str(Approval(value).label).lower()
    except ValueError:
        return value


class ChangesApprovedGate(BaseGate):
    """`changes_approved: true`: the release carries at least one change (or `min_changes`)
    and change management approved every one (MOF: release management only deploys changes
    approved by change management)."""

    key = "changes_approved"
    schema = {
        "description": "The release carries at least `min_changes` changes (default 1), each "
        "approved by change management.",
        "oneOf": [
            {"type": "boolean"},
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"min_changes": {"type": "integer", "minimum": 0}},
            },
        ],
    }
    kind_label = gettext_lazy("Changes")

    def options(self, raw: Any) -> ChangesApprovedOptions | None:
        if raw is True:
            return ChangesApprovedOptions()
        if isinstance(raw, dict):
            return ChangesApprovedOptions(int(raw.get("min_changes", 1)))
        return None

    def read(self, release: Release, stage: Stage, options: Any) -> Mapping[str, Any]:
        return {"release_changes": _carried(release)}

    def evaluate(self, options: ChangesApprovedOptions, snap: Snapshot) -> list[Unmet]:
        carried = snap.fact("release_changes") or ()
        unmet: list[Unmet] = []
        if len(carried) < options.min_changes:
            unmet.append(Unmet("change", "none", options.min_changes, len(carried)))
        unmet += [
            ChangeUnmet("change", number, title=title, approval=approval)
            for _pk, number, title, approval in carried
            if approval != Approval.APPROVED
        ]
        return unmet

    def label(self, number: str, title: str) -> str:
        return _("%(number)s '%(title)s' approved by change management") % {
            "number": number,
            "title": title,
        }

    def describe(self, unmet: Unmet, words: Words) -> str:
        stage = stage_label(words.variant, words.stage)
        if unmet.key == "none":
            return _("Stage '%(stage)s' needs at least %(needed)d change(s) in the release.") % {
                "stage": stage,
                "needed": unmet.needed,
            }
        return _("Stage '%(stage)s' needs change %(change)s (now %(approval)s).") % {
            "stage": stage,
            "change": self.label(unmet.key, getattr(unmet, "title", "")),
            "approval": _approval_label(getattr(unmet, "approval", "")),
        }

    def items(
        self, options: ChangesApprovedOptions, snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        missing = {u.key for u in unmet}
        rows = [
            {
                "kind": "change",
                "key": number,
                "label": self.label(number, title),
                "met": number not in missing,
            }
            for _pk, number, title, _approval in snap.fact("release_changes") or ()
        ]
        if "none" in missing:
            none = next(u for u in unmet if u.key == "none")
            rows.insert(
                0,
                {
                    "kind": "change",
                    "key": "none",
                    "label": _("At least %d change(s) in the release") % none.needed,
                    "met": False,
                },
            )
        return rows


class ChangeReviewsGate(BaseGate):
    """`change_reviews: true`: every change the release carries has its change review for
    this release (MOF: a change review follows the release)."""

    key = "change_reviews"
    schema = {
        "description": "Every change the release carries was reviewed after the deployment.",
        **SWITCH,
    }
    kind_label = gettext_lazy("Change review")

    def options(self, raw: Any) -> bool | None:
        return True if raw is True or isinstance(raw, dict) else None

    def read(self, release: Release, stage: Stage, options: Any) -> Mapping[str, Any]:
        reviewed = frozenset(
            ChangeReview.objects.filter(release=release).values_list("change_id", flat=True)
        )
        return {"release_changes": _carried(release), "reviewed_changes": reviewed}

    def evaluate(self, options: bool, snap: Snapshot) -> list[Unmet]:
        reviewed = snap.fact("reviewed_changes", frozenset())
        return [
            ChangeUnmet("change_review", number, title=title)
            for pk, number, title, _approval in snap.fact("release_changes") or ()
            if pk not in reviewed
        ]

    def label(self, number: str, title: str) -> str:
        return _("Change review of %(number)s '%(title)s'") % {"number": number, "title": title}

    def describe(self, unmet: Unmet, words: Words) -> str:
        return _("Stage '%(stage)s' needs the change review of %(number)s '%(title)s'.") % {
            "stage": stage_label(words.variant, words.stage),
            "number": unmet.key,
            "title": getattr(unmet, "title", ""),
        }

    def items(
        self, options: bool, snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        missing = {u.key for u in unmet}
        return [
            {
                "kind": "change_review",
                "key": number,
                "label": self.label(number, title),
                "met": number not in missing,
            }
            for _pk, number, title, _approval in snap.fact("release_changes") or ()
        ]
