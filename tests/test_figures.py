"""Plotly figure builders on hand-made analyses (no Keras): confusion and quality."""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from fracdash.analysis import Analysis, make_glyph
from fracdash.figures import MAX_PATHS, branch_paths, confusion_figure, quality_figure

N = 50
CLASSES = ["zero", "one", "two", "three"]


def make_analysis(names, edges, n=N, k=4, seed=0, predictions=None):
    """Layers in the listed (topological) order with random VAT orders."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n).astype(np.int64)
    if predictions is None:
        predictions = np.where(rng.random(n) < 0.8, labels, rng.integers(0, k, n))
    inputs = {name: tuple(s for s, t in edges if t == name) for name in names}
    layers = [
        make_glyph(name, "Dense", inputs[name], (3,), rng.permutation(n), labels) for name in names
    ]
    return Analysis(
        layers=layers,
        labels=labels,
        predictions=np.asarray(predictions, dtype=np.int64),
        class_names=CLASSES[:k],
    )


def chain(n):
    names = [f"l{i}" for i in range(n)]
    return names, list(itertools.pairwise(names))


def diamond():
    """input -> rotate -> b_conv2d0 -> b_relu0 -> concat, input -> a_conv2d0 -> concat."""
    names = ["input", "rotate", "b_conv2d0", "b_relu0", "a_conv2d0", "concat", "prediction"]
    edges = [
        ("input", "rotate"),
        ("rotate", "b_conv2d0"),
        ("b_conv2d0", "b_relu0"),
        ("input", "a_conv2d0"),
        ("b_relu0", "concat"),
        ("a_conv2d0", "concat"),
        ("concat", "prediction"),
    ]
    return names, edges


def is_path(path, analysis):
    edges = set(analysis.edges)
    sources = {g.name for g in analysis.layers if not g.inputs}
    return (
        path[0] in sources
        and path[-1] == analysis.layers[-1].name
        and all(e in edges for e in itertools.pairwise(path))
    )


def brute_paths(analysis):
    """Every source-to-sink path by plain recursion (small graphs only)."""
    succs = {g.name: [t for s, t in analysis.edges if s == g.name] for g in analysis.layers}
    sink = analysis.layers[-1].name

    def walk(path):
        if path[-1] == sink:
            yield path
        for nxt in succs[path[-1]]:
            yield from walk([*path, nxt])

    return [p for g in analysis.layers if not g.inputs for p in walk([g.name])]


# --------------------------------------------------------------------------- confusion


def test_confusion_counts_labels_and_title():
    analysis = make_analysis(*chain(3), n=200, seed=4)
    fig = confusion_figure(analysis)
    assert isinstance(fig, go.Figure)
    (heatmap,) = fig.data
    assert heatmap.type == "heatmap"
    expected = np.zeros((4, 4), dtype=int)
    for truth, pred in zip(analysis.labels, analysis.predictions, strict=True):
        expected[truth, pred] += 1
    np.testing.assert_array_equal(np.array(heatmap.z), expected)
    np.testing.assert_array_equal(np.array(heatmap.text), expected)
    assert expected.sum() == 200 and np.trace(expected) < 200  # some errors to show
    assert list(heatmap.x) == CLASSES and list(heatmap.y) == CLASSES
    accuracy = np.trace(expected) / 200
    assert f"accuracy {100 * accuracy:.2f}%" in fig.layout.title.text
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.xaxis.type == "category" and fig.layout.yaxis.type == "category"


def test_confusion_title_two_decimals():
    labels = np.zeros(1000, dtype=np.int64)
    predictions = labels.copy()
    predictions[:8] = 1  # 99.2 % correct
    analysis = make_analysis(*chain(2), n=1000, k=2, predictions=predictions)
    analysis.labels[:] = labels
    assert confusion_figure(analysis).layout.title.text == "accuracy 99.20%"


# --------------------------------------------------------------------------- branch paths


def test_chain_is_one_path():
    names, edges = chain(6)
    assert branch_paths(make_analysis(names, edges)) == [names]


def test_single_layer():
    analysis = make_analysis(["only"], [])
    assert branch_paths(analysis) == [["only"]]
    (line,) = quality_figure(analysis).data
    assert list(line.y) == [analysis.layers[0].quality]


def test_diamond_has_two_paths_covering_every_layer():
    analysis = make_analysis(*diamond())
    paths = branch_paths(analysis)
    assert len(paths) == 2
    assert all(is_path(p, analysis) for p in paths)
    assert {name for p in paths for name in p} == set(analysis.layer_names)
    assert paths[0] == ["input", "rotate", "b_conv2d0", "b_relu0", "concat", "prediction"]
    assert sorted(map(tuple, paths)) == sorted(map(tuple, brute_paths(analysis)))


def test_two_inputs_are_two_sources():
    names = ["in_a", "in_b", "dense_a", "concat", "out"]
    edges = [("in_a", "dense_a"), ("dense_a", "concat"), ("in_b", "concat"), ("concat", "out")]
    paths = branch_paths(make_analysis(names, edges))
    assert paths == [["in_a", "dense_a", "concat", "out"], ["in_b", "concat", "out"]]


def ladder(rungs):
    """``rungs`` diamonds in series: 2**rungs source-to-sink paths, all of equal length."""
    names, edges, prev = ["input"], [], "input"
    for r in range(rungs):
        a, b, join = f"a{r}", f"b{r}", f"join{r}"
        names += [a, b, join]
        edges += [(prev, a), (prev, b), (a, join), (b, join)]
        prev = join
    names.append("out")
    edges.append((prev, "out"))
    return names, edges


def test_more_than_eight_paths_are_capped():
    analysis = make_analysis(*ladder(4))  # 16 paths
    every = brute_paths(analysis)
    assert len(every) == 16
    paths = branch_paths(analysis)
    assert len(paths) == MAX_PATHS == 8
    assert len({tuple(p) for p in paths}) == 8
    assert all(is_path(p, analysis) for p in paths)
    # Equal lengths: ties broken by layer position, i.e. the 8 smallest index tuples.
    index = {name: i for i, name in enumerate(analysis.layer_names)}
    want = sorted(every, key=lambda p: [index[x] for x in p])[:8]
    assert paths == want
    assert len(quality_figure(analysis).data) == 8


def test_longest_paths_kept_first():
    # A chain of 8 with a skip edge around each layer: many paths of many lengths.
    names, edges = chain(8)
    edges = edges + [(names[i], names[i + 2]) for i in range(6)]
    analysis = make_analysis(names, edges)
    every = brute_paths(analysis)
    assert len(every) > 8
    paths = branch_paths(analysis)
    assert paths[0] == names
    lengths = [len(p) for p in paths]
    assert lengths == sorted(lengths, reverse=True)
    assert lengths == sorted((len(p) for p in every), reverse=True)[:8]
    assert all(is_path(p, analysis) for p in paths)
    assert branch_paths(analysis) == paths  # deterministic


def test_many_paths_stay_cheap():
    analysis = make_analysis(*ladder(40), n=8)  # 2**40 paths: never enumerated
    paths = branch_paths(analysis)
    assert len(paths) == 8 and all(len(p) == 2 + 2 * 40 for p in paths)


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match="limit"):
        branch_paths(make_analysis(*chain(2)), limit=0)


# --------------------------------------------------------------------------- quality figure


def test_chain_quality_line():
    names, edges = chain(7)
    analysis = make_analysis(names, edges, seed=2)
    fig = quality_figure(analysis)
    (line,) = fig.data
    assert line.name == "main"
    assert list(line.x) == list(range(7))
    assert list(line.y) == [g.quality for g in analysis.layers]
    assert len(set(line.y)) > 1  # random orders: qualities differ
    assert list(fig.layout.xaxis.ticktext) == names
    assert list(fig.layout.xaxis.tickvals) == list(range(7))
    for text, g in zip(line.text, analysis.layers, strict=True):
        assert g.name in text and f"{g.quality:.3f}" in text


def test_diamond_quality_lines():
    analysis = make_analysis(*diamond(), seed=5)
    fig = quality_figure(analysis)
    assert len(fig.data) == 2
    index = {name: i for i, name in enumerate(analysis.layer_names)}
    for line, path in zip(fig.data, branch_paths(analysis), strict=True):
        assert list(line.x) == [index[p] for p in path]
        assert list(line.y) == [analysis.layer(p).quality for p in path]
    assert [line.name for line in fig.data] == ["main", "via a_conv2d0"]


def test_skip_path_named_where_it_leaves_main():
    names, edges = chain(4)
    analysis = make_analysis(names, [*edges, ("l0", "l2")])
    fig = quality_figure(analysis)
    assert [line.name for line in fig.data] == ["main", "via l2"]


def test_line_names_unique():
    # Two paths leave the main path at the same layer.
    names = ["in", "x", "y", "p", "q", "out"]
    edges = [("in", "x"), ("x", "y"), ("y", "out"), ("in", "p"), ("p", "q"), ("q", "out")]
    edges += [("p", "out")]
    fig = quality_figure(make_analysis(names, edges))
    labels = [line.name for line in fig.data]
    assert labels[0] == "main" and len(set(labels)) == len(labels) == 3


@pytest.mark.parametrize("build", [confusion_figure, quality_figure])
def test_common_layout(build):
    fig = build(make_analysis(*diamond()))
    assert fig.layout.template == pio.templates["plotly_white"]
    assert fig.layout.template != pio.templates["plotly"]
    assert fig.layout.uirevision is not None
    assert fig.layout.width is None  # responsive: the page decides
    assert fig.layout.margin.t <= 60 and fig.layout.margin.l <= 60
    assert build(make_analysis(*chain(3), seed=9)).layout.uirevision == fig.layout.uirevision
    fig.to_json()  # serialisable for Dash


def test_figures_do_not_import_dash():
    code = "import sys, fracdash.figures; print(sorted({m.split('.')[0] for m in sys.modules}))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    roots = ast.literal_eval(proc.stdout)
    assert "plotly" in roots and "dash" not in roots
