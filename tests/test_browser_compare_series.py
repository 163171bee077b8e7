"""The comparison view (continued), in Chromium, never skipped: a series of checkpoints
stepped through with the slider, the view kept; a comparison's link, written by the
page and shared, reproducing it in a fresh browser with its downloads following it.
Every expectation is recomputed here from the stored analyses (tests/compare_runs.py)."""

from __future__ import annotations

import urllib.parse

import pytest
from compare_runs import (
    CHECKPOINTS,
    EASY,
    FIRST,
    SERIES,
    correctness,
    differently,
    evidence,
    link,
    open_view,
    query,
    sample_colors,
    serve,
    side,
    stored_runs,
    wait,
    wait_count,
    wait_graphs,
    wait_query,
)  # fmt: skip

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return stored_runs(tmp_path_factory)


@pytest.fixture(scope="module")
def url(runs):
    with serve(runs[0]) as served:
        yield served


def test_the_slider_steps_through_a_series_keeping_the_view(browser, url, runs):
    """Checkpoint 1 of the series compared with checkpoint 2: the slider takes run B to
    step 3 and back to 2, the coloring and the selection kept (the diff recomputed)."""
    first = runs[1][FIRST]
    query_ = link(FIRST, CHECKPOINTS[1], coloring="relative", sel="diff")
    context, page = open_view(browser, url, query_)
    wait_graphs(page, first, runs[1][CHECKPOINTS[1]])
    wait_count(page, len(differently(first, runs[1][CHECKPOINTS[1]])), "diff with step 2")
    thumb = "#series-step [role=slider]"
    wait(page, f"() => document.querySelector('{thumb}')?.checkVisibility()",
         what="the series slider, shown")  # fmt: skip
    assert page.get_attribute(thumb, "aria-valuenow") == "2", evidence(page)
    for key, step in (("ArrowRight", 3), ("ArrowLeft", 2)):
        name = f"{SERIES}@{step}"
        page.wait_for_load_state("networkidle")  # the page settled, as a user finds it
        page.focus(thumb)
        page.keyboard.press(key)
        now = f"() => document.querySelector('{thumb}').getAttribute('aria-valuenow') === '{step}'"
        wait(page, now, what=f"the slider at step {step}")
        wait_graphs(page, first, runs[1][name])
        wait_query(page, "vs", name)
        view = query(page)
        assert view.get("coloring") == "relative" and view.get("sel") == "diff", view
        assert page.eval_on_selector("#coloring input:checked", "e => e.value") == "relative"
        wait_count(page, len(differently(first, runs[1][name])), f"diff with {name}")
        assert page.get_attribute("button.fd-diff-toggle", "aria-pressed") == "true"
        assert page.eval_on_selector(side("a"), "c => c.dataset.run") == FIRST
    shown = "e => !e.closest('[hidden]')"
    assert page.eval_on_selector("#series-heatmap", shown), evidence(page)
    assert page.errors == [], page.errors
    context.close()


#: Presses ArrowRight on the series slider in the first frame it is visible, as a quick
#: user may (before the fix it moved a thumb still at the slider's placeholder value).
PRESS_ON_SIGHT = """() => { window.fdPressed = null; (function look() {
  const t = document.querySelector('#series-step [role=slider]');
  if (t && t.checkVisibility()) {
    window.fdPressed = t.getAttribute('aria-valuenow');
    t.focus();
    t.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true,
                                                  cancelable: true}));
    return;
  }
  requestAnimationFrame(look); })(); }"""


def test_a_key_pressed_as_the_slider_appears_is_kept(browser, url, runs):
    """Comparing easy with checkpoint 2, run A becomes checkpoint 1: its series slider
    appears at step 2, and ArrowRight pressed in its first visible frame takes run B to
    step 3, and it stays there."""
    easy, second, third = runs[1][EASY], runs[1][CHECKPOINTS[1]], runs[1][CHECKPOINTS[2]]
    context, page = open_view(browser, url, link(EASY, CHECKPOINTS[1]))
    wait_graphs(page, easy, second)  # the comparison panel shown, no slider (easy: no series)
    page.evaluate(PRESS_ON_SIGHT)
    page.click("#scenario")
    page.locator(".dash-dropdown-option", has_text=FIRST).first.click()
    wait(page, "() => window.fdPressed !== null", what="the series slider, shown")
    assert page.evaluate("window.fdPressed") == "2", evidence(page)  # its first frame: step 2
    wait_graphs(page, runs[1][FIRST], third)
    wait_query(page, "vs", CHECKPOINTS[2])
    page.wait_for_load_state("networkidle")  # every answer in: none took the press back
    thumb = "#series-step [role=slider]"
    assert page.get_attribute(thumb, "aria-valuenow") == "3", evidence(page)
    assert query(page).get("vs") == CHECKPOINTS[2] and query(page).get("run") == FIRST
    # The slider moved by the user stays the one focused: the next key steps on.
    assert page.eval_on_selector(thumb, "t => document.activeElement === t"), evidence(page)
    page.keyboard.press("ArrowLeft")
    wait_graphs(page, runs[1][FIRST], second)
    wait_query(page, "vs", CHECKPOINTS[1])
    assert page.errors == [], page.errors
    context.close()


