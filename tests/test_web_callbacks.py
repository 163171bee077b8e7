"""Dashboard callbacks and page builders, called directly on a hand-made Analysis."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from contextvars import copy_context
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from helpers import CLASSES, LAYERS, toy_analysis, walk
from PIL import Image

from fracdash.core import grid_shape
from fracdash.glyphs import ABSOLUTE_EMPTY, RELATIVE_COLORS, RELATIVE_EMPTY, class_color
from fracdash.runs import register
from fracdash.store import Store, stage_key
from fracdash.web import create_app, ids
from fracdash.web.app import context_of
from fracdash.web.computing import progress_view
from fracdash.web.loading import run_options, scenario_of

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cb(tmp_path):
    """A dashboard on a store holding the toy analysis as run ``toy``: its server
    callbacks by name (``cb.render_dag``...) and its ``cb.store``."""
    store = Store(tmp_path / "cache")
    analysis = toy_analysis()
    key = stage_key("analysis", {"test": "toy"})
    analysis.meta["key"] = key
    store.set_bytes(key, analysis.to_bytes())
    register(store, "toy", analysis)
    context = context_of(create_app(store, default_run="toy"))
    yield SimpleNamespace(store=store, jobs=context.jobs, **context.callbacks)
    context.jobs.stop()
    store.close()


def glyph_images(tree):
    return [c for c in walk(tree) if getattr(c, "className", None) == "fd-glyph"]


def decode(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")


def colors(image: Image.Image) -> set[str]:
    pixels = np.asarray(image).reshape(-1, 3)
    return {"#{:02x}{:02x}{:02x}".format(*p) for p in np.unique(pixels, axis=0)}


def graph_of(tree) -> dict:
    """The graph the page lays out (web/assets/dag_fit.js), from the canvas data-graph."""
    return json.loads(tree.to_plotly_json()["props"]["data-graph"])


def svg_edges(tree) -> set[tuple[str, str]]:
    return {(e["source"], e["target"]) for e in graph_of(tree)["edges"]}


def with_trigger(prop_id: str, value, fn, *args):
    """Run a callback body as if ``prop_id`` had fired with ``value``."""

    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}]))
        return fn(*args)

    return copy_context().run(run)


def test_every_layer_gets_one_glyph_at_its_true_size(cb):
    tree, variants, _ = cb.render_dag("toy", [], "compact", None, "absolute")
    images = glyph_images(tree)
    assert [img.id for img in images] == [ids.glyph_id(name) for name, _, _ in LAYERS]
    nodes = {n["name"]: n for n in graph_of(tree)["nodes"]}
    for img in images:
        props = img.to_plotly_json()["props"]
        size = (int(props["data-width"]), int(props["data-height"]))
        # The PNG's own size, one pixel per sample slot, is what the page lays out.
        assert decode(img.src).size == size == grid_shape(40, toy_analysis().curve)
        node = nodes[img.id["layer"]]
        assert (node["width"], node["height"]) == size
        assert props["data-layer"] == img.id["layer"]
        assert "style" not in props  # placed and sized in the browser, never by the server
    assert set(variants) == {name for name, _, _ in LAYERS}
    assert svg_edges(tree) == {("input", "conv"), ("conv", "flatten"), ("flatten", "dense"),
                               ("dense", "prediction")}  # fmt: skip


def test_nodes_carry_name_glyph_quality_and_their_sugiyama_rank(cb):
    tree, *_ = cb.render_dag("toy", [], "compact", None, "absolute")
    nodes = [c for c in walk(tree) if getattr(c, "className", None) == "fd-node"]
    assert all(
        n.children[0].children == name for n, (name, _, _) in zip(nodes, LAYERS, strict=True)
    )
    quality = [n.children[-1].children for n in nodes]
    assert all(re.fullmatch(r"\d\.\d{3}", q) for q in quality)
    graph = graph_of(tree)
    # A chain: one node per rank, top to bottom in data-flow order, all in one lane.
    assert [(n["name"], n["rank"], n["order"]) for n in graph["nodes"]] == [
        (name, i, 0) for i, (name, _, _) in enumerate(LAYERS)
    ]
    assert len({n["x"] for n in graph["nodes"]}) == 1
    assert [n["quality"] for n in graph["nodes"]] == [float(q) for q in quality]
    assert all(e["via"] == [] for e in graph["edges"])


def test_simplify_removes_flatten_and_relinks(cb):
    tree, variants, _ = cb.render_dag("toy", ["on"], "compact", None, "absolute")
    names = [img.id["layer"] for img in glyph_images(tree)]
    assert names == ["input", "conv", "dense", "prediction"]
    assert "flatten" not in variants
    assert ("conv", "dense") in svg_edges(tree)
    assert not any("flatten" in edge for edge in svg_edges(tree))


def test_relative_and_absolute_variants_use_only_their_palettes(cb):
    _, variants, _ = cb.render_dag("toy", [], "compact", None, "relative")
    absolute = {class_color(k) for k in range(len(CLASSES))} | {ABSOLUTE_EMPTY}
    relative = set(RELATIVE_COLORS) | {RELATIVE_EMPTY}
    for v in variants.values():
        assert colors(decode(v["relative"])) <= relative
        assert colors(decode(v["absolute"])) <= absolute
        assert colors(decode(v["absolute"])) & {class_color(k) for k in range(len(CLASSES))}


def test_relative_coloring_is_rendered_from_the_start(cb):
    tree, variants, _ = cb.render_dag("toy", [], "compact", None, "relative")
    for img in glyph_images(tree):
        assert img.src == variants[img.id["layer"]]["relative"]


def test_the_page_gets_two_colorings_per_glyph_and_draws_focus_itself(cb):
    """Class focus is drawn in the browser from the run's sample data (Chromium tests:
    test_browser.py, test_browser_samples.py), not sent as one PNG per class."""
    _, variants, _ = cb.render_dag("toy", [], "compact", None, "absolute")
    for v in variants.values():
        assert set(v) == {"absolute", "relative"}
        shown = colors(decode(v["absolute"])) - {ABSOLUTE_EMPTY}
        assert shown and shown <= {class_color(k) for k in range(len(CLASSES))}


def test_legend_has_one_entry_per_class_with_its_color(cb):
    legend, line = cb.render_legend("toy")
    note = line.children
    assert line.title == note  # two lines on the page, the whole note as its tooltip
    labels, *items, key = legend  # the labels line, one item per class, the key
    assert "fd-legend-labels" in labels.className and "fd-key" in key.className
    assert len(items) == len(CLASSES)
    for k, (item, name) in enumerate(zip(items, CLASSES, strict=True)):
        swatch, label = item.children
        assert swatch.style["backgroundColor"] == class_color(k)
        assert label.children == name
        props = item.to_plotly_json()["props"]
        assert props["data-class"] == str(k) and "data-focus-store" not in props
    assert "toy model, seeded" in note and "40 test samples" in note


def test_zoom_shows_name_kind_shape_and_quality(cb):
    prop = json.dumps(ids.glyph_name_id("conv"), separators=(",", ":")) + ".n_clicks"
    body, hidden = with_trigger(prop, 1, cb.toggle_zoom, [0, 1], 0, "toy", "absolute")
    assert hidden is False
    facts = {
        c.to_plotly_json()["props"]["data-fact"]: c.children
        for c in walk(body[2])
        if "data-fact" in c.to_plotly_json()["props"]
    }
    quality = f"{toy_analysis().layer('conv').quality:.3f}"
    assert facts["layer"] == "conv" and facts["kind"] == "Conv2D"
    assert facts["output shape"] == "4×4×3" and facts["quality"] == quality
    box, (image, over) = body[1], body[1].children  # the image, the browser's drawing over it
    assert "fd-zoom-overlay" in over.className
    width, height = decode(image.src).size
    scale = 512 // max(width, height)  # the largest integer factor within 512 px
    assert box.style == {"width": f"{width * scale}px", "height": f"{height * scale}px"}
    assert max(width, height) * scale > 512 - max(width, height)

    closed = with_trigger(f"{ids.GLYPH_ZOOM_CLOSE}.n_clicks", 1, cb.toggle_zoom,
                          [0, 1], 1, "toy", "absolute")  # fmt: skip
    assert closed == (no_update, True)


def test_new_glyphs_do_not_open_the_zoom(cb):
    from dash.exceptions import PreventUpdate

    prop = json.dumps(ids.glyph_name_id("conv"), separators=(",", ":")) + ".n_clicks"
    with pytest.raises(PreventUpdate):
        with_trigger(prop, 0, cb.toggle_zoom, [0, 0], 0, "toy", "absolute")


def test_charts_show_accuracy_and_quality(cb):
    confusion, quality = cb.render_charts("toy", [])
    assert "accuracy" in confusion.layout.title.text
    assert sum(len(trace.y) for trace in quality.data) >= len(LAYERS)
    _, simplified = cb.render_charts("toy", ["on"])
    assert "flatten" not in list(simplified.layout.xaxis.ticktext)


def test_a_stored_run_opens_and_a_missing_scenario_is_computed(cb, monkeypatch):
    from job_fakes import fake_env

    monkeypatch.setenv("PYTHONPATH", fake_env())
    cb.jobs.target = "job_fakes:sleepy"  # a job process that computes nothing
    assert cb.select_run("toy") == ("toy", None, "")
    run, compute, view = cb.select_run("easy")
    assert (run, compute) == (None, "easy")  # the previous run is cleared from the page
    assert "computing easy" in str(view) and "queued" in str(view)
    options = {o["value"]: o["label"] for o in run_options(cb.store, None)}
    assert list(options)[:5] == ["easy", "generalization", "problematic", "simplification",
                                 "realistic"]  # fmt: skip
    assert "(computing: " in options["easy"] and "toy" in options  # its job runs
    assert "(not computed: about " in options["generalization"]
    assert scenario_of("easy-300", 300) == "easy" and scenario_of("toy", None) is None


def test_progress_view_names_stage_and_step():
    """The page's progress box: the stage's label, then its count (epochs, batches) or,
    for the orders (counted in work), its percentage, then the detail."""

    def line(stage, done, total, detail=""):
        record = {"run": "easy", "stage": stage, "done": done, "total": total,
                  "detail": detail, "stage_started": 0.0}  # fmt: skip
        return str(progress_view(record))

    assert "computing easy" in line("train", 2, 15)
    assert "training the model · epoch 2 of 15 · acc 0.9" in line("train", 2, 15, "acc 0.9")
    assert "ordering layers · 100%" in line("order", 9, 9)
    assert "ordering layers · 0%" in line("order", 0, 7)


def test_ids_are_unique_kebab_case():
    values = [v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)]
    assert len(values) == len(set(values))
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", v) for v in values)


def test_importing_app_builds_the_app_without_tensorflow(tmp_path):
    code = (
        "import sys, app; "
        "assert app.server is app.app.server; "
        "assert not {'tensorflow', 'keras'} & set(sys.modules), 'tensorflow imported'"
    )
    env = {"FRACDASH_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_edge_dots_move_from_source_to_target():
    css = (ROOT / "fracdash" / "web" / "assets" / "fracdash.css").read_text()
    frames = re.search(r"@keyframes fd-flow\s*\{(.*?)\}\s*\}", css, re.S).group(1)
    start, end = (float(v) for v in re.findall(r"stroke-dashoffset:\s*([\d.]+)", frames))
    edge = re.search(r"\.fd-edge\s*\{([^}]*)\}", css).group(1)
    assert re.search(r"animation:\s*fd-flow", edge)
    dash = re.search(r"stroke-dasharray:\s*([\d.]+)\s+([\d.]+)", edge)
    dot, gap = (float(v) for v in dash.groups())
    # A falling offset shifts the dash pattern towards the path's end (the target),
    # by exactly one period (a dot and its gap) per cycle, so the dots move without a jump.
    assert start > end and start - end == dot + gap


def test_the_url_has_one_writer_and_no_dead_focus_store(cb):
    """Only assets/url_state.js writes the address (history entries, Back/Forward); the
    page holds no dcc.Location and no class-focus store (the URL's focus is the pinned
    class; a legend hover is drawn by the page's scripts and written nowhere)."""
    from dash import dcc

    assets = ROOT / "fracdash" / "web" / "assets"
    writes = re.compile(
        r"history\s*\.\s*(pushState|replaceState|back|go)\b"
        r"|location\s*\.\s*(search|href)\s*=[^=]|location\s*\.\s*(assign|replace)\("
    )
    writers = {p.name for p in assets.glob("*.js") if writes.search(p.read_text())}
    assert writers == {"url_state.js"}, writers
    app = create_app(cb.store, default_run="toy")
    layout = list(walk(app.layout()))
    assert not [c for c in layout if isinstance(c, dcc.Location)]
    assert "focus" not in {getattr(c, "id", None) for c in layout}
    assert not hasattr(ids, "FOCUS") and not hasattr(ids, "URL")
    # The controls callback's inputs, in the order url_state.js reads them.
    inputs = [
        [i["id"] for i in cb_spec["inputs"]]
        for cb_spec in app._callback_list
        if cb_spec["output"].startswith(f"..{ids.DOWNLOAD_PNG}.href")
    ]
    controls = [ids.SCENARIO, ids.COLORING, ids.SIMPLIFY, ids.CURVE, ids.VERSUS, ids.PAIRING]
    assert inputs == [controls]
    order = re.search(r"var CONTROLS = \[([^\]]*)\]", (assets / "url_state.js").read_text())
    assert order.group(1) == '"run", "coloring", "simplify", "curve", "vs", "pair"'


def test_measure_selector_switches_the_quality_chart(cb):
    from dataclasses import replace

    # The toy run has no measures: the selector offers quality alone, the chart stays.
    options, value = cb.measure_choices("toy", "hubness")
    assert value == "quality" and [o["value"] for o in options if not o["disabled"]] == ["quality"]
    assert cb.render_charts("toy", [], None, "hubness")[1].layout.meta["readings"]
    measured = toy_analysis(seed=1)
    hubs = {g.name: 0.5 * i - 1.0 for i, g in enumerate(measured.layers)}
    measured.layers = [replace(g, knn_accuracy=0.75, hubness=hubs[g.name], trustworthiness=0.9)
                       for g in measured.layers]  # fmt: skip
    key = stage_key("analysis", {"test": "measured"})
    measured.meta["key"] = key
    cb.store.set_bytes(key, measured.to_bytes())
    register(cb.store, "measured", measured)
    options, value = cb.measure_choices("measured", "hubness")
    assert value is no_update and not any(o["disabled"] for o in options)  # kept
    _, chart = cb.render_charts("measured", [], None, "hubness")
    assert chart.layout.meta["measure"] == "hubness"
    plotted = {n: y for t in chart.data for n, y in zip(t.customdata, t.y, strict=True)}
    assert plotted == hubs
