"""The README's Python examples run as written, on tiny data, and do what they say.

Every ```python block of README.md is executed for real, in order and in one namespace
(later blocks use what earlier ones imported), in a temporary directory with HOME and
FRACDASH_STORE pointing there. Only two things are changed in the extracted text: the
``store=`` argument of ``fracdash.analyze`` is pointed into the temporary directory, and
every ``fracdash.show(...)`` call gets a free ``port=`` and ``block=False`` (a script would
otherwise serve until Ctrl-C); the test stops each server it started.
"""

from __future__ import annotations

import ast
import re
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from helpers import free_port

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
N, CLASS_NAMES = 40, ["cat", "dog", "bird"]
#: The test set the README's show() example draws its ``samples=2000`` from.
N_TEST = 2400


def python_blocks() -> list[tuple[int, str]]:
    """(line of the block's first code line in README.md, code) of each ```python block."""
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in BLOCK.finditer(text)]


def is_call_to(node: ast.AST, attr: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == attr
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "fracdash"
    )


class ForTheTest(ast.NodeTransformer):
    """Point ``analyze(store=...)`` at ``store`` and make every ``show`` call non-blocking
    on a free port, wrapped in ``_started(...)`` so that the test can stop it."""

    def __init__(self, store: Path):
        self.store = str(store)
        self.analyze_stores = 0
        self.shows = 0

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if is_call_to(node, "analyze"):
            for kw in node.keywords:
                if kw.arg == "store":
                    kw.value = ast.Constant(self.store)
                    self.analyze_stores += 1
            return node
        if is_call_to(node, "show"):
            given = {kw.arg for kw in node.keywords}
            assert not given & {"port", "block"}, "the README's show() call sets port/block"
            node.keywords += [
                ast.keyword("port", ast.Constant(free_port())),
                ast.keyword("block", ast.Constant(False)),
            ]
            self.shows += 1
            return ast.Call(ast.Name("_started", ast.Load()), [node], [])
        return node


@pytest.fixture
def readme_data(keras):
    """A small CNN (with the Flatten and Dropout the README's claims are about) and 40
    random samples under the names the README's examples use."""
    from keras import layers

    keras.utils.set_random_seed(11)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1), name="input"),
            layers.Conv2D(3, 3, name="conv"),
            layers.ReLU(name="relu"),
            layers.Flatten(name="flatten"),
            layers.Dropout(0.5, name="dropout"),
            layers.Dense(8, name="dense"),
            layers.Dense(len(CLASS_NAMES), name="logits"),
            layers.Softmax(name="prediction"),
        ],
        name="readme_cnn",
    )
    rng = np.random.default_rng(11)
    x = rng.random((N, 6, 6, 1), dtype=np.float32)
    y = np.arange(N) % len(CLASS_NAMES)
    return {
        "model": model,
        "x": x,
        "y": y,
        "x_test": rng.random((N_TEST, 6, 6, 1), dtype=np.float32),
        "y_test": np.arange(N_TEST) % len(CLASS_NAMES),
        "class_names": list(CLASS_NAMES),
    }


def test_readme_has_the_python_api_examples():
    blocks = python_blocks()
    assert len(blocks) >= 2
    code = "\n".join(c for _, c in blocks)
    for name in ("fracdash.analyze(", "a.simplified()", "fracdash.show("):
        assert name in code
    for _, c in blocks:
        ast.parse(c)  # every block is valid Python


def test_readme_python_blocks_run(readme_data, tmp_path, monkeypatch):
    from fracdash.core import positions_for
    from fracdash.runs import catalog
    from fracdash.store import Store

    work, home, store_dir = tmp_path / "work", tmp_path / "home", tmp_path / "store"
    for d in (work, home):
        d.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("FRACDASH_CACHE", raising=False)
    monkeypatch.setenv("FRACDASH_STORE", str(store_dir))

    started = []

    def _started(shown):
        started.append(shown)
        return shown

    scope = {"__name__": "__readme__", "_started": _started, **readme_data}
    fix = ForTheTest(store_dir / "analyze")
    try:
        for line, code in python_blocks():
            tree = fix.visit(ast.parse(code, filename=str(README)))
            ast.fix_missing_locations(tree)
            ast.increment_lineno(tree, line - 1)  # tracebacks point into README.md
            exec(compile(tree, str(README), "exec"), scope)

        assert fix.analyze_stores == 1, "the analyze example no longer passes store="
        assert fix.shows == 1 and len(started) == 1

        # --- fracdash.analyze, as the README describes it.
        a, y = scope["a"], readme_data["y"]
        assert (store_dir / "analyze").is_dir() and not (work / "~").exists()
        assert isinstance(a.accuracy, float) and 0.0 <= a.accuracy <= 1.0
        assert a.accuracy == pytest.approx(float(np.mean(a.predictions == y)))
        k = len(CLASS_NAMES)
        assert a.confusion.shape == (k, k)  # "k x k, rows = truth"
        np.testing.assert_array_equal(a.confusion.sum(axis=1), np.bincount(y, minlength=k))
        names = [layer.name for layer in a.layers]
        assert a.layers[0].kind == "InputLayer"  # "input layer(s) first"
        assert "dropout" not in names  # identity at inference: never shown
        for layer in a.layers:
            assert sorted(layer.order.tolist()) == list(range(N))
            assert layer.positions.shape == (N, 2)
            assert layer.curve == "compact" and layer.width * layer.height >= N
            np.testing.assert_array_equal(layer.positions[layer.order], positions_for(N, "compact"))
            assert isinstance(layer.quality, float) and 0.0 <= layer.quality <= 1.0
        assert a.edges and all(isinstance(e, tuple) and len(e) == 2 for e in a.edges)
        for source, target in a.edges:  # "topological order"
            assert names.index(source) < names.index(target)
        simple = a.simplified()  # "without Flatten / Reshape / Permute, relinked"
        kinds = {layer.kind for layer in simple.layers}
        assert "Flatten" in {layer.kind for layer in a.layers}
        assert not kinds & {"Flatten", "Reshape", "Permute"}
        assert ("relu", "dense") in simple.edges

        # --- fracdash.show, served from a thread on the injected port.
        shown = started[0]
        assert shown.run == "my-cnn" and shown.analysis.n == 2000  # samples=2000 of 2,400
        counts = np.bincount(shown.analysis.labels, minlength=len(CLASS_NAMES))
        assert sorted(counts.tolist()) == [666, 667, 667]  # stratified: each keeps its share
        with urllib.request.urlopen(shown.url, timeout=30) as r:
            assert r.status == 200 and "fracdash" in r.read().decode()
        store = Store(store_dir)  # where FRACDASH_STORE says
        try:
            assert "my-cnn" in catalog(store)
        finally:
            store.close()
    finally:
        for shown in started:
            shown.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(started[0].url, timeout=5)
