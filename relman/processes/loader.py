"""Reading and validating process files. Every error names the file, the line and the field."""

from __future__ import annotations

import copy
import itertools
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from django.conf import settings
from django.utils.translation import gettext as _

from relman.processes.definition import (
    ADVANCE,
    CLASSES,
    CLOSE,
    KINDS,
    METHODS,
    ROLLBACK,
    Condition,
    Process,
)
from relman.processes.gates import Catalogue, installed

SCHEMA_PATH = Path(__file__).with_name("schema.json")
PRESETS_DIR = Path(__file__).with_name("presets")


@cache
def _base_schema() -> str:
    return SCHEMA_PATH.read_text()


def schema(catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The published JSON Schema of process files: `schema.json` with the options schema of
    every installed gate under a stage's `gates` (each gate's own `$defs` hoisted to the top,
    so `#/$defs/...` references resolve)."""
    catalogue = installed() if catalogue is None else catalogue
    published = json.loads(_base_schema())
    gates = published["$defs"]["stage"]["properties"]["gates"]
    gates["properties"] = {}
    for key, options in catalogue.schemas().items():
        options = copy.deepcopy(dict(options))
        published["$defs"].update(options.pop("$defs", {}))
        gates["properties"][key] = options
    return published


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a process file."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field or '(file)'}: {self.message}"


class InvalidProcess(Exception):
    """A process file that cannot be used; `problems` says every reason."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class _Lines:
    """Maps a field's path in the document to the line it is on."""

    file: str
    at: dict[tuple, int] = field(default_factory=dict)

    def line(self, path: Iterable[Any]) -> int:
        path = tuple(path)
        while path and path not in self.at:
            path = path[:-1]
        return self.at.get(path, 1)

    def problem(self, path: Iterable[Any], message: str) -> Problem:
        path = tuple(path)
        return Problem(self.file, self.line(path), ".".join(str(p) for p in path), message)


class _TooLarge(Exception):
    """The document passed one of the parser's limits; the message names it."""


@dataclass
class _Budget:
    """What one document may cost to read: nodes (each use of an alias counts again, so a
    'billion laughs' stops at the limit), nesting depth and time."""

    nodes: int
    deadline: float

    def spend(self, depth: int) -> None:
        self.nodes -= 1
        if self.nodes < 0:
            raise _TooLarge(
                _("the document has more than %d values (anchors and aliases count each use)")
                % limits()["nodes"]
            )
        if depth > limits()["depth"]:
            raise _TooLarge(_("the document nests deeper than %d levels") % limits()["depth"])
        if time.monotonic() > self.deadline:
            raise _TooLarge(
                _("reading the document took longer than %s seconds") % limits()["seconds"]
            )


def limits() -> dict[str, Any]:
    """The limits on one process document (settings RELMAN_PROCESS_MAX_*)."""
    return {
        "bytes": settings.RELMAN_PROCESS_MAX_BYTES,
        "nodes": settings.RELMAN_PROCESS_MAX_NODES,
        "depth": settings.RELMAN_PROCESS_MAX_DEPTH,
        "seconds": settings.RELMAN_PROCESS_MAX_SECONDS,
    }


def _construct(
    node: yaml.Node, path: tuple, lines: _Lines, problems: list[Problem], budget: _Budget
) -> Any:
    """Build plain Python values from YAML nodes, noting lines and duplicate keys."""
    budget.spend(len(path))
    lines.at.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(lines.file, line, ".".join(map(str, path)), _("a key must be a name"))
                )
                continue
            key = key_node.value
            if key in result:
                problems.append(
                    Problem(
                        lines.file,
                        line,
                        ".".join(str(p) for p in (*path, key)),
                        _("duplicate key '%(key)s' (first on line %(line)d)")
                        % {"key": key, "line": lines.at[(*path, key)]},
                    )
                )
                continue
            lines.at[(*path, key)] = line
            result[key] = _construct(value_node, (*path, key), lines, problems, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(n, (*path, i), lines, problems, budget) for i, n in enumerate(node.value)
        ]
    try:
        return yaml.SafeLoader("").construct_object(node)
    except yaml.YAMLError as exc:  # an unknown tag such as !!python/object
        problems.append(
            Problem(
                lines.file,
                node.start_mark.line + 1,
                ".".join(map(str, path)),
                _("YAML syntax error: %s") % (getattr(exc, "problem", None) or exc),
            )
        )
        return None


