"""The project's error views (urls.py `handler400` ... and CSRF_FAILURE_VIEW).

Under /api/ every error is JSON in the documented shape `{"code", "detail"}`, whatever raised
it: an unknown URL, a body too large, a failed CSRF check, a server error. Pages keep
Django's own error pages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import csrf, defaults

# The `code` of an error answer, by HTTP status.
CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "gate_not_met",
    500: "server_error",
    503: "unavailable",
}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, detail: str, **extra: Any) -> JsonResponse:
    """An error answer of the API: its code by status, a sentence, and any extra keys."""
    return JsonResponse(
        {"code": CODES.get(status, "error"), "detail": detail, **extra}, status=status
    )


def too_large_detail() -> str:
    return _("The request body is larger than the server accepts (RELMAN_MAX_BODY_MB).")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400, or 413 when the body was larger than DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if isinstance(exception, RequestDataTooBig):
        if is_api(request):
            return json_error(413, too_large_detail())
        return HttpResponse(too_large_detail(), status=413, content_type="text/plain")
    if is_api(request):
        return json_error(400, _("The request is not valid."))
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return json_error(403, str(exception or "") or _("You may not do this."))
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return json_error(404, _("There is no API operation at %s.") % request.path)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: the request id lets an operator find the traceback in the log."""
    if is_api(request):
        detail = _("The server failed to answer; the error is logged as request %s.") % (
            getattr(request, "request_id", "-")
        )
        return json_error(500, detail)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api(request):
        return json_error(403, _("CSRF check failed: %s") % reason)
    return csrf.csrf_failure(request, reason)
