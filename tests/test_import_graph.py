"""The import graph of the ``attribution`` package has no circle (issue 16, "the house").

Every ``import`` / ``from ... import`` of an ``attribution`` module is an edge, wherever it
stands: module level, inside a function (a late import) or a method. Left out are imports under
``if TYPE_CHECKING:`` (annotations only, never run) and look-ups by name at run time, which are
not import statements: the package's lazy name map (``attribution._LAZY``), the model registry's
module list and the event-engine registry of :mod:`attribution.journeys`.

An edge goes to the module the statement names: ``from .x import y`` is an edge to ``x``, or to
``x.y`` when that is a module. (Importing a sub-module also runs its parents' ``__init__``; a
package importing its own sub-modules is an edge of that package, not of every sibling.)

The test parses the source with :mod:`ast` and imports nothing, so it takes well under a second.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "attribution"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module):
    """Every import statement of ``tree``, nested ones included, except under ``if TYPE_CHECKING``."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, dict[str, int]]:
    """Module -> {imported attribution module: line of the first such import}."""
    files = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph: dict[str, dict[str, int]] = {m: {} for m in files}
    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in files else source for a in node.names]
            for target in targets:
                while target and target not in files and "." in target:
                    target = target.rpartition(".")[0]  # a name inside a module -> the module
                if target in files and target != mod:
                    graph[mod].setdefault(target, node.lineno)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The groups of modules that reach each other (Tarjan), those of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One shortest circle per strongly connected group of modules."""
    cycles = []
    for comp in strongly_connected(graph):  # a shortest circle through the first module of the component
        inside = set(comp)
        start = comp[0]
        prev = {start: None}
        frontier = [start]
        found = None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v]):
                    if w == start:
                        found = v
                        break
                    if w in inside and w not in prev:
                        prev[w] = v
                        nxt.append(w)
                if found is not None:
                    break
            frontier = nxt
        path = [found]
        while prev[path[-1]] is not None:
            path.append(prev[path[-1]])
        cycles.append(list(reversed(path)) + [start])
    return cycles


def _describe(graph, cycle: list[str]) -> str:
    steps = [f"{a} -> {b} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])]
    return "\n    ".join(steps)


def test_the_graph_is_read():
    graph = import_graph()
    assert len(graph) > 50
    # a late (function-level) import counts: the report's build_report imports compare inside
    assert "attribution.decisions.comparison" in graph["attribution.report"]
    assert "attribution.models.base" in graph["attribution.decisions.roi"]
    # the one-way decision layer: comparison uses roi, budget and uncertainty, never the reverse
    for low in ("attribution.decisions.roi", "attribution.decisions.budget", "attribution.decisions.uncertainty"):
        assert low in graph["attribution.decisions.comparison"]
        assert "attribution.decisions.comparison" not in graph[low]


def test_the_cycle_finder_finds_a_late_import_circle():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 9}, "d": {"a": 3}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b": 1}, "b": {}}) == []


def test_no_import_circle_among_attribution_modules():
    graph = import_graph()
    cycles = find_cycles(graph)
    groups = strongly_connected(graph)
    report = "\n".join(f"  {len(g)} modules reach each other: {g}\n  for example:\n    {_describe(graph, c)}"
                       for g, c in zip(groups, cycles))
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} import edges, {len(cycles)} circle(s)")
    assert not cycles, "import circles among attribution modules:\n" + report


def test_display_constants_match_the_models():
    # attribution._display is a leaf (no model code); its pseudo-channel name must be the models'
    from attribution._display import NO_TOUCH as display_no_touch
    from attribution.models.base import NO_TOUCH

    assert display_no_touch == NO_TOUCH


def _loaded(code: str) -> set[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    # -X importtime writes one line per imported module to stderr: "import time: self | cumulative | name"
    return {line.rsplit("|", 1)[1].strip() for line in out.stderr.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


def test_importing_the_cli_loads_no_heavy_library_and_no_simulator():
    mods = _loaded("import attribution.cli")
    assert "attribution.cli" in mods and "attribution.cli._main" in mods
    heavy = sorted(m for m in mods if m.split(".")[0] in ("sklearn", "matplotlib")
                   or m == "attribution.datasets._simulate")
    assert heavy == [], heavy
