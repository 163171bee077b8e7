"""The graph fills its box: every scenario's whole graph, in Chromium.

The five scenarios' runs are stored with their networks' real layer graphs (the Keras
builders of fracdash.models.training, untrained) and synthetic orders of 10,000
samples (100x100 glyphs, as the real runs): training would take minutes and the
layout depends only on the graph and the glyphs' size. At 1600x1000 and 1280x720: the
glyphs' bounding box spans at least 85% of the graph's box one way and 65% the other;
no page scroll; every glyph inside the box at the shown scale (px per sample, drawn
pixelated); names and qualities readable; no two glyphs on top of each other;
branches side by side; the legend in view while each glyph is hovered. Also: "crisp"
gives whole pixels per sample and "fit" goes back; a devicePixelRatio of 2 is used;
the graph refits when the window or the graph's box changes size. Never skipped:
without Chromium these tests fail, saying what is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import served_dashboard

from fracdash.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SAMPLES = 10_000
SCENARIOS = ("easy", "generalization", "problematic", "simplification", "realistic")
VIEWPORTS = [(1600, 1000), (1280, 720)]

# Everything the checks need about the page, in one round trip.
PAGE_STATE_JS = """() => {
  const rect = e => { const r = e.getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const canvas = document.querySelector('.fd-dag-canvas[data-laid-out]');
  const nodes = [...document.querySelectorAll('.fd-node')].map(node => {
    const img = node.querySelector('img.fd-glyph');
    const label = e => ({rect: rect(e), font: parseFloat(getComputedStyle(e).fontSize),
      visible: getComputedStyle(e).visibility === 'visible', cut: e.scrollWidth > e.clientWidth,
      text: e.innerText});
    return {layer: node.dataset.layer, column: node.dataset.column, glyph: rect(img),
      natural: [img.naturalWidth, img.naturalHeight],
      name: label(node.querySelector('.fd-node-name')),
      quality: label(node.querySelector('.fd-node-quality'))};
  });
  const s = document.scrollingElement;
  const box = document.querySelector('.fd-dag'), r = box.getBoundingClientRect();
  return {nodes, dag: rect(box),
    area: {x: r.x + box.clientLeft, y: r.y + box.clientTop, w: box.clientWidth,
      h: box.clientHeight},
    pxPerSample: +canvas.dataset.pxPerSample, crisp: canvas.dataset.crisp === 'true',
    scaleText: canvas.querySelector('.fd-scale').textContent,
    legend: rect(document.getElementById('legend')),
    scroll: [s.scrollWidth, s.scrollHeight], window: [innerWidth, innerHeight],
    scale: +canvas.dataset.scale, zoom: +canvas.dataset.zoom,
    edges: [...document.querySelectorAll('path.fd-edge')].map(e =>
      [e.dataset.source, e.dataset.target, getComputedStyle(e).animationName])};
}"""

# The legend is in the viewport and nothing covers it (the element at its first
# item's centre belongs to the legend).
LEGEND_IN_VIEW_JS = """id => {
  const legend = document.getElementById(id);
  const r = legend.getBoundingClientRect();
  const item = legend.querySelector('.fd-legend-item').getBoundingClientRect();
  const hit = document.elementFromPoint(item.x + item.width / 2, item.y + item.height / 2);
  return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth
    && r.height > 0 && legend.contains(hit);
}"""


def scenario_analysis(network, seed: int):
    """``network``'s shown layers (a fracdash Network) with random orders of SAMPLES."""
    from fracdash.analysis import Analysis, make_glyph

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, SAMPLES).astype(np.int64)
    layers = [
        make_glyph(n.name, n.kind, n.inputs, n.output_shape, rng.permutation(SAMPLES), labels)
        for n in network.nodes
    ]
    analysis = Analysis(layers, labels, labels.copy(), [f"class {c}" for c in range(10)])
    analysis.meta["note"] = "real layer graph, synthetic orders"
    return analysis


