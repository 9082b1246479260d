"""The gates whose facts the releases app owns: required deliverables, checklist items, the
impact review and the CMDB update.

Each is one `processes.gates.Gate`, listed in `settings.RELMAN_GATES`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from relman.cmdb import impact
from relman.cmdb.models import DeployedVersion
from relman.processes.definition import Stage, pick
from relman.processes.gates import BaseGate, Problem, Snapshot, Unmet, Words
from relman.processes.messages import role_label, stage_label
from relman.releases.models import ChecklistTick, ImpactReview, Release, ReleaseItem

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


@dataclass(frozen=True)
class ImpactReviewOptions:
    """`impact_reviewed: {role: release_manager}`: who must have confirmed the impact."""

    role: str


class ImpactReviewedGate(BaseGate):
    """`impact_reviewed: {role: R}`: a holder of role R (not the requester) confirmed the
    impact of the release as it is now: the items it touches and those they affect. Changing
    the items voids the review; a review that saw another impact (the CMDB changed since)
    no longer counts."""

    key = "impact_reviewed"
    schema = {
        "type": "object",
        "description": "The impact of the release (its items and what depends on them) was "
        "confirmed by a holder of `role` other than the requester.",
        "additionalProperties": False,
        "required": ["role"],
        "properties": {"role": {"$ref": "#/$defs/key"}},
    }
    kind_label = gettext_lazy("Impact review")

    def options(self, raw: Any) -> ImpactReviewOptions | None:
        return ImpactReviewOptions(str(raw["role"])) if raw else None

    def problems(
        self, raw: Any, definition: Mapping[str, Any], earlier: Sequence[str]
    ) -> list[Problem]:
        roles = set(definition.get("roles") or {})
        role = (raw or {}).get("role")
        if role and role not in roles:
            return [Problem(("role",), str(_("unknown role '%s'")) % role)]
        return []

    def read(self, release: Release, stage: Stage, options: Any) -> Mapping[str, Any]:
        touched = list(ReleaseItem.objects.filter(release=release).values_list("ci_id", flat=True))
        review = (
            ImpactReview.objects.filter(release=release, voided__isnull=True)
            .order_by("-created", "-id")
            .values("roles", "touched", "affected")
            .first()
        )
        return {
            "impact_review": review,
            "impact_now": {
                "touched": sorted(touched),
                "affected": sorted(a.id for a in impact.affected(touched)),
            },
        }

    def evaluate(self, options: ImpactReviewOptions, snap: Snapshot) -> list[Unmet]:
        review = snap.fact("impact_review")
        now = snap.fact("impact_now") or {"touched": [], "affected": []}
        if not review or options.role not in (review.get("roles") or ()):
            return [Unmet("impact", "review")]
        seen = {"touched": sorted(review["touched"]), "affected": sorted(review["affected"])}
        if seen != {"touched": sorted(now["touched"]), "affected": sorted(now["affected"])}:
            return [Unmet("impact", "changed")]
        return []

    def describe(self, unmet: Unmet, words: Words) -> str:
        stage = words.variant.stage(words.stage)
        options = stage.option(self.key) if stage else None
        values = {
            "stage": stage_label(words.variant, words.stage),
            "role": role_label(words.process, options.role) if options else "",
        }
        if unmet.key == "changed":
            return (
                _(
                    "The impact of the release changed since it was reviewed; stage "
                    "'%(stage)s' needs it reviewed again by a holder of '%(role)s'."
                )
                % values
            )
        return _("Stage '%(stage)s' needs the impact of the release reviewed by '%(role)s'.") % (
            values
        )

    def items(
        self, options: ImpactReviewOptions, snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        return [
            {
                "kind": "impact",
                "key": "review",
                "label": _("Impact reviewed by '%s'") % role_label(words.process, options.role),
                "met": not unmet,
            }
        ]


@dataclass(frozen=True)
class CmdbUpdatedOptions:
    """`cmdb_updated: true`: no options beyond being on."""


class CmdbUpdatedGate(BaseGate):
    """`cmdb_updated: true` (or `{}`): every configuration item the release touches has a
    current deployed version of the release's application that this release put there
    (recorded by hand, or by the deployment)."""

    key = "cmdb_updated"
    schema = {
        "description": "Every item the release touches has a current deployed version "
        "recorded by this release.",
        "oneOf": [
            {"type": "boolean"},
            {"type": "object", "additionalProperties": False, "properties": {}},
        ],
    }
    kind_label = gettext_lazy("CMDB")

    def options(self, raw: Any) -> CmdbUpdatedOptions | None:
        return CmdbUpdatedOptions() if raw is True or isinstance(raw, dict) else None

    def read(self, release: Release, stage: Stage, options: Any) -> Mapping[str, Any]:
        touched = dict(
            ReleaseItem.objects.filter(release=release)
            .order_by("ci__name", "ci_id")
            .values_list("ci_id", "ci__name")
        )
        updated = set(
            DeployedVersion.objects.filter(
                release=release,
                application_id=release.application_id,
                removed__isnull=True,
                ci_id__in=list(touched),
            ).values_list("ci_id", flat=True)
        )
        return {"cmdb_touched": touched, "cmdb_updated": frozenset(updated)}

    def evaluate(self, options: CmdbUpdatedOptions, snap: Snapshot) -> list[Unmet]:
        touched = snap.fact("cmdb_touched") or {}
        updated = snap.fact("cmdb_updated", frozenset())
        return [Unmet("cmdb", name) for pk, name in touched.items() if pk not in updated]

    def describe(self, unmet: Unmet, words: Words) -> str:
        return _(
            "Stage '%(stage)s' needs the deployed version on '%(item)s' recorded in the CMDB."
        ) % {"stage": stage_label(words.variant, words.stage), "item": unmet.key}

    def items(
        self, options: CmdbUpdatedOptions, snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        missing = {u.key for u in unmet}
        touched = snap.fact("cmdb_touched") or {}
        return [
            {
                "kind": "cmdb",
                "key": name,
                "label": _("Deployed version on '%s' recorded") % name,
                "met": name not in missing,
            }
            for name in touched.values()
        ]
