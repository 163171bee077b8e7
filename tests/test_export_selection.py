"""A view's selection and the comparison's coloring by correctness, drawn in the exports:
``/export/<A>.png|.html?…&sel=…&labels=correctness`` and ``fracdash export --select
--coloring correctness``. Every expectation is recomputed here, sample by sample, from
the stored orders, labels and predictions: each sample's pixel from its rank on the curve,
the selected samples by brute force, its correctness code from the labels and both runs'
predictions, the colors from the page's own scripts (assets/compare.js,
assets/samples.js), the fading as the browser rounds it."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from compare_runs import by_name, changed_most, correctness, differently
from compare_runs import pixels as sample_pixels
from drawn import png_pixels
from helpers import assert_refused, run_cli
from tiny_models import mlp, samples

from fracdash.export.png import png_layout
from fracdash.export.versus import pair_png_layout
from fracdash.glyphs import RELATIVE_COLORS, run_palette
from fracdash.runs import analyze_run, load_run
from fracdash.store import Store

N = 40
NAMES = ["cat", "dog", "bird"]
ASSETS = Path(__file__).resolve().parents[1] / "fracdash" / "web" / "assets"


def hex_rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))


def page_correctness_colors() -> list[tuple[int, int, int]]:
    """The four colors the page paints correctness in, read from its script."""
    text = (ASSETS / "compare.js").read_text(encoding="utf-8")
    found = re.search(r"colors: \[([^\]]*)\]", text).group(1)
    return [hex_rgb(c) for c in re.findall(r'"(#[0-9a-fA-F]{6})"', found)]


def page_dim() -> float:
    return float(re.search(r"var DIM = ([0-9.]+);", (ASSETS / "samples.js").read_text()).group(1))


def fade(rgb) -> tuple[int, int, int]:
    """As the browser: Math.round(c * DIM), halves up."""
    return tuple(int(np.floor(c * page_dim() + 0.5)) for c in rgb)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Runs "a" and "b" (two seeds of one network) on the same samples."""
    cache = tmp_path_factory.mktemp("export-selection") / "store"
    store = Store(cache)
    x, y = samples(N)
    for name, seed in (("a", 1), ("b", 2)):
        analyze_run(store, mlp(seed), x, y, NAMES, name=name, keep_labels=True)
    store.close()
    return cache


@pytest.fixture(scope="module")
def runs(cache):
    store = Store(cache)
    try:
        return {name: load_run(store, name) for name in ("a", "b")}
    finally:
        store.close()


@pytest.fixture(scope="module")
def client(cache):
    from fracdash.web import create_app

    return create_app(cache_dir=cache, default_run="a").server.test_client()