PAIRS = [("conv2d1", "conv2d0"), ("dense0", "dense0"), ("prediction", "prediction")]


def check_reproduced(page, easy, first, pairs, pairing: str) -> None:
    wait_graphs(page, easy, first)
    wait_count(page, len(differently(easy, first)), "classified differently, from the link")
    wait(page, "() => document.querySelector(\"button.fd-labels[data-labels='correctness']\")"
         "?.getAttribute('aria-pressed') === 'true'", what="labels: right in A / B")  # fmt: skip
    wait(page, "k => document.querySelectorAll('table.fd-pairs tr[data-a]').length === k",
         len(pairs), "the pair table as given")  # fmt: skip
    rows = page.eval_on_selector_all("table.fd-pairs tr[data-a]",
                                     "rs => rs.map(r => [r.dataset.a, r.dataset.b])")  # fmt: skip
    assert rows == [list(p) for p in pairs], rows
    assert page.input_value("#pairing") == pairing
    note = page.inner_text(".fd-compare-note[data-state=ok]")
    assert f"{len(pairs)} layer pairs as given" in note, note
    # Right in A / B: one color per (correctness, selected) class in both graphs.
    codes, diff = correctness(easy, first), set(differently(easy, first))
    for which, run in (("a", easy), ("b", first)):
        colors = sample_colors(page, which, run, "dense0")
        assert colors is not None, f"graph {which}: no overlay drawn{evidence(page)}"
        seen: dict = {}
        for s, rgb in enumerate(colors):
            seen.setdefault((codes[s], s in diff), set()).add(rgb)
        assert all(len(v) == 1 for v in seen.values()), (which, seen)
        assert len({next(iter(v)) for v in seen.values()}) == len(seen), (which, seen)


def test_a_shared_comparison_link_reproduces_it(browser, url, runs):
    easy, first = runs[1][EASY], runs[1][FIRST]
    pairing = ",".join(f"{a}:{b}" for a, b in PAIRS)
    shared = link(EASY, FIRST, pair=pairing, sel="diff", labels="correctness")
    context, page = open_view(browser, url, shared)  # a fresh context: nothing but the link
    check_reproduced(page, easy, first, PAIRS, pairing)
    view = query(page)
    assert {k: view.get(k) for k in ("run", "vs", "pair", "sel", "labels")} == {
        "run": EASY,
        "vs": FIRST,
        "pair": pairing,
        "sel": "diff",
        "labels": "correctness",
    }
    assert page.errors == [], page.errors
    context.close()


def test_the_view_writes_its_link_and_downloads(browser, url, runs):
    easy, first = runs[1][EASY], runs[1][FIRST]
    context, page = open_view(browser, url, link(EASY))
    wait(page, f"() => document.querySelector(\"{side('a')}\")?.dataset.run === '{EASY}'",
         what="run A's graph")  # fmt: skip
    page.click("#versus")
    page.locator(".dash-dropdown-option", has_text=FIRST).first.click()
    wait_graphs(page, easy, first)
    page.click("button.fd-diff-toggle")
    wait_count(page, len(differently(easy, first)), "classified differently")
    page.click("button.fd-labels[data-labels='correctness']")
    wait_query(page, "labels", "correctness")
    pairing = "dense0:dense0,dense1:dense1"
    page.fill("#pairing", pairing)
    page.press("#pairing", "Enter")
    wait_query(page, "pair", pairing)
    view = query(page)
    assert {k: view.get(k) for k in ("run", "vs", "pair", "sel", "labels")} == {
        "run": EASY,
        "vs": FIRST,
        "pair": pairing,
        "sel": "diff",
        "labels": "correctness",
    }
    assert list(view)[:3] == ["run", "vs", "pair"], list(view)  # the contract's key order
    for link_id, ext in (("download-png", "png"), ("download-html", "html"),
                         ("download-data", "csv")):  # fmt: skip
        href = page.get_attribute(f"#{link_id}", "href") or ""
        parts = urllib.parse.urlparse(href)
        assert parts.path.endswith(f"export/{EASY}.{ext}"), href
        got = dict(urllib.parse.parse_qsl(parts.query))
        assert got.get("vs") == FIRST and got.get("pair") == pairing, href
    other, fresh = open_view(browser, url, "?" + urllib.parse.urlparse(page.url).query)
    check_reproduced(fresh, easy, first, [tuple(p.split(":")) for p in pairing.split(",")],
                     pairing)  # fmt: skip
    assert query(fresh) == view
    assert page.errors == [] and fresh.errors == [], (page.errors, fresh.errors)
    other.close()
    context.close()
