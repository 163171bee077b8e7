"""Plotly figure builders on hand-made analyses (no Keras): confusion and quality."""

from __future__ import annotations

import itertools

import numpy as np
import plotly.graph_objects as go
import pytest

from fracdash.analysis import Analysis, make_glyph
from fracdash.confusion_figure import (
    MAX_CELL_TEXT,
    confusion_figure,
    confusion_min_height,
    confusion_variants,
)
from fracdash.core import class_quality
from fracdash.figures import QUALITY_EXPLAINED, quality_figure
from fracdash.glyphs import class_color
from fracdash.readings import (
    MAX_PATHS,
    branch_paths,
    layer_depths,
    path_names,
)

N = 50
CLASSES = ["zero", "one", "two", "three"] + [f"class {k}" for k in range(4, 20)]


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


# --------------------------------------------------------------------------- confusion


def expected_confusion(analysis):
    expected = np.zeros((len(analysis.class_names),) * 2, dtype=int)
    for truth, pred in zip(analysis.labels, analysis.predictions, strict=True):
        expected[truth, pred] += 1
    return expected


def test_confusion_counts_labels_and_title():
    analysis = make_analysis(*chain(3), n=200, seed=4)
    fig = confusion_figure(analysis, normalise=False)
    assert isinstance(fig, go.Figure)
    (heatmap,) = fig.data
    assert heatmap.type == "heatmap"
    expected = expected_confusion(analysis)
    np.testing.assert_array_equal(np.array(heatmap.z), expected)
    np.testing.assert_array_equal(np.array(heatmap.customdata)[..., 0], expected)
    assert expected.sum() == 200 and np.trace(expected) < 200  # some errors to show
    # x = predicted, y = true class, both by name in class order (a clicked cell's
    # (y, x) names its (truth, predicted) pair).
    assert list(heatmap.x) == CLASSES[:4] and list(heatmap.y) == CLASSES[:4]
    accuracy = np.trace(expected) / 200
    assert f"accuracy {100 * accuracy:.2f}%" in fig.layout.title.text
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.xaxis.type == "category" and fig.layout.yaxis.type == "category"
    assert fig.layout.xaxis.title.text == "predicted class"
    assert fig.layout.yaxis.title.text == "true class"
    assert heatmap.colorbar.title.text == "samples" and heatmap.showscale is not False


def test_confusion_row_normalised_by_default():
    # Class 3 is mostly called class 0: 40 of its 50, while class 0 has 500 right.
    labels = np.repeat([0, 1, 2, 3], [500, 100, 100, 50])
    predictions = labels.copy()
    predictions[700:740] = 0
    analysis = make_analysis(*chain(2), n=labels.size, predictions=predictions)
    analysis.labels[:] = labels
    fig = confusion_figure(analysis)
    (heatmap,) = fig.data
    z = np.array(heatmap.z)
    np.testing.assert_allclose(z.sum(axis=1), 100, atol=0.05)  # each row: % of its truth
    assert z[3, 0] == pytest.approx(80.0) and z[3, 3] == pytest.approx(20.0)
    assert z[3, 0] < z[0, 0] and z[3, 0] > 3 * z[3, 3]  # the confusion stands out
    assert heatmap.zmin == 0 and heatmap.zmax == 100
    assert "true class" in heatmap.colorbar.title.text
    custom = np.array(heatmap.customdata)
    assert list(custom[3, 0]) == [40, 50, 80.0]  # raw count, row total, share
    assert "%{customdata[0]} of %{customdata[1]}" in heatmap.hovertemplate
    assert fig.layout.meta["normalised"] is True
    # Both colorings ride along, for the page's toggle to switch without the server.
    assert fig.layout.meta["variants"] == confusion_variants(expected_confusion(analysis))
    assert fig.layout.meta["variants"]["normalised"]["z"] == [list(row) for row in heatmap.z]
    raw = confusion_figure(analysis, normalise=False)
    np.testing.assert_array_equal(np.array(raw.data[0].z), expected_confusion(analysis))
    assert raw.layout.meta["variants"]["raw"]["z"] == [list(row) for row in raw.data[0].z]
    assert raw.layout.meta["variants"]["raw"]["zmax"] == 500
    assert raw.layout.title.subtitle.text == "raw counts"
    assert "%{customdata[0]} of %{customdata[1]}" in raw.data[0].hovertemplate


