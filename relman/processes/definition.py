"""A process definition as plain, immutable Python objects (no Django).

Built from the validated YAML mapping by `Process.from_dict`; the engine reads only these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from relman.processes.gates import Catalogue, installed

ADVANCE, RETURN, ROLLBACK, CANCEL, CLOSE = "advance", "return", "rollback", "cancel", "close"
TRANSITIONS = (ADVANCE, RETURN, ROLLBACK, CANCEL, CLOSE)
KINDS = ("new_system", "upgrade", "patch", "documents")
METHODS = ("planned", "emergency")
CLASSES = ("minor", "standard", "major")

Label = Mapping[str, str]


def pick(label: Label | None, language: str | None) -> str:
    """The label in `language` (zh-hans for any Chinese), else English, else any."""
    if not label:
        return ""
    if language and language.lower().startswith("zh"):
        return label.get("zh-hans") or label.get("en", "")
    return label.get("en") or next(iter(label.values()), "")


@dataclass(frozen=True)
class Condition:
    """Which releases something applies to; an empty list matches any value."""

    kind: tuple[str, ...] = ()
    method: tuple[str, ...] = ()
    release_class: tuple[str, ...] = ()

    def matches(self, kind: str, method: str, release_class: str) -> bool:
        return (
            (not self.kind or kind in self.kind)
            and (not self.method or method in self.method)
            and (not self.release_class or release_class in self.release_class)
        )

    @property
    def is_empty(self) -> bool:
        return not (self.kind or self.method or self.release_class)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Condition | None:
        if data is None:
            return None
        return cls(
            kind=tuple(data.get("kind", ())),
            method=tuple(data.get("method", ())),
            release_class=tuple(data.get("class", ())),
        )


ALL = "all"
REQUESTER = "requester"
INVOLVED = "involved"


@dataclass(frozen=True)
class ApprovalStep:
    """One step of a stage's approval policy: who decides, how many, on what evidence.

    Steps run in sequence by `group` (a countersign chain); steps sharing a group run in
    parallel. `count` None means every eligible holder of the role ("all"). `department`
    is "" (any), "requester" (the requester's own department), "involved" (one place for
    each department the release involves: see `approvals.services.policy.departments_for`)
    or a department's code or name.
    """

    key: str
    role: str
    count: int | None = 1
    group: int = 0
    department: str = ""
    when: Condition | None = None
    optional: bool = False
    checks: tuple[str, ...] = ()
    deliverables: tuple[str, ...] = ()
    reject_to: str | None = None
    expires_after: int | None = None  # hours
    remind_before: int | None = None  # hours before expiry
    escalate_to: str | None = None
    cab: bool = False

    def applies_to(self, kind: str, method: str, release_class: str) -> bool:
        return self.when is None or self.when.matches(kind, method, release_class)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], group: int) -> ApprovalStep:
        count = data.get("count", ALL if data.get("department") == INVOLVED else 1)
        if count == "any":
            count = 1
        expiry = data.get("expires") or {}
        return cls(
            key=data.get("key") or data["role"],
            role=data["role"],
            count=None if count == ALL else int(count),
            group=group,
            department=data.get("department", ""),
            when=Condition.from_dict(data.get("when")),
            optional=bool(data.get("optional", False)),
            checks=tuple(data.get("checks", ())),
            deliverables=tuple(data.get("deliverables", ())),
            reject_to=data.get("reject_to"),
            expires_after=expiry.get("after_hours"),
            remind_before=expiry.get("remind_before_hours"),
            escalate_to=expiry.get("escalate_to"),
            cab=bool(data.get("cab", False)),
        )


def approval_steps(entries: Any) -> tuple[ApprovalStep, ...]:
    """The steps of a stage's `approvals` list: each entry is a step or `{parallel: [...]}`."""
    steps = []
    for group, entry in enumerate(entries or ()):
        for item in entry.get("parallel", (entry,)):
            steps.append(ApprovalStep.from_dict(item, group))
    return tuple(steps)


@dataclass(frozen=True)
class Criterion:
    """A release criterion of a readiness review, and the evidence that usually supports it."""

    key: str
    label: Label
    deliverable: str | None = None
    checklist: str | None = None


