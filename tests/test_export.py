"""Exports, in-process: the PNG of the whole layer graph (glyph pixels exact, labels
drawn), the standalone HTML (one file, no URL, one image per layer, every variant),
``fracdash export`` through click's CliRunner, and the server's /export routes."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import store_toy, toy_analysis
from PIL import Image

from fracdash.analysis import Analysis, make_glyph
from fracdash.cli import main
from fracdash.export import ExportError, export_html, export_png, png_layout, write_atomic
from fracdash.export import png as png_module
from fracdash.export.standalone import script_source
from fracdash.glyphs import absolute_png, class_color, relative_png
from fracdash.runs import load_run
from fracdash.store import Store

ROOT = Path(__file__).resolve().parents[1]


def branched(n: int = 120, seed: int = 3) -> Analysis:
    """input -> (a_conv -> a_dense | b_conv -> b_dense) -> concat -> prediction, with
    a hostile layer name and class name (markup in both)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n).astype(np.int64)
    labels[:4] = np.arange(4)
    spec = [("input", "InputLayer", ()), ("a_conv", "Conv2D", ("input",)),
            ("b_conv", "Conv2D", ("input",)), ("a_dense", "Dense", ("a_conv",)),
            ('b"<i>dense</i>', "Dense", ("b_conv",)),
            ("concat", "Concatenate", ("a_dense", 'b"<i>dense</i>')),
            ("prediction", "Activation", ("concat",))]  # fmt: skip
    layers = [make_glyph(name, kind, ins, (4,), rng.permutation(n), labels)
              for name, kind, ins in spec]  # fmt: skip
    predictions = np.where(rng.random(n) < 0.7, labels, (labels + 1) % 4)
    analysis = Analysis(layers, labels, predictions, ["zero", "one", "</script><b>two", "three"])
    analysis.meta["note"] = "branched toy"
    return analysis


ANALYSES = {"chain": lambda: toy_analysis(n=300), "branched": branched}


@pytest.fixture(scope="module", params=sorted(ANALYSES))
def analysis(request):
    return ANALYSES[request.param]()


def rgb_pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))


# -- PNG ----------------------------------------------------------------------------------


def test_png_size_fits_the_layout(analysis):
    layout = png_layout(analysis, title="run")
    picture = rgb_pixels(export_png(analysis, title="run"))
    assert picture.shape == (layout.height, layout.width, 3)
    rects = [node.glyph for node in layout.nodes.values()]
    assert set(layout.nodes) == set(analysis.layer_names)
    for x, y, w, h in rects:
        assert 0 <= x and 0 <= y and x + w <= layout.width and y + h <= layout.height
    for i, (x0, y0, w0, h0) in enumerate(rects):  # no two glyphs overlap
        for x1, y1, w1, h1 in rects[i + 1 :]:
            assert x0 + w0 <= x1 or x1 + w1 <= x0 or y0 + h0 <= y1 or y1 + h1 <= y0
    for src, dst in analysis.edges:  # top to bottom: every edge points down
        s, t = layout.nodes[src], layout.nodes[dst]
        assert s.quality_band[1] + s.quality_band[3] < t.name_band[1]


def test_png_branches_sit_side_by_side():
    layout = png_layout(branched())
    a, b = layout.nodes["a_conv"].glyph, layout.nodes["b_conv"].glyph
    assert a[1] == b[1] and a[0] != b[0]


@pytest.mark.parametrize("coloring", ["absolute", "relative"])
def test_png_holds_every_glyph_pixel_for_pixel(analysis, coloring):
    layout = png_layout(analysis, coloring)
    picture = rgb_pixels(export_png(analysis, coloring))
    render = absolute_png if coloring == "absolute" else relative_png
    for g in analysis.layers:
        x, y, w, h = layout.nodes[g.name].glyph
        own = rgb_pixels(render(analysis, g.name))  # the glyph's palette image, as RGB
        assert own.shape == (h, w, 3) == (g.height, g.width, 3)
        np.testing.assert_array_equal(picture[y : y + h, x : x + w], own, err_msg=g.name)


