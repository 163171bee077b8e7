"""The house's import structure: every module sits on one floor, imports point down
(or across a floor, without circles), and a new module must be given its floor here.

core <- data <- models <- sources <- inputs <- pipeline <- runs <- export <- web <- the
entry points (cli, notebook) <- the package root (whose lazy ``analyze`` and ``show`` are
its only arrows up to the pipeline and the notebook).
"""

from __future__ import annotations

import ast
from pathlib import Path

import fracdash

PACKAGE = Path(fracdash.__file__).resolve().parent

#: Floors, lowest first; a module's floor is that of its longest matching prefix.
FLOORS = [
    ("base", ["fracdash.core", "fracdash.errors", "fracdash.version", "fracdash.store",
              "fracdash.progress", "fracdash.glyphs", "fracdash.readings", "fracdash.assets"]),
    ("data", ["fracdash.datasets", "fracdash.scenarios", "fracdash.layout", "fracdash.analysis",
              "fracdash.thumbnails", "fracdash.figures", "fracdash.confusion_figure",
              "fracdash.serving", "fracdash.run_comparison", "fracdash.measure_figure"]),
    ("models", ["fracdash.models"]),
    ("sources", ["fracdash.sources"]),
    ("inputs", ["fracdash.inputs"]),
    ("pipeline", ["fracdash.cluster", "fracdash.capacity", "fracdash.measuring",
                  "fracdash.background_compile", "fracdash.pipeline"]),
    ("runs", ["fracdash.runs", "fracdash.run_inputs", "fracdash.layer_pairs", "fracdash.compare",
              "fracdash.series"]),
    ("export", ["fracdash.export"]),
    ("web", ["fracdash.web"]),
    ("entry", ["fracdash.cli", "fracdash.cli_options", "fracdash.cli_metrics",
               "fracdash.cli_compare", "fracdash.notebook", "fracdash.keras", "fracdash.torch"]),
]  # fmt: skip
ROOT_FLOOR = len(FLOORS)  # the package root, "fracdash" itself: the public API


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["fracdash", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules ``name`` imports, anywhere in the file (lazy imports too).
    ``from a.b import c`` counts as ``a.b.c`` when that is a module, else as ``a.b``."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known and m != name}


def floor_of(module: str) -> int:
    if module == "fracdash":
        return ROOT_FLOOR
    best = None
    for index, (_, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (index, len(prefix))
    assert best is not None, f"{module} has no floor: add it to FLOORS in {__file__}"
    return best[0]


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_floor_and_imports_point_down():
    graph = import_graph()
    assert len(graph) > 40  # the walk found the package
    upward = [
        f"{a} ({FLOORS[floor_of(a)][0] if a != 'fracdash' else 'root'}) imports {b} "
        f"({FLOORS[floor_of(b)][0] if b != 'fracdash' else 'root'})"
        for a, targets in sorted(graph.items())
        for b in sorted(targets)
        if floor_of(b) > floor_of(a)
    ]
    assert upward == []


def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_the_checks_catch_a_circle_and_an_upward_import():
    # The checks themselves can fail: a made-up circle and an arrow from core to web.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert floor_of("fracdash.web.app") > floor_of("fracdash.core.vat")
    assert floor_of("fracdash.export.png") < floor_of("fracdash.web.export_routes")


def test_export_imports_nothing_from_web_and_models_alone_import_keras():
    found = modules()
    graph = import_graph()
    for name, targets in graph.items():
        if name.startswith("fracdash.export"):
            assert not [t for t in targets if t.startswith("fracdash.web")], name
    keras_users = []
    for name, path in found.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [node.module or ""] if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            )  # fmt: skip
            if any(n.split(".")[0] in ("keras", "tensorflow") for n in names):
                keras_users.append(name)
    assert keras_users and all(n.startswith("fracdash.models") for n in keras_users), keras_users
