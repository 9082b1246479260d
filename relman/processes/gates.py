"""The gate interface: what every kind of gate offers, and the catalogue of installed gates.

A *gate* holds a release in its stage until something is true: deliverables uploaded,
approval steps decided, a readiness review said "go", the release scheduled, ... Each kind
is written in the app that owns its facts (DESIGN.md rule 8) as one class implementing
`Gate`, and listed once in `settings.RELMAN_GATES`. The engine evaluates every gate of a
stage the same way; `releases` knows none of them by name.

A gate has four parts:

- `key` and `schema`: the name used in a process definition's `gates:` map and the JSON
  Schema of its options (merged into the published process schema, so validation and
  `/api/v1/processes/schema` cover it);
- `options(raw)`: the validated YAML value as the immutable object the gate works with;
- `read(release, stage, options)`: the facts it needs for one release, from the database
  (the only part that touches Django models; a handful of queries at most);
- `evaluate(options, snap)`: pure, from options and the snapshot's facts to the list of
  `Unmet` items (empty when met), and `describe()` / `items()`: the refusal's words and
  the rows a release's page and API detail show, translated with gettext;
- `problems()` (what a schema cannot check in its options), `implied()` (options for a
  stage that does not name the gate) and `actionable()` (what a user may do about it now),
  all optional: `BaseGate` gives the defaults.

This module is plain Python (no Django): the engine imports it, and `install()` is called
by the processes app with the classes named in the settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

GATE = "gate"  # the refusal code of an ordinary unmet gate


@dataclass(frozen=True)
class Unmet:
    """One part of a gate that is not met. `kind` and `key` name it in the gate's terms
    ("deliverable" "plan", "approval" "cab"); `gate` is the gate that found it; `waiting`
    names what it still waits for, when the count alone does not say (the departments an
    approval step waits for)."""

    kind: str
    key: str
    needed: int = 1
    have: int = 0
    gate: str = field(default="", compare=False)
    waiting: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True, init=False)
class Snapshot:
    """What the engine knows of a release: its kind, method, class and stage, and the facts
    its gates read, by name (`deliverables`, `approvals`, `scheduled`, ...).

    Facts are given as keyword arguments, `Snapshot("upgrade", "planned", "standard",
    "build", approvals={"cab": 2})`, or as one mapping, `facts={...}`.
    """

    kind: str
    method: str
    release_class: str
    stage: str
    is_open: bool
    facts: Mapping[str, Any]

    def __init__(
        self,
        kind: str,
        method: str,
        release_class: str,
        stage: str,
        is_open: bool = True,
        facts: Mapping[str, Any] | None = None,
        **named: Any,
    ) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "release_class", release_class)
        object.__setattr__(self, "stage", stage)
        object.__setattr__(self, "is_open", is_open)
        object.__setattr__(self, "facts", {**(facts or {}), **named})

    def fact(self, name: str, default: Any = None) -> Any:
        """A fact a gate read, or `default` when no gate read it."""
        return self.facts.get(name, default)


@dataclass(frozen=True)
class Words:
    """What a gate needs to put its refusal and its rows into words: the process (for labels
    of deliverables, checklist items and roles), the flow and the stage's key."""

    process: Any  # definition.Process
    variant: Any  # definition.Variant
    stage: str


@dataclass(frozen=True)
class Problem:
    """Something a schema cannot say about a gate's options: `path` below the gate's key."""

    path: tuple[str | int, ...]
    message: str