def test_confusion_title_two_decimals():
    labels = np.zeros(1000, dtype=np.int64)
    predictions = labels.copy()
    predictions[:8] = 1  # 99.2 % correct
    analysis = make_analysis(*chain(2), n=1000, k=2, predictions=predictions)
    analysis.labels[:] = labels
    assert confusion_figure(analysis).layout.title.text.endswith("accuracy 99.20%")


def test_confusion_grows_with_the_classes():
    small = confusion_figure(make_analysis(*chain(2), n=300, k=4, seed=1))
    big = confusion_figure(make_analysis(*chain(2), n=2000, k=20, seed=1))
    (heatmap,) = big.data
    assert list(heatmap.x) == list(heatmap.y) == CLASSES[:20]
    # ~22 px a row for 20 classes: the plot area is never squashed below that.
    plot_height = big.layout.height - big.layout.margin.t - big.layout.margin.b
    assert plot_height >= 20 * 20 and big.layout.height > small.layout.height
    assert big.layout.yaxis.scaleanchor is None  # cells need not be square
    assert big.layout.xaxis.tickfont.size >= 9 and big.layout.yaxis.tickfont.size >= 9
    assert 20 > MAX_CELL_TEXT and heatmap.texttemplate == ""  # too narrow for numbers
    assert small.data[0].texttemplate == "%{z:.0f}"
    # The page fits the chart to its box, never below ~15 px a row.
    least = {k: confusion_min_height(k) for k in (4, 10, 20)}
    assert least[20] - least[10] == 10 * 15 and least[10] - least[4] == 6 * 15
    assert small.layout.meta["min_height"] == least[4]
    assert big.layout.meta["min_height"] == least[20] <= big.layout.height


# --------------------------------------------------------------------------- paths drawn


def skipping_chain(n=8):
    """A chain with a skip edge around each layer: more than 8 paths of many lengths."""
    names, edges = chain(n)
    return names, edges + [(names[i], names[i + 2]) for i in range(n - 2)]


def test_single_layer():
    analysis = make_analysis(["only"], [])
    assert branch_paths(analysis) == [["only"]]
    (line,) = kind(quality_figure(analysis), "path")
    assert list(line.y) == [analysis.layers[0].quality]


def test_at_most_max_paths_lines():
    analysis = make_analysis(*skipping_chain())
    lines = kind(quality_figure(analysis), "path")
    assert len(lines) == MAX_PATHS == 8
    depth = layer_depths(analysis)
    for line, path in zip(lines, branch_paths(analysis), strict=True):
        assert list(line.x) == [depth[p] for p in path]


# --------------------------------------------------------------------------- quality figure


def kind(fig, wanted):
    return [t for t in fig.data if (t.meta or {}).get("kind") == wanted]


def test_chain_quality_line():
    names, edges = chain(7)
    analysis = make_analysis(names, edges, seed=2)
    fig = quality_figure(analysis)
    (line,) = kind(fig, "path")
    assert line.name == "all layers"
    assert list(line.x) == list(range(7))
    assert list(line.y) == [g.quality for g in analysis.layers]
    assert len(set(line.y)) > 1  # random orders: qualities differ
    assert list(fig.layout.xaxis.ticktext) == names
    assert list(fig.layout.xaxis.tickvals) == list(range(7))
    assert "depth" in fig.layout.xaxis.title.text
    assert fig.layout.yaxis.title.text == "quality"
    for text, g in zip(line.text, analysis.layers, strict=True):
        assert g.name in text and f"{g.quality:.3f}" in text


def test_title_and_the_one_line_explanation():
    fig = quality_figure(make_analysis(*chain(3)))
    assert fig.layout.title.text == "quality per layer"
    assert fig.layout.title.subtitle.text == QUALITY_EXPLAINED
    assert "8 neighbouring pixels" in QUALITY_EXPLAINED and "its class" in QUALITY_EXPLAINED


def test_diamond_quality_lines_at_depth():
    analysis = make_analysis(*diamond(), seed=5)
    fig = quality_figure(analysis)
    lines = kind(fig, "path")
    assert len(lines) == 2
    depth = {"input": 0, "rotate": 1, "a_conv2d0": 1, "b_conv2d0": 2, "b_relu0": 3,
             "concat": 4, "prediction": 5}  # fmt: skip
    assert layer_depths(analysis) == depth == fig.layout.meta["x_of_layer"]
    for line, path in zip(lines, branch_paths(analysis), strict=True):
        assert list(line.x) == [depth[p] for p in path]
        assert list(line.y) == [analysis.layer(p).quality for p in path]
    assert [line.name for line in lines] == ["rotate → b_relu0", "a_conv2d0"]
    # Parallel layers share their x: one tick names both.
    ticks = dict(zip(fig.layout.xaxis.tickvals, fig.layout.xaxis.ticktext, strict=True))
    assert ticks[1] == "rotate / a_conv2d0" and ticks[4] == "concat"


