"""A run's class palette: runs of up to 20 classes keep the colors they always had; a
run of more keeps its groups and hue-family palette in its meta, and its glyphs, page
payload and legend (grouped, with a search box) all read them. The palette's color
differences are checked in tests/test_glyphs.py against its CIEDE2000 reference."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fracdash import glyphs
from fracdash.analysis import Analysis, make_glyph


def rgb(hex_color):
    return tuple(int(hex_color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))


def decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


#: The palette of runs of up to 20 classes before runs of more had hue families: such
#: runs (and every stored one) keep exactly these colors.
OLD_CLASS_COLORS = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    "#000075", "#800000", "#aaffc3", "#911eb4", "#dcbeff",
    "#808000", "#a1caf1", "#bfef45", "#654522", "#f032e6",
]  # fmt: skip


def toy_run(k: int, labels, predictions, meta=None) -> Analysis:
    labels = np.asarray(labels, dtype=np.int64)
    n = labels.size
    rng = np.random.default_rng(k)
    layers = [make_glyph("input", "InputLayer", (), (3,), rng.permutation(n), labels)]
    return Analysis(layers=layers, labels=labels, predictions=np.asarray(predictions),
                    class_names=[f"c{i}" for i in range(k)], meta=dict(meta or {}))  # fmt: skip


@pytest.mark.parametrize("k", range(1, 21))
def test_runs_of_twenty_classes_or_fewer_keep_the_old_colors(k):
    labels = np.arange(3 * k) % k
    run = toy_run(k, labels, (labels + 1) % k)  # a classifier that confuses every class
    assert glyphs.class_palette(k) == OLD_CLASS_COLORS[:k]
    assert glyphs.run_palette(run) == OLD_CLASS_COLORS[:k] and glyphs.run_groups(run) is None
    assert glyphs.palette_meta(labels, labels, k) == {}  # nothing new stored
    assert glyphs.palette_constants(run)["classes"] == OLD_CLASS_COLORS
    assert [glyphs.class_color(i, run) for i in range(k)] == OLD_CLASS_COLORS[:k]
    assert glyphs.class_color(k + 20) == OLD_CLASS_COLORS[k % 20]  # as before


def test_the_found_groups_of_a_run_are_its_confused_blocks_and_its_families():
    rng = np.random.default_rng(4)
    blocks = np.split(rng.permutation(47), [9, 20, 31, 40])
    block_of = np.empty(47, dtype=int)
    for b, members in enumerate(blocks):
        block_of[members] = b
    labels = np.repeat(np.arange(47), 12)
    wrong = np.array([rng.choice(blocks[block_of[t]]) for t in labels])
    predictions = np.where(np.arange(labels.size) % 3 == 0, wrong, labels)
    meta = glyphs.palette_meta(labels, predictions, 47)
    assert {frozenset(m) for m in meta["class_groups"]["members"]} == {
        frozenset(int(i) for i in b) for b in blocks
    }
    assert meta["class_groups"]["source"] == "confusion"
    assert meta["class_groups"]["names"] == [f"group {i}" for i in range(1, 6)]
    assert meta["class_palette"] == glyphs.class_palette(47, meta["class_groups"]["members"])
    run = toy_run(47, labels, predictions)  # a run made before palettes were kept
    assert glyphs.run_palette(run) == meta["class_palette"]
    assert glyphs.run_groups(run) == meta["class_groups"]


def test_a_run_reads_the_palette_it_keeps():
    labels = np.arange(60) % 30
    given = {"names": ["a", "b"], "members": [list(range(15)), list(range(15, 30))],
             "source": "given"}  # fmt: skip
    meta = glyphs.palette_meta(labels, labels, 30, {"class_groups": given})
    assert meta["class_groups"] == given  # the user's groups, not the confusions'
    run = Analysis.from_bytes(toy_run(30, labels, labels, meta).to_bytes())
    assert glyphs.run_palette(run) == meta["class_palette"] and glyphs.run_groups(run) == given
    kept = [f"#{0x101010 * (i % 15) + i:06x}" for i in range(30)]  # as if made otherwise
    run.meta["class_palette"] = kept
    assert glyphs.run_palette(run) == kept and glyphs.class_color(7, run) == kept[7]
    assert glyphs.palette_constants(run)["classes"] == kept


def test_glyph_pixels_of_a_hundred_classes_take_the_run_palette():
    rng = np.random.default_rng(8)
    labels = np.concatenate([np.arange(100), rng.integers(0, 100, 50)])
    run = toy_run(100, labels, labels, glyphs.palette_meta(labels, labels, 100))
    palette = run.meta["class_palette"]
    g = run.layer("input")
    pixels = decode(glyphs.absolute_png(run, "input"))
    for i, (x, y) in enumerate(g.positions):
        assert tuple(pixels[y, x]) == rgb(palette[labels[i]])
    focused = decode(glyphs.absolute_png(run, "input", focus=42))
    for i, (x, y) in enumerate(g.positions):
        want = palette[42] if labels[i] == 42 else glyphs.FOCUS_DIM
        assert tuple(focused[y, x]) == rgb(want)


def legend_of_stored_run(tmp_path, analysis):
    """The legend the page's callback renders for ``analysis``, stored as run "many"."""
    from helpers import store_analysis

    from fracdash.store import Store
    from fracdash.web import create_app
    from fracdash.web.app import context_of

    store_analysis(tmp_path / "store", "many", analysis)
    store = Store(tmp_path / "store")
    context = context_of(create_app(store, default_run="many"))
    try:
        legend, _ = context.callbacks["render_legend"]("many")
    finally:
        context.jobs.stop()
        store.close()
    return legend


