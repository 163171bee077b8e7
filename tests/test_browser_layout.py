"""The page from 600 px wide, the charts and the coloring key, in Chromium (issue 14).

On a stored 20-class run with two branches (hand-made, no TensorFlow): at 600x800 the
page never scrolls sideways, charts opened and per-class lines shown included; the
confusion matrix's 20 class names stay readable (no two labels overlap); the quality
chart has its titles, per-class lines and flags; the coloring key follows the coloring
switch. Never skipped: without Chromium these tests fail, saying what is missing.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from helpers import served_dashboard

from fracdash.analysis import Analysis, make_glyph
from fracdash.confusion_figure import confusion_min_height
from fracdash.runs import register
from fracdash.store import Store, stage_key
from fracdash.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
N, K = 600, 20
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
         "Sneaker", "Bag", "Ankle boot"] + [f"class {k}" for k in range(10, K)]  # fmt: skip
# input -> rotate -> b_dense, input -> a_dense, both -> concat -> prediction.
LAYERS = [("input", ()), ("rotate", ("input",)), ("a_dense", ("input",)),
          ("b_dense", ("rotate",)), ("concat", ("a_dense", "b_dense")),
          ("prediction", ("concat",))]  # fmt: skip


def twenty_classes() -> Analysis:
    """Orders that sort the classes better and better, then a worse last layer."""
    rng = np.random.default_rng(14)
    labels = rng.integers(0, K, N).astype(np.int64)
    noise = {"input": 30.0, "rotate": 30.0, "a_dense": 6.0, "b_dense": 4.0,
             "concat": 0.5, "prediction": 3.0}  # fmt: skip
    layers = []
    for name, inputs in LAYERS:
        order = np.argsort(labels + noise[name] * rng.standard_normal(N), kind="stable")
        layers.append(make_glyph(name, "Dense", inputs, (4,), order, labels))
    predictions = np.where(rng.random(N) < 0.85, labels, rng.integers(0, K, N))
    analysis = Analysis(layers, labels, predictions, NAMES)
    analysis.meta.update(note="twenty classes, hand-made", key=stage_key("analysis", {"k": K}))
    return analysis


@pytest.fixture(scope="module")
def layout_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layout")
    store = Store(folder)
    try:
        analysis = twenty_classes()
        store.set_bytes(analysis.meta["key"], analysis.to_bytes())
        register(store, "twenty", analysis)
    finally:
        store.close()
    with served_dashboard(folder, ARTIFACTS / "server-layout.log", default_run="twenty") as url:
        yield url


# true / false when every class line of the quality chart is shown / hidden, else null.
CLASS_LINES_SHOWN = """id => {
  const g = document.getElementById(id).querySelector(".js-plotly-plot");
  const lines = g && g.data ? g.data.filter(t => (t.meta || {}).kind === 'class') : [];
  if (!lines.length) return null;
  const shown = lines.map(t => t.visible === true);
  return shown.every(Boolean) ? true : shown.some(Boolean) ? null : false; }"""


@contextmanager
def opened(browser, url, width, height):
    """The page at ``width`` x ``height``, its run's legend shown; page errors and
    requests recorded; at the end no page error, and the context closed."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.errors = []
    page.requests = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    try:
        page.goto(url)
        page.wait_for_function(
            "n => document.querySelectorAll('#legend .fd-legend-item').length === n "
            "&& document.querySelector('.fd-dag-canvas')",
            arg=K,
            timeout=60_000,
        )
        page.wait_for_timeout(300)
        yield page
        assert not page.errors, page.errors
    finally:
        context.close()


def horizontal_overflow(page) -> list:
    """[scrollWidth, innerWidth] and the elements sticking out on the right."""
    return page.evaluate(
        """() => { const s = document.scrollingElement;
          const out = [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.right > innerWidth + 0.5
              && getComputedStyle(e).visibility !== 'hidden'
              && !e.closest('.fd-dag'); })  // the graph clips its own content
            .slice(0, 5).map(e => e.className || e.tagName);
          return [s.scrollWidth, innerWidth, out]; }"""
    )


