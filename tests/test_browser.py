"""The dashboard in a real browser: Debian's Chromium driven by Playwright.

Never skipped: without Chromium these tests fail, saying what is missing. The server
runs in a subprocess on a free port, on a temporary store holding two small runs
(``easy-300`` and ``realistic-200``, trained for one epoch on a few samples).
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import pytest
from helpers import GLYPH_COLORS_JS, served_dashboard

from fracdash.analysis import DEFAULT_CURVE
from fracdash.core import grid_shape
from fracdash.glyphs import (
    ABSOLUTE_EMPTY,
    FOCUS_DIM,
    RELATIVE_COLORS,
    RELATIVE_EMPTY,
    class_color,
)
from fracdash.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SAMPLES = 300
LENET5 = ["input", "conv2d0", "relu0", "conv2d1", "relu1", "flatten", "dense0", "relu2",
          "dense1", "prediction"]  # fmt: skip


@pytest.fixture(scope="session")
def web_cache(tmp_path_factory):
    from fracdash.runs import precompute_scenario
    from fracdash.store import Store

    cache = tmp_path_factory.mktemp("web-cache")
    store = Store(cache)
    precompute_scenario(store, "easy", samples=SAMPLES, epochs=1, train_samples=2000)
    precompute_scenario(store, "realistic", samples=200, epochs=1, train_samples=1000)
    store.close()
    return cache


@pytest.fixture(scope="session")
def server(web_cache):
    """URL of the dashboard on ``web_cache``; missing scenarios compute quickly. Its
    log is kept in test-artifacts/server.log."""
    with served_dashboard(web_cache, ARTIFACTS / "server.log", samples=SAMPLES,
                          compute={"epochs": 1, "train_samples": 2000}) as url:  # fmt: skip
        yield url


@pytest.fixture
def page(browser, server):
    """A fresh page on the default view; fails the test on any browser console error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors, updates = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: updates.append(r.url) if "_dash-update" in r.url else None)
    page.goto(server)
    wait_for_layers(page, LENET5)
    page.wait_for_selector("path.fd-edge", state="attached")  # the SVG renders a bit later
    page.dash_updates = updates
    yield page
    context.close()
    if errors:
        log = (ARTIFACTS / "server.log").read_text(errors="replace")
        tail = log[log.find("Traceback") :][-3000:] if "Traceback" in log else ""
        pytest.fail(f"browser console errors: {errors}\nserver log: {tail}")


def glyph_layers(page) -> list[str]:
    return page.eval_on_selector_all("img.fd-glyph", "els => els.map(e => e.dataset.layer)")


def wait_for_layers(page, layers, timeout=30_000):
    """Wait until the glyphs are those of ``layers`` and the page has placed them
    (fracdash/web/assets/dag_view.js positions every node once it has fitted the graph)."""
    page.wait_for_function(
        "names => { const got = [...document.querySelectorAll('img.fd-glyph')];"
        " return JSON.stringify(got.map(e => e.dataset.layer)) === JSON.stringify(names)"
        " && got.every(e => e.style.width)"
        " && !!document.querySelector('.fd-dag-canvas[data-laid-out]'); }",
        arg=list(layers),
        timeout=timeout,
    )


def wait_for_colors(page, accept, timeout=10.0) -> dict[str, set[str]]:
    """Poll the glyphs' rendered colors ({layer: colors}) until ``accept`` takes them."""
    deadline = time.monotonic() + timeout
    while True:
        colors = {k: set(v) for k, v in (page.evaluate(GLYPH_COLORS_JS) or {}).items()}
        if colors and accept(colors):
            return colors
        if time.monotonic() > deadline:
            raise AssertionError(f"glyph colors never matched: {colors}")
        time.sleep(0.1)


def each(accept):
    """``accept`` applied to every glyph's colors."""
    return lambda colors: all(accept(c) for c in colors.values())


ABSOLUTE = {class_color(k) for k in range(10)} | {ABSOLUTE_EMPTY}
absolute_coloring = each(lambda c: c <= ABSOLUTE and len(c) > 3)


def choose_run(page, label: str) -> None:
    """Pick the scenario dropdown's option whose label starts with ``label``."""
    page.click(f"#{ids.SCENARIO}")
    pattern = re.compile(rf"^\s*{re.escape(label)}")
    page.locator(".dash-dropdown-option", has_text=pattern).click()


def boxes(page) -> dict[str, dict]:
    return page.eval_on_selector_all(
        "img.fd-glyph",
        "els => Object.fromEntries(els.map(e => { const r = e.getBoundingClientRect();"
        " return [e.dataset.layer, {x: r.x, y: r.y, w: r.width, h: r.height,"
        " column: +e.closest('.fd-node').dataset.column}]; }))",
    )


