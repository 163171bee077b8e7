"""Following samples (issue 14), in Chromium, never skipped: hover names the sample the
stored order puts under the pointer and marks it in every glyph; a click pins it; a
shift-drag, a confusion cell and the misclassified toggle select exactly their samples;
the predicted switch recolors; the selection lives in the URL; and none of it asks the
server anything. Every expectation is computed here from the stored analysis."""

from __future__ import annotations

import urllib.parse

import numpy as np
import pytest
from drawn import cell_point
from helpers import served_dashboard, store_toy

from fracdash.glyphs import CLASS_COLORS
from fracdash.store import Store
from fracdash.web.loading import run_key
from fracdash.web.samples import thumbs_key

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOY = ["input", "conv", "flatten", "dense", "prediction"]
READY = (
    "() => { const s = window.fracdashSampleView && window.fracdashSampleView.state();"
    " return !!(s && s.model) && document.querySelectorAll('.fd-marks').length === 5"
    " && document.querySelector('.fd-dag-canvas[data-laid-out]') !== null; }"
)


@pytest.fixture(scope="module")
def toy_store(tmp_path_factory):
    """The toy run, with thumbnails stored as a user's image run has them."""
    path = tmp_path_factory.mktemp("samples")
    store_toy(path, name="toy")
    store = Store(path)
    key = run_key(store, "toy")
    thumbs = np.random.default_rng(1).integers(0, 16, (40, 8, 8)).astype(np.uint8) * 17
    store.set_array(thumbs_key(key), thumbs)
    analysis = __import__("fracdash.web.loading", fromlist=["x"]).analysis_by_key(store, key)
    store.close()
    return path, analysis, thumbs


@pytest.fixture(scope="module")
def url(toy_store):
    path = toy_store[0]
    with served_dashboard(path, path / "server.log", default_run="toy") as served:
        yield served


def open_page(browser, url, query=""):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url + query)
    page.wait_for_function(READY, timeout=30_000)
    # The pointer entering the graph asks for the thumbnails, once: that is the last
    # request; everything after it is counted.
    corner = "e => { const r = e.getBoundingClientRect(); return [r.left + 5, r.top + 5]; }"
    page.mouse.move(*page.eval_on_selector(".fd-dag", corner))
    page.wait_for_function(
        "() => { const s = window.fracdashSampleView.state();"
        " return !!s.sprite || !s.model.thumbs; }"
    )
    page.wait_for_timeout(100)
    page.requests = []
    # Every request counts, except the tab icon: Chromium asks for it again itself when
    # the address changes (a new history entry), which is no round trip of ours.
    page.on(
        "request",
        lambda r: "favicon" in r.url or page.requests.append(f"{r.method} {r.url}"),
    )
    return context, page


def marks(page, kind):
    return page.evaluate(
        "kind => Object.fromEntries([...document.querySelectorAll('.fd-marks')].map(h =>"
        " [h.dataset.layer, [...h.querySelectorAll('.fd-mark-' + kind)].map(m =>"
        " [+m.dataset.sample, +m.dataset.x, +m.dataset.y])]))",
        kind,
    )


def wait_for_count(page, count):
    page.wait_for_function(
        f"() => document.querySelector('.fd-selection-info').dataset.count === '{count}'"
    )


def pressed(page, selector):
    return page.eval_on_selector(selector, "e => e.getAttribute('aria-pressed')")


def url_param(page, key):
    """The address bar's ``key``, once written (the page writes it after the frame)."""
    page.wait_for_function(f"() => new URLSearchParams(location.search).has('{key}')")
    return page.evaluate(f"() => new URLSearchParams(location.search).get('{key}')")


def selected_count(page):
    return page.eval_on_selector(".fd-selection-info", "e => e.dataset.count")