def open_charts(page, per_class: bool = True):
    page.click(".fd-charts-toggle")
    page.wait_for_selector(f"#{ids.CONFUSION} .main-svg")
    page.wait_for_selector(f"#{ids.QUALITY_CHART} .main-svg")
    if per_class:
        page.click(f"#{ids.QUALITY_PER_CLASS} label")
        page.wait_for_function(f"id => ({CLASS_LINES_SHOWN})(id) === true", arg=ids.QUALITY_CHART)
    page.wait_for_timeout(400)  # the side panel's resize reaches the figures


def tick_boxes(page, chart_id, axis):
    return page.evaluate(
        """([id, axis]) => [...document.querySelectorAll(`#${id} .${axis}tick text`)]
          .map(e => { const r = e.getBoundingClientRect();
            return {text: e.textContent, x: r.x, y: r.y, w: r.width, h: r.height}; })""",
        [chart_id, axis],
    )


def overlapping(boxes) -> list:
    return [
        (a["text"], b["text"])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a["x"] < b["x"] + b["w"] - 0.5
        and b["x"] < a["x"] + a["w"] - 0.5
        and a["y"] < b["y"] + b["h"] - 0.5
        and b["y"] < a["y"] + a["h"] - 0.5
    ]


def test_600_px_wide_never_scrolls_sideways(browser, layout_url):
    with opened(browser, layout_url, 600, 800) as page:
        width, inner, out = horizontal_overflow(page)
        assert width <= inner == 600, out
        open_charts(page)
        width, inner, out = horizontal_overflow(page)
        assert width <= inner, out
        for chart in (ids.CONFUSION, ids.QUALITY_CHART):
            box = page.eval_on_selector(f"#{chart}", "e => e.getBoundingClientRect().toJSON()")
            assert box["right"] <= inner + 0.5 and box["height"] >= 300, (chart, box)
        # The graph keeps a usable box above the side panel.
        dag = page.eval_on_selector(".fd-dag", "e => e.getBoundingClientRect().toJSON()")
        assert dag["width"] >= 500 and dag["height"] >= 400, dag
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "layout-600x800.png"), full_page=True)


