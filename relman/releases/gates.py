"""The gates whose facts the releases app owns: required deliverables and checklist items.

Each is one `processes.gates.Gate`, listed in `settings.RELMAN_GATES`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from relman.processes.definition import Stage, pick
from relman.processes.gates import BaseGate, Problem, Snapshot, Unmet, Words
from relman.processes.messages import stage_label
from relman.releases.models import ChecklistTick, Release

KEYS = {"type": "array", "items": {"$ref": "#/$defs/key"}, "uniqueItems": True}


class _KeysGate(BaseGate):
    """A gate met when each named item is present: options are a tuple of keys."""

    kind: ClassVar[str] = ""  # the Unmet kind and row kind ("deliverable", "checklist")
    fact: ClassVar[str] = ""  # the Snapshot fact holding the present keys
    defined_under: ClassVar[str] = ""  # the top-level section that defines the keys
    undefined: ClassVar[Any] = ""  # the problem for a key not defined there

    def options(self, raw: Any) -> tuple[str, ...]:
        return tuple(raw or ())

    def problems(
        self, raw: Any, definition: Mapping[str, Any], earlier: Sequence[str]
    ) -> list[Problem]:
        known = set(definition.get(self.defined_under) or {})
        return [
            Problem((index,), str(self.undefined) % key)
            for index, key in enumerate(raw or ())
            if key not in known
        ]

    def evaluate(self, options: tuple[str, ...], snap: Snapshot) -> list[Unmet]:
        present = snap.fact(self.fact, frozenset())
        return [Unmet(self.kind, key) for key in options if key not in present]

    def label(self, key: str, words: Words) -> str:
        return pick(getattr(words.process, self.defined_under).get(key), get_language()) or key

    def items(
        self, options: tuple[str, ...], snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        missing = {u.key for u in unmet}
        return [
            {
                "kind": self.kind,
                "key": key,
                "label": self.label(key, words),
                "met": key not in missing,
            }
            for key in options
        ]


class DeliverablesGate(_KeysGate):
    """`deliverables: [plan, test_report]`: each deliverable has at least one version."""

    key = "deliverables"
    schema = KEYS
    kind = "deliverable"
    fact = "deliverables"
    defined_under = "deliverables"
    undefined = gettext_lazy("undefined deliverable '%s' (add it under 'deliverables')")
    kind_label = gettext_lazy("Deliverable")

    def read(self, release: Release, stage: Stage, options: Any) -> Mapping[str, Any]:
        return {"deliverables": frozenset(release.deliverables.values_list("key", flat=True))}

    def describe(self, unmet: Unmet, words: Words) -> str:
        return _("Stage '%(stage)s' needs the deliverable '%(item)s'.") % {
            "stage": stage_label(words.variant, words.stage),
            "item": self.label(unmet.key, words),
        }


class ChecklistGate(_KeysGate):
    """`checklist: [scoped]`: each item is ticked in this stage (ticks are voided when the
    release returns to an earlier stage)."""

    key = "checklist"
    schema = KEYS
    kind = "checklist"
    fact = "checklist"
    defined_under = "checklist"
    undefined = gettext_lazy("undefined checklist item '%s' (add it under 'checklist')")
    kind_label = gettext_lazy("Checklist")

    def read(self, release: Release, stage: Stage, options: Any) -> Mapping[str, Any]:
        ticks = ChecklistTick.objects.filter(
            release=release, stage=release.stage, voided__isnull=True
        )
        return {"checklist": frozenset(ticks.values_list("item", flat=True))}

    def describe(self, unmet: Unmet, words: Words) -> str:
        return _("Stage '%(stage)s' needs the checklist item '%(item)s' done.") % {
            "stage": stage_label(words.variant, words.stage),
            "item": self.label(unmet.key, words),
        }
