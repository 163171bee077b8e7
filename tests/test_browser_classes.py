"""A run of 100 classes in Chromium, never skipped: the glyphs take the run's hue-family
palette, the legend comes in groups under a search box; typing a class name keeps the
classes that hold it, Enter pins the match, and then only that class keeps its color in
the glyphs. Every expectation is computed here from the stored analysis."""

from __future__ import annotations

import pytest
from helpers import GLYPH_COLORS_JS, many_class_analysis, served_dashboard, store_analysis

from fracdash.glyphs import ABSOLUTE_EMPTY, FOCUS_DIM

pytestmark = [pytest.mark.browser, pytest.mark.slow]
READY = (
    "() => { const s = window.fracdashSampleView && window.fracdashSampleView.state();"
    " return !!(s && s.model) && document.querySelectorAll('img.fd-glyph').length === 3"
    " && document.querySelector('.fd-dag-canvas[data-laid-out]') !== null"
    " && document.querySelectorAll('.fd-legend-item').length === 100; }"
)


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    path = tmp_path_factory.mktemp("classes")
    analysis = many_class_analysis()
    store_analysis(path, "many", analysis)
    with served_dashboard(path, path / "server.log", default_run="many") as url:
        yield url, analysis


def open_page(browser, url):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.wait_for_function(READY, timeout=30_000)
    return context, page


def overlay_pixels(page, layer):
    """RGB per cell of ``layer``'s glyph as the page draws it over the image."""
    data = page.eval_on_selector(
        f"img.fd-glyph[data-layer='{layer}']",
        "img => { const c = img.parentElement.querySelector('canvas.fd-overlay');"
        " if (!c || c.hidden || !c.width) return null;"
        " return [c.width, Array.from(c.getContext('2d').getImageData(0, 0, c.width,"
        " c.height).data)]; }",
    )
    return data


def rgb(color):
    return [int(color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]


def visible_classes(page):
    return page.eval_on_selector_all(
        ".fd-legend-item", "els => els.filter(e => e.offsetParent !== null)"
        ".map(e => e.querySelector('.fd-class-name').textContent)",
    )  # fmt: skip


def test_search_pins_one_class_and_only_it_keeps_its_color(browser, many):
    url, analysis = many
    palette = analysis.meta["class_palette"]
    context, page = open_page(browser, url)
    # The server's glyphs are painted in the run's palette: far more than 20 colors.
    shown = page.evaluate(GLYPH_COLORS_JS)
    colors = set().union(*shown.values()) - {ABSOLUTE_EMPTY}
    assert colors <= set(palette) and len(colors) > 60
    groups = analysis.meta["class_groups"]
    titles = page.eval_on_selector_all(
        ".fd-legend-group-name", "els => els.map(e => e.textContent)"
    )
    assert titles == groups["names"]

    box = page.locator(".fd-legend-search input")
    box.fill("TREE")  # any case; "streetcar" holds it too
    want = sorted(n for n in analysis.class_names if "tree" in n)
    kept = "n => document.querySelectorAll('.fd-legend-item:not([data-unmatched])').length === n"
    page.wait_for_function(kept, arg=len(want))
    assert sorted(visible_classes(page)) == want
    hidden_groups = page.eval_on_selector_all(
        ".fd-legend-group", "els => els.filter(e => e.offsetParent === null).length"
    )
    holding = {g for g, m in enumerate(groups["members"])
               if any(analysis.class_names[k] in want for k in m)}  # fmt: skip
    assert hidden_groups == len(groups["names"]) - len(holding)

    box.fill("oak")
    box.press("Enter")  # pins the class that starts with it
    k = analysis.class_names.index("oak_tree")
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('focus') === '{k}'")
    pressed = page.eval_on_selector_all(
        ".fd-legend-item[aria-pressed='true']", "els => els.map(e => +e.dataset.class)"
    )
    assert pressed == [k]
    page.mouse.move(5, 5)  # off the legend: the pinned class is what the glyphs show
    for layer in ("input", "dense", "prediction"):
        page.wait_for_function(
            "layer => { const i = document.querySelector(`img.fd-glyph[data-layer='${layer}']`);"
            " const c = i.parentElement.querySelector('canvas.fd-overlay');"
            " return c && !c.hidden && c.width > 0; }",
            arg=layer,
        )
        width, pixels = overlay_pixels(page, layer)
        g = analysis.layer(layer)
        assert width == g.width
        for s in range(analysis.n):
            x, y = (int(v) for v in g.positions[s])
            at = 4 * (y * g.width + x)
            want_color = palette[k] if analysis.labels[s] == k else FOCUS_DIM
            assert pixels[at : at + 3] == rgb(want_color), (layer, s)

    # Enter again keeps the pin; the other classes are still there to hover.
    box.press("Enter")
    page.wait_for_timeout(200)
    assert page.evaluate("() => new URLSearchParams(location.search).get('focus')") == str(k)
    box.fill("")
    page.wait_for_function(kept, arg=100)
    other = analysis.class_names.index("whale")
    page.hover(f".fd-legend-item[data-class='{other}']")
    page.wait_for_function(
        "want => { const i = document.querySelector(\"img.fd-glyph[data-layer='dense']\");"
        " const c = i.parentElement.querySelector('canvas.fd-overlay');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " for (let p = 0; p < d.length; p += 4)"
        "   if (d[p] === want[0] && d[p + 1] === want[1] && d[p + 2] === want[2]) return true;"
        " return false; }",
        arg=rgb(palette[other]),
    )
    assert page.errors == []
    context.close()
