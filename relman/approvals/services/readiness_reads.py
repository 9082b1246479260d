"""What a release's readiness shows and who may decide it: whether the latest live review
said go, the evidence on the release, and the state its page and API read. The review
itself is recorded by `readiness.record_review`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relman.approvals.models import ReadinessCriterion, ReadinessReview
from relman.processes.definition import Process, Stage, Variant, pick
from relman.processes.messages import role_label, stage_label
from relman.releases import access
from relman.releases.choices import Status
from relman.releases.models import ChecklistTick, DeliverableVersion, Release
from relman.releases.services.state import flow_of

GO = ReadinessReview.GO


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


def no_review(release: Release, variant: Variant) -> str:
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
        why_not = no_review(release, variant)
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
