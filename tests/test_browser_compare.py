"""Two runs side by side (the comparison view), in Chromium, never skipped: runs of other
samples refused with the reason; runs of one test set paired by name; both graphs on a
1600x1000 screen, a hovered sample marked in every glyph of both at the pixel its own
run's order gives it; "classified differently" and "changed most" selecting exactly
their samples in both graphs (the series and the shared link:
test_browser_compare_series.py). Every expectation is recomputed here from the stored
analyses (tests/compare_runs.py)."""

from __future__ import annotations

import base64
import math
import re
import time
import urllib.parse

import pytest
from compare_runs import (
    EASY,
    FIRST,
    GENERALIZATION,
    PROBLEMATIC,
    SCREEN,
    assert_selection,
    by_name,
    changed_most,
    correctness,
    differently,
    evidence,
    fetch_json,
    link,
    open_view,
    pixels,
    serve,
    side,
    stored_runs,
    wait,
    wait_count,
    wait_graphs,
    wait_query,
)  # fmt: skip

from fracdash.core import grid_shape

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return stored_runs(tmp_path_factory)


@pytest.fixture(scope="module")
def url(runs):
    with serve(runs[0]) as served:
        yield served


def test_runs_of_other_test_sets_are_refused_with_the_reason(browser, url, runs):
    easy = runs[1][EASY]
    context, page = open_view(browser, url, link(EASY, PROBLEMATIC))
    wait(page, "() => document.querySelector('.fd-compare-note[data-state=refused]')",
         what="the refusal note")  # fmt: skip
    wait(page, "() => document.querySelector('.fd-compare-note').innerText.trim() !== ''",
         what="the refusal's reason")  # fmt: skip
    note = page.inner_text(".fd-compare-note[data-state=refused]").strip()
    assert len(note.splitlines()) == 1, note
    for word in (EASY, PROBLEMATIC, "MNIST", "Fashion-MNIST"):
        assert word in note, (word, note)
    assert ";" in note, f"the note must say what to do: {note}"
    wait(page, "k => document.querySelectorAll(\".fd-dag-canvas:not([data-side='b'])"
         " img.fd-glyph\").length === k", len(easy.layers), "run A's graph")  # fmt: skip
    page.wait_for_timeout(1500)  # a late B graph would show by now
    b_glyphs = page.evaluate(
        "run => [...document.querySelectorAll('img.fd-glyph')].filter(g =>"
        " g.closest('#dag-b') || g.closest(\".fd-dag-canvas[data-side='b']\")"
        " || g.closest('.fd-dag-canvas').dataset.run !== run).length",
        EASY,
    )
    assert b_glyphs == 0, f"B glyphs on screen after a refusal{evidence(page)}"
    assert page.evaluate("() => !!document.querySelector('#dag-b')"), evidence(page)
    status, body = fetch_json(f"{url}compare/{EASY}/{PROBLEMATIC}.json")
    assert status == 409 and "Fashion-MNIST" in body["error"], (status, body)
    assert page.errors == [], page.errors
    context.close()


def test_runs_of_one_test_set_pair_their_layers_by_name(browser, url, runs):
    gen, prob = runs[1][GENERALIZATION], runs[1][PROBLEMATIC]
    context, page = open_view(browser, url, link(GENERALIZATION))
    wait(page, f"() => document.querySelector(\"{side('a')}\")?.dataset.run === '{GENERALIZATION}'",
         what="run A's graph")  # fmt: skip
    page.click("#versus")  # "compare with": pick the second run in the toolbar
    pattern = re.compile(rf"(^|[^\w-]){re.escape(PROBLEMATIC)}($|[^\w-])")
    page.locator(".dash-dropdown-option", has_text=pattern).first.click()
    wait_query(page, "vs", PROBLEMATIC)
    wait_graphs(page, gen, prob)
    wait(page, "() => document.querySelector('.fd-compare-note[data-state=ok]')",
         what="the accepted note")  # fmt: skip
    note = page.inner_text(".fd-compare-note").strip()
    pairs = by_name(gen, prob)
    assert f"{len(pairs)} layer pairs by name" in note, note
    assert GENERALIZATION in note and PROBLEMATIC in note, note
    wait(page, "k => document.querySelectorAll('table.fd-pairs tr[data-a]').length === k",
         len(pairs), "the pair table's rows")  # fmt: skip
    rows = page.eval_on_selector_all("table.fd-pairs tr[data-a]",
                                     "rs => rs.map(r => [r.dataset.a, r.dataset.b])")  # fmt: skip
    assert rows == [list(p) for p in pairs], rows
    assert page.errors == [], page.errors
    context.close()


