"""The page's smaller things, in Chromium: the tab's title, the toolbar on one line, the
charts whole at 1280x720, a click on the quality chart, run names on hover.

On a stored 10-class run with LeNet5's layers (hand-made, no TensorFlow; its quality
rises at dense1 and falls after it, so both flags show) and a second run with a long
name. Never skipped: without Chromium these tests fail, saying what is missing.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from helpers import served_dashboard

from fracdash.analysis import Analysis, make_glyph
from fracdash.figures import READING_MEANS
from fracdash.readings import layer_depths, layer_readings
from fracdash.runs import register
from fracdash.store import Store, stage_key
from fracdash.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
N, K = 1000, 10
RUN = "ten"
LONG_RUN = "a-stored-run-whose-name-is-longer-than-the-closed-list-is-wide-" + "x" * 20
LENET5 = ["input", "conv2d0", "relu0", "conv2d1", "relu1", "flatten", "dense0", "relu2",
          "dense1", "prediction"]  # fmt: skip
# Noise on the labels' order per layer: lower is better sorted (dense1 the best).
NOISE = [30, 25, 20, 12, 10, 10, 3, 2, 0.8, 2.5]


def lenet_like(seed: int, n: int = N) -> Analysis:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, K, n).astype(np.int64)
    layers, previous = [], ()
    for name, noise in zip(LENET5, NOISE, strict=True):
        order = np.argsort(labels + noise * rng.standard_normal(n), kind="stable")
        layers.append(make_glyph(name, "Dense", previous, (4,), order, labels))
        previous = (name,)
    predictions = np.where(rng.random(n) < 0.9, labels, rng.integers(0, K, n))
    analysis = Analysis(layers, labels, predictions, [f"digit {k}" for k in range(K)])
    analysis.meta.update(note="hand-made, LeNet5's layers", key=stage_key("page", {"s": seed}))
    return analysis


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("page")
    store = Store(folder)
    try:
        for name, seed in ((RUN, 1), (LONG_RUN, 2)):
            analysis = lenet_like(seed)
            store.set_bytes(analysis.meta["key"], analysis.to_bytes())
            register(store, name, analysis)
    finally:
        store.close()
    with served_dashboard(folder, ARTIFACTS / "server-page.log", default_run=RUN) as url:
        yield url


@contextmanager
def opened(browser, url, width, height):
    """The page at ``width`` x ``height``, its graph placed; no page error at the end."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(url)
        page.wait_for_selector(".fd-dag-canvas[data-laid-out]", state="attached", timeout=60_000)
        page.wait_for_function("n => document.querySelectorAll('.fd-legend-item').length === n",
                               arg=K)  # fmt: skip
        yield page
        assert not errors, errors
    finally:
        context.close()


def open_charts(page):
    page.click(".fd-charts-toggle")
    for chart in (ids.CONFUSION, ids.QUALITY_CHART):
        page.wait_for_selector(f"#{chart} .main-svg")
    page.wait_for_timeout(500)  # the side panel's resize reaches the figures


def wait_for_title(page, title):
    page.wait_for_function("t => document.title === t", arg=title, timeout=10_000)


def choose_run(page, label):
    page.click(f"#{ids.SCENARIO}")
    page.locator(".dash-dropdown-option", has_text=re.compile(rf"^\s*{re.escape(label)}")).click()


def test_the_title_names_the_run_and_follows_the_view(browser, page_url):
    with opened(browser, page_url, 1280, 720) as page:
        wait_for_title(page, f"fracdash · {RUN} · absolute · compact")
        page.get_by_text("relative coloring").click()
        wait_for_title(page, f"fracdash · {RUN} · relative · compact")
        page.get_by_text("paper curve").click()
        wait_for_title(page, f"fracdash · {RUN} · relative · paper")
        page.get_by_text("simplified network").click()
        wait_for_title(page, f"fracdash · {RUN} · relative · paper · simplified")
        choose_run(page, LONG_RUN)
        wait_for_title(page, f"fracdash · {LONG_RUN} · relative · paper · simplified")
        page.go_back()  # the URL's view comes back, and with it the title
        wait_for_title(page, f"fracdash · {RUN} · relative · paper · simplified")
    with opened(browser, page_url + "?coloring=relative&curve=paper", 1280, 720) as page:
        wait_for_title(page, f"fracdash · {RUN} · relative · paper")  # a link's view


