"""The quality figure's readings (onset, degraded) and what every figure shares
(continued from test_figures.py)."""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import plotly.io as pio
import pytest
from test_figures import chain, diamond, kind, make_analysis, skipping_chain  # noqa: F401  (shared helpers and fixtures)

from fracdash.confusion_figure import confusion_figure
from fracdash.figures import READING_MEANS, quality_figure
from fracdash.readings import (
    DEGRADATION,
    branch_paths,
    layer_depths,
    layer_readings,
)


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
