"""Applications and environments (reference data)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from relman.cmdb.models import Application, Environment
from relman.core.api import ERRORS

router = Router(tags=["reference data"])


class ApplicationOut(Schema):
    code: str
    name: str
    process: str
    is_active: bool

    @staticmethod
    def resolve_process(obj: Any) -> str:
        return obj.process_name


class EnvironmentOut(Schema):
    code: str
    name: str
    is_production: bool


@router.get(
    "", response={200: list[ApplicationOut], **ERRORS}, summary="Applications and their processes"
)
def list_applications(request: HttpRequest) -> Any:
    return Application.objects.filter(is_active=True)


@router.get("/environments", response={200: list[EnvironmentOut], **ERRORS}, summary="Environments")
def list_environments(request: HttpRequest) -> Any:
    return Environment.objects.all()