def toolbar(page) -> dict:
    return page.evaluate(
        """() => { const bar = document.querySelector('.fd-controls');
          const kids = [...bar.children].filter(e => e.getClientRects().length)
            .map(e => { const r = e.getBoundingClientRect();
              return {name: e.className || e.tagName, top: r.top, bottom: r.bottom,
                      mid: (r.top + r.bottom) / 2, h: r.height, left: r.left, right: r.right}; });
          const r = bar.getBoundingClientRect();
          return {height: r.height, right: r.right, kids: kids}; }"""
    )


def assert_one_line(bar):
    kids = bar["kids"]
    mids = [k["mid"] for k in kids]
    assert max(mids) - min(mids) <= 4, kids  # one row: every control on one middle line
    tallest = max(k["h"] for k in kids)
    assert bar["height"] <= tallest + 2, bar  # and the bar is that row's height
    assert all(k["right"] <= bar["right"] + 0.5 for k in kids), kids
    for a, b in zip(kids, kids[1:], strict=False):
        assert a["right"] <= b["left"], (a, b)  # nothing overlaps its neighbour


def test_the_toolbar_is_one_line_at_1600_and_names_runs_in_full(browser, page_url):
    with opened(browser, page_url + f"?run={LONG_RUN}", 1600, 1000) as page:
        assert_one_line(toolbar(page))
        # "labels" stands apart from its "true" button.
        gap = page.evaluate(
            """() => { const label = document.querySelector('.fd-samples .fd-control-label');
              const button = document.querySelector('.fd-samples .fd-labels');
              return button.getBoundingClientRect().left - label.getBoundingClientRect().right; }"""
        )
        assert gap >= 3
        # The closed list shows the long name cut short, and all of it on hover.
        page.wait_for_function(
            "n => document.getElementById('scenario').title.startsWith(n)", arg=LONG_RUN
        )
        title, cut = page.eval_on_selector(
            f"#{ids.SCENARIO}",
            "e => { const v = e.querySelector('.dash-dropdown-value-item');"
            " return [e.title, v.scrollWidth > v.clientWidth]; }",
        )
        assert title.startswith(LONG_RUN) and cut
        page.click(f"#{ids.SCENARIO}")
        options = page.eval_on_selector_all(
            ".dash-dropdown-option", "els => els.map(e => [e.title, e.textContent])"
        )
        assert len(options) > 2 and all(t == text and t for t, text in options)
        assert any(t.startswith(LONG_RUN) for t, _ in options)
        page.keyboard.press("Escape")
        # A selection's line shortens on the one line, its whole text on hover.
        page.click(".fd-wrong-toggle")
        page.wait_for_function("() => document.querySelector('.fd-selection-info').dataset.count")
        assert_one_line(toolbar(page))
        info = page.eval_on_selector(
            ".fd-selection-info", "e => [e.title, e.textContent, e.clientWidth]"
        )
        assert info[0] == info[1] and "selected" in info[1] and info[2] > 40
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "page-toolbar-1600x1000.png"))


# The chart's box and what clips it: every ancestor that does not let it overflow, and
# whether any scrolls.
CHART_BOXES = """id => { const e = document.getElementById(id), r = e.getBoundingClientRect();
  const clips = [];
  for (let a = e.parentElement; a; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.overflowY !== 'visible' || s.overflowX !== 'visible') {
      const b = a.getBoundingClientRect();
      clips.push({name: a.className || a.tagName, top: b.top, bottom: b.bottom, left: b.left,
                  right: b.right, scrolls: a.scrollHeight > a.clientHeight + 1}); } }
  const svg = e.querySelector('.main-svg').getBoundingClientRect();
  return {box: r.toJSON(), svg: {w: svg.width, h: svg.height}, clips: clips}; }"""


def assert_whole(page, chart, width, height):
    got = page.evaluate(CHART_BOXES, chart)
    box = got["box"]
    assert box["height"] >= 240, (chart, box)  # a chart, not a sliver
    assert box["top"] >= 0 and box["left"] >= 0, (chart, box)
    assert box["bottom"] <= height and box["right"] <= width, (chart, box)
    for clip in got["clips"]:
        assert not clip["scrolls"], (chart, clip)  # no scroll box
        assert clip["top"] <= box["top"] and box["bottom"] <= clip["bottom"] + 0.5, (chart, clip)
        assert clip["left"] <= box["left"] and box["right"] <= clip["right"] + 0.5, (chart, clip)
    # Plotly drew the figure at the box's size: nothing of it is cut either.
    assert abs(got["svg"]["w"] - box["width"]) <= 1 and abs(got["svg"]["h"] - box["height"]) <= 1


