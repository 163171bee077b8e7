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


def test_focus_keeps_one_class_and_dims_the_others(analysis):
    g = analysis.layer("input")
    occupied = np.zeros((g.height, g.width), dtype=bool)
    occupied[g.positions[:, 1], g.positions[:, 0]] = True
    assert not occupied.all()  # some empty cells to tell apart
    for k in range(4):
        pixels = decode(glyphs.absolute_png(analysis, "input", focus=k))
        for i, (x, y) in enumerate(g.positions):
            want = glyphs.class_color(k) if analysis.labels[i] == k else glyphs.FOCUS_DIM
            assert tuple(pixels[y, x]) == rgb(want)
        # The holes stay black, the dimmed samples are not: the outline stays visible.
        assert (pixels[~occupied] == 0).all()
        assert rgb(glyphs.FOCUS_DIM) != rgb(glyphs.ABSOLUTE_EMPTY)


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


# --------------------------------------------------------------------------- palette


def srgb_to_lab(hex_colors) -> np.ndarray:
    """CIELAB (D65) of sRGB hex colors: IEC 61966-2-1 linearisation, then CIE 1976."""
    rgb_ = np.array([rgb(c) for c in hex_colors], dtype=float) / 255
    linear = np.where(rgb_ <= 0.04045, rgb_ / 12.92, ((rgb_ + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def ciede2000(lab1, lab2) -> np.ndarray:
    """CIEDE2000 color difference (Sharma, Wu & Dalal 2005), broadcasting over rows."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, float), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, float), -1, 0)
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    chroma = c1p * c2p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(chroma == 0, 0, dh)
    d_big_h = 2 * np.sqrt(chroma) * np.sin(np.radians(dh / 2))
    l_bar, c_bar_p, h_sum = (L1 + L2) / 2, (c1p + c2p) / 2, h1p + h2p
    h_bar = np.where(
        np.abs(h1p - h2p) > 180,
        np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2),
        h_sum / 2,
    )
    h_bar = np.where(chroma == 0, h_sum, h_bar)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    rotation = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(c_bar_p**7 / (c_bar_p**7 + 25.0**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * c_bar_p
    s_h = 1 + 0.015 * c_bar_p * t
    r_t = -np.sin(np.radians(2 * rotation)) * r_c
    dl, dc, dh_ = (L2 - L1) / s_l, (c2p - c1p) / s_c, d_big_h / s_h
    return np.sqrt(dl**2 + dc**2 + dh_**2 + r_t * dc * dh_)


#: The smallest CIEDE2000 difference allowed between two glyph colors. Tableau 10, a
#: palette designed for telling categories apart, has 18.1 at its closest pair (red and
#: pink); one glyph pixel is 1-4 screen pixels, where colors need ~5x the just-noticeable
#: difference (~2-3 ΔE00) to be named apart. The old Tableau 20 had 2.6 (its teal pair).
MIN_DELTA_E = 15.0


@pytest.mark.parametrize(
    "lab1,lab2,want",  # Sharma, Wu & Dalal (2005), table 1: pairs 1, 7, 17, 25, 34
    [
        ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
        ((50, 0, 0), (50, -1, 2), 2.3669),
        ((50, 2.5, 0), (73, 25, -18), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
    ],
)
def test_ciede2000_matches_published_pairs(lab1, lab2, want):
    assert float(ciede2000(lab1, lab2)) == pytest.approx(want, abs=1e-4)


def test_lab_of_known_colors():
    lab = srgb_to_lab(["#ffffff", "#000000", "#ff0000"])
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.05)


def test_twenty_class_colors_pairwise_distinct():
    colors = glyphs.CLASS_COLORS
    assert len(colors) >= 20 and len({c.lower() for c in colors}) == len(colors)
    lab = srgb_to_lab(colors)
    delta = ciede2000(lab[:, None], lab[None, :])
    np.fill_diagonal(delta, np.inf)
    i, j = np.unravel_index(np.argmin(delta), delta.shape)
    assert delta.min() >= MIN_DELTA_E, (colors[i], colors[j], delta.min())


def test_class_colors_stand_apart_from_empty_and_dim():
    lab = srgb_to_lab(glyphs.CLASS_COLORS)
    for other in (glyphs.ABSOLUTE_EMPTY, glyphs.FOCUS_DIM):
        delta = ciede2000(lab, srgb_to_lab([other])[0])
        assert delta.min() >= MIN_DELTA_E, (other, glyphs.CLASS_COLORS[int(np.argmin(delta))])
    dim_vs_empty = ciede2000(*srgb_to_lab([glyphs.FOCUS_DIM, glyphs.ABSOLUTE_EMPTY]))
    assert dim_vs_empty >= MIN_DELTA_E


def test_old_light_companions_would_fail_the_check():
    """The check has teeth: Tableau 20's light companions sit 2.6 from their partners."""
    lab = srgb_to_lab(["#76b7b2", "#86bcb6"])
    assert ciede2000(lab[0], lab[1]) < MIN_DELTA_E


def test_palette_constants_for_the_page():
    constants = glyphs.palette_constants()
    assert constants["classes"] == glyphs.CLASS_COLORS
    assert constants["focus_dim"] == glyphs.FOCUS_DIM
    assert constants["empty"] == glyphs.ABSOLUTE_EMPTY
    assert constants["relative"] == glyphs.RELATIVE_COLORS
    assert constants["relative_empty"] == glyphs.RELATIVE_EMPTY
    constants["classes"].append("#123456")  # a copy: the module's palette stays
    assert len(glyphs.CLASS_COLORS) == 20


# --------------------------------------------------------------------------- legend, key


def test_legend_items_keep_their_attributes_and_take_the_keyboard():
    from fracdash.web.panels import legend_children

    names = [f"c{k}" for k in range(20)]
    children = legend_children(names)
    labels, *items, key = children
    assert labels.className == "fd-legend-labels" and labels.children is None
    assert len(items) == 20
    for k, item in enumerate(items):
        props = item.to_plotly_json()["props"]
        assert props["className"] == "fd-legend-item"
        assert props["data-class"] == str(k) and "data-focus-store" not in props
        assert props["data-color"] == glyphs.class_color(k) == glyphs.CLASS_COLORS[k]
        assert props["tabIndex"] == 0 and props["role"] == "button"
        swatch, name = item.children
        assert swatch.style["backgroundColor"] == glyphs.class_color(k)
        assert name.children == names[k]
    assert key.className == "fd-key"


def test_the_key_explains_each_coloring_with_the_glyph_colors():
    from fracdash.web.panels import coloring_key

    absolute, relative = coloring_key(10).children
    assert absolute.to_plotly_json()["props"]["data-coloring"] == "absolute"
    assert relative.to_plotly_json()["props"]["data-coloring"] == "relative"

    def rows(part):
        return [
            (row.children[0].style, row.children[1].children)
            for row in part.children
            if row.className == "fd-key-row"
        ]

    a = rows(absolute)
    assert "class color" in a[0][1] and glyphs.class_color(4) in a[0][0]["background"]
    assert (a[1][0]["backgroundColor"], "empty") == (glyphs.ABSOLUTE_EMPTY, a[1][1][:5])
    assert a[2][0]["backgroundColor"] == glyphs.FOCUS_DIM and "focused" in a[2][1]
    r = rows(relative)
    assert [s["backgroundColor"] for s, _ in r] == [*glyphs.RELATIVE_COLORS, glyphs.RELATIVE_EMPTY]
    assert "neither" in r[0][1] and "one" in r[1][1] and "both" in r[2][1]
    assert "empty" in r[3][1]


# ------------------------------------------------------------- many classes: hue families

#: The least CIEDE2000 difference between two classes of one hue family, by class
#: count. 47 classes in 2-5 families reach 13-14; 100 classes (10 families of 10, 20 of
#: 5, 4 of 25, 12 uneven) reach 7.0-8.6: side by side they are told apart (~3x the
#: just-noticeable difference), not named at a glance — hence the groups and the search.
MIN_FAMILY_DELTA_E = {47: 12.0, 100: 6.5}


def hue_of(lab) -> np.ndarray:
    return np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360


def arc_of(hues) -> tuple[float, float]:
    """The shortest arc ``(start, width)`` holding every hue: the circle less its
    widest empty gap."""
    h = np.sort(hues)
    gaps = np.diff(np.concatenate([h, [h[0] + 360]]))
    i = int(np.argmax(gaps))
    return float(h[(i + 1) % len(h)]), float(360 - gaps[i])


EMNIST = [list(range(10)), list(range(10, 36)), list(range(36, 47))]  # digits, A-Z, a-t
CIFAR_SUPER = [list(range(5 * i, 5 * i + 5)) for i in range(20)]
TENS = [list(range(10 * i, 10 * i + 10)) for i in range(10)]


@pytest.mark.parametrize(
    "k,members",
    [(47, EMNIST), (47, [list(range(i, 47, 5)) for i in range(5)]), (100, CIFAR_SUPER),
     (100, TENS), (100, [list(range(25 * i, 25 * i + 25)) for i in range(4)])],
    ids=["emnist-3", "47-in-5", "cifar-20x5", "100-10x10", "100-4x25"],
)  # fmt: skip
def test_many_classes_take_one_hue_family_per_group(k, members):
    colors = glyphs.class_palette(k, members)
    assert len(colors) == k and len({c.lower() for c in colors}) == k  # all distinct
    lab = srgb_to_lab(colors)
    delta = ciede2000(lab[:, None], lab[None, :])
    np.fill_diagonal(delta, np.inf)
    within = min(delta[np.ix_(m, m)].min() for m in members)
    assert within >= MIN_FAMILY_DELTA_E[k], within
    for other in (glyphs.ABSOLUTE_EMPTY, glyphs.FOCUS_DIM):  # as the 20 colors are
        assert ciede2000(lab, srgb_to_lab([other])[0]).min() >= MIN_DELTA_E
    # Each family's hues lie on an arc of the hue circle that no other family enters,
    # its share of the circle at most its share of the classes.
    hues = hue_of(lab)
    for f, m in enumerate(members):
        start, width = arc_of(hues[m])
        assert width <= 360 * len(m) / k + 1, (f, width)
        others = np.setdiff1d(np.arange(k), m)
        assert (((hues[others] - start) % 360) > width).all(), f


def test_the_package_delta_e_is_the_reference_one():
    from fracdash.core.hue_families import delta_e, hex_rgb, rgb_lab

    rng = np.random.default_rng(0)
    colors = [f"#{v:06x}" for v in rng.integers(0, 1 << 24, 300)]
    np.testing.assert_allclose(rgb_lab(hex_rgb(colors)), srgb_to_lab(colors), atol=1e-9)
    a, b = srgb_to_lab(colors[:150]), srgb_to_lab(colors[150:])
    np.testing.assert_allclose(delta_e(a, b), ciede2000(a, b), rtol=1e-9, atol=1e-9)
