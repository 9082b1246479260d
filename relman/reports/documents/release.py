"""The documents of one release: its report and seed 001's forms."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit.models import AuditEvent
from relman.processes.definition import pick
from relman.releases.choices import Outcome
from relman.releases.models import Release
from relman.releases.services import flow_of
from relman.reports import kpi, periods
from relman.reports.documents.base import (
    DASH,
    MOVES,
    PROBLEMS,
    RELEASE_DOCUMENTS,
    Document,
    Table,
    percent,
    text,
)
from relman.reports.filters import KpiQuery


def _who(user: Any) -> str:
    if user is None:
        return ""
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{full} ({user.username})" if full else user.username


def _stage(variant: Any, key: str | None, language: str) -> str:
    if not key:
        return ""
    stage = variant.stage(key)
    return pick(stage.label, language) if stage else key


def _moves(release: Release) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(release=release, action__in=MOVES)
        .select_related("actor")
        .order_by("seq")
    )


def _problems(moves: list[AuditEvent], variant: Any, language: str) -> list[list[Any]]:
    """Each return, rollback, rejection or failed close with its reason, and the solution:
    the move that took the release on again after it."""
    rows = []
    for index, event in enumerate(moves):
        failed_close = event.action == "release.close" and (event.after or {}).get("outcome") in (
            Outcome.FAILED,
            Outcome.ROLLED_BACK,
        )
        if event.action not in PROBLEMS and not failed_close:
            continue
        solution = ""
        for later in moves[index + 1 :]:
            if later.action in ("release.advance", "release.close"):
                solution = _("%(move)s from '%(stage)s' on %(when)s by %(who)s") % {
                    "move": MOVES[later.action],
                    "stage": _stage(variant, (later.before or {}).get("stage"), language),
                    "when": text(later.created),
                    "who": later.actor_name,
                }
                if later.reason:
                    solution += f": {later.reason}"
                break
        rows.append(
            [
                event.created,
                str(MOVES[event.action]),
                _stage(variant, (event.before or {}).get("stage"), language),
                event.actor_name,
                event.reason,
                solution or _("none recorded"),
            ]
        )
    return rows


def _release_facts(release: Release, process: Any, variant: Any, language: str) -> dict:
    """The facts of a release by key, as (label, value), in the order the documents show them."""
    return {
        "number": (_("Number"), release.number),
        "title": (_("Title"), release.title),
        "application": (
            _("Application"),
            f"{release.application.code} · {release.application.name}",
        ),
        "process": (
            _("Process"),
            f"{pick(process.label, language)} · {pick(variant.label, language)}",
        ),
        "kind": (_("Kind"), release.get_kind_display()),
        "method": (_("Method"), release.get_method_display()),
        "class": (_("Class"), release.get_release_class_display()),
        "version": (_("Version number"), release.version_number),
        "risk": (_("Risk"), release.get_risk_display()),
        "status": (_("Status"), release.get_status_display()),
        "stage": (_("Stage"), _stage(variant, release.stage, language)),
        "outcome": (_("Outcome"), release.get_outcome_display()),
        "requester": (_("Requester"), _who(release.requester)),
        "manager": (_("Release manager"), _who(release.release_manager)),
        "requested": (_("Requested"), release.created),
        "planned_start": (_("Planned start"), release.planned_start),
        "planned_end": (_("Planned end"), release.planned_end),
        "actual_start": (_("Actual start"), release.actual_start),
        "actual_end": (_("Actual end"), release.actual_end),
    }


def _pick(facts: dict, *keys: str) -> list:
    return [facts[key] for key in keys]


# The deliverable of a process (seed 001's templates) each document stands for.
DELIVERABLE_OF = {
    "release_report": "release_report",
    "task_request": "task_request_form",
    "release_plan": "release_plan",
    "release_evaluation": "release_evaluation_report",
    "delivery_list": "product_delivery_list",
}
IDENTITY = ("number", "title", "application", "process", "kind", "method", "class")


def _deliverables(release: Release, process: Any, language: str, *, every: bool) -> Table:
    rows = []
    for deliverable in release.deliverables.prefetch_related("versions__uploaded_by"):
        versions = sorted(deliverable.versions.all(), key=lambda v: v.number)
        for version in versions if every else versions[-1:]:
            rows.append(
                [
                    pick(process.deliverables.get(deliverable.key), language) or deliverable.key,
                    deliverable.title,
                    version.number,
                    version.filename or version.url,
                    version.size,
                    version.sha256,
                    _who(version.uploaded_by),
                    version.created,
                ]
            )
    headers = [
        _("Deliverable"),
        _("Title"),
        _("Version"),
        _("File or link"),
        _("Size (bytes)"),
        "SHA-256",
        _("Uploaded by"),
        _("Uploaded"),
    ]
    return Table(_("Deliverables"), headers, rows)


def _approvals(release: Release, variant: Any, language: str, stage: str | None = None) -> Table:
    approvals = release.approvals.select_related("approver", "on_behalf_of").order_by("created")
    if stage:
        approvals = approvals.filter(stage=stage)
    rows = [
        [
            _stage(variant, a.stage, language),
            a.get_decision_display(),
            _who(a.approver) + (f" / {_who(a.on_behalf_of)}" if a.on_behalf_of else ""),
            a.created,
            a.comment,
            (a.void_reason or "✓") if a.voided else "",
        ]
        for a in approvals
    ]
    headers = [_("Stage"), _("Decision"), _("Approver"), _("Decided"), _("Comment"), _("Voided")]
    return Table(_("Approvals"), headers, rows)


def _quarter_success(user: Any, release: Release) -> tuple[str, kpi.Rate]:
    """The success rate of the release's application in the quarter it ended (or now)."""
    quarter = periods.current_quarter(release.actual_end or timezone.now())
    question = KpiQuery(period=quarter.key, application=release.application.code)
    return quarter.key, kpi.kpis(user, question).success_rate