def test_both_charts_are_whole_beside_the_graph(browser, page_url):
    for width, height in ((1280, 720), (1600, 1000)):
        with opened(browser, page_url, width, height) as page:
            open_charts(page)
            page.click(f"#{ids.QUALITY_PER_CLASS} label")  # the class lines and their names
            page.wait_for_selector(f"#{ids.QUALITY_CHART} .legend2 .traces")
            page.wait_for_timeout(500)
            for chart in (ids.CONFUSION, ids.QUALITY_CHART):
                assert_whole(page, chart, width, height)
            # Beside the graph, which keeps most of the width; the legend in view.
            dag = page.eval_on_selector(".fd-dag", "e => e.getBoundingClientRect().toJSON()")
            side = page.eval_on_selector(".fd-side", "e => e.getBoundingClientRect().toJSON()")
            assert dag["right"] <= side["left"] and dag["width"] >= 0.45 * width
            legend = page.eval_on_selector("#legend", "e => e.getBoundingClientRect().toJSON()")
            assert legend["right"] <= side["left"] + 200 and legend["bottom"] <= height
            # Ten rows whose names do not overlap.
            ticks = page.eval_on_selector_all(
                f"#{ids.CONFUSION} .ytick text",
                "els => els.map(e => { const r = e.getBoundingClientRect();"
                " return [e.textContent, r.top, r.bottom]; })",
            )
            ticks.sort(key=lambda t: t[1])
            assert [t[0] for t in ticks] == [f"digit {k}" for k in range(K)]
            assert all(a[2] <= b[1] + 0.5 for a, b in zip(ticks, ticks[1:], strict=False))
            # The class lines carry their classes' names.
            names = page.eval_on_selector_all(
                f"#{ids.QUALITY_CHART} .legend2 .traces", "els => els.map(e => e.textContent)"
            )
            assert names == [f"digit {k}" for k in range(K)]
            # Onset and degraded are said where they are shown.
            key = page.inner_text(".fd-reading-key")
            assert READING_MEANS["onset"] in key and READING_MEANS["degraded"] in key
            flags = page.eval_on_selector_all(
                ".fd-node[data-reading] .fd-node-quality",
                "els => els.map(e => [e.closest('.fd-node').dataset.reading, e.title])",
            )
            assert {kind for kind, _ in flags} == {"onset", "degraded"}
            for kind, title in flags:
                assert title.endswith(READING_MEANS[kind])
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"page-charts-{width}x{height}.png"))


def point_on_chart(page, x, y):
    """The page's pixel of the quality chart's data point (x, y)."""
    return page.evaluate(
        """([id, x, y]) => { const g = document.getElementById(id)
             .querySelector('.js-plotly-plot'), L = g._fullLayout;
           const r = g.querySelector('.nsewdrag').getBoundingClientRect();
           return [r.left + L.xaxis.l2p(x), r.top + L.yaxis.l2p(y)]; }""",
        [ids.QUALITY_CHART, x, y],
    )


def test_a_click_on_a_layer_in_the_quality_chart_opens_its_glyph(browser, page_url):
    analysis = lenet_like(1)
    depth = layer_depths(analysis)
    readings = layer_readings(analysis)
    assert readings["onset"] == "dense1"  # the test run's own shape
    zoom_title = f"#{ids.GLYPH_ZOOM} [data-fact='layer']"
    with opened(browser, page_url, 1280, 720) as page:
        open_charts(page)
        zoom = page.locator(f"#{ids.GLYPH_ZOOM}")
        for layer in ("conv2d1", readings["onset"]):  # a plain point, then a flagged one
            x, y = point_on_chart(page, depth[layer], analysis.layer(layer).quality)
            page.mouse.move(x - 3, y - 3)
            page.mouse.move(x, y)
            page.mouse.click(x, y)
            zoom.wait_for(state="visible")
            assert page.inner_text(zoom_title) == layer
            quality = page.inner_text(f"#{ids.GLYPH_ZOOM} [data-fact='quality']")
            assert quality == f"{analysis.layer(layer).quality:.3f}"
            page.click(f"#{ids.GLYPH_ZOOM_CLOSE}")
            zoom.wait_for(state="hidden")
