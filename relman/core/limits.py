"""Time limits on work a request may start: a database statement PostgreSQL cancelled
(RELMAN_DB_STATEMENT_TIMEOUT_MS) and a document that took too long to make
(RELMAN_PDF_TIMEOUT_SECONDS) both become a 503 that says so, instead of a 500 or a worker
held for minutes."""

from __future__ import annotations

from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from relman.core.errors import DomainError

# PostgreSQL's SQLSTATE for a statement cancelled (by statement_timeout or an operator).
QUERY_CANCELED = "57014"


class TimedOut(DomainError):
    """The work took longer than its limit and was stopped; trying later may help."""

    status = 503
    code = "timeout"


def is_statement_timeout(exc: BaseException) -> bool:
    """Whether a database error is PostgreSQL cancelling the statement."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return code == QUERY_CANCELED


class TimeLimitMiddleware:
    """Answer 503 `timeout` (JSON under /api/, text elsewhere) when a request's work was
    stopped by its time limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, TimedOut):
            error = exc
        elif is_statement_timeout(exc):
            error = TimedOut(
                _(
                    "The database took too long to answer and the request was stopped; "
                    "try again later, or narrow the request."
                )
            )
        else:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(error.as_dict(), status=error.status)
        return HttpResponse(
            error.message, status=error.status, content_type="text/plain; charset=utf-8"
        )
