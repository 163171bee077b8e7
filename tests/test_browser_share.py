"""A link worth sharing (issue 13, parts 5-7), in Chromium, never skipped: the URL holds
the view; a copied URL reproduces it in a fresh browser; back/forward step through
views; the copy button copies it; the downloads follow the view; no chart links to
Plotly's cloud."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

import pytest
from helpers import served_dashboard, store_toy

from fracdash.core import grid_shape
from fracdash.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOY = ["input", "conv", "flatten", "dense", "prediction"]
GLYPHS = "() => [...document.querySelectorAll('img.fd-glyph')].map(e => e.dataset.layer)"


@pytest.fixture(scope="module")
def share_url(tmp_path_factory):
    store = tmp_path_factory.mktemp("share")
    store_toy(store, name="toy")
    store_toy(store, name="other", seed=3)
    with served_dashboard(store, store / "server.log", default_run="toy") as url:
        yield url


def open_view(browser, url, permissions=(), layers=TOY):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    if permissions:
        context.grant_permissions(list(permissions), origin=url.split("?")[0].rstrip("/"))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function(f"names => JSON.stringify(({GLYPHS})()) === JSON.stringify(names)",
                           arg=layers, timeout=30_000)  # fmt: skip
    page.errors = errors
    return context, page


def query(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))


def checked(page, control_id) -> list[str]:
    return page.eval_on_selector_all(f"#{control_id} input:checked", "els => els.map(e => e.value)")


def glyph_size(page, layer="dense") -> tuple[int, int]:
    size = "e => [e.naturalWidth, e.naturalHeight]"
    return tuple(page.eval_on_selector(f"img.fd-glyph[data-layer='{layer}']", size))


def test_the_url_holds_the_view_and_reproduces_it(browser, share_url):
    context, page = open_view(browser, share_url)
    page.wait_for_function("() => location.search.includes('run=toy')")
    assert query(page) == {"run": "toy"} and glyph_size(page) == grid_shape(40, "compact")
    page.get_by_text("relative coloring").click()
    page.get_by_text("paper curve").click()
    page.wait_for_function("() => location.search.includes('curve=paper')")
    assert query(page) == {"run": "toy", "coloring": "relative", "curve": "paper"}
    page.wait_for_function("() => document.querySelector('img.fd-glyph').naturalWidth === 8")
    shared = page.url
    # A colleague opens the link in a fresh browser context: the same view.
    other, fresh = open_view(browser, shared)
    assert checked(fresh, ids.COLORING) == ["relative"] and checked(fresh, ids.CURVE) == ["paper"]
    fresh.wait_for_function("() => document.querySelector('img.fd-glyph').naturalWidth === 8")
    assert glyph_size(fresh) == grid_shape(40, "paper") == (8, 8)  # the paper's square
    assert query(fresh) == query(page)
    other.close()
    # Back steps through the view changes.
    page.go_back()
    page.wait_for_function("() => !location.search.includes('curve=paper')")
    page.wait_for_function(f"() => document.querySelector('#{ids.CURVE} input:checked')"
                           ".value === 'compact'")  # fmt: skip
    page.go_forward()
    page.wait_for_function(f"() => document.querySelector('#{ids.CURVE} input:checked')"
                           ".value === 'paper'")  # fmt: skip
    assert not page.errors, page.errors
    context.close()


def test_a_link_to_another_run_opens_that_run(browser, share_url):
    simple = [name for name in TOY if name != "flatten"]
    context, page = open_view(browser, share_url + "?run=other&simplify=1", layers=simple)
    page.wait_for_function(f"() => document.querySelector('#{ids.NOTE}').innerText"
                           ".startsWith('other')")  # fmt: skip
    assert checked(page, ids.SIMPLIFY) == ["on"]
    context.close()


def test_copy_link_and_downloads_follow_the_view(browser, share_url):
    context, page = open_view(browser, share_url, ["clipboard-read", "clipboard-write"])
    page.get_by_text("relative coloring").click()
    page.wait_for_function("() => location.search.includes('coloring=relative')")
    page.click(f"#{ids.COPY_LINK}")
    page.wait_for_function("async () => (await navigator.clipboard.readText()) === location.href")
    png = page.get_attribute(f"#{ids.DOWNLOAD_PNG}", "href")
    html = page.get_attribute(f"#{ids.DOWNLOAD_HTML}", "href")
    assert png == "/export/toy.png?coloring=relative&curve=compact"
    assert html == "/export/toy.html?curve=compact"
    page.get_by_text("paper curve").click()  # the links follow the curve shown
    page.wait_for_function(f"() => document.querySelector('#{ids.DOWNLOAD_HTML}')"
                           ".getAttribute('href') === '/export/toy.html?curve=paper'")  # fmt: skip
    png = page.get_attribute(f"#{ids.DOWNLOAD_PNG}", "href")
    assert png == "/export/toy.png?coloring=relative&curve=paper"
    base = share_url.rstrip("/")
    with urllib.request.urlopen(base + png, timeout=30) as response:
        assert response.headers["Content-Type"] == "image/png"
        assert response.read()[:8] == b"\x89PNG\r\n\x1a\n"
    context.close()


def test_no_chart_offers_plotly_cloud(browser, share_url):
    context, page = open_view(browser, share_url)
    page.click("summary")  # the folded charts
    page.wait_for_selector(".js-plotly-plot .modebar", state="attached", timeout=30_000)
    titles = page.eval_on_selector_all(".modebar-btn", "els => els.map(e => e.dataset.title)")
    assert titles and not [t for t in titles if re.search("cloud|chart studio|share", t, re.I)]
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    assert not [h for h in links if "plot.ly" in h or "plotly.com" in h], links
    context.close()


def test_zoom_and_pan_travel_with_the_link(browser, share_url):
    context, page = open_view(browser, share_url)
    page.wait_for_function("() => location.search.includes('run=toy')")
    box = page.eval_on_selector("img.fd-glyph[data-layer='dense']",
                                "e => { const r = e.getBoundingClientRect();"
                                " return [r.x + r.width / 2, r.y + r.height / 2]; }")  # fmt: skip
    page.mouse.move(*box)
    page.mouse.wheel(0, -200)  # zoom in at the glyph
    page.wait_for_function("() => new URLSearchParams(location.search).get('zoom') !== null")
    zoom = page.eval_on_selector(".fd-dag-canvas", "e => e.dataset.zoom")
    shared = page.url
    assert float(query(page)["zoom"]) == pytest.approx(float(zoom), abs=1e-3)
    page.get_by_text("relative coloring").click()  # another setting keeps the zoom
    page.wait_for_function("() => location.search.includes('coloring=relative')")
    assert "zoom=" in page.url
    other, fresh = open_view(browser, shared)
    fresh.wait_for_function("z => document.querySelector('.fd-dag-canvas').dataset.zoom === z",
                            arg=zoom, timeout=10_000)  # fmt: skip
    other.close()
    context.close()
