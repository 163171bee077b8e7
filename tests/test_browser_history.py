"""History that steps back, in Chromium, never skipped: eight different changes of view
(labels, a pinned class, a brush, a pinned sample, coloring, a wheel zoom, the curve,
the simplified network) are eight history entries; Back eight times restores each
earlier URL and each earlier view exactly, Forward eight times each later one; no
control resets another's state (a pin keeps the predicted labels).

A view is read back from the page, not from the URL: the controls, the glyphs' images,
the pixels the browser draws over them, the marks, the legend, the graph's zoom and
place."""

from __future__ import annotations

import time
import urllib.parse

import pytest
from drawn import cell_point
from helpers import served_dashboard, store_toy

from fracdash.store import Store
from fracdash.web import ids
from fracdash.web.loading import analysis_by_key, run_key

pytestmark = [pytest.mark.browser, pytest.mark.slow]

READY = (
    "() => { const s = window.fracdashSampleView && window.fracdashSampleView.state();"
    " return !!(s && s.model) && document.querySelector('.fd-dag-canvas[data-laid-out]') !== null"
    " && new URLSearchParams(location.search).get('run') === 'toy'; }"
)

# Everything the page shows of the view, as plain data. Pixel data is hashed.
VIEW = f"""() => {{
  const hash = (text) => {{ let h = 0; for (let i = 0; i < text.length; i++)
    h = (h * 31 + text.charCodeAt(i)) >>> 0; return h; }};
  const pixels = (c) => {{ const d = c.getContext('2d').getImageData(0, 0, c.width, c.height)
    .data; let h = 0; for (let i = 0; i < d.length; i++) h = (h * 31 + d[i]) >>> 0; return h; }};
  const checked = (id) => [...document.querySelectorAll('#' + id + ' input:checked')]
    .map(e => e.value).join(',');
  const canvas = document.querySelector('.fd-dag-canvas');
  const s = window.fracdashSampleView.state();
  return {{
    controls: [checked('{ids.COLORING}'), checked('{ids.CURVE}'), checked('{ids.SIMPLIFY}')],
    graph: [canvas.dataset.run, canvas.dataset.curve, canvas.dataset.zoom,
            ...[...canvas.querySelectorAll('.fd-node')].map(n =>
              [n.dataset.layer, n.style.left, n.style.top, n.style.width].join(' '))],
    glyphs: [...document.querySelectorAll('img.fd-glyph')].map(e =>
      [e.dataset.layer, e.naturalWidth, e.naturalHeight, hash(e.src)].join(' ')),
    overlays: [...document.querySelectorAll('canvas.fd-overlay[data-layer]')].map(c =>
      c.dataset.layer + (c.hidden ? ' hidden' : ' ' + c.width + 'x' + c.height + ' '
                         + pixels(c))),
    pins: [...document.querySelectorAll('.fd-mark-pin')].map(m =>
      [m.closest('.fd-marks').dataset.layer, m.dataset.sample, m.dataset.x, m.dataset.y]
        .join(' ')),
    labels: [...document.querySelectorAll('.fd-labels')].map(b =>
      b.dataset.labels + ' ' + b.getAttribute('aria-pressed')),
    legend: [...document.querySelectorAll('.fd-legend-item')].map(e =>
      e.getAttribute('aria-pressed')),
    info: document.querySelector('.fd-selection-info').textContent,
    model: s.model ? [s.model.run, s.model.curve, s.labels, s.focus] : null,
  }};
}}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    path = tmp_path_factory.mktemp("history")
    store_toy(path, name="toy")
    store = Store(path)
    analysis = analysis_by_key(store, run_key(store, "toy"))
    store.close()
    with served_dashboard(path, path / "server.log", default_run="toy") as url:
        yield url, analysis


def view_of(page):
    return page.evaluate(VIEW)


def settled(page, timeout=30.0):
    """The view once three reads in a row agree (images load, Dash answers)."""
    deadline = time.monotonic() + timeout
    last, same = None, 0
    while same < 3:
        assert time.monotonic() < deadline, "the view never settled"
        page.wait_for_timeout(150)
        now = view_of(page)
        same = same + 1 if now == last else 0
        last = now
    return last


def wait_for_view(page, want, timeout=30.0):
    """Wait until the page shows ``want``; assert it exactly (the last read on failure)."""
    deadline = time.monotonic() + timeout
    now = view_of(page)
    while now != want and time.monotonic() < deadline:
        page.wait_for_timeout(150)
        now = view_of(page)
    assert now == want


def query(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))


def test_back_and_forward_restore_eight_views_exactly(browser, served):
    url, analysis = served
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function(READY, timeout=30_000)
    rest = page.eval_on_selector(".fd-title", "e => { const r = e.getBoundingClientRect();"
                                 " return [r.left + 2, r.top + 2]; }")  # fmt: skip
    conv, dense = analysis.layer("conv"), analysis.layer("dense")

    def brush():
        page.keyboard.down("Shift")
        page.mouse.move(*cell_point(page, "conv", 1, 0, conv.width, conv.height))
        page.mouse.down()
        page.mouse.move(*cell_point(page, "conv", 3, 2, conv.width, conv.height), steps=6)
        page.mouse.up()
        page.keyboard.up("Shift")

    pinned = int(dense.order[5])

    def pin():
        x, y = (int(v) for v in dense.positions[pinned])
        page.mouse.click(*cell_point(page, "dense", x, y, dense.width, dense.height))

    def zoom():  # one turn of the wheel, two notches: one entry
        page.mouse.move(*cell_point(page, "dense", 1, 1, dense.width, dense.height))
        page.mouse.wheel(0, -100)
        page.mouse.wheel(0, -100)

    steps = [
        ("labels", "predicted", lambda: page.click("[data-labels='predicted']")),
        ("focus", "1", lambda: page.click(".fd-legend-item[data-class='1']")),
        ("sel", "brush:conv:1,0,3,2", brush),
        ("pin", str(pinned), pin),
        ("coloring", "relative", lambda: page.get_by_text("relative coloring").click()),
        ("zoom", None, zoom),
        ("curve", "paper", lambda: page.get_by_text("paper curve").click()),
        ("simplify", "1", lambda: page.get_by_text("simplified network").click()),
    ]
    page.mouse.move(*rest)
    urls, views = [page.url], [settled(page)]
    entries = page.evaluate("() => history.length")
    for i, (key, value, act) in enumerate(steps, start=1):
        act()
        page.wait_for_function(f"() => new URLSearchParams(location.search).has('{key}')")
        page.mouse.move(*rest)  # no hover in the views compared
        views.append(settled(page))
        urls.append(page.url)
        assert value is None or query(page)[key] == value, (key, query(page))
        # One change of view, one entry; every earlier setting still there.
        assert page.evaluate("() => history.length") == entries + i, key
        assert set(query(page)) == set(urllib.parse.parse_qs(urls[-2].split("?", 1)[1])) | {
            key, *(("x", "y") if key == "zoom" else ())}, key  # fmt: skip
        assert views[-1] != views[-2], key
    assert query(page)["labels"] == "predicted"  # the pin (step 4) kept the labels
    assert float(query(page)["zoom"]) > 0 and len(set(urls)) == 9

    for i in range(7, -1, -1):
        page.go_back()
        page.wait_for_function("u => location.href === u", arg=urls[i])
        wait_for_view(page, views[i])
    for i in range(1, 9):
        page.go_forward()
        page.wait_for_function("u => location.href === u", arg=urls[i])
        wait_for_view(page, views[i])
    assert page.evaluate("() => history.length") == entries + 8
    assert errors == []
    context.close()


def test_a_link_with_predicted_labels_and_a_pin_keeps_both(browser, served):
    """The labels a link asks for survive pinning another sample, and unpinning."""
    url, analysis = served
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(url + "?run=toy&labels=predicted&pin=3")
    page.wait_for_function(READY, timeout=30_000)
    dense = analysis.layer("dense")
    sample = next(int(s) for s in dense.order if int(s) != 3)
    x, y = (int(v) for v in dense.positions[sample])
    page.mouse.click(*cell_point(page, "dense", x, y, dense.width, dense.height))
    page.wait_for_function(f"() => location.search.includes('pin=3%2C{sample}')")
    assert query(page)["labels"] == "predicted"
    labels = "e => e.getAttribute('aria-pressed')"
    assert page.eval_on_selector("[data-labels='predicted']", labels) == "true"
    page.go_back()
    page.wait_for_function("() => new URLSearchParams(location.search).get('pin') === '3'")
    page.wait_for_function("() => document.querySelectorAll('.fd-mark-pin').length"
                           " === document.querySelectorAll('.fd-marks').length")  # fmt: skip
    assert query(page)["labels"] == "predicted"
    context.close()