def check_grouped_legend(legend, analysis, names, members):
    from helpers import walk

    labels, search, *sections, key = legend
    assert labels.className == "fd-legend-labels" and key.className == "fd-key"
    assert search.className == "fd-legend-search"
    (box,) = [c for c in walk(search) if type(c).__name__ == "Input"]
    assert box.type == "search" and box.placeholder == "one of 100 classes"
    palette = analysis.meta["class_palette"]
    assert len(sections) == len(names)
    seen = []
    for section, name, want in zip(sections, names, members, strict=True):
        props = section.to_plotly_json()["props"]
        assert props["className"] == "fd-legend-group" and props["aria-label"] == name
        title, *items = section.children
        assert [c.children for c in title.children] == [name, str(len(want))]
        assert [int(item.to_plotly_json()["props"]["data-class"]) for item in items] == want
        for item in items:
            props = item.to_plotly_json()["props"]
            k = int(props["data-class"])
            swatch, label = item.children
            assert props["data-color"] == swatch.style["backgroundColor"] == palette[k]
            assert label.children == analysis.class_names[k]
            assert props["tabIndex"] == 0 and props["role"] == "button"
            seen.append(k)
    assert sorted(seen) == list(range(100))  # every class once, hoverable and pinnable
    stripes = key.children[0].children[1].children[0].style["background"]
    assert all(palette[m[0]] in stripes for m in members[:5])  # one hue a group


def test_a_hundred_class_run_shows_its_groups_and_a_search_box(tmp_path):
    from helpers import many_class_analysis

    from fracdash.web.samples import payload

    analysis = many_class_analysis()
    groups = analysis.meta["class_groups"]
    assert groups["source"] == "confusion" and 2 <= len(groups["names"]) <= 12
    legend = legend_of_stored_run(tmp_path, analysis)
    check_grouped_legend(legend, analysis, groups["names"], groups["members"])
    # The page paints with the same colors (the browser draws focus and predictions).
    assert payload(analysis, "many")["colors"]["classes"] == analysis.meta["class_palette"]


def test_a_run_with_given_superclasses_shows_them_in_the_legend(tmp_path):
    from helpers import CIFAR100, CIFAR100_GROUPS, many_class_analysis

    from fracdash.inputs.class_groups import check_class_groups

    given = check_class_groups(CIFAR100_GROUPS, CIFAR100, 100, [])
    analysis = many_class_analysis(meta={"class_groups": given})
    assert analysis.meta["class_groups"] == given
    legend = legend_of_stored_run(tmp_path, analysis)
    members = [sorted(CIFAR100.index(c) for c in group) for group in CIFAR100_GROUPS.values()]
    check_grouped_legend(legend, analysis, list(CIFAR100_GROUPS), members)