@pytest.fixture(scope="session")
def fit_store(tmp_path_factory, keras):
    """A store with the five scenarios' runs: real graphs, synthetic 10,000-sample orders."""
    from fracdash.models.network import network_graph
    from fracdash.models.training import BUILDERS
    from fracdash.runs import register, run_name
    from fracdash.scenarios import SCENARIOS as TABLE
    from fracdash.store import Store, stage_key

    networks = {name: network_graph(build()) for name, build in BUILDERS.items()}
    folder = tmp_path_factory.mktemp("fit-store")
    store = Store(folder)
    layers, edges = {}, {}
    try:
        for seed, scenario in enumerate(SCENARIOS):
            analysis = scenario_analysis(networks[TABLE[scenario].network], seed)
            key = stage_key("analysis", {"test": "fill", "scenario": scenario})
            analysis.meta["key"] = key
            store.set_bytes(key, analysis.to_bytes())
            register(store, run_name(scenario, None), analysis)
            layers[scenario] = analysis.layer_names
            edges[scenario] = set(analysis.edges)
    finally:
        store.close()
    assert len(layers["realistic"]) == 19 and len(layers["simplification"]) == 26
    return folder, layers, edges


@pytest.fixture(scope="session")
def fit_url(fit_store):
    """The dashboard on ``fit_store``, served from a subprocess (log in test-artifacts)."""
    with served_dashboard(fit_store[0], ARTIFACTS / "server-fit.log") as url:
        yield url


def open_page(browser, url, size, dpr: float = 1):
    """A page at viewport ``size`` that records console errors in ``page.errors``."""
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, device_scale_factor=dpr
    )
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    # The first run's graph placed: Dash's renderer is ready for the dropdown to change.
    page.wait_for_selector(".fd-dag-canvas[data-laid-out]", timeout=60_000)
    return page


def show_run(page, run: str, layers: list[str]) -> None:
    """Choose ``run`` in the network dropdown and wait until its graph is placed."""
    page.evaluate(
        "([id, run]) => window.dash_clientside.set_props(id, {value: run})", [ids.SCENARIO, run]
    )
    page.wait_for_function(
        """names => { const c = document.querySelector('.fd-dag-canvas[data-laid-out]');
          if (!c) return false;
          const got = [...c.querySelectorAll('img.fd-glyph')];
          return JSON.stringify(got.map(e => e.dataset.layer)) === JSON.stringify(names)
            && got.every(e => e.complete && e.naturalWidth > 0)
            && JSON.parse(c.dataset.graph).nodes.map(n => n.name).join() === names.join()
            && c.querySelectorAll('path.fd-edge').length > 0
            && !isNaN(+c.dataset.zoom) && !isNaN(+c.dataset.scale); }""",
        arg=layers,
        timeout=30_000,
    )
    page.wait_for_timeout(100)  # a last resize of the box lands in the next frame
    # Dash may render the graph once more (the URL syncing the controls): wait until the
    # canvas on the page is the placed one again.
    page.wait_for_function(
        "() => { const all = document.querySelectorAll('.fd-dag-canvas');"
        " return all.length === 1 && all[0].hasAttribute('data-laid-out')"
        " && !isNaN(+all[0].dataset.zoom); }",
        timeout=30_000,
    )


def placed_state(page, layers, tries: int = 50) -> dict:
    """The page's state once its graph of ``layers`` is placed: Dash may replace the
    graph's canvas once more after it first appears, so read until a placed one holds."""
    for _ in range(tries):
        state = page.evaluate(
            "js => document.querySelector('.fd-dag-canvas[data-laid-out]') ? eval(js)() : null",
            PAGE_STATE_JS,
        )
        if state is not None and [n["layer"] for n in state["nodes"]] == layers:
            return state
        page.wait_for_timeout(100)
    raise AssertionError(f"the graph of {layers[:3]}... was never placed")


def inside(rect, box, slack=0.5) -> bool:
    """``rect`` lies within ``box`` (both {x, y, w, h})."""
    return (
        rect["x"] >= box["x"] - slack
        and rect["y"] >= box["y"] - slack
        and rect["x"] + rect["w"] <= box["x"] + box["w"] + slack
        and rect["y"] + rect["h"] <= box["y"] + box["h"] + slack
    )


def overlap(a, b) -> bool:
    return (
        a["x"] < b["x"] + b["w"] - 0.5
        and b["x"] < a["x"] + a["w"] - 0.5
        and a["y"] < b["y"] + b["h"] - 0.5
        and b["y"] < a["y"] + a["h"] - 0.5
    )


def coverage(state) -> tuple[float, float]:
    """How much of the graph's box the glyphs' bounding box spans, across and down."""
    glyphs = [n["glyph"] for n in state["nodes"]]
    left = min(g["x"] for g in glyphs)
    right = max(g["x"] + g["w"] for g in glyphs)
    top = min(g["y"] for g in glyphs)
    bottom = max(g["y"] + g["h"] for g in glyphs)
    area = state["area"]
    return (right - left) / area["w"], (bottom - top) / area["h"]