@runtime_checkable
class Gate(Protocol):
    """One kind of gate. Implementations are plain classes in the app that owns the facts;
    see `docs/architecture.md` for a worked example."""

    key: ClassVar[str]  # its name under a stage's `gates:`
    schema: ClassVar[Mapping[str, Any]]  # JSON Schema of its options
    refusal: ClassVar[str]  # "gate", or its own refusal code (the freeze says "frozen")
    kind_label: ClassVar[Any]  # its rows' kind in words, on the page (lazily translated)

    def options(self, raw: Any) -> Any:
        """The validated YAML value as the immutable options the gate works with."""

    def implied(self, stage: Any, following: Any) -> Any:
        """Options for a stage that does not name the gate (None: the gate is off there)."""

    def problems(self, raw: Any, definition: Mapping[str, Any], earlier: Sequence[str]) -> list:
        """What is wrong with the options beyond the schema (undefined references, ...)."""

    def read(self, release: Any, stage: Any, options: Any) -> Mapping[str, Any]:
        """The facts the gate needs for a release in `stage`, read from the database."""

    def evaluate(self, options: Any, snap: Snapshot) -> list[Unmet]:
        """Pure: the unmet parts of the gate (empty when it is met)."""

    def describe(self, unmet: Unmet, words: Words) -> str:
        """An unmet part as a sentence in the user's language."""

    def items(
        self, options: Any, snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        """The gate's rows on a release's page and API detail: `kind` (as in its Unmet),
        `key`, `label` and `met`, and whatever else the gate shows (approval steps say how
        many approvals they have and need)."""

    def actionable(self, user: Any, release: Any, stage: Any, options: Any) -> list[Any]:
        """What `user` may act on now to meet the gate (the approval steps they may decide),
        for the release's page and API detail."""


class BaseGate:
    """Defaults for a gate: options are the raw value, never implied, no extra problems,
    no facts, and one row per unmet part. Subclass it and override what differs."""

    key: ClassVar[str] = ""
    schema: ClassVar[Mapping[str, Any]] = {}
    refusal: ClassVar[str] = GATE
    kind_label: ClassVar[Any] = ""  # its rows' kind in words, on the page (lazily translated)

    def options(self, raw: Any) -> Any:
        return raw

    def implied(self, stage: Any, following: Any) -> Any:
        return None

    def problems(self, raw: Any, definition: Mapping[str, Any], earlier: Sequence[str]) -> list:
        return []

    def read(self, release: Any, stage: Any, options: Any) -> Mapping[str, Any]:
        return {}

    def evaluate(self, options: Any, snap: Snapshot) -> list[Unmet]:
        return []

    def describe(self, unmet: Unmet, words: Words) -> str:
        return unmet.key

    def items(
        self, options: Any, snap: Snapshot, unmet: list[Unmet], words: Words
    ) -> list[dict[str, Any]]:
        """One row per unmet part; a gate that shows its met parts too overrides this."""
        return [
            {"kind": u.kind, "key": u.key, "label": self.describe(u, words), "met": False}
            for u in unmet
        ]

    def actionable(self, user: Any, release: Any, stage: Any, options: Any) -> list[Any]:
        return []


class Catalogue(Mapping[str, Gate]):
    """The installed gates by key, in the order of `settings.RELMAN_GATES` (the order the
    engine evaluates them and a release's page lists them)."""

    def __init__(self, gates: Iterable[Gate] = ()) -> None:
        self._gates: dict[str, Gate] = {}
        for gate in gates:
            if not isinstance(gate, Gate) or not gate.key:
                raise TypeError(f"{gate!r} does not implement the Gate interface")
            if gate.key in self._gates:
                raise ValueError(f"two gates are called {gate.key!r}")
            self._gates[gate.key] = gate

    def __getitem__(self, key: str) -> Gate:
        return self._gates[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._gates)

    def __len__(self) -> int:
        return len(self._gates)

    def schemas(self) -> dict[str, Mapping[str, Any]]:
        """The JSON Schema of each gate's options, by key."""
        return {key: gate.schema for key, gate in self._gates.items()}


_installed = Catalogue()


def install(gates: Iterable[Gate]) -> Catalogue:
    """Make `gates` the catalogue process definitions and the engine use (called by the
    processes app on start and when `RELMAN_GATES` changes in a test)."""
    global _installed
    _installed = Catalogue(gates)
    return _installed


def installed() -> Catalogue:
    """The gates installed now."""
    return _installed
