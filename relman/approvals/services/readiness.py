"""Release readiness reviews (seed 000): go / no-go against the release criteria.

A stage whose gate says `readiness: true` is left forwards only after a review decided
"go". The review judges every criterion of the process's `readiness_criteria`, each met
or not, with its evidence: a deliverable of the release (its latest version), a ticked
checklist item, or a note. A later review supersedes an earlier one; returning the
release to an earlier stage voids the reviews from there on (releases.services.lifecycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relman.approvals.models import ReadinessCriterion, ReadinessReview
from relman.audit import services as audit
from relman.core.errors import Conflict, PermissionDenied, raise_if_invalid
from relman.processes.definition import Criterion, Process, Stage, Variant, pick
from relman.processes.messages import role_label, stage_label
from relman.releases import access
from relman.releases.choices import Status
from relman.releases.models import ChecklistTick, DeliverableVersion, Release
from relman.releases.services.state import flow_of

GO, NO_GO = ReadinessReview.GO, ReadinessReview.NO_GO
DECISIONS = (GO, NO_GO)
NOTE_MAX = 5000
CRITERION_NOTE_MAX = 1000


def is_ready(release: Release) -> bool:
    """Whether the latest live review of the release's current stage decided go."""
    latest = (
        ReadinessReview.objects.filter(release=release, stage=release.stage, voided__isnull=True)
        .values_list("decision", flat=True)
        .first()
    )
    return latest == ReadinessReview.GO


# ---------------------------------------------------------------- who may decide


def refusal(actor: Any, release: Release, process: Process, stage: Stage) -> str | None:
    """Why `actor` may not record a readiness review of the release now; None when they may.

    A user may decide a release's readiness when: the release is open, its current stage
    holds a readiness review, they hold one of the stage's roles for the release, and they
    did not request it (segregation of duties).
    """
    if release.requester_id == getattr(actor, "pk", None):
        return _("%(who)s requested release %(number)s, so may not decide its readiness.") % {
            "who": actor,
            "number": release.number,
        }
    if not access.release_roles(actor, release) & set(stage.roles):
        roles = ", ".join(role_label(process, r) for r in stage.roles)
        return _("Only these roles may decide the readiness of this release: %s.") % roles
    return None


def _review_stage(release: Release, variant: Variant) -> Stage:
    """The current stage, when it holds a readiness review; else the refusal."""
    stage = variant.stage(release.stage)
    if release.status != Status.IN_PROGRESS or stage is None or not stage.readiness:
        raise Conflict(_no_review(release, variant))
    return stage


def _no_review(release: Release, variant: Variant) -> str:
    """Why no review can be recorded: the release is closed, or its stage holds none."""
    if release.status != Status.IN_PROGRESS:
        return _("Release %s is closed.") % release.number
    return _("Stage '%(stage)s' of release %(number)s has no readiness review.") % {
        "stage": stage_label(variant, release.stage),
        "number": release.number,
    }


# ---------------------------------------------------------------- evidence on the release


def latest_versions(release: Release) -> dict[str, DeliverableVersion]:
    """Each deliverable of the release with its newest version (one query)."""
    latest: dict[str, DeliverableVersion] = {}
    versions = (
        DeliverableVersion.objects.filter(deliverable__release=release)
        .select_related("deliverable")
        .order_by("deliverable_id", "-number")
    )
    for version in versions:
        latest.setdefault(version.deliverable.key, version)
    return latest


def ticked_items(release: Release) -> set[str]:
    """The checklist items with a live tick on the release, in whichever stage they were
    ticked: a return voids the ticks of the stages it goes back over."""
    return set(
        ChecklistTick.objects.filter(release=release, voided__isnull=True).values_list(
            "item", flat=True
        )
    )


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


# ---------------------------------------------------------------- what the page and API show


@dataclass
class EvidenceView:
    """A suggested or recorded piece of evidence, in words."""

    kind: str  # "deliverable" | "checklist"
    key: str
    label: str
    present: bool
    version: int | None = None


@dataclass
class CriterionView:
    """A release criterion with the evidence the process suggests for it."""

    key: str
    label: str
    deliverable: EvidenceView | None
    checklist: EvidenceView | None


@dataclass
class JudgedView:
    """A criterion as one review judged it."""

    key: str
    label: str
    met: bool
    deliverable: str | None
    deliverable_label: str
    version: int | None
    checklist: str | None
    checklist_label: str
    note: str