@dataclass(frozen=True, init=False)
class Stage:
    """One step of a flow, with the gates that must be met to leave it forwards.

    `gates` holds each gate's options by its key (see `processes/gates.py`), in the order
    of the process file. Gate options may also be given as keyword arguments:
    `Stage("plan", label, roles, deliverables=("plan",), checklist=("scoped",))`.
    """

    key: str
    label: Label
    roles: tuple[str, ...]
    gates: Mapping[str, Any]
    transitions: tuple[str, ...] | None
    return_to: tuple[str, ...] | None
    rollback_to: str | None
    skip_for: Condition | None
    deployment: bool

    def __init__(
        self,
        key: str,
        label: Label,
        roles: tuple[str, ...],
        *,
        gates: Mapping[str, Any] | None = None,
        transitions: tuple[str, ...] | None = None,
        return_to: tuple[str, ...] | None = None,
        rollback_to: str | None = None,
        skip_for: Condition | None = None,
        deployment: bool = False,
        **gate_options: Any,
    ) -> None:
        values = {
            "key": key,
            "label": label,
            "roles": roles,
            "gates": {**(gates or {}), **{k: v for k, v in gate_options.items() if v}},
            "transitions": transitions,
            "return_to": return_to,
            "rollback_to": rollback_to,
            "skip_for": skip_for,
            "deployment": deployment,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def option(self, gate: str, default: Any = None) -> Any:
        """The options of one of the stage's gates, or `default` when the stage has none."""
        return self.gates.get(gate, default)

    # The built-in gates' options, for the code that reads them by name.
    @property
    def deliverables(self) -> tuple[str, ...]:
        return tuple(self.option("deliverables", ()))

    @property
    def checklist(self) -> tuple[str, ...]:
        return tuple(self.option("checklist", ()))

    @property
    def approvals(self) -> tuple[ApprovalStep, ...]:
        return tuple(self.option("approvals", ()))

    @property
    def readiness(self) -> bool:
        return bool(self.option("readiness", False))

    @property
    def scheduled(self) -> bool:
        return bool(self.option("scheduled", False))

    def applies_to(self, kind: str, method: str, release_class: str) -> bool:
        return self.skip_for is None or not self.skip_for.matches(kind, method, release_class)

    def step(self, key: str) -> ApprovalStep | None:
        return next((s for s in self.approvals if s.key == key), None)


@dataclass(frozen=True)
class Variant:
    """A flow of the process, chosen for releases that match `when`."""

    key: str
    label: Label
    stages: tuple[Stage, ...]
    when: Condition | None = None

    def stage(self, key: str) -> Stage | None:
        return next((s for s in self.stages if s.key == key), None)


@dataclass(frozen=True)
class Process:
    """A whole process definition."""

    name: str
    label: Label
    variants: tuple[Variant, ...]
    roles: Mapping[str, Label] = field(default_factory=dict)
    deliverables: Mapping[str, Label] = field(default_factory=dict)
    checklist: Mapping[str, Label] = field(default_factory=dict)
    description: Label | None = None
    emergency_approval_role: str | None = None
    readiness_criteria: tuple[Criterion, ...] = ()

    def variant(self, key: str) -> Variant | None:
        return next((v for v in self.variants if v.key == key), None)

    def choose_variant(self, kind: str, method: str, release_class: str) -> Variant | None:
        """The first variant whose condition matches the release."""
        for variant in self.variants:
            if variant.when is None or variant.when.matches(kind, method, release_class):
                return variant
        return None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], catalogue: Catalogue | None = None) -> Process:
        """Build a definition from its validated mapping; each gate's options are parsed by
        the installed gate of that key (a key no gate knows keeps its raw value)."""
        catalogue = installed() if catalogue is None else catalogue

        def gate_options(raw: Mapping[str, Any]) -> dict[str, Any]:
            return {
                key: catalogue[key].options(value) if key in catalogue else value
                for key, value in raw.items()
            }

        def stage(s: Mapping[str, Any]) -> Stage:
            return Stage(
                key=s["key"],
                label=s["label"],
                roles=tuple(s.get("roles", ())),
                gates=gate_options(s.get("gates") or {}),
                transitions=tuple(s["transitions"]) if "transitions" in s else None,
                return_to=tuple(s["return_to"]) if "return_to" in s else None,
                rollback_to=s.get("rollback_to"),
                skip_for=Condition.from_dict(s.get("skip_for")),
                deployment=bool(s.get("deployment", False)),
            )

        return cls(
            name=data["name"],
            label=data["label"],
            description=data.get("description"),
            emergency_approval_role=(data.get("emergency_approval") or {}).get("role"),
            roles=dict(data.get("roles") or {}),
            deliverables=dict(data.get("deliverables") or {}),
            checklist=dict(data.get("checklist") or {}),
            readiness_criteria=tuple(
                Criterion(key, c["label"], c.get("deliverable"), c.get("checklist"))
                for key, c in (data.get("readiness_criteria") or {}).items()
            ),
            variants=tuple(
                Variant(
                    key=v["key"],
                    label=v["label"],
                    when=Condition.from_dict(v.get("when")),
                    stages=tuple(stage(s) for s in v["stages"]),
                )
                for v in data["variants"]
            ),
        )
