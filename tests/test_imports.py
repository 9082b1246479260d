"""The layers of STYLE.md hold: no module imports a higher layer (not even inside a
function), and no two modules import each other, directly or round a circle.

`lint-imports` (the contracts in pyproject.toml) checks the same in `make test`; this test
reads the imports itself, so it runs with the rest of the suite and shows the offending
lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import relman

PACKAGE = Path(relman.__file__).resolve().parent

# Low to high (STYLE.md, "Layers point down"); any other app is built on releases (4).
LAYERS = {
    "core": 0,
    "accounts": 1,
    "audit": 1,
    "cmdb": 1,
    "processes": 2,
    "releases": 3,
    "web": 5,
    "cli": 5,
    "demo": 5,
}
BUILT_ON_RELEASES = 4
TOP = 5  # the project's own modules (relman.api, relman.urls, relman.celery, ...) with web, cli


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or (PACKAGE / f"{parts[1]}.py").exists():
        return TOP
    return LAYERS.get(parts[1], BUILT_ON_RELEASES)


def imports_of(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of the package (migrations aside) and the relman modules it imports,
    wherever in the module the import stands."""
    found: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts).removesuffix(".__init__")
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("relman."):
                out.add(node.module)
            elif isinstance(node, ast.Import):
                out |= {a.name for a in node.names if a.name.startswith("relman.")}
        found[name] = out
    return found


def upward(deps: dict[str, set[str]]) -> list[str]:
    """Imports from a lower layer into a higher one."""
    return sorted(
        f"{module} imports {target}"
        for module, targets in deps.items()
        for target in targets
        if layer(target) > layer(module)
    )


def circles(deps: dict[str, set[str]]) -> list[list[str]]:
    """Every circle of imports between modules found by a depth-first walk."""
    found: list[list[str]] = []
    done: set[str] = set()
    stack: list[str] = []

    def visit(module: str) -> None:
        if module in stack:
            found.append([*stack[stack.index(module) :], module])
            return
        if module in done or module not in deps:
            return
        done.add(module)
        stack.append(module)
        for target in sorted(deps[module]):
            visit(target)
        stack.pop()

    for module in sorted(deps):
        visit(module)
    return found


def test_no_module_imports_a_higher_layer():
    assert upward(imports_of()) == []


def test_no_modules_import_each_other_round_a_circle():
    assert circles(imports_of()) == []


def test_releases_importing_approvals_is_refused():
    deps = imports_of()
    deps["relman.releases.services.state"].add("relman.approvals.services.policy")
    assert upward(deps) == [
        "relman.releases.services.state imports relman.approvals.services.policy"
    ]


def test_releases_imports_none_of_the_apps_built_on_it():
    higher = [
        f"{module} imports {target}"
        for module, targets in imports_of().items()
        if module.startswith("relman.releases")
        for target in targets
        if layer(target) > LAYERS["releases"]
    ]
    assert higher == []


def test_a_circle_is_found():
    deps = {
        "relman.a.x": {"relman.a.y"},
        "relman.a.y": {"relman.a.z"},
        "relman.a.z": {"relman.a.x"},
    }
    assert circles(deps) == [["relman.a.x", "relman.a.y", "relman.a.z", "relman.a.x"]]
