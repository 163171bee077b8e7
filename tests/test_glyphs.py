"""Glyph PNGs: true size, one pixel per sample, colors per docs/method.md §6."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fracdash import glyphs
from fracdash.analysis import Analysis, make_glyph


def rgb(hex_color):
    return tuple(int(hex_color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))


@pytest.fixture(scope="module")
def analysis():
    rng = np.random.default_rng(5)
    n, k = 50, 4
    labels = rng.integers(0, k, n)
    layers = [
        make_glyph("input", "InputLayer", (), (3,), rng.permutation(n), labels),
        make_glyph("dense", "Dense", ("input",), (4,), rng.permutation(n), labels),
    ]
    return Analysis(
        layers=layers,
        labels=labels,
        predictions=rng.integers(0, k, n),
        class_names=list("abcd"),
    )


def decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def test_absolute_colors_every_sample_pixel(analysis):
    g = analysis.layer("dense")
    pixels = decode(glyphs.absolute_png(analysis, "dense"))
    assert pixels.shape == (7, 8, 3) == (g.height, g.width, 3)  # 50 samples: 8 x 7
    occupied = np.zeros((7, 8), dtype=bool)
    for i, (x, y) in enumerate(g.positions):
        assert tuple(pixels[y, x]) == rgb(glyphs.class_color(int(analysis.labels[i])))
        occupied[y, x] = True
    assert (pixels[~occupied] == 0).all()  # empty pixels black


def test_focus_keeps_one_class(analysis):
    g = analysis.layer("input")
    for k in range(4):
        pixels = decode(glyphs.absolute_png(analysis, "input", focus=k))
        for i, (x, y) in enumerate(g.positions):
            want = glyphs.class_color(k) if analysis.labels[i] == k else glyphs.ABSOLUTE_EMPTY
            assert tuple(pixels[y, x]) == rgb(want)


def test_relative_colors_follow_codes(analysis):
    g = analysis.layer("dense")
    pixels = decode(glyphs.relative_png(analysis, "dense"))
    labels = analysis.labels[g.order]
    for rank, (x, y) in enumerate(g.positions[g.order]):
        same = sum(
            0 <= rank + d < len(labels) and labels[rank + d] == labels[rank] for d in (-1, 1)
        )
        assert tuple(pixels[y, x]) == rgb(glyphs.RELATIVE_COLORS[same])
    colors = {tuple(p) for p in pixels.reshape(-1, 3)}
    assert colors <= {rgb(c) for c in [*glyphs.RELATIVE_COLORS, glyphs.RELATIVE_EMPTY]}
    assert rgb(glyphs.RELATIVE_EMPTY) in colors  # 64 pixels, 50 samples


def test_all_variants(analysis):
    pngs = glyphs.glyph_pngs(analysis, "input")
    assert set(pngs) == {"absolute", "relative", "focus-0", "focus-1", "focus-2", "focus-3"}
    assert all(png.startswith(b"\x89PNG") for png in pngs.values())


def test_many_classes_fall_back_to_rgb():
    image = np.arange(-1, 299).reshape(20, 15)
    palette = [(k % 256, (k * 7) % 256, 3) for k in range(300)]
    pixels = decode(glyphs.index_png(image, palette, "#000000"))
    assert tuple(pixels[0, 0]) == (0, 0, 0)
    assert tuple(pixels[19, 14]) == palette[298]


def test_the_graph_is_stored_once(analysis):
    """Edges derive from each layer's inputs: no second copy to keep in step."""
    import json

    a = analysis
    assert a.edges == [("input", "dense")]
    with np.load(io.BytesIO(a.to_bytes()), allow_pickle=False) as z:
        header = json.loads(z["header"].tobytes().decode())
    assert "edges" not in header and header["layers"][1]["inputs"] == ["input"]
    assert Analysis.from_bytes(a.to_bytes()).edges == a.edges
