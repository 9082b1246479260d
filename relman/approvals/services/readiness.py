"""Release readiness reviews (seed 000): go / no-go against the release criteria.

A stage whose gate says `readiness: true` is left forwards only after a review decided
"go". The review judges every criterion of the process's `readiness_criteria`, each met
or not, with its evidence: a deliverable of the release (its latest version), a ticked
checklist item, or a note. A later review supersedes an earlier one; returning the
release to an earlier stage voids the reviews from there on (`approvals.receivers`, on the
release service's `release_moved` event). Who may decide, and what a review's page reads, are
in `readiness_reads.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relman.approvals.models import ReadinessCriterion, ReadinessReview
from relman.approvals.services.readiness_reads import (
    ReadinessState,
    is_ready,
    latest_versions,
    no_review,
    readiness_state,
    refusal,
    ticked_items,
)
from relman.audit import services as audit
from relman.core.errors import Conflict, PermissionDenied, raise_if_invalid
from relman.processes.definition import Criterion, Process, Stage, Variant, pick
from relman.releases import access
from relman.releases.choices import Status
from relman.releases.models import DeliverableVersion, Release
from relman.releases.services.state import flow_of

__all__ = [
    "CRITERION_NOTE_MAX",
    "DECISIONS",
    "GO",
    "NOTE_MAX",
    "NO_GO",
    "ReadinessState",
    "is_ready",
    "latest_versions",
    "readiness_state",
    "record_review",
    "refusal",
    "ticked_items",
]

GO, NO_GO = ReadinessReview.GO, ReadinessReview.NO_GO
DECISIONS = (GO, NO_GO)
NOTE_MAX = 5000
CRITERION_NOTE_MAX = 1000


# ---------------------------------------------------------------- who may decide


def _review_stage(release: Release, variant: Variant) -> Stage:
    """The current stage, when it holds a readiness review; else the refusal."""
    stage = variant.stage(release.stage)
    if release.status != Status.IN_PROGRESS or stage is None or not stage.readiness:
        raise Conflict(no_review(release, variant))
    return stage


# ---------------------------------------------------------------- recording a review


@dataclass
class _Judged:
    """One criterion as the caller judged it, with its evidence resolved."""

    criterion: Criterion
    met: bool
    version: DeliverableVersion | None = None
    checklist: str = ""
    note: str = ""

    def as_audit(self) -> dict[str, Any]:
        return {
            "met": self.met,
            "deliverable": self.version.deliverable.key if self.version else None,
            "version": self.version.number if self.version else None,
            "checklist": self.checklist or None,
            "note": self.note,
        }


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _judge(
    process: Process,
    release: Release,
    criteria: Mapping[str, Any],
    errors: dict[str, list[str]],
) -> list[_Judged]:
    """Each criterion of the process as the caller judged it; problems go into `errors`."""
    language = get_language()
    known = {c.key: c for c in process.readiness_criteria}
    for key in criteria:
        if key not in known:
            errors.setdefault(f"criteria.{key}", []).append(
                _(
                    "'%(key)s' is not a release criterion of process '%(process)s'. Its criteria: %(keys)s."
                )
                % {"key": key, "process": process.name, "keys": ", ".join(known)}
            )
    missing = [c for c in process.readiness_criteria if c.key not in criteria]
    if missing:
        errors.setdefault("criteria", []).append(
            _("Judge every release criterion; not judged: %s.")
            % ", ".join(pick(c.label, language) or c.key for c in missing)
        )
    versions = latest_versions(release)
    ticked = ticked_items(release)
    judged = []
    for criterion in process.readiness_criteria:
        given = criteria.get(criterion.key)
        if given is None:
            continue
        name = f"criteria.{criterion.key}"
        label = pick(criterion.label, language) or criterion.key
        if not isinstance(given, Mapping):
            errors.setdefault(name, []).append(
                _("Give '%s' as {met, deliverable, checklist, note}.") % label
            )
            continue
        met = given.get("met")
        if not isinstance(met, bool):
            errors.setdefault(f"{name}.met", []).append(
                _("Say whether '%s' is met (true or false).") % label
            )
            continue
        deliverable, item, note = (
            _text(given.get("deliverable")),
            _text(given.get("checklist")),
            _text(given.get("note")),
        )
        if not deliverable and not item:
            # The evidence the criterion usually rests on, when the release has it.
            if criterion.deliverable in versions:
                deliverable = criterion.deliverable
            if criterion.checklist in ticked:
                item = criterion.checklist
        judgement = _Judged(criterion, met, note=note)
        if deliverable:
            if deliverable not in process.deliverables:
                errors.setdefault(f"{name}.deliverable", []).append(
                    _("'%(key)s' is not a deliverable of process '%(process)s'.")
                    % {"key": deliverable, "process": process.name}
                )
            elif deliverable not in versions:
                errors.setdefault(f"{name}.deliverable", []).append(
                    _("The release has no '%s' yet, so it cannot be the evidence.")
                    % (pick(process.deliverables[deliverable], language) or deliverable)
                )
            else:
                judgement.version = versions[deliverable]
        if item:
            if item not in process.checklist:
                errors.setdefault(f"{name}.checklist", []).append(
                    _("'%(key)s' is not a checklist item of process '%(process)s'.")
                    % {"key": item, "process": process.name}
                )
            elif item not in ticked:
                errors.setdefault(f"{name}.checklist", []).append(
                    _("The checklist item '%s' is not done, so it cannot be the evidence.")
                    % (pick(process.checklist[item], language) or item)
                )
            else:
                judgement.checklist = item
        if len(note) > CRITERION_NOTE_MAX:
            errors.setdefault(f"{name}.note", []).append(
                _("At most %d characters.") % CRITERION_NOTE_MAX
            )
        if met and not (deliverable or item or note):
            errors.setdefault(name, []).append(
                _(
                    "'%s' is marked met without evidence: name a deliverable, a checklist item or write a note."
                )
                % label
            )
        judged.append(judgement)
    return judged


def record_review(
    actor: Any,
    ref: Release | str | int,
    *,
    decision: str,
    criteria: Mapping[str, Any],
    note: str = "",
) -> ReadinessReview:
    """Record a go / no-go readiness review of the release's current stage.

    `criteria` maps each criterion key of the process to `{met, deliverable?, checklist?,
    note?}`. Every criterion must be judged; a met one needs evidence; `go` needs every
    criterion met; `no_go` needs an unmet criterion or a note saying why. When a criterion
    names no deliverable and no checklist item, the ones the process suggests for it are
    taken as evidence where the release has them. The latest review supersedes the others.
    """
    note = _text(note)
    errors: dict[str, list[str]] = {}
    if decision not in DECISIONS:
        errors["decision"] = [_("Decide 'go' or 'no_go'.")]
    if not isinstance(criteria, Mapping):
        errors["criteria"] = [_("Give the criteria as a mapping of criterion to judgement.")]
    if len(note) > NOTE_MAX:
        errors["note"] = [_("At most %d characters.") % NOTE_MAX]
    raise_if_invalid(errors)
    with transaction.atomic():
        release = access.get_visible(actor, ref, for_update=True)
        process, variant = flow_of(release)
        stage = _review_stage(release, variant)
        why_not = refusal(actor, release, process, stage)
        if why_not:
            raise PermissionDenied(why_not)
        judged = _judge(process, release, criteria, errors)
        language = get_language()
        unmet = [pick(j.criterion.label, language) or j.criterion.key for j in judged if not j.met]
        if decision == GO and unmet:
            errors.setdefault("decision", []).append(
                _("'Go' needs every criterion met; not met: %s.") % ", ".join(unmet)
            )
        if decision == NO_GO and judged and not unmet and not note:
            errors.setdefault("note", []).append(
                _("Every criterion is met: say in the note why the decision is no-go.")
            )
        raise_if_invalid(errors)
        previous = (
            ReadinessReview.objects.filter(release=release, stage=stage.key, voided__isnull=True)
            .values("id", "decision")
            .first()
        )
        review = ReadinessReview.objects.create(
            release=release, stage=stage.key, decision=decision, decided_by=actor, note=note
        )
        ReadinessCriterion.objects.bulk_create(
            ReadinessCriterion(
                review=review,
                key=j.criterion.key,
                met=j.met,
                deliverable_version=j.version,
                checklist_item=j.checklist,
                note=j.note,
            )
            for j in judged
        )
        audit.record(
            actor,
            f"readiness.{decision}",
            review,
            release=release,
            before=(
                {"review": previous["id"], "decision": previous["decision"]} if previous else None
            ),
            after={
                "review": review.pk,
                "stage": stage.key,
                "decision": decision,
                "criteria": {j.criterion.key: j.as_audit() for j in judged},
            },
            reason=note,
        )
    return review