def test_hover_names_the_sample_and_marks_it_everywhere(browser, url, toy_store):
    _, analysis, thumbs = toy_store
    context, page = open_page(browser, url)
    g = analysis.layer("dense")
    for rank in (0, 17, 39):
        sample = int(g.order[rank])
        x, y = (int(v) for v in g.positions[sample])
        page.mouse.move(*cell_point(page, "dense", x, y, g.width, g.height))
        page.wait_for_function(
            f"() => document.querySelector('.fd-tooltip')?.dataset.sample === '{sample}'"
        )
        tip = page.eval_on_selector(".fd-tooltip", "e => [e.dataset.rank, e.innerText, e.hidden]")
        assert tip[0] == str(rank) and not tip[2]
        truth = analysis.class_names[analysis.labels[sample]]
        pred = analysis.class_names[analysis.predictions[sample]]
        assert f"true: {truth}" in tip[1] and f"predicted: {pred}" in tip[1]
        assert ("✓" in tip[1]) == (truth == pred)
        shown = marks(page, "hover")
        for other in analysis.layers:
            ox, oy = (int(v) for v in other.positions[sample])
            assert shown[other.name] == [[sample, ox, oy]], other.name
        # The thumbnail is the sample's own image (top-left pixel of 8x8 scaled x7).
        pixel = page.eval_on_selector(
            ".fd-thumb", "c => Array.from(c.getContext('2d').getImageData(3, 3, 1, 1).data)"
        )
        assert pixel[:3] == [int(thumbs[sample, 0, 0])] * 3
    assert page.requests == [] and page.errors == []
    context.close()


def test_click_pins_and_brush_selects_exactly_the_rectangle(browser, url, toy_store):
    _, analysis, _ = toy_store
    context, page = open_page(browser, url)
    g = analysis.layer("conv")
    sample = int(g.order[5])
    x, y = (int(v) for v in g.positions[sample])
    page.mouse.click(*cell_point(page, "conv", x, y, g.width, g.height))
    pins = marks(page, "pin")
    for other in analysis.layers:
        assert pins[other.name] == [[sample, *(int(v) for v in other.positions[sample])]]
    assert url_param(page, "pin") == str(sample)

    x0, y0, x1, y1 = 1, 0, 3, 2
    page.keyboard.down("Shift")
    page.mouse.move(*cell_point(page, "conv", x0, y0, g.width, g.height))
    page.mouse.down()
    page.mouse.move(*cell_point(page, "conv", x1, y1, g.width, g.height), steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    inside = {
        s for s in range(analysis.n)
        if x0 <= g.positions[s][0] <= x1 and y0 <= g.positions[s][1] <= y1
    }  # fmt: skip
    assert selected_count(page) == str(len(inside))
    # Every glyph shows the group: selected samples in their color, the rest dimmed.
    other = analysis.layer("prediction")
    pixels = page.eval_on_selector(
        "canvas.fd-overlay[data-layer='prediction']",
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)",
    )
    for s in range(analysis.n):
        px, py = (int(v) for v in other.positions[s])
        rgb = pixels[4 * (py * other.width + px) : 4 * (py * other.width + px) + 3]
        color = CLASS_COLORS[analysis.labels[s]].lstrip("#")
        full = [int(color[i : i + 2], 16) for i in (0, 2, 4)]
        assert (rgb == full) == (s in inside), s
    assert url_param(page, "sel") == f"brush:conv:{x0},{y0},{x1},{y1}"
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('.fd-selection-info').dataset.count")
    assert page.requests == [] and page.errors == []
    context.close()


def test_confusion_cell_misclassified_and_predicted_labels(browser, url, toy_store):
    _, analysis, _ = toy_store
    context, page = open_page(browser, url)
    page.click(".fd-charts-toggle")
    page.wait_for_function(
        "() => { const g = document.querySelector('#confusion .js-plotly-plot');"
        " return g && g._fullLayout && g._fullLayout.xaxis && g.on; }",
        timeout=30_000,
    )
    page.wait_for_timeout(500)
    page.requests.clear()
    truth, pred = 1, 2
    point = page.evaluate(
        "([t, p]) => { const g = document.querySelector('#confusion .js-plotly-plot');"
        " const L = g._fullLayout, r = g.querySelector('.nsewdrag').getBoundingClientRect();"
        " return [r.left + L.xaxis.l2p(p), r.top + L.yaxis.l2p(t)]; }",
        [truth, pred],
    )
    page.mouse.click(*point)
    want = int(np.sum((analysis.labels == truth) & (analysis.predictions == pred)))
    assert want > 0
    wait_for_count(page, want)
    assert url_param(page, "sel") == "cell:1-2"

    page.click(".fd-wrong-toggle")
    wrong = int(np.sum(analysis.labels != analysis.predictions))
    wait_for_count(page, wrong)
    page.keyboard.press("Escape")

    page.click("[data-labels='predicted']")
    g = analysis.layer("dense")
    pixels = page.eval_on_selector(
        "canvas.fd-overlay[data-layer='dense']",
        "c => c.hidden ? null"
        " : Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)",
    )
    assert pixels is not None
    for s in range(analysis.n):
        px, py = (int(v) for v in g.positions[s])
        color = CLASS_COLORS[analysis.predictions[s]].lstrip("#")
        at = 4 * (py * g.width + px)
        assert pixels[at : at + 3] == [int(color[i : i + 2], 16) for i in (0, 2, 4)], s
    assert "predicted" in page.inner_text(".fd-legend-labels")
    assert page.requests == [] and page.errors == []
    context.close()


