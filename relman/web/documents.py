"""The documents made from the record, as downloads from the pages: a release's (its
"Documents" card) and a period's (the reports dashboard), in the page's language (or
?language=). The files come from `reports.documents`, the same as the API's."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from relman.approvals.minutes import language_of
from relman.core.errors import NotFound, ValidationFailed
from relman.reports import documents
from relman.reports.periods import QUARTER


def _language(request: HttpRequest) -> str:
    return language_of(request.GET.get("language") or get_language())


@require_GET
@login_required
def release_document(request: HttpRequest, number: str, name: str, fmt: str) -> HttpResponse:
    """A document of a release the user may see; 404 for any other (or an unknown name)."""
    try:
        made = documents.release_file(request.user, number, name, fmt, _language(request))
    except (NotFound, ValidationFailed) as exc:
        raise Http404(exc.message) from exc
    return made.response()


@require_GET
@login_required
def period_document(request: HttpRequest, name: str, period: str, fmt: str) -> HttpResponse:
    """A period's document over the releases the user may see."""
    try:
        made = documents.period_file(request.user, name, period, fmt, _language(request))
    except ValidationFailed as exc:
        raise Http404(exc.message) from exc
    return made.response()


def release_links(release: Any) -> list[dict[str, Any]]:
    """The release's documents with a link per format, for its page."""
    return [
        {"name": name, "label": label, "formats": documents.FORMAT_LABELS}
        for name, label in documents.RELEASE_DOCUMENTS.items()
    ]


def period_links(key: str) -> list[dict[str, Any]]:
    """The period's documents, for the dashboard: the analysis for a quarter only, the
    statistics for a quarter or a month (not a custom range)."""
    if ".." in key:
        return []
    names = ["release_statistics"]
    if QUARTER.fullmatch(key):
        names.insert(0, "quarterly_analysis")
    return [
        {
            "name": name,
            "label": documents.PERIOD_DOCUMENTS[name],
            "formats": documents.FORMAT_LABELS,
        }
        for name in names
    ]