GLYPH_BOXES = """s => [...document.querySelectorAll(
    `.fd-dag-canvas[data-side="${s}"] img.fd-glyph`)].map(e => {
  const r = e.getBoundingClientRect(), b = e.closest('.fd-dag').getBoundingClientRect();
  return [e.dataset.layer, r.left, r.top, r.right, r.bottom,
          r.left >= b.left - 1 && r.right <= b.right + 1 && r.top >= b.top - 1
          && r.bottom <= b.bottom + 1]; })"""
MARKS = """s => Object.fromEntries([...document.querySelectorAll(
    `.fd-dag-canvas[data-side="${s}"] .fd-marks[data-layer]`)].map(h => {
  const g = h.parentElement.querySelector('img.fd-glyph').getBoundingClientRect();
  return [h.dataset.layer, [...h.querySelectorAll('.fd-mark-hover')].map(m => {
    const r = m.getBoundingClientRect();
    return [+m.dataset.sample, +m.dataset.x, +m.dataset.y,
            (r.left + r.width / 2 - g.left) / g.width, (r.top + r.height / 2 - g.top) / g.height];
  })]; }))"""


def settled_boxes(page, which):
    last = None
    for _ in range(20):
        boxes = page.evaluate(GLYPH_BOXES, which)
        if boxes == last:
            return boxes
        last = boxes
        page.wait_for_timeout(250)
    return last


def cell_point(page, which, run, layer, x, y) -> tuple[float, float]:
    """The screen point at the centre of pixel (x, y) of ``layer``'s glyph on graph ``which``."""
    width, height = grid_shape(run.n, "compact")
    box = page.eval_on_selector(f"{side(which)} img.fd-glyph[data-layer='{layer}']",
                                "e => { const r = e.getBoundingClientRect();"
                                " return [r.left, r.top, r.width, r.height]; }")  # fmt: skip
    return box[0] + (x + 0.5) * box[2] / width, box[1] + (y + 0.5) * box[3] / height


def hover_marks_both(page, which, layer, sample, by_side) -> None:
    """Hover ``sample``'s pixel on graph ``which``'s ``layer``: every glyph of both graphs
    marks it once, at the pixel of its own run's order (data and drawn position)."""
    run = by_side[which]
    point = cell_point(page, which, run, layer, *pixels(run.layer(layer).order)[sample])
    js = ("s => ['a', 'b'].every(w => { const hs = document.querySelectorAll("
          "`.fd-dag-canvas[data-side=\"${w}\"] .fd-marks[data-layer]`); return hs.length > 0"
          " && [...hs].every(h => [...h.querySelectorAll('.fd-mark-hover')]"
          ".some(m => m.dataset.sample === String(s))); })")  # fmt: skip
    deadline = time.monotonic() + 20
    for k in range(1000):  # the samples' data may still be on its way: move until marked
        page.mouse.move(point[0] + (0.2 if k % 2 else -0.2), point[1])
        if page.evaluate(js, sample) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    wait(page, js, sample, f"sample {sample} hovered on graph {which} ({layer}) marked in"
         " every glyph of both graphs", timeout=2000)  # fmt: skip
    for w, analysis in by_side.items():
        marks = page.evaluate(MARKS, w)
        w_, h_ = grid_shape(analysis.n, "compact")
        assert sorted(marks) == sorted(analysis.layer_names), (w, sorted(marks))
        for name, found in marks.items():
            px, py = (int(v) for v in pixels(analysis.layer(name).order)[sample])
            assert [m[:3] for m in found] == [[sample, px, py]], (w, name, found, (px, py))
            fx, fy = found[0][3:]
            assert (math.floor(fx * w_), math.floor(fy * h_)) == (px, py), (w, name, fx, fy)


