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
from fracdash.core import class_quality
from fracdash.figures import (
    MAX_CELL_TEXT,
    QUALITY_EXPLAINED,
    READING_MEANS,
    confusion_figure,
    confusion_min_height,
    confusion_variants,
    quality_figure,
)
from fracdash.glyphs import class_color
from fracdash.readings import (
    DEGRADATION,
    MAX_PATHS,
    branch_paths,
    layer_depths,
    layer_readings,
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


def test_onset_and_degraded_are_defined_where_shown():
    analysis = make_analysis(*chain(8), n=80, seed=7)
    fig = quality_figure(analysis)
    assert "rises most" in READING_MEANS["onset"]
    assert f"{DEGRADATION} or more below the best layer before" in READING_MEANS["degraded"]
    for note in fig.layout.annotations:  # hovering the word says what it means
        assert note.hovertext == READING_MEANS[note.text]
    (onset,) = kind(fig, "onset")
    (degraded,) = kind(fig, "degraded")
    assert READING_MEANS["onset"] in onset.text[0]
    assert all(READING_MEANS["degraded"] in text for text in degraded.text)
    # The markers are the graph's: ▲ onset, ▼ degraded.
    assert (onset.marker.symbol, degraded.marker.symbol) == ("triangle-up", "triangle-down")
    from fracdash.web.dag import FLAGS

    assert FLAGS == {"onset": f"▲ {READING_MEANS['onset']}",
                     "degraded": f"▼ {READING_MEANS['degraded']}"}  # fmt: skip


def test_per_class_skips_absent_classes():
    analysis = make_analysis(*chain(3), n=40, k=4, seed=2)
    analysis.labels[analysis.labels == 2] = 1
    fig = quality_figure(analysis, per_class=True)
    assert sorted({t.meta["class"] for t in kind(fig, "class")}) == [0, 1, 3]


def test_onset_and_degradation_are_flagged():
    analysis = make_analysis(*chain(8), n=80, seed=7)
    readings = layer_readings(analysis)
    assert readings["onset"] is not None and readings["degraded"]  # random: both occur
    fig = quality_figure(analysis)
    assert fig.layout.meta["readings"] == readings
    (onset,) = kind(fig, "onset")
    (degraded,) = kind(fig, "degraded")
    depth = layer_depths(analysis)
    assert list(onset.x) == [depth[readings["onset"]]]
    assert list(onset.y) == [analysis.layer(readings["onset"]).quality]
    assert list(degraded.x) == [depth[n] for n in readings["degraded"]]
    assert degraded.meta["layers"] == readings["degraded"]
    notes = {a.text: (a.x, a.y) for a in fig.layout.annotations}
    first = readings["degraded"][0]
    assert notes["onset"] == (onset.x[0], onset.y[0])
    assert notes["degraded"] == (depth[first], analysis.layer(first).quality)


def test_no_flags_on_a_flat_network():
    analysis = make_analysis(["only"], [])
    fig = quality_figure(analysis)
    assert kind(fig, "onset") == kind(fig, "degraded") == []
    assert len(fig.layout.annotations) == 0


def test_x_of_layer_covers_every_layer():
    analysis = make_analysis(*skipping_chain())  # more paths than drawn
    meta = quality_figure(analysis).layout.meta
    assert meta["x_of_layer"] == layer_depths(analysis)
    assert set(meta["x_of_layer"]) == set(analysis.layer_names)


@pytest.mark.parametrize("build", [confusion_figure, quality_figure])
def test_common_layout(build):
    fig = build(make_analysis(*diamond()))
    assert fig.layout.template == pio.templates["plotly_white"]
    assert fig.layout.template != pio.templates["plotly"]
    assert fig.layout.uirevision is not None
    assert fig.layout.width is None  # responsive: the page decides
    assert fig.layout.margin.t <= 100 and fig.layout.margin.l <= 60
    assert build(make_analysis(*chain(3), seed=9)).layout.uirevision == fig.layout.uirevision
    assert fig.layout.title.text and fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    fig.to_json()  # serialisable for Dash


def test_figures_do_not_import_dash():
    code = "import sys, fracdash.figures; print(sorted({m.split('.')[0] for m in sys.modules}))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    roots = ast.literal_eval(proc.stdout)
    assert "plotly" in roots and "dash" not in roots


def test_charts_panel_toggles_and_their_defaults():
    from fracdash.web import ids
    from fracdash.web.callbacks.charts import APPLY_CHART_TOGGLES
    from fracdash.web.chart_panel import QUALITY_MIN_HEIGHT, charts_panel

    summary, options, charts = charts_panel().children
    normalise, per_class, measure, key = options.children
    assert (normalise.id, normalise.value) == (ids.CONFUSION_NORMALISE, ["on"])  # default on
    # The measure selector: quality by default, the others off until a run has them.
    assert (measure.id, measure.value) == (ids.QUALITY_MEASURE, "quality")
    assert [o["value"] for o in measure.options if not o["disabled"]] == ["quality"]
    assert [o["label"] for o in measure.options] == [
        "8-neighbour quality", "kNN accuracy", "hubness", "trustworthiness"
    ]  # fmt: skip
    assert (per_class.id, per_class.value) == (ids.QUALITY_PER_CLASS, [])
    assert (
        [o["value"] for o in normalise.options] == ["on"] == [o["value"] for o in per_class.options]
    )
    # The flags' key under the toggles says what the chart's ▲ and ▼ mean.
    assert [line.children for line in key.children] == [
        ["▲ ", READING_MEANS["onset"]],
        ["▼ ", READING_MEANS["degraded"]],
    ]
    confusion, quality = charts.children
    assert (confusion.id, quality.id) == (ids.CONFUSION, ids.QUALITY_CHART)
    # Both fill their share of the column (responsive), never below a least height.
    assert confusion.responsive is True and quality.responsive is True
    assert quality.style == {"minHeight": f"{QUALITY_MIN_HEIGHT}px"}
    # The page's toggle reads what the figures carry.
    for name in ("variants", "normalised", "per_class", '"class"', "visible", "min_height"):
        assert name in APPLY_CHART_TOGGLES


@pytest.mark.parametrize("measure", ["knn_accuracy", "hubness", "trustworthiness"])
def test_measure_figure_plots_each_layers_measure(measure):
    from dataclasses import replace

    from fracdash.measure_figure import MEASURE_LABELS, has_measures, measure_figure

    analysis = make_analysis(*diamond(), seed=5)
    assert not has_measures(analysis)
    rng = np.random.default_rng(4)
    values = {g.name: [float(v) for v in rng.random(3)] for g in analysis.layers}
    fields = ("knn_accuracy", "hubness", "trustworthiness")
    analysis.layers = [replace(g, **dict(zip(fields, values[g.name], strict=True)))
                       for g in analysis.layers]  # fmt: skip
    assert has_measures(analysis)
    fig = measure_figure(analysis, measure)
    want = {name: v[fields.index(measure)] for name, v in values.items()}
    depths = layer_depths(analysis)
    for trace in fig.data:
        assert list(trace.y) == [want[n] for n in trace.customdata]
        assert list(trace.x) == [depths[n] for n in trace.customdata]
    assert {n for t in fig.data for n in t.customdata} == set(want)
    assert len(fig.data) == len(branch_paths(analysis))
    assert fig.layout.title.text.startswith(MEASURE_LABELS[measure])
    assert fig.layout.yaxis.title.text == MEASURE_LABELS[measure]
    assert measure_figure(analysis, "quality").layout.meta["readings"]  # the quality chart
    with pytest.raises(ValueError, match="measure must be one of"):
        measure_figure(analysis, "accuracy")
