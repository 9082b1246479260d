"""The REST API under /api/v1/: authentication, error format and the routers of each app."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer

from relman.accounts.api import router as accounts_router
from relman.accounts.services import user_for_token
from relman.approvals.api import router as approvals_router
from relman.audit.api import router as audit_router
from relman.calendar.api import router as calendar_router
from relman.cmdb.api import cmdb_router
from relman.cmdb.api import router as applications_router
from relman.core.errors import DomainError, ValidationFailed
from relman.core.handlers import CODES, too_large_detail
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


class JsonBodies(Parser):
    """Request bodies are JSON objects sent as JSON: another content type is refused with
    415, and a body that is not an object (a list, a number) with 400."""

    def parse_body(self, request: HttpRequest) -> Any:
        content_type = request.content_type or ""
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType(
                _("Send the body as JSON with 'Content-Type: application/json', not '%s'.")
                % (content_type or _("none"))
            )
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailed(
                _("The body is not valid JSON: %s.") % exc, field="request"
            ) from exc
        if not isinstance(data, dict):
            raise ValidationFailed(
                _("The body must be a JSON object, not %s.") % type(data).__name__,
                field="request",
            )
        return data


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class RelmanAPI(NinjaAPI):
    """The API, whose OpenAPI document also declares the errors every body may cause."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        schema = super().get_openapi_schema(*args, **kwargs)
        error = {"content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA}}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                if "requestBody" not in operation:
                    continue
                responses = operation["responses"]
                responses.setdefault("413", {"description": "Payload Too Large", **error})
                if "application/json" in operation["requestBody"].get("content", {}):
                    responses.setdefault("415", {"description": "Unsupported Media Type", **error})
        return schema


ERROR_SCHEMA = "#/components/schemas/ErrorOut"

api = RelmanAPI(
    title="relman API",
    version="1",
    description="Release management: releases, their lifecycle, deliverables, approvals and audit.",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
    urls_namespace="api",
    parser=JsonBodies(),
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
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        errors.setdefault(".".join(loc) or "request", []).append(message)
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
    """Ninja's own errors (an unreadable body, a failed CSRF check) in the documented shape;
    a refusal of the body parser above keeps its own status and words."""
    cause = exc.__cause__
    if isinstance(cause, DomainError):
        return domain_error(request, cause)
    if isinstance(cause, RequestDataTooBig):
        return _error(request, 413, {"code": "too_large", "detail": too_large_detail()})
    status = exc.status_code
    return _error(request, status, {"code": CODES.get(status, "error"), "detail": str(exc)})


api.add_router("/releases", releases_router)
api.add_router("/releases", "relman.releases.api_scope.router")
api.add_router("/approvals", approvals_router)
api.add_router("/releases", "relman.approvals.api_decisions.router")
api.add_router("/releases", "relman.approvals.api_readiness.router")
api.add_router("/cab", "relman.approvals.api_cab.router")
api.add_router("/processes", processes_router)
api.add_router("/audit", audit_router)
api.add_router("/calendar", calendar_router)
api.add_router("/applications", applications_router)
api.add_router("/teams", "relman.accounts.api_teams.router")
api.add_router("/cmdb", cmdb_router)
api.add_router("/notifications", notifications_router)
api.add_router("/changes", "relman.changes.api.router")
api.add_router("/releases", "relman.changes.api.release_router")
api.add_router("/reports", "relman.reports.api.router")
api.add_router("", accounts_router)
