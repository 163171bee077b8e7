"""The page's download links carry the view's selection and its coloring by correctness,
in Chromium, never skipped: after a brush on a run's glyph, and after a "classified
differently" click and the "right in A / B" labels of a comparison, the PNG and HTML
links say ``sel=`` (and ``labels=correctness``) as the address bar does, the data link
does not, and the server draws what they ask for."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from drawn import cell_point
from helpers import served_dashboard
from tiny_models import mlp, samples

from fracdash.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow]
N = 40
LINKS = (ids.DOWNLOAD_PNG, ids.DOWNLOAD_HTML, ids.DOWNLOAD_DATA)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The dashboard on runs "a" and "b" (two seeds of one network, the same samples)."""
    from fracdash.runs import analyze_run, load_run
    from fracdash.store import Store

    path = tmp_path_factory.mktemp("export-links") / "store"
    store = Store(path)
    x, y = samples(N)
    for name, seed in (("a", 1), ("b", 2)):
        analyze_run(store, mlp(seed), x, y, ["cat", "dog", "bird"], name=name, keep_labels=True)
    runs = {name: load_run(store, name) for name in ("a", "b")}
    store.close()
    with served_dashboard(path, path.parent / "server.log", default_run="a") as url:
        yield url, runs


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    return context, page


def links(page) -> list[dict]:
    return [dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.get_attribute(f"#{i}", "href"))
                                        .query)) for i in LINKS]  # fmt: skip


def address(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))


def wait_link(page, key: str, value: str) -> None:
    page.wait_for_function(
        "([id, k, v]) => { const a = document.getElementById(id); return !!a &&"
        " new URL(a.href).searchParams.get(k) === v; }",
        arg=[ids.DOWNLOAD_PNG, key, value], timeout=30_000,
    )  # fmt: skip


def fetch_png(url: str, page) -> bytes:
    href = page.get_attribute(f"#{ids.DOWNLOAD_PNG}", "href")
    with urllib.request.urlopen(url.rstrip("/") + href, timeout=60) as response:
        assert response.headers["Content-Type"] == "image/png"
        return response.read()


def test_the_download_links_carry_the_selection_and_the_correctness_coloring(browser, served):
    url, runs = served
    context, page = open_page(browser, url + "?run=a")
    page.wait_for_selector("img.fd-glyph[data-layer='dense1']", timeout=30_000)
    page.wait_for_function("() => !!window.fracdashSamples && !!document.querySelector("
                           "'canvas.fd-overlay[data-layer=dense1]')", timeout=30_000)  # fmt: skip
    assert all("sel" not in q for q in links(page))
    g = runs["a"].layer("dense1")
    x0, y0, x1, y1 = 0, 0, 3, 2
    page.keyboard.down("Shift")
    page.mouse.move(*cell_point(page, "dense1", x0, y0, g.width, g.height))
    page.mouse.down()
    page.mouse.move(*cell_point(page, "dense1", x1, y1, g.width, g.height), steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    brush = f"brush:dense1:{x0},{y0},{x1},{y1}"
    wait_link(page, "sel", brush)
    png, html, data = links(page)
    assert address(page)["sel"] == brush and html["sel"] == brush and "sel" not in data
    assert fetch_png(url, page)[:8] == b"\x89PNG\r\n\x1a\n"
    context.close()

    context, page = open_page(browser, url + "?run=a&vs=b")
    page.wait_for_selector("button.fd-diff-toggle:not([hidden])", timeout=30_000)
    differently = sum(int(p != q) for p, q in zip(runs["a"].predictions, runs["b"].predictions,
                                                   strict=True))  # fmt: skip
    assert 0 < differently < N
    page.click("button.fd-diff-toggle")
    page.wait_for_function("() => new URLSearchParams(location.search).get('sel') === 'diff'",
                           timeout=30_000)  # fmt: skip
    wait_link(page, "sel", "diff")
    page.click(".fd-labels[data-labels='correctness']")
    wait_link(page, "labels", "correctness")
    png, html, data = links(page)
    for q in (png, html):
        assert (q["vs"], q["sel"], q["labels"]) == ("b", "diff", "correctness"), q
    assert "sel" not in data and "labels" not in data and data["vs"] == "b"
    assert address(page)["labels"] == "correctness"
    assert fetch_png(url, page)[:8] == b"\x89PNG\r\n\x1a\n"
    # Unselecting takes the selection off the links again.
    page.click("button.fd-diff-toggle")
    page.wait_for_function(f"() => !new URL(document.getElementById('{ids.DOWNLOAD_PNG}').href)"
                           ".searchParams.has('sel')", timeout=30_000)  # fmt: skip
    assert page.errors == []
    context.close()