def drawn(picture: np.ndarray, analysis, layout, at=(0, 0)) -> dict[str, list[tuple]]:
    """Each layer's color of each sample, read at the centre of the sample's square."""
    out, s = {}, layout.scale
    for g in analysis.layers:
        gx, gy = layout.nodes[g.name].glyph[:2]
        out[g.name] = [
            tuple(int(v) for v in picture[at[1] + gy + y * s + s // 2, at[0] + gx + x * s + s // 2])
            for x, y in sample_pixels(g.order, analysis.curve)
        ]  # fmt: skip
    return out


def assert_drawn(colors: dict, want) -> None:
    """``want(sample)``: the color each sample must have, in every glyph."""
    for layer, got in colors.items():
        bad = [(s, c, want(s)) for s, c in enumerate(got) if c != want(s)]
        assert not bad, f"{layer}: (sample, drawn, wanted) {bad[:5]} of {len(bad)}"


def test_the_selection_rule_is_the_pages():
    """One table of texts through the page's two readers (url_state.js keeps a sel,
    samples.js parses it) and the exports' (fracdash.export.selection)."""
    from fracdash.errors import ExportError
    from fracdash.export.selection import parse_selection

    cases = ["wrong", "diff", "moved", "cell:1-2", "cell:12345-1", "cell:1-2-3",
             "brush:conv 1:0,1,12,9", "brush-b:a:b:1,2,3,4", "brush:x:1,2,3", "all", "WRONG",
             "brush::1,2,3,4", "brush:x:1,2,3,4 ", "brush:x:1,2,3,123456", "cell:\u0661-2",
             "brush-c:x:1,2,3,4", "brush:a\nb:1,2,3,4", "wrong,diff"]  # fmt: skip
    script = (
        "const u = require(process.argv[1] + '/url_state.js');"
        "const S = require(process.argv[1] + '/samples.js');"
        "const cases = JSON.parse(process.argv[2]);"
        "console.log(JSON.stringify(cases.map(t => [u.parse('?sel=' + encodeURIComponent(t)).sel"
        " || null, S.parseSelection(t)])));"
    )
    out = subprocess.run(["node", "-e", script, str(ASSETS), json.dumps(cases)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    for text, (kept, parsed) in zip(cases, json.loads(out.stdout), strict=True):
        try:
            sel = parse_selection(text)
        except ExportError as err:
            assert kept is None and parsed is None, (text, kept, parsed)
            assert str(err).startswith("sel=") and "write wrong, diff, moved" in str(err)
            continue
        assert kept == text, (text, kept)
        mine = {"kind": sel.kind}
        if sel.kind == "cell":
            mine.update(truth=sel.truth, predicted=sel.predicted)
        if sel.kind == "brush":
            mine.update(layer=sel.layer, rect=list(sel.rect), **({"side": "b"} if sel.side == "b"
                                                                 else {}))  # fmt: skip
        assert parsed == mine, text


def test_one_palette_and_one_fading_with_the_page():
    from fracdash.export.marking import CORRECTNESS_COLORS, DIM

    assert [hex_rgb(c) for c in CORRECTNESS_COLORS] == page_correctness_colors()
    assert DIM == page_dim()


def test_a_brush_keeps_its_samples_and_fades_the_rest_in_every_glyph(client, runs):
    a = runs["a"]
    rect = (1, 0, 4, 3)
    response = client.get("/export/a.png?sel=brush:dense1:4,3,1,0")  # either corner first
    assert response.status_code == 200 and response.mimetype == "image/png"
    pos = sample_pixels(a.layer("dense1").order, a.curve)
    want = {s for s, (x, y) in enumerate(pos)
            if rect[0] <= x <= rect[2] and rect[1] <= y <= rect[3]}  # fmt: skip
    assert 0 < len(want) < N
    title = f"a · selection: {len(want)} brushed on dense1"
    colors = drawn(png_pixels(response.data), a, png_layout(a, title=title))
    palette = [hex_rgb(c) for c in run_palette(a)]

    def color(s):
        full = palette[int(a.labels[s])]
        return full if s in want else fade(full)

    assert_drawn(colors, color)
    # The relative coloring fades the same samples: each sample's code is how many of its
    # two curve neighbours (ranks r - 1 and r + 1) share its class.
    relative = client.get("/export/a.png?coloring=relative&sel=brush:dense1:1,0,4,3").data
    codes = [hex_rgb(c) for c in RELATIVE_COLORS]
    shown = drawn(png_pixels(relative), a, png_layout(a, "relative", title=title))
    for g in a.layers:
        order, labels, same = [int(v) for v in g.order], a.labels, {}
        for r, s in enumerate(order):
            same[s] = sum(1 for q in (r - 1, r + 1)
                          if 0 <= q < N and labels[order[q]] == labels[s])  # fmt: skip
        assert_drawn({g.name: shown[g.name]},
                     lambda s: codes[same[s]] if s in want else fade(codes[same[s]]))  # noqa: B023


def test_a_comparison_colors_by_correctness_and_selects_in_both_graphs(client, runs):
    a, b = runs["a"], runs["b"]
    response = client.get("/export/a.png?vs=b&labels=correctness&sel=diff")
    assert response.status_code == 200
    diff = set(differently(a, b))
    codes, colors = correctness(a, b), page_correctness_colors()
    assert 0 < len(diff) < N and len(set(codes)) > 1
    line = ("comparing a with b · 5 layer pairs by name · "
            f"selection: {len(diff)} classified differently")
    layouts = [png_layout(r, "correctness", title=t) for r, t in ((a, "a"), (b, "b"))]
    picture = png_pixels(response.data)
    *_, at_a, at_b = pair_png_layout(*[(lay.width, lay.height) for lay in layouts], line)

    def color(s):
        full = colors[codes[s]]
        return full if s in diff else fade(full)

    for run, layout, at in ((a, layouts[0], at_a), (b, layouts[1], at_b)):
        assert_drawn(drawn(picture, run, layout, at), color)
        for item, want in zip(layout.legend, colors, strict=True):  # the four classes' key
            x, y, w, h = item.swatch
            assert tuple(picture[at[1] + y + h // 2, at[0] + x + w // 2]) == want


def test_changed_most_is_the_pages_changed_most(client, runs):
    a, b = runs["a"], runs["b"]
    want = set(changed_most(a, b, by_name(a, b)))
    response = client.get("/export/a.png?vs=b&sel=moved")
    assert response.status_code == 200
    line = f"comparing a with b · 5 layer pairs by name · selection: {len(want)} changed most"
    layouts = [png_layout(r, title=t) for r, t in ((a, "a"), (b, "b"))]
    *_, at_a, at_b = pair_png_layout(*[(lay.width, lay.height) for lay in layouts], line)
    palette = [hex_rgb(c) for c in run_palette(a)]
    for run, layout, at in ((a, layouts[0], at_a), (b, layouts[1], at_b)):
        colors = drawn(png_pixels(response.data), run, layout, at)
        for layer, got in colors.items():
            full = {s for s, c in enumerate(got) if c == palette[int(a.labels[s])]}
            assert full == want, layer


def test_the_html_bakes_the_selection_into_every_variant(client, runs):
    a = runs["a"]
    page = client.get("/export/a.html?sel=wrong").get_data(as_text=True)
    wrong = {s for s in range(N) if a.labels[s] != a.predictions[s]}
    assert f"selection: {len(wrong)} misclassified" in page
    variants = json.loads(re.search(r'id="fd-variants">(.*?)</script>', page, re.S).group(1))
    palette = [hex_rgb(c) for c in run_palette(a)]
    for g in a.layers:
        pos = sample_pixels(g.order, a.curve)
        absolute = png_pixels(base64.b64decode(variants[g.name]["absolute"].split(",", 1)[1]))
        focus = png_pixels(base64.b64decode(variants[g.name]["focus"][0].split(",", 1)[1]))
        for s, (x, y) in enumerate(pos):
            full = palette[int(a.labels[s])]
            assert tuple(absolute[y, x]) == (full if s in wrong else fade(full)), (g.name, s)
            if int(a.labels[s]) == 0:
                assert tuple(focus[y, x]) == (full if s in wrong else fade(full))


@pytest.mark.parametrize(
    ("query", "needle"),
    [("sel=all", "sel='all' is not a selection; write wrong, diff, moved"),
     ("sel=diff", "sel=diff selects in a comparison of two runs; add vs=RUN_B"),
     ("sel=brush-b:dense1:0,0,1,1", "add vs=RUN_B"),
     ("labels=correctness", "labels=correctness colors each sample by right or wrong"),
     ("sel=brush:nope:0,0,1,1", "brushes layer 'nope', which the run has not; its layers:"),
     ("vs=b&sel=brush-b:nope:0,0,1,1", "which run B has not"),
     ("sel=cell:3-0", "names a class the run has not; classes are 0 to 2")],
)  # fmt: skip
@pytest.mark.parametrize("ext", ["png", "html"])
def test_a_selection_that_does_not_apply_is_a_one_line_400(client, ext, query, needle):
    response = client.get(f"/export/a.{ext}?{query}")
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "Content-Disposition" not in response.headers
    text = response.get_data(as_text=True)
    assert text.count("\n") == 1 and needle in text, text


def test_the_command_draws_what_the_link_draws(client, cache, tmp_path):
    png, page = tmp_path / "ab.png", tmp_path / "ab.html"
    result = run_cli("export", "a", "--versus", "b", "--select", "brush-b:relu1:0,0,3,2",
                     "--coloring", "correctness", "--png", str(png), "--html", str(page),
                     cache=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr
    query = "vs=b&labels=correctness&sel=brush-b%3Arelu1%3A0%2C0%2C3%2C2"
    assert png.read_bytes() == client.get(f"/export/a.png?{query}").data
    assert page.read_bytes() == client.get(f"/export/a.html?{query}").data
    alone = run_cli("export", "a", "--select", "wrong", "--png", str(tmp_path / "w.png"),
                    cache=cache)  # fmt: skip
    assert alone.returncode == 0 and alone.stdout.startswith("wrote ")
    assert (tmp_path / "w.png").read_bytes() == client.get("/export/a.png?sel=wrong").data


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--select", "everything"], "--select 'everything' is not a selection; write wrong"),
     (["--select", "moved"], "--select moved selects in a comparison of two runs; add --versus"),
     (["--coloring", "correctness"], "--coloring correctness colors each sample by right or"),
     (["--select", "cell:9-9"], "--select cell:9-9 names a class the run has not")],
)  # fmt: skip
def test_the_command_refuses_a_bad_selection_in_one_line(cache, tmp_path, args, needle):
    target = tmp_path / "x.png"
    assert_refused(run_cli("export", "a", *args, "--png", str(target), cache=cache), needle)
    assert not target.exists()