def test_png_draws_names_qualities_title_and_legend(analysis):
    layout = png_layout(analysis, title="run")
    picture = rgb_pixels(export_png(analysis, title="run"))
    background = np.array(png_module.BACKGROUND)

    def inked(rect) -> int:
        x, y, w, h = rect
        return int(np.any(picture[y : y + h, x : x + w] != background, axis=-1).sum())

    for node in layout.nodes.values():
        assert inked(node.name_band) > 10, node.name
        assert inked(node.quality_band) > 10, node.name
    title_rect = (*layout.title_xy, layout.width // 2, png_module.TITLE_SIZE)
    assert inked(title_rect) > 50
    assert [item.text for item in layout.legend] == list(analysis.class_names)
    for k, item in enumerate(layout.legend):
        x, y, w, h = item.swatch
        assert tuple(picture[y + h // 2, x + w // 2]) == rgb(class_color(k))
    assert "accuracy" in layout.title and f"n = {analysis.n:,}" in layout.title


def test_png_relative_legend_and_bad_coloring(analysis):
    layout = png_layout(analysis, "relative")
    assert [item.color for item in layout.legend] == ["#000000", "#808080", "#ffffff"]
    with pytest.raises(ValueError, match="coloring"):
        export_png(analysis, "rainbow")


def test_png_is_deterministic(analysis):
    assert export_png(analysis, title="x") == export_png(analysis, title="x")


# -- HTML ---------------------------------------------------------------------------------


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.data: dict[str, str] = {}
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = dict(attrs).get("id") or tag

    def handle_data(self, data):
        if self._in:
            self.data[self._in] = self.data.get(self._in, "") + data

    def handle_endtag(self, tag):
        self._in = None


def parsed(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


def test_html_is_one_file_naming_no_url(analysis):
    page = export_html(analysis, "my <run>")
    assert not re.search(r"https?:|//[a-z]", page, re.IGNORECASE)
    assert not re.search(r"<(link|iframe|object|embed)\b|@import|url\(", page, re.IGNORECASE)
    tags = parsed(page)
    scripts = [attrs for tag, attrs in tags.tags if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "fd-variants"}, {}]  # no src
    for _, attrs in tags.tags:
        if "src" in attrs:
            assert attrs["src"].startswith("data:image/png;base64,")
    assert "<title>my &lt;run&gt; — fracdash</title>" in page
    assert script_source() in page  # the asset, inlined as it is
    assert page.count("</script>") == 2  # a class named "</script>..." cannot end one


def test_html_has_one_glyph_per_layer_with_every_variant(analysis):
    page = export_html(analysis, "run")
    tags = parsed(page)
    images = [attrs for tag, attrs in tags.tags if tag == "img"]
    assert [img["data-layer"] for img in images] == analysis.layer_names
    assert all("fd-glyph" in img["class"] for img in images)
    variants = json.loads(tags.data["fd-variants"])
    assert list(variants) == analysis.layer_names
    k = len(analysis.class_names)

    def png_of(uri):
        return base64.b64decode(uri.split(",", 1)[1])

    for img in images:
        g = analysis.layer(img["data-layer"])
        w, h = int(img["width"]), int(img["height"])
        assert w % g.width == 0 and w // g.width == h // g.height >= 1  # integer scale
        v = variants[g.name]
        assert img["src"] == v["absolute"]
        assert png_of(v["absolute"]) == absolute_png(analysis, g.name)
        assert png_of(v["relative"]) == relative_png(analysis, g.name)
        assert [png_of(u) for u in v["focus"]] == [
            absolute_png(analysis, g.name, focus=c) for c in range(k)
        ]
    legend = [attrs for tag, attrs in tags.tags if "fd-legend-item" in attrs.get("class", "")]
    assert [item["data-class"] for item in legend] == [str(c) for c in range(k)]
    assert "image-rendering: pixelated" in page


def test_html_edges_join_the_layers(analysis):
    tags = parsed(export_html(analysis, "run"))
    edges = [(a["data-source"], a["data-target"]) for t, a in tags.tags if t == "path"]
    assert edges == analysis.edges


# -- files and the command line ----------------------------------------------------------


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("export") / "cache"
    store_toy(cache)
    return cache


@pytest.fixture(scope="module")
def stored(cache):
    store = Store(cache)
    try:
        return load_run(store, "toy")
    finally:
        store.close()


def run_cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exit_code not in (0, 2):
        raise result.exception
    return result


def test_cli_exports_html_and_png(cache, stored, tmp_path):
    html_path, png_path = tmp_path / "toy.html", tmp_path / "toy.png"
    result = run_cli("export", "toy", "--store", cache, "--html", html_path, "--png", png_path)
    assert result.exit_code == 0, result.stderr
    assert html_path.read_text(encoding="utf-8") == export_html(stored, "toy")
    assert png_path.read_bytes() == export_png(stored, title="toy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.html", "toy.png"]  # no temp
    assert f"wrote {html_path}" in result.stdout and f"wrote {png_path}" in result.stdout
    result = run_cli("export", "toy", "--cache-dir", cache, "--png", png_path,
                     "--coloring", "relative", "--simplify")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert png_path.read_bytes() == export_png(stored.simplified(), "relative", title="toy")


def one_line_error(result, *needles):
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fracdash: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_cli_unknown_run_lists_the_stored_runs(cache, tmp_path):
    result = run_cli("export", "nope", "--store", cache, "--png", tmp_path / "x.png")
    one_line_error(result, "'nope'", "stored runs: toy")
    result = run_cli("export", "toy", "--store", tmp_path / "none", "--png", tmp_path / "x.png")
    one_line_error(result, "stored runs: none")
    assert not (tmp_path / "none").exists() and not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--png", "missing/out.png"], "does not exist"),
        (["--html", "missing/out.html", "--png", "ok.png"], "does not exist"),
        (["--html", "."], "is a folder"),
        (["--html", "same", "--png", "same"], "both name"),
        ([], "nothing to export"),
    ],
)
def test_cli_refuses_bad_outputs_before_writing(cache, tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    one_line_error(run_cli("export", "toy", "--store", cache, *args), needle)
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_leaves_the_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    write_atomic(target, b"old")
    assert target.read_bytes() == b"old" and target.stat().st_mode & 0o777 != 0o600

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("fracdash.export.files.os.replace", broken)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temp file left


def test_export_run_reports_a_failed_write_as_one_line(cache, tmp_path, monkeypatch):
    from fracdash.export.run import export_run

    def broken(path, data):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr("fracdash.export.run.write_atomic", broken)
    with pytest.raises(ExportError, match=r"cannot write .*x\.png: Permission denied"):
        export_run(cache, "toy", png=tmp_path / "x.png")


# -- server routes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(cache):
    from fracdash.web import create_app

    return create_app(cache_dir=cache, default_run="toy").server.test_client()


def test_route_png_is_the_exported_png(client, stored):
    response = client.get("/export/toy.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == "attachment; filename=toy.png"
    assert response.data == export_png(stored, title="toy")
    relative = client.get("/export/toy.png?coloring=relative&simplify=1")
    assert relative.data == export_png(stored.simplified(), "relative", title="toy")
    assert client.get("/export/toy.png?coloring=<bogus>").data == response.data


def test_route_html_is_the_exported_page(client, stored):
    response = client.get("/export/toy.html")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Disposition"] == "attachment; filename=toy.html"
    assert response.get_data(as_text=True) == export_html(stored, "toy")
    simple = client.get("/export/toy.html?simplify=1").get_data(as_text=True)
    assert simple == export_html(stored.simplified(), "toy")


@pytest.mark.parametrize(
    "run",
    ["nope", "..", "~", "easy", "toy.png", "toy ", " toy", "TOY", "x" * 5000, "%2e%2e", "toy\x00"],
)
@pytest.mark.parametrize("ext", ["png", "html"])
def test_route_unknown_run_is_a_one_line_404(client, run, ext):
    response = client.get(f"/export/{quote(run, safe='')}.{ext}")
    assert response.status_code == 404
    assert response.mimetype == "text/plain" and "Content-Disposition" not in response.headers
    text = response.get_data(as_text=True)
    assert text.count("\n") == 1 and text.startswith("unknown run"), text


@pytest.mark.parametrize(
    "run", ["../../etc/passwd", "/etc/passwd", "~/.ssh/id_rsa", "file:///etc/passwd"]
)
def test_route_never_opens_a_path(client, run):
    # A slash never reaches the export route (Dash's page route may answer instead).
    response = client.get(f"/export/{quote(run, safe='')}.png")
    assert "Content-Disposition" not in response.headers
    assert response.mimetype != "image/png"
    assert "root:" not in response.get_data(as_text=True)
