"""The exports in a real browser (Debian's Chromium through Playwright; never skipped).

The standalone HTML is opened from a file:// URL in an offline browser context with no
server running: its glyphs decode and are drawn where the PNG draws them (the same
fold, the same whole number of pixels per sample), hovering a legend item shows only
that class in every glyph, and the coloring switch turns them relative (colors read
back from a canvas, not from attributes). The PNG and the HTML are downloaded from a
running server's /export/<run>.png and .html, at either curve, and must equal
:func:`fracdash.export.export_png`'s and ``export_html``'s output.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from helpers import GLYPH_COLORS_JS, free_port, store_toy

from fracdash.export import export_html, export_png, png_layout
from fracdash.glyphs import (
    ABSOLUTE_EMPTY,
    FOCUS_DIM,
    RELATIVE_COLORS,
    RELATIVE_EMPTY,
    class_color,
)
from fracdash.runs import load_run
from fracdash.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# Which variant each glyph shows: {layer: "absolute" | "relative" | "focus-<k>"}.
GLYPH_VARIANTS_JS = """() => {
  const variants = JSON.parse(document.getElementById('fd-variants').textContent);
  const out = {};
  for (const img of document.querySelectorAll('img.fd-glyph')) {
    const v = variants[img.dataset.layer];
    const src = img.getAttribute('src');
    out[img.dataset.layer] = src === v.absolute ? 'absolute' : src === v.relative
      ? 'relative' : 'focus-' + v.focus.indexOf(src);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("browser-export") / "cache"
    store_toy(cache)
    return cache


@pytest.fixture(scope="module")
def analysis(cache):
    store = Store(cache)
    try:
        return load_run(store, "toy")
    finally:
        store.close()


@pytest.fixture(scope="module")
def server(cache):
    """URL of a dashboard on ``cache``, served by werkzeug from a thread."""
    from werkzeug.serving import make_server

    from fracdash.web import create_app

    app = create_app(cache_dir=cache, default_run="toy")
    httpd = make_server("127.0.0.1", free_port(), app.server, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    thread.join(timeout=10)


def glyph_colors(page, wanted, timeout_s: float = 10.0) -> dict:
    """Poll the rendered colors until ``wanted(colors)`` holds; return the last read."""
    colors = None
    for _ in range(int(timeout_s / 0.1)):
        colors = page.evaluate(GLYPH_COLORS_JS)
        if colors is not None and wanted(colors):
            return colors
        page.wait_for_timeout(100)
    return colors


def test_exported_html_works_from_a_file_offline(browser, analysis, tmp_path):
    path = tmp_path / "toy.html"
    path.write_text(export_html(analysis, "toy"), encoding="utf-8")
    context = browser.new_context(offline=True, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    errors, fetched = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: fetched.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-fd-ready=true]", timeout=10_000)

    images = page.eval_on_selector_all(
        "img.fd-glyph", "els => els.map(e => [e.dataset.layer, e.naturalWidth, e.naturalHeight])"
    )
    assert [name for name, _, _ in images] == analysis.layer_names
    for name, width, height in images:
        g = analysis.layer(name)
        assert (width, height) == (g.width, g.height), name  # decoded, one px per slot
    # Drawn as the PNG draws them: same sizes, same places (up to the header's offset).
    png = png_layout(analysis)
    shown = page.eval_on_selector_all(
        "img.fd-glyph", """els => Object.fromEntries(els.map(e => { const r =
          e.getBoundingClientRect(); return [e.dataset.layer, [r.x, r.y, r.width, r.height]]; }))"""
    )
    x0, y0 = shown[analysis.layer_names[0]][:2]
    px0, py0 = png.nodes[analysis.layer_names[0]].glyph[:2]
    for name, (x, y, w, h) in shown.items():
        gx, gy, gw, gh = png.nodes[name].glyph
        assert (round(x - x0), round(y - y0), w, h) == (gx - px0, gy - py0, gw, gh), name

    def showing(classes):
        """Every glyph shows exactly ``classes``' colors (and maybe empty pixels)."""
        want = {class_color(c) for c in classes}
        return lambda cs: all(set(v) - {ABSOLUTE_EMPTY, FOCUS_DIM} == want for v in cs.values())

    every = range(len(analysis.class_names))
    colors = glyph_colors(page, showing(every))
    assert showing(every)(colors), colors
    for c in every:  # hover each class: only it remains, in every glyph
        page.hover(f".fd-legend-item[data-class='{c}']")
        colors = glyph_colors(page, showing([c]))
        assert showing([c])(colors), (c, colors)
        shown = page.evaluate(GLYPH_VARIANTS_JS)
        assert shown == {name: f"focus-{c}" for name in analysis.layer_names}
    page.mouse.move(2, 2)  # leaving the legend shows every class again
    colors = glyph_colors(page, showing(every))
    assert showing(every)(colors), colors

    page.check("input[name=fd-coloring][value=relative]")
    relative = set(RELATIVE_COLORS) | {RELATIVE_EMPTY}

    def is_relative(cs):
        return all(set(v) <= relative and set(v) & set(RELATIVE_COLORS) for v in cs.values())

    colors = glyph_colors(page, is_relative)
    assert is_relative(colors), colors
    assert set().union(*map(set, colors.values())) >= set(RELATIVE_COLORS)
    assert page.evaluate(GLYPH_VARIANTS_JS) == dict.fromkeys(analysis.layer_names, "relative")
    page.hover(".fd-legend-item[data-class='0']")  # focus is for absolute coloring only
    assert page.evaluate(GLYPH_VARIANTS_JS) == dict.fromkeys(analysis.layer_names, "relative")
    page.check("input[name=fd-coloring][value=absolute]")  # the pointer left the legend
    assert page.evaluate(GLYPH_VARIANTS_JS) == dict.fromkeys(analysis.layer_names, "absolute")

    context.close()
    assert errors == []
    assert [u for u in fetched if not u.startswith(("file:", "data:"))] == []


def download(page, url: str):
    """Follow a link to ``url`` as a user would; returns the finished download."""
    with page.expect_download() as info:
        page.evaluate(
            """url => { const a = document.createElement('a'); a.href = url;
                        document.body.appendChild(a); a.click(); }""",
            url,
        )
    return info.value


def test_png_and_html_download_from_the_server(browser, server, analysis, tmp_path):
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(server + "healthz")
    assert json.loads(page.inner_text("body"))["status"] == "ok"

    png = download(page, server + "export/toy.png")
    assert png.suggested_filename == "toy.png"
    assert png.failure() is None
    assert Path(png.path()).read_bytes() == export_png(analysis, title="toy")

    relative = download(page, server + "export/toy.png?coloring=relative")
    assert Path(relative.path()).read_bytes() == export_png(analysis, "relative", title="toy")

    paper = analysis.on_curve("paper")
    on_paper = download(page, server + "export/toy.png?curve=paper&coloring=relative")
    assert Path(on_paper.path()).read_bytes() == export_png(paper, "relative", title="toy")
    html_paper = download(page, server + "export/toy.html?curve=paper")
    assert Path(html_paper.path()).read_text(encoding="utf-8") == export_html(paper, "toy")

    page_html = download(page, server + "export/toy.html")
    assert page_html.suggested_filename == "toy.html"
    text = Path(page_html.path()).read_text(encoding="utf-8")
    assert text == export_html(analysis, "toy")
    context.close()
