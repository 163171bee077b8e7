"""Exports, in-process: the PNG of the whole layer graph (folded into columns as on the
page, glyph pixels exact at a whole number of pixels per sample, labels drawn, the
curve asked for) and the standalone HTML (one file, no URL, one image per layer, every
variant, the PNG's positions). Writing them and serving them: test_export_delivery.py."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from helpers import toy_analysis
from PIL import Image

from fracdash.analysis import Analysis, make_glyph
from fracdash.export import export_html, export_png, png_layout
from fracdash.export import png as png_module
from fracdash.export.layout import MIN_GLYPH, graph_layout
from fracdash.export.standalone import script_source
from fracdash.glyphs import absolute_png, class_color, relative_png

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


def enlarged(pixels: np.ndarray, k: int) -> np.ndarray:
    """Every pixel a k x k square."""
    return np.repeat(np.repeat(pixels, k, axis=0), k, axis=1)


LENET = ["input", "conv2d0", "relu0", "conv2d1", "relu1", "flatten", "dense0", "relu2",
         "dense1", "prediction"]  # fmt: skip


def lenet(n: int = 2000, seed: int = 5) -> Analysis:
    """LeNet5's ten shown layers (docs/method.md §7) as a chain, on ``n`` samples."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.int64)
    layers, previous = [], ()
    for name in LENET:
        layers.append(make_glyph(name, "Layer", previous, (4,), rng.permutation(n), labels))
        previous = (name,)
    return Analysis(layers, labels, labels.copy(), [str(c) for c in range(10)])


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
    assert [(s, t) for s, t, _ in layout.edges] == analysis.edges
    for src, dst, points in layout.edges:  # from under the source to above the target
        s, t = layout.nodes[src], layout.nodes[dst]
        (x0, y0), (x1, y1) = points[0], points[-1]
        assert abs(y0 - (s.quality_band[1] + s.quality_band[3])) <= 1
        assert abs(x0 - (s.glyph[0] + s.glyph[2] / 2)) <= 1
        assert abs(y1 - t.name_band[1]) <= 1 and abs(x1 - (t.glyph[0] + t.glyph[2] / 2)) <= 1
        assert all(0 <= x <= layout.width and 0 <= y <= layout.height for x, y in points)


def test_png_branches_sit_side_by_side():
    layout = png_layout(branched())
    a, b = layout.nodes["a_conv"].glyph, layout.nodes["b_conv"].glyph
    assert a[1] == b[1] and a[0] != b[0]


@pytest.mark.parametrize("coloring", ["absolute", "relative"])
def test_png_holds_every_glyph_pixel_for_pixel(analysis, coloring):
    layout = png_layout(analysis, coloring)
    picture = rgb_pixels(export_png(analysis, coloring))
    render = absolute_png if coloring == "absolute" else relative_png
    k = layout.scale
    assert k == max(1, -(-MIN_GLYPH // max(analysis.layers[0].width, analysis.layers[0].height)))
    for g in analysis.layers:
        x, y, w, h = layout.nodes[g.name].glyph
        own = rgb_pixels(render(analysis, g.name))  # the glyph's palette image, as RGB
        assert own.shape == (g.height, g.width, 3) and (w, h) == (k * g.width, k * g.height)
        np.testing.assert_array_equal(picture[y : y + h, x : x + w], enlarged(own, k), g.name)


def test_png_of_a_2000_sample_lenet_is_folded_and_legible():
    analysis = lenet(2000)
    layout = png_layout(analysis, title="easy-2000")
    rects = {name: node.glyph for name, node in layout.nodes.items()}
    # Legible: every glyph at least MIN_GLYPH px, each sample a 3x3 square (45x45 grid).
    assert layout.scale == 3 and MIN_GLYPH == 128
    assert all(min(w, h) >= MIN_GLYPH for _, _, w, h in rects.values()), rects
    # Folded like the page: several columns, read top to bottom then left to right.
    assert layout.columns >= 3
    lefts = sorted({x for x, _, _, _ in rects.values()})
    assert len(lefts) == layout.columns
    for a, b in zip(LENET, LENET[1:], strict=False):
        (xa, ya, _, ha), (xb, yb, _, _) = rects[a], rects[b]
        assert (xb == xa and yb > ya + ha) or (xb > xa and yb < ya), (a, b)
    # A screen-shaped picture, not one long column.
    assert 0.8 <= layout.width / layout.height <= 2.5, (layout.width, layout.height)


def test_paper_curve_changes_the_exported_glyph_shapes():
    compact = lenet(2000)
    paper = compact.on_curve("paper")
    assert (paper.layers[0].width, paper.layers[0].height) == (64, 64)  # 4**3 >= 2000
    a, b = png_layout(compact), png_layout(paper)
    assert {n.glyph[2:] for n in a.nodes.values()} == {(3 * 45, 3 * 45)}
    assert {n.glyph[2:] for n in b.nodes.values()} == {(2 * 64, 2 * 64)}
    picture = rgb_pixels(export_png(paper))
    x, y, w, h = b.nodes["relu0"].glyph
    own = rgb_pixels(absolute_png(paper, "relu0"))
    np.testing.assert_array_equal(picture[y : y + h, x : x + w], enlarged(own, 2))
    assert "paper curve" in b.title and "compact curve" in a.title


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

    graph = graph_layout(analysis)
    for img in images:
        g = analysis.layer(img["data-layer"])
        w, h = int(img["width"]), int(img["height"])
        assert (w, h) == (graph.scale * g.width, graph.scale * g.height)  # integer scale
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


def px(style: str, key: str) -> int:
    return int(re.search(rf"(?:^|;){key}:(-?\d+)px", style).group(1))


def test_html_places_the_glyphs_where_the_png_does():
    analysis = lenet(2000)
    tags = parsed(export_html(analysis, "run"))
    png = png_layout(analysis)
    nodes = {a["data-layer"]: a for t, a in tags.tags if t == "div" and "data-layer" in a}
    images = {a["data-layer"]: a for t, a in tags.tags if t == "img"}
    origin = None
    for name in analysis.layer_names:
        node, img = nodes[name]["style"], images[name]["style"]
        at = (px(node, "left") + px(img, "left"), px(node, "top") + px(img, "top"))
        x, y, _, _ = png.nodes[name].glyph
        # One fold, one placement: the same offset from the PNG's for every glyph.
        origin = origin or (x - at[0], y - at[1])
        assert (x - at[0], y - at[1]) == origin, name
    assert len({nodes[n]["data-column"] for n in nodes}) == png.columns >= 3
