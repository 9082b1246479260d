"""The REST API under /api/v1/: authentication, error format and the routers of each app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from relman.accounts.api import router as accounts_router
from relman.accounts.services import user_for_token
from relman.approvals.api import router as approvals_router
from relman.audit.api import router as audit_router
from relman.calendar.api import router as calendar_router
from relman.cmdb.api import router as cmdb_router
from relman.core.errors import DomainError
from relman.notifications.api import router as notifications_router
from relman.processes.api import router as processes_router
from relman.releases.api import router as releases_router


class TokenAuth(HttpBearer):
    """`Authorization: Bearer rmt_...` with a token from `relman token create`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session cookie (with CSRF checks on writes), for the pages' own calls."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None


api = NinjaAPI(
    title="relman API",
    version="1",
    description="Release management: releases, their lifecycle, deliverables, approvals and audit.",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.as_dict())


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = list(error.get("loc", ()))
        # Ninja prefixes where the value came from, then the payload's name: drop those two
        # only, so a field that is itself called `body` keeps its name.
        if loc and loc[0] in ("body", "query", "path", "form", "file", "header", "cookie"):
            loc = loc[1:]
        if loc and loc[0] in ("payload", "filters"):
            loc = loc[1:]
        loc = [str(part) for part in loc]
        errors.setdefault(".".join(loc) or "request", []).append(error.get("msg", ""))
    first = next(iter(errors.items()))
    return _error(
        request, 400, {"code": "invalid", "detail": f"{first[0]}: {first[1][0]}", "errors": errors}
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request,
        401,
        {
            "code": "unauthenticated",
            "detail": _("Log in, or send a valid API token as 'Authorization: Bearer ...'."),
        },
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, {"code": "error", "detail": str(exc)})


api.add_router("/releases", releases_router)
api.add_router("/approvals", approvals_router)
api.add_router("/releases", "relman.approvals.api_decisions.router")
api.add_router("/releases", "relman.approvals.api_readiness.router")
api.add_router("/cab", "relman.approvals.api_cab.router")
api.add_router("/processes", processes_router)
api.add_router("/audit", audit_router)
api.add_router("/calendar", calendar_router)
api.add_router("/applications", cmdb_router)
api.add_router("/notifications", notifications_router)
api.add_router("", accounts_router)
