"""Process definitions: list, show, validate, and the published JSON Schema."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from relman.core.api import ERRORS
from relman.processes import services
from relman.processes.loader import InvalidProcess, schema

router = Router(tags=["processes"])


class ProcessOut(Schema):
    name: str
    version: int
    label_en: str
    label_zh_hans: str
    checksum: str


class ProcessDetail(ProcessOut):
    definition: dict[str, Any]
    mermaid: dict[str, str]


class ValidateIn(Schema):
    text: str
    filename: str = "process.yaml"


class ProblemOut(Schema):
    file: str
    line: int
    field: str
    message: str


class ValidateOut(Schema):
    valid: bool
    problems: list[ProblemOut]


@router.get(
    "", response={200: list[ProcessOut], **ERRORS}, summary="The processes, newest version of each"
)
def list_processes(request: HttpRequest) -> Any:
    return services.latest_versions()


@router.get(
    "/schema", response={200: dict[str, Any], **ERRORS}, summary="The JSON Schema of process files"
)
def process_schema(request: HttpRequest) -> dict[str, Any]:
    return schema()


@router.post(
    "/validate", response={200: ValidateOut, **ERRORS}, summary="Validate a process file's text"
)
def validate(request: HttpRequest, payload: ValidateIn) -> dict[str, Any]:
    """Always 200: `valid` says whether it passed, `problems` name the line and field."""
    try:
        services.validate(payload.text, payload.filename)
    except InvalidProcess as exc:
        return {"valid": False, "problems": [vars(p) for p in exc.problems]}
    return {"valid": True, "problems": []}


@router.get(
    "/{name}",
    response={200: ProcessDetail, **ERRORS},
    summary="A process: its flows, stages and gates",
)
def show(request: HttpRequest, name: str) -> dict[str, Any]:
    version = services.current_version(name)
    process = services.definition(version)
    return {
        **{f: getattr(version, f) for f in ProcessOut.model_fields},
        "definition": version.data,
        "mermaid": {v.key: services.mermaid(process, v) for v in process.variants},
    }
