"""Documents made from the record: a release's report and seed 001's forms (task request,
release plan, release evaluation, product delivery list), and the documents of a period
(seed 003's quarterly release analysis, seed 001's release statistics), as PDF, XLSX or
Markdown, in the reader's language.

Each document is built once as facts, texts and tables (`Document`), then written out:
the PDF and the Markdown from Django templates `reports/documents/<name>.html` and `.md`,
which an organisation replaces by putting its own under `$RELMAN_DATA_DIR/templates/`
(searched first, see settings.TEMPLATES); the XLSX from the same tables with openpyxl. The
PDF is made like the CAB minutes: WeasyPrint in a child process with a time limit
(`core.pdf.render_pdf`). A release's documents are for those who may see the release; a
period's cover the releases the reader may see, with the KPI figures of `reports.kpi`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relman.approvals.minutes import language_of
from relman.audit.models import AuditEvent
from relman.core.errors import ValidationFailed
from relman.core.pdf import render_pdf
from relman.processes.definition import pick
from relman.releases.access import get_visible
from relman.releases.choices import Kind, Outcome
from relman.releases.models import Release
from relman.releases.services import flow_of
from relman.reports import kpi, periods
from relman.reports.filters import KpiQuery

# The documents of one release. Seed 001's release report is `release_report`.
RELEASE_DOCUMENTS = {
    "release_report": gettext_lazy("Release report"),
    "task_request": gettext_lazy("Task request form"),
    "release_plan": gettext_lazy("Release plan"),
    "release_evaluation": gettext_lazy("Release evaluation report"),
    "delivery_list": gettext_lazy("Product delivery list"),
}
# The documents of a period, over the releases the reader may see.
PERIOD_DOCUMENTS = {
    "quarterly_analysis": gettext_lazy("Quarterly release analysis report"),
    "release_statistics": gettext_lazy("Release statistics"),
}
FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown; charset=utf-8",
}
FORMAT_LABELS = {"pdf": "PDF", "xlsx": "XLSX", "md": "Markdown"}

# The audit actions that move a release, in words.
MOVES = {
    "release.created": gettext_lazy("Requested"),
    "release.advance": gettext_lazy("Advanced"),
    "release.return": gettext_lazy("Returned"),
    "release.rollback": gettext_lazy("Rolled back"),
    "release.cancel": gettext_lazy("Cancelled"),
    "release.close": gettext_lazy("Closed"),
    "release.rejected": gettext_lazy("Sent back after a rejection"),
}
# The moves that are a problem of the release (seed 003: "problems and solutions").
PROBLEMS = ("release.return", "release.rollback", "release.rejected")
DASH = "—"


@dataclass
class Table:
    """A titled table of a document: its headers and rows of plain values."""

    title: str
    headers: list[str]
    rows: list[list[Any]]

    @property
    def text_rows(self) -> list[list[str]]:
        return [[text(value) for value in row] for row in self.rows]

    @property
    def md_rows(self) -> list[str]:
        """The rows as Markdown table lines (pipes escaped, lines joined)."""
        return ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in self.text_rows]

    @property
    def md_head(self) -> str:
        heads = " | ".join(md_cell(h) for h in self.headers)
        return f"| {heads} |\n|" + "---|" * len(self.headers)


@dataclass
class Document:
    """One document, ready to be written in any format."""

    name: str
    title: str
    subject: str  # the release's number and title, or the period
    facts: list[tuple[str, Any]] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    stem: str = ""

    @property
    def fact_rows(self) -> list[tuple[str, str]]:
        return [(label, text(value)) for label, value in self.facts]


@dataclass
class File:
    """A written document: its bytes, content type and file name."""

    content: bytes
    content_type: str
    filename: str


def text(value: Any) -> str:
    """A cell as text: local times to the minute, nothing as a dash."""
    if value is None or value == "":
        return DASH
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def percent(rate: kpi.Rate) -> str:
    value = DASH if rate.value is None else f"{rate.value:g} %"
    return f"{value} ({rate.numerator}/{rate.denominator})"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationFailed(
            _("There is no format '%(format)s': expected one of %(known)s.")
            % {"format": fmt[:20], "known": ", ".join(FORMATS)},
            field="format",
        )
    return fmt


def check_name(name: str, known: dict[str, Any]) -> str:
    if name not in known:
        raise ValidationFailed(
            _("There is no document '%(name)s': expected one of %(known)s.")
            % {"name": name[:40], "known": ", ".join(known)},
            field="name",
        )
    return name


# ---------------------------------------------------------------- a release's documents


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


def _release_facts(release: Release, process: Any, variant: Any, language: str) -> list:
    return [
        (_("Number"), release.number),
        (_("Title"), release.title),
        (_("Application"), f"{release.application.code} · {release.application.name}"),
        (_("Process"), f"{pick(process.label, language)} · {pick(variant.label, language)}"),
        (_("Kind"), release.get_kind_display()),
        (_("Method"), release.get_method_display()),
        (_("Class"), release.get_release_class_display()),
        (_("Version number"), release.version_number),
        (_("Risk"), release.get_risk_display()),
        (_("Status"), release.get_status_display()),
        (_("Stage"), _stage(variant, release.stage, language)),
        (_("Outcome"), release.get_outcome_display()),
        (_("Requester"), _who(release.requester)),
        (_("Release manager"), _who(release.release_manager)),
        (_("Requested"), release.created),
        (_("Planned start"), release.planned_start),
        (_("Planned end"), release.planned_end),
        (_("Actual start"), release.actual_start),
        (_("Actual end"), release.actual_end),
    ]


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
            _("voided") if a.voided else "",
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
        [_("When"), _("Move"), _("From"), _("To"), _("Who"), _("Reason")],
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
    title = str(RELEASE_DOCUMENTS[name])
    doc = Document(
        name, title, f"{release.number} · {release.title}", stem=f"{release.number}-{name}"
    )
    doc.extra = {"release": release, "process": process, "variant": variant}
    if name == "release_report":
        doc.facts = [*facts, success]
        doc.tables = [
            passed,
            _deliverables(release, process, language, every=False),
            _approvals(release, variant, language),
            problems,
        ]
    elif name == "task_request":
        doc.facts = [
            *facts[:9],
            (_("Requester's department"), getattr(release.requester, "department", "")),
            facts[14],
            facts[15],
            facts[16],
        ]
        doc.texts = [(_("Description"), release.description), (_("Scope"), release.scope)]
        first = variant.stages[0].key if variant.stages else None
        doc.tables = [_approvals(release, variant, language, stage=first)]
    elif name == "release_plan":
        doc.facts = facts[:9] + facts[15:17]
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
            *facts[:7],
            facts[11],
            *facts[14:],
            (_("On time"), DASH if on_time is None else (_("yes") if on_time else _("no"))),
            (_("Lead time (hours)"), lead),
            success,
        ]
        doc.tables = [problems, _approvals(release, variant, language)]
    elif name == "delivery_list":
        doc.facts = [*facts[:4], facts[7], facts[11], facts[18]]
        doc.tables = [_deliverables(release, process, language, every=True)]
    return doc


# ---------------------------------------------------------------- a period's documents


def _period(key: str, *, quarter_only: bool) -> periods.Period:
    field_name = "quarter" if quarter_only else "period"
    try:
        period = periods.parse(key)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=field_name) from exc
    if quarter_only and not periods.QUARTER.fullmatch(key.strip()):
        raise ValidationFailed(
            _("'%s' is not a quarter: expected one such as 2026Q3.") % key[:40], field="quarter"
        )
    return period


def _release_rows(releases: QuerySet[Release]) -> list[list[Any]]:
    return [
        [
            r.number,
            r.title,
            r.application.code,
            r.get_kind_display(),
            r.get_method_display(),
            r.get_release_class_display(),
            r.get_outcome_display(),
            r.actual_end,
        ]
        for r in releases
    ]


def _release_headers() -> list[str]:
    return [
        _("Number"),
        _("Title"),
        _("Application"),
        _("Kind"),
        _("Method"),
        _("Class"),
        _("Outcome"),
        _("Ended"),
    ]


def period_document(user: Any, name: str, key: str) -> Document:
    """One of PERIOD_DOCUMENTS over the releases the user may see, in the active language:
    the figures are those of `reports.kpi`."""
    period = _period(key, quarter_only=name == "quarterly_analysis")
    question = KpiQuery(period=period.key)
    result = kpi.kpis(user, question)
    closed = (
        kpi.releases_behind(user, question, "closed")
        .select_related("application")
        .order_by("actual_end", "number")
    )
    outcomes = Table(
        _("Releases by outcome"),
        [_("Outcome"), _("Releases")],
        [[Outcome(o).label, n] for o, n in result.outcomes.items()],
    )
    kinds = Table(
        _("Releases by kind"),
        [_("Kind"), _("Releases")],
        [[Kind(k).label, n] for k, n in result.by_kind.items()],
    )
    facts: list[tuple[str, Any]] = [
        (_("Period"), period.key),
        (_("From"), period.first_day.isoformat()),
        (_("To"), period.last_day.isoformat()),
        (_("Releases closed"), result.closed),
        (_("Release success rate"), percent(result.success_rate)),
    ]
    title = str(PERIOD_DOCUMENTS[name])
    doc = Document(name, title, period.key, stem=f"{period.key}-{name}")
    doc.extra = {"period": period, "kpis": result}
    if name == "quarterly_analysis":
        doc.facts = [
            *facts,
            (_("Emergency share"), percent(result.emergency_share)),
            (_("Rollback rate"), percent(result.rollback_rate)),
            (_("On-time rate"), percent(result.on_time_rate)),
            (_("Change failure rate"), percent(result.change_failure_rate)),
            (_("Lead time, median (hours)"), result.lead_time.median),
            (_("Lead time, 90th percentile (hours)"), result.lead_time.p90),
            (_("Deployment frequency (per week)"), result.deployment_frequency),
            (_("Time to restore, median (hours)"), result.time_to_restore.median),
        ]
        doc.texts = [(_("How the success rate is counted"), str(kpi.SUCCESS_RATE_FORMULA))]
        failures = list(
            kpi.releases_behind(user, question, "change_failures")
            .select_related("application")
            .order_by("actual_end", "number")
        )
        reasons: dict[int, list[str]] = {}
        events = AuditEvent.objects.filter(
            release__in=[r.pk for r in failures],
            action__in=(*PROBLEMS, "release.close"),
        ).order_by("seq")
        for event in events:
            if event.reason:
                reasons.setdefault(event.release_id, []).append(
                    f"{MOVES[event.action]} ({text(event.created)}): {event.reason}"
                )
        doc.tables = [
            outcomes,
            kinds,
            Table(
                _("Review of the failed and rolled back releases"),
                [*_release_headers(), _("Reasons")],
                [
                    [*row, "; ".join(reasons.get(r.pk, [])) or _("none recorded")]
                    for r, row in zip(failures, _release_rows(failures), strict=True)
                ],
            ),
        ]
    else:
        doc.facts = facts
        doc.tables = [
            outcomes,
            kinds,
            Table(_("Releases closed in the period"), _release_headers(), _release_rows(closed)),
        ]
    return doc


# ---------------------------------------------------------------- writing them out


def write_xlsx(doc: Document) -> bytes:
    """The document as a workbook: its facts on the first sheet, one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Summary")[:31]
    sheet.append([doc.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([doc.subject])
    sheet.append([])
    for label, value in doc.facts:
        sheet.append([label, _cell(value)])
    for heading, body in doc.texts:
        sheet.append([heading, body])
    sheet.column_dimensions["A"].width = 36
    sheet.column_dimensions["B"].width = 60
    for index, table in enumerate(doc.tables, start=1):
        tab = book.create_sheet(f"{index} {table.title}"[:31].replace("/", "-"))
        tab.append(table.headers)
        for cell in tab[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            tab.append([_cell(v) for v in row])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None or isinstance(value, int | float):
        return value
    return str(value)


def write(doc: Document, fmt: str, *, by: Any, language: str) -> File:
    """The document in `fmt` (pdf, xlsx or md)."""
    check_format(fmt)
    filename = f"{doc.stem}.{fmt}"
    if fmt == "xlsx":
        return File(write_xlsx(doc), FORMATS[fmt], filename)
    template = f"reports/documents/{doc.name}.{'html' if fmt == 'pdf' else 'md'}"
    context = {"document": doc, "by": by, "made": timezone.now(), **doc.extra}
    with translation.override(language):
        rendered = render_to_string(template, context)
    if fmt == "md":
        return File(rendered.encode("utf-8"), FORMATS[fmt], filename)
    return File(render_pdf(rendered, str(settings.BASE_DIR)), FORMATS[fmt], filename)


def release_file(user: Any, ref: Any, name: str, fmt: str, language: str | None = None) -> File:
    """A document of a release the user may see (NotFound otherwise), in `language`
    (default: the active one)."""
    check_name(name, RELEASE_DOCUMENTS)
    check_format(fmt)
    release = get_visible(user, ref)
    language = language_of(language or translation.get_language())
    with translation.override(language):
        doc = release_document(user, release, name, language)
    return write(doc, fmt, by=user, language=language)


def period_file(user: Any, name: str, key: str, fmt: str, language: str | None = None) -> File:
    """A period's document over the releases the user may see, in `language`."""
    check_name(name, PERIOD_DOCUMENTS)
    check_format(fmt)
    language = language_of(language or translation.get_language())
    with translation.override(language):
        doc = period_document(user, name, key)
    return write(doc, fmt, by=user, language=language)
