"""The page is the window (issue 13): every scenario's whole graph, in Chromium.

At 1600x1000 and 1280x720, for the five scenarios (computed small once per session):
no page scroll, every shown layer's glyph inside the viewport at a whole number of
screen pixels per sample (1 or more), names and qualities readable, no two glyphs on
top of each other, branches side by side, and the legend in view while each glyph is
hovered. Also: the graph refits when the window or the graph's box changes size.
Never skipped: without Chromium these tests fail, saying what is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import served_dashboard

from fracdash.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SAMPLES = 300
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
  return {nodes, dag: rect(document.querySelector('.fd-dag')),
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


@pytest.fixture(scope="session")
def fit_store(tmp_path_factory):
    """One store with the five scenarios at 300 samples, trained on 500 for one epoch."""
    from fracdash.runs import load_run, precompute_scenario, run_name
    from fracdash.store import Store

    folder = tmp_path_factory.mktemp("fit-store")
    store = Store(folder)
    layers, edges = {}, {}
    try:
        for scenario in SCENARIOS:
            precompute_scenario(store, scenario, samples=SAMPLES, epochs=1, train_samples=500)
            analysis = load_run(store, run_name(scenario, SAMPLES))
            layers[scenario] = analysis.layer_names
            edges[scenario] = set(analysis.edges)
    finally:
        store.close()
    return folder, layers, edges


@pytest.fixture(scope="session")
def fit_url(fit_store):
    """The dashboard on ``fit_store``, served from a subprocess (log in test-artifacts)."""
    with served_dashboard(fit_store[0], ARTIFACTS / "server-fit.log", samples=SAMPLES) as url:
        yield url


def open_page(browser, url, size):
    """A page at viewport ``size`` that records console errors in ``page.errors``."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
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


def check_fitted(state, layers, edges) -> None:
    """The page of one run fits the window: the promises of issue 13, part 1."""
    width, height = state["window"]
    screen = {"x": 0, "y": 0, "w": width, "h": height}
    assert state["scroll"][0] <= width and state["scroll"][1] <= height, state["scroll"]
    assert [n["layer"] for n in state["nodes"]] == layers
    assert state["zoom"] == 1 and state["scale"] >= 1, "not every glyph at >= 1 px per sample"
    for node in state["nodes"]:
        glyph, (w, h) = node["glyph"], node["natural"]
        assert inside(glyph, screen) and inside(glyph, state["dag"]), node
        # A whole number of screen pixels per sample, the same across and down.
        assert glyph["w"] == w * state["scale"] and glyph["h"] == h * state["scale"], node
        for label in (node["name"], node["quality"]):
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
def test_every_scenario_fits_the_window(browser, fit_url, fit_store, size):
    _, layers, edges = fit_store
    page = open_page(browser, fit_url, size)
    try:
        for scenario in SCENARIOS:
            show_run(page, f"{scenario}-{SAMPLES}", layers[scenario])
            state = placed_state(page, layers[scenario])
            check_fitted(state, layers[scenario], edges[scenario])
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


def test_the_graph_refits_when_the_window_or_its_box_changes(browser, fit_url, fit_store):
    _, layers, edges = fit_store
    page = open_page(browser, fit_url, VIEWPORTS[0])
    try:
        show_run(page, f"simplification-{SAMPLES}", layers["simplification"])
        big = placed_state(page, layers["simplification"])
        check_fitted(big, layers["simplification"], edges["simplification"])
        page.set_viewport_size({"width": 1280, "height": 720})
        page.wait_for_function("() => document.querySelector('.fd-dag').clientHeight < 700")
        page.wait_for_timeout(300)
        small = placed_state(page, layers["simplification"])
        check_fitted(small, layers["simplification"], edges["simplification"])
        assert small["scale"] < big["scale"]
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
        assert "accuracy" in page.inner_text(f"#{ids.CONFUSION}")
        assert page.evaluate(LEGEND_IN_VIEW_JS, ids.LEGEND)
        assert not page.errors, page.errors
    finally:
        page.context.close()
