"""A comparison of two runs exported: ``/export/<A>.png|.html?vs=<B>`` (both graphs side
by side, each the single export of its run), ``/export/<A>.csv[?vs=<B>]`` (the tables of
``fracdash export --data`` / ``fracdash compare --data``, read back with the csv module
and checked against the stored runs), ``fracdash export A --versus B``, and the refusals:
409 for runs of other samples, 404 for unknown runs."""

from __future__ import annotations

import base64
import csv
import io
import re
from html.parser import HTMLParser
from urllib.parse import quote

import numpy as np
import pytest
from drawn import png_pixels
from helpers import GLYPH_COLORS_JS, assert_refused, run_cli, store_toy
from tiny_models import curve_jaccard, mlp, samples

from fracdash.export import export_png
from fracdash.export.versus import GAP
from fracdash.glyphs import (
    ABSOLUTE_EMPTY,
    FOCUS_DIM,
    RELATIVE_COLORS,
    RELATIVE_EMPTY,
    absolute_png,
    class_color,
)
from fracdash.runs import analyze_run, load_run
from fracdash.store import Store

N = 40  # as many as store_toy's run, stored without a digest
NAMES = ["cat", "dog", "bird"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Runs "a" and "b" (two seeds), "cos" (a's model under the cosine metric) and "deep"
    (another architecture) on the same samples; "other" on other samples; "toy" stored
    without its inputs' digest."""
    cache = tmp_path_factory.mktemp("export-versus") / "store"
    store = Store(cache)
    x, y = samples(N)
    x2, _ = samples(N, seed=1)
    specs = {"a": (1, (7,), x, "euclidean"), "b": (2, (7,), x, "euclidean"),
             "cos": (1, (7,), x, "cosine"), "deep": (3, (7, 5), x, "euclidean"),
             "other": (1, (7,), x2, "euclidean")}  # fmt: skip
    for name, (seed, hidden, data, metric) in specs.items():
        analyze_run(store, mlp(seed, hidden), data, y, NAMES, name=name, metric=metric,
                    keep_labels=True)  # fmt: skip
    store.close()
    store_toy(cache)
    return cache


@pytest.fixture(scope="module")
def runs(cache):
    store = Store(cache)
    try:
        return {name: load_run(store, name) for name in ("a", "b", "cos", "deep", "other")}
    finally:
        store.close()


@pytest.fixture(scope="module")
def client(cache):
    from fracdash.web import create_app

    return create_app(cache_dir=cache, default_run="a").server.test_client()


def assert_side_by_side(got: bytes, left: bytes, right: bytes) -> None:
    """``got`` holds picture ``left`` at its left edge and ``right`` GAP px to its
    right, both bottom-aligned under a header line, pixel for pixel."""
    whole, a, b = png_pixels(got), png_pixels(left), png_pixels(right)
    top = whole.shape[0] - max(a.shape[0], b.shape[0])
    assert top > 10 and whole.shape[1] >= a.shape[1] + GAP + b.shape[1]
    np.testing.assert_array_equal(whole[top : top + a.shape[0], : a.shape[1]], a)
    x = a.shape[1] + GAP
    np.testing.assert_array_equal(whole[top : top + b.shape[0], x : x + b.shape[1]], b)
    assert (whole[:top] != 255).any()  # the pairing line is drawn


def test_png_puts_both_runs_side_by_side(client, runs):
    response = client.get("/export/a.png?vs=b")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == "attachment; filename=a-vs-b.png"
    a, b = runs["a"], runs["b"]
    assert_side_by_side(response.data, export_png(a, title="a"), export_png(b, title="b"))
    asked = client.get("/export/a.png?vs=b&coloring=relative&simplify=1&curve=paper")
    a, b = (r.on_curve("paper").simplified() for r in (a, b))
    assert_side_by_side(asked.data, export_png(a, "relative", title="a"),
                        export_png(b, "relative", title="b"))  # fmt: skip
    # Without vs: the single export, as before.
    assert client.get("/export/a.png").data == export_png(runs["a"], title="a")


def test_runs_of_two_metrics_name_their_metric(client, runs):
    got = client.get("/export/a.png?vs=cos").data
    named = export_png(runs["a"], title="a · metric euclidean")
    assert_side_by_side(got, named, export_png(runs["cos"], title="cos · metric cosine"))
    assert named != export_png(runs["a"], title="a")  # the metric is drawn


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self._open = [], {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        self._open = [attrs.get("class", tag)]

    def handle_data(self, data):
        for key in self._open:
            self.text[key] = self.text.get(key, "") + data

    def handle_endtag(self, tag):
        self._open = []


def decoded(uri: str) -> bytes:
    assert uri.startswith("data:image/png;base64,")
    return base64.b64decode(uri.split(",", 1)[1])


def test_html_holds_both_runs_glyphs(client, runs):
    response = client.get("/export/a.html?vs=deep")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Disposition"] == "attachment; filename=a-vs-deep.html"
    page = response.get_data(as_text=True)
    assert not re.search(r"https?:|<script[^>]+src", page, re.IGNORECASE)
    tags = Tags()
    tags.feed(page)
    canvases = [a for t, a in tags.tags if "fd-dag-canvas" in a.get("class", "")]
    assert [(c["data-run"], c["data-side"]) for c in canvases] == [("a", "a"), ("deep", "b")]
    titles = [a for t, a in tags.tags if t == "h2"]
    assert len(titles) == 2 and "a" in tags.text["fd-side-title"]
    images = [a for t, a in tags.tags if t == "img"]
    for side, name in (("a", "a"), ("b", "deep")):
        mine = [img for img in images if img["data-layer"].startswith(f"{side}/")]
        run = runs[name]
        assert [img["data-name"] for img in mine] == run.layer_names
        for img in mine:
            assert decoded(img["src"]) == absolute_png(run, img["data-name"])
    note = tags.text["fd-note fd-compare-note"]
    assert note.startswith("comparing a with deep · ") and "by depth: " in note


def test_a_given_pairing_is_said_in_the_html(client):
    page = client.get("/export/a.html?vs=b&pair=dense1:relu1,%20logits:logits").get_data(
        as_text=True
    )
    assert "comparing a with b · 2 layer pairs as given: dense1~relu1, logits~logits" in page
    same = client.get("/export/a.html?vs=b").get_data(as_text=True)
    assert "comparing a with b · 5 layer pairs by name</p>" in same


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_csv_of_a_run_is_the_commands_data(client, cache, runs, tmp_path):
    result = run_cli("export", "a", "--data", str(tmp_path / "a.csv"), cache=cache)
    assert result.returncode == 0, result.stderr
    response = client.get("/export/a.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=a.csv"
    assert response.data == (tmp_path / "a.csv").read_bytes()
    layers = client.get("/export/a.csv?part=layers")
    assert layers.headers["Content-Disposition"] == "attachment; filename=a-layers.csv"
    assert layers.data == (tmp_path / "a-layers.csv").read_bytes()
    run, rows = runs["a"], read_csv(response.data)
    assert len(rows) == N
    for i, row in enumerate(rows):
        assert (int(row["index"]), int(row["label"])) == (i, run.labels[i])
        assert int(row["predicted"]) == run.predictions[i]
        for g in run.layers:
            assert int(row[f"rank:{g.name}"]) == g.order.tolist().index(i)
    assert [r["layer"] for r in read_csv(layers.data)] == run.layer_names


def test_csv_of_a_comparison_is_the_commands_data(client, cache, runs, tmp_path):
    response = client.get("/export/a.csv?vs=b")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=a-vs-b.csv"
    result = run_cli("compare", "a", "b", "--data", str(tmp_path / "ab.csv"), cache=cache)
    assert result.returncode == 0, result.stderr
    result = run_cli("export", "a", "--versus", "b", "--data", str(tmp_path / "x.csv"),
                     cache=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for target in ("ab.csv", "x.csv"):
        assert response.data == (tmp_path / target).read_bytes()
        layers = (tmp_path / target.replace(".csv", "-layers.csv")).read_bytes()
        assert client.get("/export/a.csv?vs=b&part=layers").data == layers
    a, b, rows = runs["a"], runs["b"], read_csv(response.data)
    curves = np.array([curve_jaccard(a.layer(n).positions, b.layer(n).positions)
                       for n in a.layer_names])  # fmt: skip
    assert len(rows) == N
    for i, row in enumerate(rows):
        pa, pb, truth = a.predictions[i], b.predictions[i], a.labels[i]
        assert (int(row["predicted_a"]), int(row["predicted_b"])) == (pa, pb)
        want = ("both right" if pa == truth == pb else "only A right" if pa == truth
                else "only B right" if pb == truth else "both wrong")  # fmt: skip
        assert row["correctness"] == want
        assert float(row["agreement"]) == pytest.approx(curves[:, i].mean())
        assert int(row["rank_b:relu1"]) == b.layer("relu1").order.tolist().index(i)
    given = read_csv(client.get("/export/a.csv?vs=b&pair=relu1:dense1").data)
    assert [c for c in given[0] if c.startswith("curve:")] == ["curve:relu1~dense1"]


def test_cli_exports_the_comparison_as_the_page_does(client, cache, tmp_path):
    png, page = tmp_path / "ab.png", tmp_path / "ab.html"
    result = run_cli("export", "a", "--versus", "deep", "--pair", "relu1:relu2", "--png",
                     str(png), "--html", str(page), "--simplify", cache=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr
    query = "vs=deep&pair=relu1:relu2&simplify=1"
    assert png.read_bytes() == client.get(f"/export/a.png?{query}").data
    assert page.read_bytes() == client.get(f"/export/a.html?{query}").data
    refused = run_cli("export", "a", "--versus", "other", "--png", str(tmp_path / "x.png"),
                      cache=cache)  # fmt: skip
    assert_refused(refused, "the same samples in the same order")
    assert not (tmp_path / "x.png").exists()
    missing = run_cli("export", "a", "--versus", "nope", "--png", str(png), cache=cache)
    assert_refused(missing, "no run named 'nope'")
    alone = run_cli("export", "a", "--pair", "x:y", "--png", str(png), cache=cache)
    assert_refused(alone, "add --versus RUN_B")


@pytest.mark.parametrize("ext", ["png", "html", "csv"])
@pytest.mark.parametrize(
    ("query", "needle"),
    [("vs=other", "the same samples in the same order"),
     ("vs=toy", "inputs' digest"),
     ("vs=b&pair=nope:dense1", "has no layer 'nope'")],
)  # fmt: skip
def test_runs_that_cannot_be_compared_are_a_one_line_409(client, ext, query, needle):
    response = client.get(f"/export/a.{ext}?{query}")
    assert response.status_code == 409 and response.mimetype == "text/plain"
    assert "Content-Disposition" not in response.headers
    text = response.get_data(as_text=True)
    assert text.count("\n") == 1 and needle in text, text


@pytest.mark.parametrize("ext", ["png", "html", "csv"])
@pytest.mark.parametrize(
    ("run", "versus"), [("a", "nope"), ("nope", "b"), ("a", "../../etc/passwd"), ("a", "A")]
)
def test_unknown_runs_are_a_one_line_404(client, ext, run, versus):
    response = client.get(f"/export/{run}.{ext}?vs={quote(versus, safe='')}")
    assert response.status_code == 404 and response.mimetype == "text/plain"
    assert "Content-Disposition" not in response.headers
    text = response.get_data(as_text=True)
    assert text.count("\n") == 1 and text.startswith("unknown run"), text


def glyph_colors(page, wanted, timeout_s: float = 10.0) -> dict:
    """Poll the rendered colors until ``wanted(colors)`` holds; return the last read."""
    colors = None
    for _ in range(int(timeout_s / 0.1)):
        colors = page.evaluate(GLYPH_COLORS_JS)
        if colors is not None and wanted(colors):
            return colors
        page.wait_for_timeout(100)
    return colors


@pytest.mark.browser
@pytest.mark.slow
def test_the_html_shows_both_graphs_with_one_legend(browser, client, runs, tmp_path):
    path = tmp_path / "a-vs-b.html"
    path.write_bytes(client.get("/export/a.html?vs=b").data)
    context = browser.new_context(offline=True, viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-fd-ready=true]", timeout=10_000)
    boxes = page.eval_on_selector_all(
        ".fd-dag-canvas", "els => els.map(e => { const r = e.getBoundingClientRect(); "
        "return [e.dataset.run, r.x, r.y, r.width]; })"
    )  # fmt: skip
    (run_a, xa, ya, wa), (run_b, xb, yb, _) = boxes
    assert (run_a, run_b) == ("a", "b") and xa + wa <= xb and abs(ya - yb) < 1  # side by side
    keys = [f"{side}/{n}" for side, name in (("a", "a"), ("b", "b"))
            for n in runs[name].layer_names]  # fmt: skip

    def showing(classes):
        want = {class_color(c) for c in classes}
        return lambda cs: (
            sorted(cs) == sorted(keys)
            and all(set(v) - {ABSOLUTE_EMPTY, FOCUS_DIM} == want for v in cs.values())
        )

    for c in range(len(NAMES)):  # one legend: hovering a class focuses it in both graphs
        page.hover(f".fd-legend-item[data-class='{c}']")
        colors = glyph_colors(page, showing([c]))
        assert showing([c])(colors), (c, colors)
    page.mouse.move(2, 2)
    page.check("input[name=fd-coloring][value=relative]")
    relative = set(RELATIVE_COLORS) | {RELATIVE_EMPTY}

    def is_relative(cs):
        return sorted(cs) == sorted(keys) and all(set(v) <= relative for v in cs.values())

    assert is_relative(glyph_colors(page, is_relative))
    context.close()
    assert errors == []