def test_twenty_classes_stay_readable_and_the_charts_explain_themselves(browser, layout_url):
    with opened(browser, layout_url, 1280, 800) as page:
        open_charts(page)
        for axis in ("x", "y"):
            boxes = tick_boxes(page, ids.CONFUSION, axis)
            boxes.sort(key=lambda b: b[axis])  # left to right, top to bottom
            assert [b["text"] for b in boxes] == NAMES, axis  # every class, in order
            assert not overlapping(boxes), axis
            assert min(b["h"] for b in boxes) >= 9, axis  # a legible font
        # The graph's box is never below its figure's least height (20 rows of ~15 px),
        # so the hover finds the cell under the pointer (it finds none in a 0 px box).
        height = page.eval_on_selector(f"#{ids.CONFUSION}", "e => e.getBoundingClientRect().height")
        assert height >= confusion_min_height(K) == 140 + K * 15
        page.eval_on_selector(f"#{ids.CONFUSION}", "e => e.scrollIntoView({block: 'start'})")
        point = page.evaluate(
            """([id, t, p]) => { const g = document.getElementById(id).querySelector(
                 '.js-plotly-plot'), L = g._fullLayout;
               const r = g.querySelector('.nsewdrag').getBoundingClientRect();
               return [r.left + L.xaxis.l2p(p), r.top + L.yaxis.l2p(t)]; }""",
            [ids.CONFUSION, 1, 2],
        )
        page.mouse.move(point[0] - 4, point[1] - 4)
        page.mouse.move(*point)
        page.wait_for_function(
            """id => { const g = document.getElementById(id).querySelector('.js-plotly-plot');
                 return (g._hoverdata || []).length === 1; }""",
            arg=ids.CONFUSION,
        )
        hovered = page.evaluate(
            """id => document.getElementById(id).querySelector('.js-plotly-plot')._hoverdata
                 .map(p => [p.y, p.x, p.customdata])""",
            ids.CONFUSION,
        )
        analysis = twenty_classes()
        count = int(np.sum((analysis.labels == 1) & (analysis.predictions == 2)))
        assert hovered[0][:2] == [NAMES[1], NAMES[2]] and hovered[0][2][0] == count
        confusion = page.inner_text(f"#{ids.CONFUSION}")
        assert "true class" in confusion and "predicted class" in confusion
        assert "% of true class" in confusion  # the colorbar, row-normalised by default
        quality = page.inner_text(f"#{ids.QUALITY_CHART}")
        assert "quality per layer" in quality and "8 neighbouring pixels" in quality
        assert "depth" in quality
        traces = page.evaluate(
            "id => document.getElementById(id).querySelector('.js-plotly-plot').data"
            ".map(t => [(t.meta || {}).kind, t.name])",
            ids.QUALITY_CHART,
        )
        kinds = [k for k, _ in traces]
        assert kinds.count("class") >= K and "path" in kinds
        assert "onset" in kinds and "degraded" in kinds
        assert "onset" in quality and "degraded" in quality  # the notes on the chart
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "layout-charts-1280x800.png"), full_page=True)
        # The toggles act in the browser: no request. Unticking row-normalised shows the
        # raw counts (the colorbar says so); the class lines hide again.
        page.wait_for_timeout(300)
        before = len(page.requests)
        page.click(f"#{ids.CONFUSION_NORMALISE} label")
        page.wait_for_function(
            "id => !document.getElementById(id).innerText.includes('% of true class')",
            arg=ids.CONFUSION,
        )
        assert "samples" in page.inner_text(f"#{ids.CONFUSION}")
        z = page.evaluate(
            "id => document.getElementById(id).querySelector('.js-plotly-plot').data[0].z",
            ids.CONFUSION,
        )
        assert sum(map(sum, z)) == N  # raw counts
        page.click(f"#{ids.QUALITY_PER_CLASS} label")
        page.wait_for_function(f"id => ({CLASS_LINES_SHOWN})(id) === false", arg=ids.QUALITY_CHART)
        assert page.requests[before:] == []
        # A new figure from the server (the simplified network) keeps the toggles' state.
        page.click(f"#{ids.QUALITY_PER_CLASS} label")
        page.wait_for_function(f"id => ({CLASS_LINES_SHOWN})(id) === true", arg=ids.QUALITY_CHART)
        with page.expect_response(
            lambda r: (
                "_dash-update-component" in r.url
                and "quality-chart.figure" in (r.request.post_data or "")
            )
        ):
            page.click(f"#{ids.SIMPLIFY} label")
        page.wait_for_timeout(500)  # the answer drawn, the toggles applied to it
        assert page.evaluate(CLASS_LINES_SHOWN, ids.QUALITY_CHART) is True
        assert "samples" in page.inner_text(f"#{ids.CONFUSION}")


def test_the_key_follows_the_coloring_and_items_take_the_keyboard(browser, layout_url):
    with opened(browser, layout_url, 1280, 800) as page:
        shown = "sel => [...document.querySelectorAll(sel)].map(e => e.offsetParent !== null)"
        assert page.evaluate(shown, ".fd-key-absolute") == [True]
        assert page.evaluate(shown, ".fd-key-relative") == [False]
        assert "empty cell" in page.inner_text(".fd-key-absolute")
        page.click(f"#{ids.COLORING} input[value='relative']")
        page.wait_for_function(f"() => ({shown})('.fd-key-relative')[0]")
        assert page.evaluate(shown, ".fd-key-absolute") == [False]
        assert "both curve neighbours" in page.inner_text(".fd-key-relative")
        items = page.eval_on_selector_all(
            ".fd-legend-item", "els => els.map(e => [e.tabIndex, e.getAttribute('role')])"
        )
        assert items == [[0, "button"]] * K
        page.focus(".fd-legend-item[data-class='3']")
        assert page.evaluate("() => document.activeElement.dataset.class") == "3"
        assert page.locator("#legend .fd-legend-labels").count() == 1
