"""The numerical core and the package root import without the heavy stack (docs/method.md §3-6)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fracdash.core

HEAVY = (
    "tensorflow", "keras", "dash", "plotly", "diskcache", "grandalf", "onnx", "torch", "dask",
    "distributed",
)  # fmt: skip
CORE_DIR = Path(fracdash.core.__file__).resolve().parent
CORE_FILES = sorted(CORE_DIR.rglob("*.py"))

IMPORT_RE = re.compile(
    r"^\s*(?:from\s+(?P<from>[\w.]+)\s+import\b|import\s+(?P<imp>[\w.]+(?:\s*,\s*[\w.]+)*))",
    re.MULTILINE,
)


def imported_roots(source: str) -> set[str]:
    """Top-level module names a source imports, by regex (import / from ... import)."""
    roots = set()
    for m in IMPORT_RE.finditer(source):
        if m.group("from"):
            roots.add(m.group("from").split(".")[0])
        else:
            for name in m.group("imp").split(","):
                roots.add(name.strip().split(".")[0])
    return roots


def imported_roots_ast(source: str) -> set[str]:
    """The same, by the syntax tree: catches imports nested in functions or try blocks."""
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call):
            # importlib.import_module("keras") / __import__("keras")
            func = node.func
            name = getattr(func, "attr", None) or getattr(func, "id", None)
            if name in ("import_module", "__import__") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    roots.add(arg.value.split(".")[0])
    return roots


def run_python(*parts: str) -> subprocess.CompletedProcess:
    code = "\n".join(textwrap.dedent(part) for part in parts)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )


# --------------------------------------------------------------------------- the scanners


def test_scanners_see_imports():
    sample = textwrap.dedent(
        """
        import numpy as np
        import os, keras.layers
        from tensorflow import keras
        from dash.dependencies import Input

        def f():
            import plotly.graph_objects as go
            from diskcache import Cache
            import importlib
            return importlib.import_module("tensorflow")
        """
    )
    want = {"numpy", "os", "keras", "tensorflow", "dash", "plotly", "diskcache", "importlib"}
    assert imported_roots(sample) == want
    assert imported_roots_ast(sample) == want
    lookalikes = "import dashboard\nimport kerasx\nfrom plotlyx import y\n"
    assert imported_roots(lookalikes) == {"dashboard", "kerasx", "plotlyx"}
    assert not set(HEAVY) & imported_roots(lookalikes)


def test_core_sources_found():
    names = {p.name for p in CORE_FILES}
    assert {"__init__.py", "vat.py", "hilbert.py", "coloring.py", "graph.py"} <= names


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_sources_do_not_import_heavy_modules(path):
    source = path.read_text(encoding="utf-8")
    assert not set(HEAVY) & imported_roots(source), f"{path.name} imports a heavy module"
    assert not set(HEAVY) & imported_roots_ast(source), f"{path.name} imports a heavy module"
    # Also no mention at all in an import-like string.
    for mod in HEAVY:
        assert not re.search(rf"\b(?:import|from)\s+{mod}\b", source), (path.name, mod)


# --------------------------------------------------------------------------- fresh interpreter

CHECK_HEAVY = f"""
    heavy = [m for m in {HEAVY!r} if m in sys.modules or any(
        k.startswith(m + ".") for k in sys.modules)]
    assert not heavy, f"imported: {{heavy}}"
"""


def test_import_core_in_fresh_interpreter():
    code = (
        """
        import sys
        import fracdash.core
        from fracdash.core import (
            vat_order, curve_positions, relative_codes, quality, class_image, code_image,
            hilbert_points, curve_order, topological_order, remove_nodes,
        )
        """,
        CHECK_HEAVY,
        'print("ok")',
    )
    proc = run_python(*code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_import_package_and_use_public_api_in_fresh_interpreter():
    code = (
        """
        import sys
        import numpy as np
        import fracdash
        from fracdash import vat_order, curve_positions, relative_codes, quality

        rng = np.random.default_rng(0)
        x = np.vstack([rng.normal(0, 0.1, (20, 4)), rng.normal(5, 0.1, (20, 4))])
        labels = np.array([0] * 20 + [1] * 20)
        order = vat_order(x)
        assert sorted(order.tolist()) == list(range(40))
        # Two tight blobs far apart: VAT visits one blob entirely, then the other.
        assert len(set(labels[order[:20]].tolist())) == 1
        p, pos = curve_positions(len(order))
        assert p == 3 and pos.shape == (40, 2)
        codes = relative_codes(labels[order])
        assert codes.tolist().count(0) == 0 and codes.tolist().count(1) == 4
        q = quality(pos, labels[order])
        assert 0.0 < q < 1.0
        assert vat_order(x, metric="cosine").shape == (40,)
        """,
        CHECK_HEAVY,
        'print("ok")',
    )
    proc = run_python(*code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_fresh_interpreter_check_can_fail():
    # The same check notices a heavy module when one is imported (here a stand-in).
    code = (
        """
        import sys, types
        sys.modules["plotly"] = types.ModuleType("plotly")
        """,
        CHECK_HEAVY,
    )
    proc = run_python(*code)
    assert proc.returncode != 0
    assert "plotly" in proc.stderr