def test_both_graphs_hover_and_the_comparison_selections(browser, url, runs):
    easy, first = runs[1][EASY], runs[1][FIRST]
    context, page = open_view(browser, url, link(EASY, FIRST))
    wait_graphs(page, easy, first)
    boxes = {w: settled_boxes(page, w) for w in "ab"}
    for w, run in (("a", easy), ("b", first)):
        assert sorted(b[0] for b in boxes[w]) == sorted(run.layer_names), boxes[w]
        width, height = grid_shape(run.n, "compact")
        for layer, left, top, right, bottom, inside in boxes[w]:
            assert inside, (w, layer, "outside its own graph's box (.fd-dag)")
            assert left >= 0 and top >= 0 and right <= SCREEN["width"], (w, layer, left, right)
            assert bottom <= SCREEN["height"], (w, layer, top, bottom)
            assert right - left >= width and bottom - top >= height, (w, layer, "< 1 px/sample")
    span = {w: (min(b[1] for b in boxes[w]), max(b[3] for b in boxes[w])) for w in "ab"}
    assert span["a"][1] <= span["b"][0] or span["b"][1] <= span["a"][0], span  # own halves
    by_side = {"a": easy, "b": first}
    dense0 = easy.layer("dense0").order
    for which, layer, sample in [("a", "dense0", int(dense0[0])), ("a", "dense0", int(dense0[150])),
                                 ("a", "conv2d1", 299), ("b", "relu1", 7)]:  # fmt: skip
        hover_marks_both(page, which, layer, sample, by_side)
    page.mouse.move(2, 2)

    diff = differently(easy, first)
    assert 0 < len(diff) < easy.n
    page.click("button.fd-diff-toggle")
    wait_count(page, len(diff), "classified differently")
    wait_query(page, "sel", "diff")
    assert page.get_attribute("button.fd-diff-toggle", "aria-pressed") == "true"
    assert_selection(page, easy, first, set(diff))

    moved = changed_most(easy, first, by_name(easy, first))
    page.click("button.fd-moved-toggle")
    wait_count(page, len(moved), "changed most")
    wait_query(page, "sel", "moved")
    assert page.get_attribute("button.fd-moved-toggle", "aria-pressed") == "true"
    assert_selection(page, easy, first, set(moved), layers=("relu1", "prediction"))

    status, body = fetch_json(f"{url}compare/{EASY}/{urllib.parse.quote(FIRST)}.json")
    assert status == 200, body
    assert body["moved"] == moved and body["n"] == easy.n
    assert list(base64.b64decode(body["correctness"])) == correctness(easy, first)
    assert [(p["a"], p["b"]) for p in body["pairs"]] == by_name(easy, first)
    assert page.errors == [], page.errors
    context.close()


def test_a_brush_in_either_graph_selects_in_both(browser, url, runs):
    """A shift-drag over a rectangle of one graph's glyph selects the samples its run
    places there, shown in both graphs at their own pixels."""
    easy, first = runs[1][EASY], runs[1][FIRST]
    context, page = open_view(browser, url, link(EASY, FIRST))
    wait_graphs(page, easy, first)
    page.wait_for_load_state("networkidle")
    brushes = [("a", easy, "conv2d1", (2, 3, 7, 8)), ("b", first, "dense1", (10, 0, 17, 5))]
    for which, run, layer, (x0, y0, x1, y1) in brushes:
        pos = pixels(run.layer(layer).order)
        want = {s for s, (x, y) in enumerate(pos) if x0 <= x <= x1 and y0 <= y <= y1}
        page.keyboard.down("Shift")
        page.mouse.move(*cell_point(page, which, run, layer, x0, y0))
        page.mouse.down()
        page.mouse.move(*cell_point(page, which, run, layer, x1, y1), steps=4)
        page.mouse.up()
        page.keyboard.up("Shift")
        wait_count(page, len(want), f"the brush on graph {which}'s {layer}")
        assert_selection(page, easy, first, want, layers=("relu2", "conv2d0"))
        if which == "b":  # the link holds which graph was brushed: B's samples come back
            other = {s for s, (x, y) in enumerate(pixels(easy.layer(layer).order))
                     if x0 <= x <= x1 and y0 <= y <= y1}  # fmt: skip
            assert other != want
            again, fresh = open_view(browser, url, "?" + page.url.split("?", 1)[1])
            wait_graphs(fresh, easy, first)
            wait_count(fresh, len(want), "the brushed link")
            assert_selection(fresh, easy, first, want, layers=("relu2", "conv2d0"))
            again.close()
        page.keyboard.press("Escape")
        wait(page, "() => !document.querySelector('.fd-selection-info').dataset.count",
             what="no selection after Escape")  # fmt: skip
    assert page.errors == [], page.errors
    context.close()