def test_page_loads_every_glyph_at_its_true_size(page):
    sizes = page.eval_on_selector_all(
        "img.fd-glyph",
        "els => els.map(e => [e.naturalWidth, e.naturalHeight, +e.dataset.width,"
        " +e.dataset.height])",
    )
    assert len(sizes) == len(LENET5)
    shape = grid_shape(SAMPLES, DEFAULT_CURVE)  # 300 samples -> 18x17 on the compact curve
    assert all((w, h) == (dw, dh) == shape for w, h, dw, dh in sizes)
    assert page.eval_on_selector("img.fd-glyph", "e => getComputedStyle(e).imageRendering") == (
        "pixelated"
    )
    assert page.locator(f"#{ids.LEGEND} .fd-legend-item").count() == 10
    assert "easy-300" in page.inner_text(f"#{ids.NOTE}")
    page.click(".fd-charts-toggle")  # the charts fold away under the legend
    page.wait_for_function(  # the title, once plotly has drawn it
        f"() => (document.querySelector('#{ids.CONFUSION} .gtitle') || {{}}).textContent"
        " ?.includes('accuracy')"
    )
    # Edges flow: every path is animated along its direction (opening the charts refits
    # the graph, which redraws its edges: read them once they are back).
    page.wait_for_function(
        "n => { const p = [...document.querySelectorAll('path.fd-edge')];"
        " return p.length === n"
        " && p.every(e => getComputedStyle(e).animationName === 'fd-flow'); }",
        arg=len(LENET5) - 1,
        timeout=10_000,
    )
    animations = page.eval_on_selector_all(
        "path.fd-edge", "els => els.map(e => getComputedStyle(e).animationName)"
    )
    assert animations == ["fd-flow"] * (len(LENET5) - 1)


def test_legend_hover_shows_only_that_class_and_leaving_restores(page):
    before = wait_for_colors(page, absolute_coloring)
    requests = len(page.dash_updates)
    for k in (3, 7):
        page.hover(f"#{ids.LEGEND} .fd-legend-item[data-class='{k}']")
        wait_for_colors(
            page, each(lambda c, k=k: c - {ABSOLUTE_EMPTY} == {class_color(k), FOCUS_DIM})
        )
    page.mouse.move(5, 5)
    wait_for_colors(page, lambda colors: colors == before)
    assert len(page.dash_updates) == requests, "hovering the legend called the server"


def test_relative_coloring_toggle(page):
    relative = set(RELATIVE_COLORS) | {RELATIVE_EMPTY}
    before = wait_for_colors(page, absolute_coloring)
    requests = len(page.dash_updates)
    page.get_by_text("relative coloring").click()
    wait_for_colors(page, each(lambda c: c <= relative and RELATIVE_EMPTY in c and len(c) >= 3))
    page.get_by_text("absolute coloring").click()
    wait_for_colors(page, lambda colors: colors == before)
    assert len(page.dash_updates) == requests, "recoloring called the server"


def edge_pairs(page) -> set[tuple[str, str]]:
    return {
        tuple(pair)
        for pair in page.eval_on_selector_all(
            "path.fd-edge", "els => els.map(e => [e.dataset.source, e.dataset.target])"
        )
    }


def test_simplify_removes_flatten_and_relinks(page):
    assert {("relu1", "flatten"), ("flatten", "dense0")} <= edge_pairs(page)
    page.get_by_text("simplified network").click()
    wait_for_layers(page, [n for n in LENET5 if n != "flatten"])
    page.wait_for_selector(
        "path.fd-edge[data-source='relu1'][data-target='dense0']", state="attached"
    )
    edges = edge_pairs(page)
    assert ("relu1", "dense0") in edges
    assert not any("flatten" in pair for pair in edges)
    assert page.locator(".fd-node[data-layer='flatten']").count() == 0


