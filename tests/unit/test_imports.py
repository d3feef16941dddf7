"""No import cycle among the harness modules (issue 11, acceptance 2).

The import graph is built from the source with ast: every `import` and `from ... import` in
every module, those inside functions too, relative ones resolved; imports under
`if TYPE_CHECKING:` are left out (they never run). An edge goes to the module an import
names: `from p import n` is an edge to p.n when that is a module, else to p. A strongly
connected component with more than one module, or a module that imports itself, is a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from support.paths import ROOT

Graph = dict[str, set[str]]


def module_names(package: Path) -> dict[str, Path]:
    """Every module of the package folder, by dotted name (a package by its own name)."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements under `node`, at any depth, except under `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        skip_body = isinstance(child, ast.If) and _is_type_checking(child)
        for stmt in child.orelse if skip_body else [child]:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                yield stmt
            else:
                yield from _imports(stmt)


def _base(module: str, is_package: bool, level: int) -> str:
    """The package a relative import with `level` dots starts from."""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    return ".".join(parts[:max(0, len(parts) - (level - 1))])


def _targets(stmt: ast.Import | ast.ImportFrom, module: str, is_package: bool,
             known: dict[str, Path]) -> Iterator[str]:
    """The modules of the package that one import statement names."""
    if isinstance(stmt, ast.Import):
        yield from (alias.name for alias in stmt.names)
        return
    base = _base(module, is_package, stmt.level) if stmt.level else ""
    source = ".".join(p for p in (base, stmt.module or "") if p)
    for alias in stmt.names:
        sub = f"{source}.{alias.name}"
        yield sub if sub in known else source


def import_graph(package: Path) -> Graph:
    """module -> the modules of the same package it imports."""
    known = module_names(package)
    graph: Graph = {}
    for module, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        graph[module] = {t for stmt in _imports(tree)
                         for t in _targets(stmt, module, is_package, known) if t in known}
    return graph


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's strongly connected components, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def cycles(graph: Graph) -> list[list[str]]:
    """The components that are cycles: several modules, or one that imports itself."""
    return [c for c in strongly_connected(graph) if len(c) > 1 or c[0] in graph[c[0]]]


def describe(found: list[list[str]]) -> str:
    return "; ".join(f"import cycle among {', '.join(c)}" for c in found)


def test_the_harness_has_no_import_cycle() -> None:
    graph = import_graph(ROOT / "harness")
    assert len(graph) > 50 and "harness.config" in graph["harness.cli"]  # a real graph
    found = cycles(graph)
    assert not found, describe(found)


def test_a_cycle_is_found_and_named(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "def f():\n    from . import b\n",  # inside a function, relative
        "b.py": "from pkg.sub.c import thing\n",
        "sub/__init__.py": "",
        "sub/c.py": "import pkg.a\nthing = 1\n",
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import e\n",
        "e.py": "from .d import TYPE_CHECKING\n",  # d -> e only under TYPE_CHECKING
        "f.py": "from .. import nothing_outside\nimport pkg.f\n",  # imports itself
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.sub.c"}
    assert graph["pkg.d"] == set() and graph["pkg.e"] == {"pkg.d"}
    found = cycles(graph)
    assert found == [["pkg.a", "pkg.b", "pkg.sub.c"], ["pkg.f"]]
    assert describe(found) == ("import cycle among pkg.a, pkg.b, pkg.sub.c; "
                               "import cycle among pkg.f")