def check_fitted(state, layers, edges, dpr: float = 1) -> None:
    """The page of one run fills the window: no scroll, every glyph inside the graph's
    box at the shown scale, labels readable, nothing overlapping, every edge drawn. A
    graph too big for one screen pixel per sample (zoom < 1) is an overview, whose
    labels shrink with it."""
    width, height = state["window"]
    screen = {"x": 0, "y": 0, "w": width, "h": height}
    assert state["scroll"][0] <= width and state["scroll"][1] <= height, state["scroll"]
    assert [n["layer"] for n in state["nodes"]] == layers
    p = state["pxPerSample"]
    overview = state["zoom"] < 1
    assert (p < 1) if overview else (state["zoom"] == 1 and p >= 1), (state["zoom"], p)
    number, unit = state["scaleText"].split(" ", 1)
    assert unit == "px/sample" and abs(float(number) - p) <= 0.05, state["scaleText"]
    assert state["crisp"] == (abs(p * dpr - round(p * dpr)) < 1e-3)
    for node in state["nodes"]:
        glyph, (w, h) = node["glyph"], node["natural"]
        assert inside(glyph, screen) and inside(glyph, state["area"]), node
        # Drawn at the shown scale, on whole device pixels; exactly when crisp.
        slack = 1e-3 if state["crisp"] else 1 / dpr
        assert abs(glyph["w"] - w * p) <= slack and abs(glyph["h"] - h * p) <= slack, node
        assert abs(glyph["x"] * dpr - round(glyph["x"] * dpr)) < 1e-3, node
        for label in (node["name"], node["quality"]) if not overview else ():
            assert label["visible"] and label["font"] >= 10, label
            assert not label["cut"] and inside(label["rect"], screen), label
        assert node["name"]["text"] == node["layer"]
        assert node["name"]["rect"]["y"] + node["name"]["rect"]["h"] <= glyph["y"] + 0.5
        assert node["quality"]["rect"]["y"] >= glyph["y"] + glyph["h"] - 0.5
    glyphs = [n["glyph"] for n in state["nodes"]]
    for i, a in enumerate(glyphs):
        assert not any(overlap(a, b) for b in glyphs[i + 1 :]), state["nodes"][i]["layer"]
    assert {(s, t) for s, t, _ in state["edges"]} == edges
    assert {name for _, _, name in state["edges"]} == {"fd-flow"}


def check_fills(state, what: str) -> tuple[float, float]:
    """The glyphs' bounding box spans >= 85% of the graph's box one way, >= 65% the other."""
    across, down = coverage(state)
    fills = (across >= 0.85 and down >= 0.65) or (down >= 0.85 and across >= 0.65)
    assert fills, f"{what}: glyphs span {across:.0%} x {down:.0%} of the graph's box"
    return across, down


def check_reading_order(state) -> None:
    """A chain reads top to bottom, then on at the top of the next column to the right."""
    glyphs = [n["glyph"] for n in state["nodes"]]
    for prev, nxt in zip(glyphs, glyphs[1:], strict=False):
        below = abs(nxt["x"] - prev["x"]) < 1 and nxt["y"] > prev["y"] + prev["h"]
        next_column = nxt["x"] > prev["x"] + prev["w"] and nxt["y"] < prev["y"]
        assert below or next_column, (prev, nxt)


def check_branches_side_by_side(state) -> None:
    """DoubleLeNet5: a layer of one branch and the layer of the other branch on the same
    band of a column sit side by side, the ``b_`` branch on one side throughout."""
    glyph = {n["layer"]: (n["glyph"], n["column"]) for n in state["nodes"]}
    pairs = 0
    sides = set()
    for name, (a, column) in glyph.items():
        if not name.startswith("a_"):
            continue
        for other, (b, other_column) in glyph.items():
            if other.startswith("b_") and other_column == column and abs(a["y"] - b["y"]) < 1:
                pairs += 1
                assert a["x"] >= b["x"] + b["w"] or b["x"] >= a["x"] + a["w"], (name, other)
                sides.add(a["x"] > b["x"])
    assert pairs >= 6 and len(sides) == 1, (pairs, sides)