def test_switching_scenario_changes_the_network(page):
    chain = boxes(page)
    # LeNet5: one chain, folded to fit the window; it reads down a column, then on at
    # the top of the next column to the right.
    for prev, nxt in itertools.pairwise(chain[name] for name in LENET5):
        below = round(nxt["x"]) == round(prev["x"]) and nxt["y"] > prev["y"] + prev["h"]
        next_column = nxt["x"] > prev["x"] + prev["w"] and nxt["y"] < prev["y"]
        assert below or next_column, (prev, nxt)
    choose_run(page, "realistic-200 —")
    page.wait_for_selector("img.fd-glyph[data-layer='b_conv2d0']", timeout=30_000)
    wait_for_layers(page, page.evaluate(
        "() => JSON.parse(document.querySelector('.fd-dag-canvas').dataset.graph)"
        ".nodes.map(n => n.name)"))  # fmt: skip
    layout = boxes(page)
    a = [b for name, b in layout.items() if name.startswith("a_")]
    b = [b for name, b in layout.items() if name.startswith("b_")]
    assert len(a) == len(b) >= 7
    # Branches side by side: where the graph is folded into columns, a column holding
    # both branches has b on the left of a, never one over the other.
    columns = {x["column"] for x in a} & {x["column"] for x in b}
    assert columns
    for column in columns:
        a_in = [x for x in a if x["column"] == column]
        b_in = [x for x in b if x["column"] == column]
        a_left = min(x["x"] for x in a_in)
        b_right = max(x["x"] + x["w"] for x in b_in)
        assert b_right <= a_left, "branches overlap horizontally"
    a_top, a_bottom = min(x["y"] for x in a), max(x["y"] + x["h"] for x in a)
    b_top, b_bottom = min(x["y"] for x in b), max(x["y"] + x["h"] for x in b)
    assert min(a_bottom, b_bottom) - max(a_top, b_top) > 0.5 * (a_bottom - a_top)
    assert "realistic-200" in page.inner_text(f"#{ids.NOTE}")
    choose_run(page, "easy —")
    wait_for_layers(page, LENET5)


def test_clicking_a_layer_name_opens_the_zoom(page):
    zoom = page.locator(f"#{ids.GLYPH_ZOOM}")
    assert zoom.is_hidden()
    quality = page.inner_text(".fd-node[data-layer='conv2d1'] .fd-node-quality")
    page.click("img.fd-glyph[data-layer='conv2d1']")  # a click on the glyph pins a sample
    page.wait_for_timeout(300)
    assert zoom.is_hidden()
    page.click(".fd-node[data-layer='conv2d1'] .fd-node-name")
    zoom.wait_for(state="visible")
    facts = dict(
        page.eval_on_selector_all(
            f"#{ids.GLYPH_ZOOM} [data-fact]", "els => els.map(e => [e.dataset.fact, e.innerText])"
        )
    )
    assert facts["layer"] == "conv2d1" and facts["kind"] == "Conv2D"
    assert facts["output shape"] == "24×24×16"
    assert facts["quality"] == quality and re.fullmatch(r"\d\.\d{3}", quality)
    width, height, shown = page.eval_on_selector(
        f"#{ids.GLYPH_ZOOM} img",
        "e => [e.naturalWidth, e.naturalHeight, e.getBoundingClientRect().width]",
    )
    assert [width, height] == list(grid_shape(SAMPLES, DEFAULT_CURVE))
    assert shown == width * (512 // max(width, height))  # the largest factor within 512 px
    page.click(f"#{ids.GLYPH_ZOOM_CLOSE}")
    zoom.wait_for(state="hidden")


def test_a_missing_scenario_is_computed_with_live_progress(page):
    page.evaluate(
        """id => { window.__progress = [];
        new MutationObserver(() => window.__progress.push(document.getElementById(id).innerText))
          .observe(document.getElementById(id), {childList: true, subtree: true,
                                                 characterData: true}); }""",
        ids.PROGRESS,
    )
    choose_run(page, "problematic —")
    page.wait_for_function(
        "id => document.getElementById(id).innerText.startsWith('computed')",
        arg=ids.PROGRESS,
        timeout=120_000,
    )
    page.wait_for_function(
        "id => document.getElementById(id).innerText.startsWith('problematic-300')", arg=ids.NOTE
    )
    wait_for_layers(page, LENET5)
    seen = page.evaluate("() => window.__progress")
    assert any(text.startswith("computing problematic-300") for text in seen), seen
    assert any(re.search(r"\d+ of \d+|\d+%", text) for text in seen), seen  # a count


def test_screenshot_of_the_default_view(page):
    ARTIFACTS.mkdir(exist_ok=True)
    wait_for_colors(page, absolute_coloring)
    path = ARTIFACTS / "dashboard.png"
    page.screenshot(path=str(path), full_page=True)
    from PIL import Image

    with Image.open(path) as shot:
        assert shot.width == 1280 and shot.height >= 900  # the viewport, whole page
        colors = {"#" + bytes(c).hex() for _, c in shot.convert("RGB").getcolors(2**24)}
    # Every class color of the glyphs is in the picture (pixelated scaling keeps them).
    assert {class_color(k).lower() for k in range(10)} <= colors