def test_a_link_opens_the_same_selection_pins_and_labels(browser, url, toy_store):
    _, analysis, _ = toy_store
    query = "?run=toy&labels=predicted&sel=wrong&pin=3%2C7&focus=1"
    context, page = open_page(browser, url, query)
    wrong = int(np.sum(analysis.labels != analysis.predictions))
    wait_for_count(page, wrong)
    pins = marks(page, "pin")
    assert sorted(p[0] for p in pins["dense"]) == [3, 7]
    assert pressed(page, "[data-labels='predicted']") == "true"
    assert pressed(page, ".fd-legend-item[data-class='1']") == "true"
    # A class pinned by keyboard: Enter on another legend item moves the pin and the URL.
    page.focus(".fd-legend-item[data-class='2']")
    page.keyboard.press("Enter")
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["focus"] == ["2"]
    assert page.requests == [] and page.errors == []
    context.close()


def test_the_quality_chart_follows_the_selection(browser, url, toy_store):
    """A "selection" line: the group's cohesion per layer (docs/method.md §6), at each
    layer's x on the chart, as fracdash.core.cohesion computes it on the stored grid."""
    from fracdash.core import cohesion

    _, analysis, _ = toy_store
    context, page = open_page(browser, url)
    page.click(".fd-wrong-toggle")
    page.click(".fd-charts-toggle")
    page.wait_for_function(
        "() => { const g = document.querySelector('#quality-chart .js-plotly-plot');"
        " return g && g.data && g.data.some(t => t.name === 'selection'); }",
        timeout=30_000,
    )
    trace, at = page.evaluate(
        "() => { const g = document.querySelector('#quality-chart .js-plotly-plot');"
        " const t = g.data.find(t => t.name === 'selection');"
        " return [{x: t.x, y: t.y}, g.layout.meta.x_of_layer]; }"
    )
    wrong = analysis.labels != analysis.predictions
    want = {at[g.name]: cohesion(g.positions, wrong) for g in analysis.layers}
    assert len(trace["x"]) == len(analysis.layers)
    for x, y in zip(trace["x"], trace["y"], strict=True):
        assert y == pytest.approx(want[x], abs=1e-12), x
    page.keyboard.press("Escape")  # no selection, no line
    page.wait_for_function(
        "() => !document.querySelector('#quality-chart .js-plotly-plot').data"
        ".some(t => t.name === 'selection')"
    )
    assert page.requests == [] and page.errors == []
    context.close()


def test_a_pinned_class_shows_in_the_zoomed_glyph_too(browser, url, toy_store):
    from fracdash.glyphs import FOCUS_DIM

    _, analysis, _ = toy_store
    context, page = open_page(browser, url)
    page.click(".fd-legend-item[data-class='1']")  # pin class 1
    page.click(".fd-node[data-layer='dense'] .fd-node-name")  # open the zoom
    page.wait_for_function(
        "() => { const c = document.querySelector('canvas.fd-zoom-overlay');"
        " return c && !c.hidden && c.width > 0; }"
    )
    pixels = page.eval_on_selector(
        "canvas.fd-zoom-overlay",
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)",
    )
    g = analysis.layer("dense")
    rgb = lambda c: [int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]  # noqa: E731
    for s in range(analysis.n):
        x, y = (int(v) for v in g.positions[s])
        at = 4 * (y * g.width + x)
        k = int(analysis.labels[s])
        want = rgb(CLASS_COLORS[1]) if k == 1 else rgb(FOCUS_DIM)
        assert pixels[at : at + 3] == want, s
    assert page.requests == [] or all("_dash-update-component" in r for r in page.requests)
    context.close()