def test_skip_path_named_after_its_skip():
    names, edges = chain(4)
    analysis = make_analysis(names, [*edges, ("l0", "l2")])
    fig = quality_figure(analysis)
    assert [line.name for line in kind(fig, "path")] == ["l1", "l0 → l2 (skip)"]


def test_line_names_unique():
    # Two paths leave the main path at the same layer.
    names = ["in", "x", "y", "p", "q", "out"]
    edges = [("in", "x"), ("x", "y"), ("y", "out"), ("in", "p"), ("p", "q"), ("q", "out")]
    edges += [("p", "out")]
    fig = quality_figure(make_analysis(names, edges))
    labels = [line.name for line in kind(fig, "path")]
    assert labels == ["x → y", "p → q", "p"]
    assert path_names([["a", "b"], ["a", "c"], ["a", "c", "b"]])[1:] == ["c", "c (2)"]


def test_per_class_lines_in_class_colors():
    analysis = make_analysis(*diamond(), n=120, k=5, seed=6)
    hidden = quality_figure(analysis)  # off by default: there, for the page to show
    assert kind(hidden, "class") and all(t.visible is False for t in kind(hidden, "class"))
    assert hidden.layout.meta["per_class"] is False
    fig = quality_figure(analysis, per_class=True)
    paths = branch_paths(analysis)
    lines = kind(fig, "class")
    assert len(lines) == 5 * len(paths) and all(t.visible is True for t in lines)
    depth = layer_depths(analysis)
    for line in lines:
        c, path = line.meta["class"], paths[line.meta["path"]]
        assert line.name == CLASSES[c] and line.line.color == class_color(c)
        assert line.legendgroup == f"class-{c}"
        assert list(line.x) == [depth[p] for p in path]
        want = [class_quality(analysis.layer(p).positions, analysis.labels, 5)[c] for p in path]
        np.testing.assert_allclose(line.y, want)
    # The classes own the colors: the overall lines are drawn in dark ink, by dash.
    assert {t.line.color for t in kind(fig, "path")} == {"#1d2228"}
    assert len({t.line.dash for t in kind(fig, "path")}) == len(paths)
    assert fig.layout.meta["per_class"] is True


def test_per_class_lines_carry_their_class_names():
    """Shown, the class lines are labelled: one entry per class, by its name, in a
    legend of their own titled "class"; hidden, the legend has no entry to draw."""
    analysis = make_analysis(*diamond(), n=120, k=5, seed=6)
    for per_class in (False, True):
        fig = quality_figure(analysis, per_class=per_class)
        lines = kind(fig, "class")
        labelled = [t for t in lines if t.showlegend]
        assert [t.name for t in labelled] == CLASSES[:5]  # every class once, in order
        assert {t.legend for t in lines} == {"legend2"} and fig.layout.showlegend is True
        for t in lines:  # the unlabelled copies (other paths) share their class's entry
            assert t.name == CLASSES[t.meta["class"]]
            assert t.legendgroup == f"class-{t.meta['class']}"
        assert fig.layout.legend2.title.text == "class"
        assert fig.layout.legend2.x > 1  # right of the plot, not over the lines
        # The paths keep the first legend: named when there are several.
        paths = kind(fig, "path")
        assert all(t.legend in (None, "legend") and t.showlegend for t in paths)
    (lone,) = kind(quality_figure(make_analysis(*chain(3)), per_class=True), "path")
    assert lone.showlegend is False  # one line needs no legend entry


def test_every_point_names_its_layer():
    """A click on any point of the quality chart knows its layer (customdata): the
    page opens that layer's glyph."""
    for analysis in (make_analysis(*diamond(), n=120, k=3, seed=6),
                     make_analysis(*chain(8), n=80, seed=7)):  # fmt: skip
        fig = quality_figure(analysis, per_class=True)
        paths = branch_paths(analysis)
        for t in kind(fig, "path") + kind(fig, "class"):
            assert list(t.customdata) == paths[t.meta["path"]]
        for t in kind(fig, "onset") + kind(fig, "degraded"):
            assert list(t.customdata) == t.meta["layers"]
        depth = layer_depths(analysis)
        for t in fig.data:  # each point's x is its layer's depth
            for x, layer in zip(t.x, t.customdata, strict=True):
                assert depth[layer] == x
    assert kind(fig, "onset") and kind(fig, "degraded")  # the chain has both flags
