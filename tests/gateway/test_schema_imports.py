"""The modules of gateway/schema import each other without a circle (issue 13): types that more
than one domain shows live in gateway/schema/shared.py, below the domains that use them.

Read with `ast`, not by importing: every `import` and `from … import` counts wherever it stands
(inside a function or an `if TYPE_CHECKING:` block too), and so does a Strawberry lazy type
(`strawberry.lazy("gateway.schema.…")`), which is an import made later."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "gateway.schema"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    folder = ROOT / Path(*PACKAGE.split("."))
    return {_module_name(path): path for path in sorted(folder.rglob("*.py"))}


def _targets(node: ast.AST, known: set[str]) -> set[str]:
    """The modules of `known` that one node imports."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        # `from gateway.schema import shared` names a module; `… import build_schema` does not.
        return {
            f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
            for alias in node.names
        } & known
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "lazy":
        return {str(arg.value) for arg in node.args if isinstance(arg, ast.Constant)} & known
    return set()


def import_graph() -> dict[str, set[str]]:
    """Module → the modules of gateway/schema it imports."""
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {t for node in ast.walk(tree) for t in _targets(node, known) if t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports as the list of modules along it (first = last), or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[module] = "done"
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_circle_and_accepts_layers() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_schema_modules_import_each_other_without_a_circle() -> None:
    graph = import_graph()
    assert f"{PACKAGE}.shared" in set().union(*graph.values()), "the walk sees the imports"
    cycle = find_cycle(graph)
    assert cycle is None, "gateway/schema imports in a circle: " + " → ".join(cycle or [])
