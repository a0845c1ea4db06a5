"""The package's imports run one way: no cycle between its packages (every ``import`` counts, also
those inside functions), and the inference path (``reactdiff.pipeline``) reaches nothing in
``reactdiff.train``."""

from __future__ import annotations

import ast
from pathlib import Path

import reactdiff

ROOT = Path(reactdiff.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every reactdiff module a file imports, at any depth, except under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rsplit(".", 1)[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("reactdiff"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.startswith("reactdiff"):
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in ROOT.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def _unit(module: str) -> str:
    """The package a module belongs to: ``reactdiff.methods.reactdiff.model`` -> ``reactdiff.methods``;
    top-level modules (``reactdiff.pipeline``) are units of their own."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_cycle_between_packages():
    edges: dict[str, set[str]] = {}
    for source, targets in _graph().items():
        for target in targets:
            # A package's __init__ may gather its own modules; only edges between units count.
            if _unit(source) != _unit(target) and _unit(source) != "reactdiff" and _unit(target) != "reactdiff":
                edges.setdefault(_unit(source), set()).add(_unit(target))
    assert _find_cycle(edges) is None, f"import cycle between packages: {' -> '.join(_find_cycle(edges))}"


def test_no_import_cycle_inside_features_and_data():
    graph = _graph()
    for package in ("reactdiff.features", "reactdiff.data"):
        inside = {m: {t for t in targets if t.startswith(package + ".")} for m, targets in graph.items() if m.startswith(package + ".")}
        cycle = _find_cycle(inside)
        assert cycle is None, f"import cycle inside {package}: {' -> '.join(cycle)}"


def test_inference_imports_nothing_from_training():
    graph = _graph()
    # Methods are imported by name from the registry: their declarations are on the inference path.
    declarations = [m for m in graph if m.startswith("reactdiff.methods.") and m.endswith(".method")]
    reached, todo = set(), ["reactdiff.pipeline", "reactdiff.generation", "reactdiff.methods.loading", *declarations]
    while todo:
        module = todo.pop()
        if module in reached:
            continue
        reached.add(module)
        todo.extend(graph.get(module, ()))
    assert not [m for m in reached if m.startswith("reactdiff.train")], sorted(m for m in reached if m.startswith("reactdiff.train"))


def test_the_cycle_finder_finds_cycles():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None