def release_document(user: Any, release: Release, name: str, language: str) -> Document:
    """One of RELEASE_DOCUMENTS of a release the user may see, in the active language."""
    process, variant = flow_of(release)
    moves = _moves(release)
    facts = _release_facts(release, process, variant, language)
    passed = Table(
        _("Stages passed"),
        [_("When"), _("Action"), _("From"), _("To"), _("Who"), _("Reason")],
        [
            [
                e.created,
                str(MOVES[e.action]),
                _stage(variant, (e.before or {}).get("stage"), language),
                _stage(variant, (e.after or {}).get("stage"), language),
                e.actor_name,
                e.reason,
            ]
            for e in moves
        ],
    )
    problems = Table(
        _("Problems and solutions"),
        [_("When"), _("Problem"), _("Stage"), _("Who"), _("Reason"), _("Solution")],
        _problems(moves, variant, language),
    )
    quarter, rate = _quarter_success(user, release)
    success = (
        _("Success rate of %(app)s in %(quarter)s")
        % {"app": release.application.code, "quarter": quarter},
        percent(rate),
    )
    # The process's own words for the document where it names one as a deliverable
    # (hhlc: 任务申请单, 发布计划, ...), else ours.
    own = process.deliverables.get(DELIVERABLE_OF[name])
    title = pick(own, language) if own else str(RELEASE_DOCUMENTS[name])
    doc = Document(
        name, title, f"{release.number} · {release.title}", stem=f"{release.number}-{name}"
    )
    doc.extra = {"release": release, "process": process, "variant": variant}
    if name == "release_report":
        doc.facts = [*facts.values(), success]
        doc.tables = [
            passed,
            _deliverables(release, process, language, every=False),
            _approvals(release, variant, language),
            problems,
        ]
    elif name == "task_request":
        doc.facts = [
            *_pick(facts, *IDENTITY, "version", "risk", "requester"),
            (_("Requester's department"), getattr(release.requester, "department", "")),
            *_pick(facts, "requested", "planned_start", "planned_end"),
        ]
        doc.texts = [(_("Description"), release.description), (_("Scope"), release.scope)]
        first = variant.stages[0].key if variant.stages else None
        doc.tables = [_approvals(release, variant, language, stage=first)]
    elif name == "release_plan":
        doc.facts = _pick(facts, *IDENTITY, "version", "risk", "planned_start", "planned_end")
        doc.texts = [
            (_("Scope"), release.scope),
            (_("Impact"), release.impact),
            (_("Backout plan"), release.backout_plan),
        ]
        stages = [
            [i, pick(s.label, language), ", ".join(s.roles) if getattr(s, "roles", None) else ""]
            for i, s in enumerate(
                (
                    s
                    for s in variant.stages
                    if s.applies_to(release.kind, release.method, release.release_class)
                ),
                start=1,
            )
        ]
        doc.tables = [
            Table(_("Steps of the release"), ["#", _("Stage"), _("Roles")], stages),
            _deliverables(release, process, language, every=False),
        ]
    elif name == "release_evaluation":
        on_time = None
        if release.planned_start and release.planned_end and release.actual_start:
            on_time = release.planned_start <= release.actual_start <= release.planned_end
        lead = None
        if release.actual_end:
            lead = round((release.actual_end - release.created).total_seconds() / 3600, 1)
        doc.facts = [
            *_pick(facts, *IDENTITY, "outcome", "requested", "planned_start", "planned_end"),
            *_pick(facts, "actual_start", "actual_end"),
            (_("On time"), DASH if on_time is None else (_("yes") if on_time else _("no"))),
            (_("Lead time (hours)"), lead),
            success,
        ]
        doc.tables = [problems, _approvals(release, variant, language)]
    elif name == "delivery_list":
        doc.facts = _pick(
            facts, "number", "title", "application", "version", "outcome", "actual_end"
        )
        doc.tables = [_deliverables(release, process, language, every=True)]
    return doc


# ---------------------------------------------------------------- a period's documents