@pytest.mark.parametrize("size", VIEWPORTS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_scenario_fills_the_graph_area(browser, fit_url, fit_store, size):
    _, layers, edges = fit_store
    page = open_page(browser, fit_url, size)
    measured = {}
    try:
        for scenario in SCENARIOS:
            show_run(page, scenario, layers[scenario])
            state = placed_state(page, layers[scenario])
            check_fitted(state, layers[scenario], edges[scenario])
            across, down = check_fills(state, f"{scenario} at {size[0]}x{size[1]}")
            measured[scenario] = {"across": round(across, 3), "down": round(down, 3),
                                  "px_per_sample": state["pxPerSample"]}  # fmt: skip
            if scenario == "realistic":
                check_branches_side_by_side(state)
            elif scenario != "simplification":
                check_reading_order(state)  # LeNet5: a chain
            for layer in layers[scenario]:
                page.hover(f"img.fd-glyph[data-layer='{layer}']")
                assert page.evaluate(LEGEND_IN_VIEW_JS, ids.LEGEND), (scenario, layer)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"fit-{scenario}-{size[0]}x{size[1]}.png"))
        assert not page.errors, page.errors
    finally:
        page.context.close()
        ARTIFACTS.mkdir(exist_ok=True)
        out = ARTIFACTS / f"fill-{size[0]}x{size[1]}.json"
        out.write_text(json.dumps(measured, indent=1))


def test_crisp_gives_whole_pixels_per_sample_and_fit_goes_back(browser, fit_url, fit_store):
    _, layers, edges = fit_store
    page = open_page(browser, fit_url, VIEWPORTS[0])
    try:
        show_run(page, "realistic", layers["realistic"])
        fitted = placed_state(page, layers["realistic"])
        check_fitted(fitted, layers["realistic"], edges["realistic"])
        page.click(".fd-crisp")
        page.wait_for_function(
            "() => document.querySelector('.fd-dag-canvas').dataset.crisp === 'true'"
        )
        crisp = placed_state(page, layers["realistic"])
        p = crisp["pxPerSample"]
        assert p == int(fitted["pxPerSample"]) >= 1 and crisp["scaleText"] == f"{int(p)} px/sample"
        for node in crisp["nodes"]:  # every sample an equal square of p screen pixels
            assert node["glyph"]["w"] == node["natural"][0] * p, node
            assert node["glyph"]["h"] == node["natural"][1] * p, node
        page.click(".fd-fit")
        page.wait_for_function(
            "p => +document.querySelector('.fd-dag-canvas').dataset.pxPerSample === p",
            arg=fitted["pxPerSample"],
        )
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_the_fit_uses_the_device_pixel_ratio(browser, fit_url, fit_store):
    _, layers, edges = fit_store
    page = open_page(browser, fit_url, VIEWPORTS[1], dpr=2)
    try:
        for scenario in ("simplification", "easy"):
            show_run(page, scenario, layers[scenario])
            state = placed_state(page, layers[scenario])
            check_fitted(state, layers[scenario], edges[scenario], dpr=2)
            check_fills(state, f"{scenario} at 1280x720, devicePixelRatio 2")
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_the_graph_refits_when_the_window_or_its_box_changes(browser, fit_url, fit_store):
    _, layers, edges = fit_store
    page = open_page(browser, fit_url, VIEWPORTS[0])
    try:
        show_run(page, "simplification", layers["simplification"])
        big = placed_state(page, layers["simplification"])
        check_fitted(big, layers["simplification"], edges["simplification"])
        page.set_viewport_size({"width": 1280, "height": 720})
        page.wait_for_function("() => document.querySelector('.fd-dag').clientHeight < 700")
        page.wait_for_timeout(300)
        small = placed_state(page, layers["simplification"])
        check_fitted(small, layers["simplification"], edges["simplification"])
        assert small["pxPerSample"] < big["pxPerSample"]
        # Opening the charts narrows the graph's box: the graph refits beside them, and
        # the charts show the confusion matrix's accuracy.
        dag_width = small["dag"]["w"]
        page.click(".fd-charts-toggle")
        page.wait_for_function(
            "w => document.querySelector('.fd-dag').getBoundingClientRect().width < w - 100",
            arg=dag_width,
        )
        page.wait_for_selector(f"#{ids.CONFUSION} .main-svg")
        page.wait_for_timeout(300)
        opened = placed_state(page, layers["simplification"])
        check_fitted(opened, layers["simplification"], edges["simplification"])
        check_fills(opened, "simplification beside the charts")
        assert "accuracy" in page.inner_text(f"#{ids.CONFUSION}")
        assert page.evaluate(LEGEND_IN_VIEW_JS, ids.LEGEND)
        assert not page.errors, page.errors
    finally:
        page.context.close()