@dataclass
class ReviewView:
    """One recorded review: live and current, superseded by a later one, or voided."""

    id: int
    stage: str
    stage_label: str
    decision: str
    decided_by: str
    note: str
    created: datetime
    voided: datetime | None
    superseded: bool
    current: bool
    criteria: list[JudgedView]


@dataclass
class ReadinessState:
    """The readiness review of a release as its page and API show it."""

    release: Release
    applies: bool  # the current stage holds a readiness review
    stage: str
    stage_label: str
    ready: bool
    can_decide: bool
    why_not: str  # why the user may not decide, when they may not
    criteria: list[CriterionView]
    latest: ReviewView | None
    history: list[ReviewView] = field(default_factory=list)
    deliverables: list[tuple[str, str]] = field(default_factory=list)  # (key, "label vN")
    checklist: list[tuple[str, str]] = field(default_factory=list)  # ticked (key, label)


def readiness_state(user: Any, release: Release) -> ReadinessState:
    """The criteria with their suggested evidence, the latest review and every review of the
    release, and whether `user` may decide now. The number of queries does not grow with
    the reviews or criteria."""
    process, variant = flow_of(release)
    language = get_language()
    stage = variant.stage(release.stage)
    applies = bool(stage and stage.readiness and release.status == Status.IN_PROGRESS)
    versions = latest_versions(release)
    ticked = ticked_items(release)

    def deliverable_label(key: str) -> str:
        return pick(process.deliverables.get(key), language) or key

    def checklist_label(key: str) -> str:
        return pick(process.checklist.get(key), language) or key

    criteria = []
    for criterion in process.readiness_criteria:
        suggested_deliverable = suggested_item = None
        if criterion.deliverable:
            found = versions.get(criterion.deliverable)
            suggested_deliverable = EvidenceView(
                "deliverable",
                criterion.deliverable,
                deliverable_label(criterion.deliverable),
                found is not None,
                found.number if found else None,
            )
        if criterion.checklist:
            suggested_item = EvidenceView(
                "checklist",
                criterion.checklist,
                checklist_label(criterion.checklist),
                criterion.checklist in ticked,
            )
        criteria.append(
            CriterionView(
                criterion.key,
                pick(criterion.label, language) or criterion.key,
                suggested_deliverable,
                suggested_item,
            )
        )
    labels = {c.key: c.label for c in criteria}
    reviews = (
        ReadinessReview.objects.filter(release=release)
        .select_related("decided_by")
        .prefetch_related(
            Prefetch(
                "criteria",
                queryset=ReadinessCriterion.objects.select_related(
                    "deliverable_version__deliverable"
                ),
            )
        )
    )

    def judged_view(c: ReadinessCriterion) -> JudgedView:
        version = c.deliverable_version
        key = version.deliverable.key if version else None
        return JudgedView(
            key=c.key,
            label=labels.get(c.key, c.key),
            met=c.met,
            deliverable=key,
            deliverable_label=deliverable_label(key) if key else "",
            version=version.number if version else None,
            checklist=c.checklist_item or None,
            checklist_label=checklist_label(c.checklist_item) if c.checklist_item else "",
            note=c.note,
        )

    history, seen_live = [], set()
    for review in reviews:  # newest first
        live = review.voided is None
        superseded = live and review.stage in seen_live
        if live:
            seen_live.add(review.stage)
        history.append(
            ReviewView(
                id=review.pk,
                stage=review.stage,
                stage_label=stage_label(variant, review.stage),
                decision=review.decision,
                decided_by=str(review.decided_by),
                note=review.note,
                created=review.created,
                voided=review.voided,
                superseded=superseded,
                current=live and not superseded and review.stage == release.stage,
                criteria=[judged_view(c) for c in review.criteria.all()],
            )
        )
    latest = next((r for r in history if r.current), None)
    if applies:
        why_not = refusal(user, release, process, stage) or ""
    else:
        why_not = _no_review(release, variant)
    return ReadinessState(
        release=release,
        applies=applies,
        stage=release.stage,
        stage_label=stage_label(variant, release.stage),
        ready=bool(applies and latest and latest.decision == GO),
        can_decide=applies and not why_not,
        why_not=why_not,
        criteria=criteria,
        latest=latest,
        history=history,
        deliverables=[
            (key, f"{deliverable_label(key)} v{version.number}")
            for key, version in sorted(versions.items())
        ],
        checklist=[(key, checklist_label(key)) for key in sorted(ticked)],
    )
