"""The modules of core/ and tui/ import each other one way: no circle, at load time or at run time.

Every import counts, at the top of a module and inside a function (which runs later, at run time),
except those under ``if TYPE_CHECKING:``. A circle means two modules that cannot be read apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(("dataloupe", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def _imports(tree: ast.AST, known: set[str]) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            found.update(subs or ({node.module} & known))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for top in ("core", "tui") for p in (ROOT / top).rglob("*.py")}
    known = set(files)
    return {name: _imports(ast.parse(path.read_text()), known) - {name} for name, path in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan's algorithm), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(groups)


def _is_package_init(name: str) -> bool:
    return (ROOT / Path(*name.split(".")[1:]) / "__init__.py").is_file()


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_of_core_or_tui_imports_itself_back():
    graph = import_graph()
    assert "dataloupe.core.readers.user_code" in graph and "dataloupe.tui.app" in graph
    # A package's __init__ that re-exports its modules is not a circle of code: leave those edges out.
    graph = {v: {w for w in ws if not _is_package_init(w)} for v, ws in graph.items()}
    assert circles(graph) == []
