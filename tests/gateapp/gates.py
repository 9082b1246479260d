"""`impact_described: {min_words: N}`: the release's impact analysis has at least N words.

The whole of a new gate kind: this module, and its dotted path added to RELMAN_GATES.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relman.processes.gates import BaseGate, Snapshot, Unmet, Words
from relman.processes.messages import stage_label


class ImpactDescribedGate(BaseGate):
    """The impact analysis is written, at least `min_words` words long."""

    key = "impact_described"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["min_words"],
        "properties": {"min_words": {"type": "integer", "minimum": 1}},
    }
    kind_label = "Impact review"

    def options(self, raw: Any) -> int:
        return int(raw["min_words"])

    def read(self, release: Any, stage: Any, options: int) -> Mapping[str, Any]:
        return {"impact_words": len(release.impact.split())}

    def evaluate(self, options: int, snap: Snapshot) -> list[Unmet]:
        words = snap.fact("impact_words", 0)
        return [] if words >= options else [Unmet("impact", "review", options, words)]

    def describe(self, unmet: Unmet, words: Words) -> str:
        return (
            f"Stage '{stage_label(words.variant, words.stage)}' needs an impact review of "
            f"{unmet.needed} words (has {unmet.have})."
        )
