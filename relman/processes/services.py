"""Loading process files into the database and reading definitions back."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.accounts.models import Role
from relman.audit import services as audit
from relman.core.errors import NotFound
from relman.processes.definition import Process
from relman.processes.loader import process_files, validate_file, validate_text
from relman.processes.models import ProcessVersion

BUILTIN_ROLES = {r.value for r in BuiltinRole}


def validate(text: str, filename: str) -> Process:
    """Validate a process file's text against the schema and the built-in roles."""
    return validate_text(text, filename, BUILTIN_ROLES)[1]


@dataclass(frozen=True)
class LoadResult:
    """What `load_processes` did with one file."""

    name: str
    version: int
    created: bool
    source: str


def load_processes(actor=None, files: list[Path] | None = None) -> list[LoadResult]:
    """Store a new version of each process file that changed; declare its extra roles.

    Every file is validated first; if any is invalid nothing is stored.
    """
    files = files if files is not None else process_files(settings.RELMAN_PROCESS_DIRS)
    parsed = []
    for path in files:
        data, _process = validate_file(path, BUILTIN_ROLES)
        parsed.append((path, data, hashlib.sha256(path.read_bytes()).hexdigest()))
    results = []
    with transaction.atomic():
        for path, data, checksum in parsed:
            existing = ProcessVersion.objects.filter(name=data["name"], checksum=checksum).first()
            if existing:
                results.append(LoadResult(existing.name, existing.version, False, str(path)))
                continue
            last = ProcessVersion.objects.filter(name=data["name"]).order_by("-version").first()
            version = ProcessVersion.objects.create(
                name=data["name"],
                version=(last.version + 1) if last else 1,
                label_en=data["label"]["en"],
                label_zh_hans=data["label"]["zh-hans"],
                definition=json.dumps(data, ensure_ascii=False),
                checksum=checksum,
                source=str(path),
            )
            for code, label in (data.get("roles") or {}).items():
                Role.objects.get_or_create(
                    code=code, defaults={"name_en": label["en"], "name_zh_hans": label["zh-hans"]}
                )
            audit.record(
                actor,
                "process.loaded",
                version,
                after={"name": version.name, "version": version.version, "checksum": checksum},
            )
            results.append(LoadResult(version.name, version.version, True, str(path)))
    return results


def current_version(name: str) -> ProcessVersion:
    """The newest stored version of a process."""
    version = ProcessVersion.objects.filter(name=name).order_by("-version").first()
    if version is None:
        raise NotFound(_("There is no process named '%s'.") % name, field="process")
    return version


def latest_versions() -> list[ProcessVersion]:
    """The newest version of every process, by name (a handful of rows)."""
    newest: dict[str, ProcessVersion] = {}
    for version in ProcessVersion.objects.order_by("name", "-version").defer("definition"):
        newest.setdefault(version.name, version)
    return list(newest.values())


@lru_cache(maxsize=256)
def _definition(version_id: int) -> Process:
    return Process.from_dict(ProcessVersion.objects.get(pk=version_id).data)


def forget_definitions() -> None:
    """Drop the parsed definitions (when the installed gates change)."""
    _definition.cache_clear()


def definition(version: ProcessVersion | int) -> Process:
    """The parsed definition of a stored version (cached: versions never change)."""
    return _definition(version if isinstance(version, int) else version.pk)


def mermaid(process: Process, variant_key_or_variant, language: str = "en") -> str:
    """A Mermaid flowchart of one flow: stages, gates, returns and rollbacks."""
    from relman.processes.definition import RETURN, ROLLBACK, pick

    variant = variant_key_or_variant
    if isinstance(variant, str):
        variant = process.variant(variant)
    lines = ["flowchart LR"]
    keys = [s.key for s in variant.stages]
    for stage in variant.stages:
        label = pick(stage.label, language).replace('"', "'")
        gate = sum(len(o) for o in stage.gates.values() if isinstance(o, tuple))
        skip = " (skipped for some)" if stage.skip_for else ""
        lines.append(f'    {stage.key}["{label}<br/>gate: {gate} item(s){skip}"]')
    for here, there in itertools.pairwise(keys):
        lines.append(f"    {here} -->|advance| {there}")
    lines.append("    closed((closed))")
    lines.append(f"    {keys[-1]} -->|close| closed")
    for index, stage in enumerate(variant.stages):
        transitions = stage.transitions or ()
        if RETURN in transitions and stage.return_to:
            for target in stage.return_to:
                lines.append(f"    {stage.key} -.->|return| {target}")
        if ROLLBACK in transitions:
            target = stage.rollback_to if stage.rollback_to in keys[:index] else "rolled_back"
            if target == "rolled_back":
                lines.append("    rolled_back((rolled back))")
            lines.append(f"    {stage.key} -.->|rollback| {target}")
    return "\n".join(lines)