def parse(text: str, filename: str) -> tuple[Any, _Lines, list[Problem]]:
    """Parse YAML text into plain data, the line of every field, and syntax problems."""
    lines = _Lines(filename)
    problems: list[Problem] = []
    limit = limits()
    if len(text.encode("utf-8", "surrogatepass")) > limit["bytes"]:
        message = _("the document is larger than %d KiB") % (limit["bytes"] // 1024)
        return None, lines, [Problem(filename, 1, "", message)]
    budget = _Budget(limit["nodes"], time.monotonic() + limit["seconds"])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = None if node is None else _construct(node, (), lines, problems, budget)
    except _TooLarge as exc:
        return None, lines, [Problem(filename, 1, "", str(exc))]
    except RecursionError:
        message = _("the document nests deeper than %d levels") % limit["depth"]
        return None, lines, [Problem(filename, 1, "", message)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        detail = getattr(exc, "problem", None) or str(exc)
        context, started = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and started and mark and started.line != mark.line:
            # An unclosed bracket or quote is noticed lines later: say where it began.
            detail = _("%(problem)s (%(context)s on line %(line)d)") % {
                "problem": detail,
                "context": context,
                "line": started.line + 1,
            }
        return None, lines, [Problem(filename, line, "", _("YAML syntax error: %s") % detail)]
    if node is None:
        return None, lines, [Problem(filename, 1, "", _("the file is empty"))]
    return data, lines, problems


def _schema_problems(data: Any, lines: _Lines) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(schema())
    found = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            # Name each unknown field on its own line, not the object that holds it.
            known = set(error.schema.get("properties", {}))
            for key in (k for k in error.instance if k not in known):
                found.append(
                    lines.problem((*error.absolute_path, key), _("unknown field '%s'") % key)
                )
            continue
        found.append(lines.problem(error.absolute_path, error.message))
    return found


def _semantic_problems(data: dict[str, Any], lines: _Lines, known_roles: set[str]) -> list[Problem]:
    """What a schema cannot say: references, reachability, order."""
    found: list[Problem] = []
    roles = known_roles | set(data.get("roles") or {})
    deliverables = set(data.get("deliverables") or {})
    checklist = set(data.get("checklist") or {})
    seen_variants: set[str] = set()
    for key, criterion in (data.get("readiness_criteria") or {}).items():
        for kind, known in (("deliverable", deliverables), ("checklist", checklist)):
            if kind in criterion and criterion[kind] not in known:
                found.append(
                    lines.problem(
                        ("readiness_criteria", key, kind),
                        _("undefined %(kind)s '%(key)s'") % {"kind": kind, "key": criterion[kind]},
                    )
                )
    emergency = (data.get("emergency_approval") or {}).get("role")
    if emergency and emergency not in roles:
        found.append(
            lines.problem(("emergency_approval", "role"), _("unknown role '%s'") % emergency)
        )
    for v_index, variant in enumerate(data["variants"]):
        vpath = ("variants", v_index)
        if variant["key"] in seen_variants:
            found.append(
                lines.problem((*vpath, "key"), _("duplicate variant '%s'") % variant["key"])
            )
        seen_variants.add(variant["key"])
        keys = [s["key"] for s in variant["stages"]]
        for s_index, stage in enumerate(variant["stages"]):
            spath = (*vpath, "stages", s_index)
            if keys.index(stage["key"]) != s_index:
                found.append(
                    lines.problem((*spath, "key"), _("duplicate stage '%s'") % stage["key"])
                )
            for r_index, role in enumerate(stage["roles"]):
                if role not in roles:
                    found.append(
                        lines.problem((*spath, "roles", r_index), _("unknown role '%s'") % role)
                    )
            found += _gate_problems(
                stage.get("gates") or {}, (*spath, "gates"), lines, data, roles, keys[:s_index]
            )
            earlier = keys[:s_index]
            for t_index, target in enumerate(stage.get("return_to", [])):
                if target not in earlier:
                    found.append(
                        lines.problem(
                            (*spath, "return_to", t_index),
                            _("'%s' is not an earlier stage of this flow") % target,
                        )
                    )
            if "rollback_to" in stage and stage["rollback_to"] not in earlier:
                found.append(
                    lines.problem(
                        (*spath, "rollback_to"),
                        _("'%s' is not an earlier stage of this flow") % stage["rollback_to"],
                    )
                )
            if "rollback_to" in stage and ROLLBACK not in stage.get("transitions", []):
                found.append(
                    lines.problem(
                        (*spath, "rollback_to"),
                        _("set, but 'rollback' is not among the transitions"),
                    )
                )
        found += _reachability_problems(variant, vpath, lines)
        found += _dead_end_problems(variant, vpath, lines)
    found += _shadowed_variant_problems(data, lines)
    return found


def _gate_problems(
    gates: dict[str, Any],
    path: tuple,
    lines: _Lines,
    data: dict[str, Any],
    roles: set[str],
    earlier: list[str],
) -> list[Problem]:
    """What each installed gate finds wrong with its options (references, mostly). The
    gate sees the whole file, with every known role under `roles`."""
    catalogue = installed()
    definition = {**data, "roles": dict.fromkeys(roles)}
    found = []
    for key, gate in catalogue.items():
        if key in gates:
            for problem in gate.problems(gates[key], definition, earlier):
                found.append(lines.problem((*path, key, *problem.path), problem.message))
    return found


def _releases(condition: Condition | None) -> list[tuple[str, str, str]]:
    """Every (kind, method, class) a condition admits."""
    combos = itertools.product(KINDS, METHODS, CLASSES)
    return [c for c in combos if condition is None or condition.matches(*c)]


def _reachability_problems(variant: dict[str, Any], vpath: tuple, lines: _Lines) -> list[Problem]:
    """A stage skipped for every release its variant admits can never be reached."""
    found = []
    admitted = _releases(Condition.from_dict(variant.get("when")))
    for s_index, stage in enumerate(variant["stages"]):
        skip = Condition.from_dict(stage.get("skip_for"))
        if skip and admitted and all(skip.matches(*r) for r in admitted):
            found.append(
                lines.problem(
                    (*vpath, "stages", s_index, "skip_for"),
                    _(
                        "stage '%s' is skipped for every release of this flow: it can never be reached"
                    )
                    % stage["key"],
                )
            )
    return found


def _dead_end_problems(variant: dict[str, Any], vpath: tuple, lines: _Lines) -> list[Problem]:
    """A release must be able to move on from every stage: `advance` where a stage has a next
    one, `close` where it is the last (for every release the variant admits, given skips)."""
    found = []
    reported: set[tuple[int, str]] = set()
    for release in _releases(Condition.from_dict(variant.get("when"))):
        active = [
            (index, stage)
            for index, stage in enumerate(variant["stages"])
            if not (skip := Condition.from_dict(stage.get("skip_for")))
            or not skip.matches(*release)
        ]
        for position, (index, stage) in enumerate(active):
            if "transitions" not in stage:
                continue
            needed = CLOSE if position == len(active) - 1 else ADVANCE
            if needed not in stage["transitions"] and (index, needed) not in reported:
                reported.add((index, needed))
                found.append(
                    lines.problem(
                        (*vpath, "stages", index, "transitions"),
                        _(
                            "stage '%(stage)s' is a dead end: it needs '%(needed)s' (%(kind)s, %(method)s, %(cls)s releases)"
                        )
                        % {
                            "stage": stage["key"],
                            "needed": needed,
                            "kind": release[0],
                            "method": release[1],
                            "cls": release[2],
                        },
                    )
                )
    return found


def _shadowed_variant_problems(data: dict[str, Any], lines: _Lines) -> list[Problem]:
    """A variant every one of whose releases an earlier variant takes can never be chosen."""
    found, taken = [], set()
    for v_index, variant in enumerate(data["variants"]):
        admitted = set(_releases(Condition.from_dict(variant.get("when"))))
        if admitted and admitted <= taken:
            found.append(
                lines.problem(
                    ("variants", v_index, "when"),
                    _("variant '%s' can never be chosen: earlier variants match all its releases")
                    % variant["key"],
                )
            )
        taken |= admitted
    return found


def validate_text(
    text: str, filename: str, known_roles: set[str]
) -> tuple[dict[str, Any], Process]:
    """Validate one process file's text; return its data and definition, or raise InvalidProcess."""
    data, lines, problems = parse(text, filename)
    if problems:
        raise InvalidProcess(problems)
    problems = _schema_problems(data, lines)
    if problems:
        raise InvalidProcess(problems)
    problems = _semantic_problems(data, lines, known_roles)
    if problems:
        raise InvalidProcess(problems)
    return data, Process.from_dict(data)


def validate_file(path: Path, known_roles: set[str]) -> tuple[dict[str, Any], Process]:
    """Validate a process file on disk."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidProcess(
            [Problem(str(path), 1, "", _("cannot read the file: %s") % exc)]
        ) from exc
    return validate_text(text, str(path), known_roles)


def process_files(extra_dirs: Iterable[Path] = ()) -> list[Path]:
    """The preset files, then every *.yaml / *.yml in the organisation's folders."""
    files = sorted(PRESETS_DIR.glob("*.yaml"))
    for folder in extra_dirs:
        if folder.is_dir():
            files += sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    return files
