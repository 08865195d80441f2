"""The code reads one way: api -> eval -> search -> ingest, and no module imports its way round in a circle.

Read from the source files themselves (``ast``), so the rule holds for the tree as written, imports
inside functions included.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ingest", "search", "eval", "api")
# What each package may import besides itself (lower layers only).
ALLOWED = {
    "ingest": set(),
    "search": {"ingest"},
    "eval": {"ingest", "search"},
    "api": {"ingest", "search", "eval"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(("precedent", *parts))
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(module imported, at module level?) for every ``precedent.*`` import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("precedent."):
            yield node.module, id(node) in top_level
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("precedent."):
                    yield alias.name, id(node) in top_level


def _package(module: str) -> str:
    return module.split(".")[1]


def test_every_import_points_down_the_layers() -> None:
    wrong = []
    for name, path in _modules().items():
        for target, _ in _imports(path):
            source, dest = _package(name), _package(target)
            if dest != source and dest not in ALLOWED[source]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "imports against the layers (api -> eval -> search -> ingest):\n" + "\n".join(wrong)


def test_module_level_imports_have_no_cycle() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, top in _imports(path):
            if top:
                # "from precedent.ingest import store" names a module through its package.
                graph[name].add(target if target in modules else target.rsplit(".", 1)[0])
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle.extend(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
                return True
            if nxt in graph and state.get(nxt) is None and visit(nxt, [*trail, nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if state.get(start) is None and visit(start, [start]):
            break
    assert not cycle, "import cycle: " + " -> ".join(cycle)


# The one allowed: `precedent serve` loads FastAPI and uvicorn (a third of a second) only when it runs.
SLOW_ON_PURPOSE = {("precedent.api.cli", "precedent.api.app")}


def test_no_function_imports_a_precedent_module() -> None:
    """Imports inside functions are for slow libraries only, never to dodge a cycle."""
    local = [f"{name} imports {target} inside a function"
             for name, path in _modules().items() for target, top in _imports(path)
             if not top and (name, target) not in SLOW_ON_PURPOSE]
    assert not local, "\n".join(local)
