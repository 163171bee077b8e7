"""Glyph PNGs: an index image plus a palette (docs/method.md §6), and a run's class colors.

Every coloring of a layer is the same index image under another palette, so a
recoloring (class focus, relative coloring) never touches the analysis itself.

A run of up to 20 classes takes :data:`CLASS_COLORS`. A run of more is colored in hue
families, one per group of classes (the user's ``--class-groups``, or groups the model
confuses, :mod:`fracdash.core.confusion_groups`): its groups and palette are computed
once, when the run is made, and kept in its ``meta`` (:func:`palette_meta`), so that the
page, the exports and the figures read the same colors (:func:`run_palette`).
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache

import numpy as np

from fracdash.core.confusion_groups import confusion_groups
from fracdash.core.hue_families import family_colors

#: Qualitative palette for up to 20 classes, each pair at least 17.9 CIEDE2000 apart and
#: as far from the empty black and from :data:`FOCUS_DIM`: Tableau 10 (as before, so
#: runs of up to 10 classes keep their look), then 10 picked greedily from Kelly's 22
#: colours of maximum contrast and Trubetskoy's 20 distinct colours, each the farthest
#: from those already chosen (docs/decisions.md, "Charts, palette and the key").
CLASS_COLORS = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    "#000075", "#800000", "#aaffc3", "#911eb4", "#dcbeff",
    "#808000", "#a1caf1", "#bfef45", "#654522", "#f032e6",
]  # fmt: skip
#: Absolute coloring: empty pixels (no sample in the cell) are black.
ABSOLUTE_EMPTY = "#000000"
#: Class focus: every other class's samples in this gray, so that the glyph's outline
#: stays visible against the black empty cells (docs/method.md §6.2).
FOCUS_DIM = "#555555"
#: Relative coloring: code 0 black, 1 gray, 2 white; empty pixels light blue.
RELATIVE_COLORS = ["#000000", "#808080", "#ffffff"]
RELATIVE_EMPTY = "#add8e6"


def palette_constants(analysis=None) -> dict:
    """Every color a glyph may show, for the page's scripts (one source of truth):
    ``classes`` (:data:`CLASS_COLORS`, or the run's own palette beyond 20 classes),
    ``empty``, ``focus_dim``, ``relative`` (codes 0, 1, 2), ``relative_empty``."""
    classes = CLASS_COLORS if analysis is None else run_palette(analysis)
    return {
        "classes": list(classes) if len(classes) > len(CLASS_COLORS) else list(CLASS_COLORS),
        "empty": ABSOLUTE_EMPTY,
        "focus_dim": FOCUS_DIM,
        "relative": list(RELATIVE_COLORS),
        "relative_empty": RELATIVE_EMPTY,
    }


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))


def class_color(k: int, analysis=None) -> str:
    """Color of class ``k``: of ``analysis``' palette (:func:`run_palette`) when given,
    else of :data:`CLASS_COLORS` (classes beyond it cycle through it)."""
    if analysis is not None:
        return run_palette(analysis)[k]
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def class_palette(n_classes: int, members=None) -> list[str]:
    """One color per class: :data:`CLASS_COLORS` up to 20 classes; beyond, a hue family
    per group of ``members`` (:func:`fracdash.core.hue_families.family_colors`), each
    group's classes in index order taking its family's colors in the order chosen.

    Parameters
    ----------
    n_classes : int
    members : list of list of int, optional
        Groups covering ``0..n_classes-1`` once; needed beyond 20 classes.
    """
    if n_classes <= len(CLASS_COLORS):
        return CLASS_COLORS[:n_classes]
    if members is None:
        raise ValueError(f"{n_classes} classes need their groups for a palette")
    colors = [""] * n_classes
    families = family_colors(tuple(len(m) for m in members), (ABSOLUTE_EMPTY, FOCUS_DIM))
    for group, family in zip(members, families, strict=True):
        for k, color in zip(sorted(group), family, strict=True):
            colors[k] = color
    return colors


def found_groups(labels, predictions, n_classes: int) -> dict:
    """Groups of classes the model confuses (:func:`confusion_groups`), named
    ``group 1``, ``group 2``... in the order of their first class."""
    confusion = np.bincount(
        np.asarray(labels, dtype=np.int64) * n_classes + np.asarray(predictions, dtype=np.int64),
        minlength=n_classes * n_classes,
    )
    members = _confusion_groups(n_classes, confusion.astype("<i8").tobytes())
    names = [f"group {i + 1}" for i in range(len(members))]
    return {"names": names, "members": [list(m) for m in members], "source": "confusion"}


@lru_cache(maxsize=16)
def _confusion_groups(n_classes: int, confusion: bytes) -> tuple[tuple[int, ...], ...]:
    """:func:`confusion_groups` keyed by the confusion counts: a run that keeps no
    palette (made before palettes were kept, or still computing) is clustered once."""
    counts = np.frombuffer(confusion, dtype="<i8").reshape(n_classes, n_classes)
    return tuple(tuple(m) for m in confusion_groups(counts))


def palette_meta(labels, predictions, n_classes: int, meta: dict | None = None) -> dict:
    """What a run of more than 20 classes keeps in its ``meta``: ``class_groups``
    (``meta``'s, given by the user, else :func:`found_groups`) and ``class_palette``
    (:func:`class_palette`, one hex color per class); nothing for 20 classes or fewer."""
    if n_classes <= len(CLASS_COLORS):
        return {}
    groups = (meta or {}).get("class_groups") or found_groups(labels, predictions, n_classes)
    return {"class_groups": groups, "class_palette": class_palette(n_classes, groups["members"])}


def run_groups(analysis) -> dict | None:
    """The run's class groups, ``{"names", "members", "source"}``, or None for a run of
    20 classes or fewer (its classes are not grouped)."""
    k = len(analysis.class_names)
    if k <= len(CLASS_COLORS):
        return None
    return analysis.meta.get("class_groups") or found_groups(
        analysis.labels, analysis.predictions, k
    )


def run_palette(analysis) -> list[str]:
    """One hex color per class of ``analysis``: the palette kept in its meta; for a run
    made before palettes were kept, or one still computing, the same computed now."""
    k = len(analysis.class_names)
    if k <= len(CLASS_COLORS):
        return CLASS_COLORS[:k]
    stored = analysis.meta.get("class_palette")
    if stored and len(stored) == k:
        return list(stored)
    return class_palette(k, run_groups(analysis)["members"])


def absolute_palette(
    n_classes: int, focus: int | None = None, colors: list[str] | None = None
) -> list[tuple[int, int, int]]:
    """RGB per class index (``colors``, by default :func:`class_color`'s); with
    ``focus``, every other class is drawn in :data:`FOCUS_DIM` (never as empty: the
    glyph keeps its outline)."""
    dim = _rgb(FOCUS_DIM)
    colors = colors or [class_color(k) for k in range(n_classes)]
    return [_rgb(colors[k]) if focus is None or k == focus else dim for k in range(n_classes)]


def relative_palette() -> list[tuple[int, int, int]]:
    return [_rgb(c) for c in RELATIVE_COLORS]


def index_png(image: np.ndarray, palette: list[tuple[int, int, int]], empty: str) -> bytes:
    """PNG bytes of an index image (``-1`` = empty) under ``palette``.

    Parameters
    ----------
    image : ndarray of int, shape (h, w)
        Palette indices, ``-1`` for empty pixels.
    palette : list of (r, g, b)
        Color of each index.
    empty : str
        Hex color of empty pixels.
    """
    from PIL import Image

    if len(palette) <= 255:
        # Palette PNG: index 0 is "empty", index k+1 is palette entry k.
        pil = Image.fromarray((image + 1).astype(np.uint8), mode="P")
        flat = [v for rgb in [_rgb(empty), *palette] for v in rgb]
        pil.putpalette(flat)
    else:
        lut = np.array([_rgb(empty), *palette], dtype=np.uint8)
        pil = Image.fromarray(lut[image + 1], mode="RGB")
    buf = io.BytesIO()
    pil.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def absolute_png(analysis, name: str, focus: int | None = None) -> bytes:
    """Layer ``name`` in absolute coloring, optionally focused on one class."""
    palette = absolute_palette(len(analysis.class_names), focus, run_palette(analysis))
    return index_png(analysis.class_image(name), palette, ABSOLUTE_EMPTY)


def relative_png(analysis, name: str) -> bytes:
    """Layer ``name`` in relative coloring."""
    return index_png(analysis.code_image(name), relative_palette(), RELATIVE_EMPTY)


def glyph_pngs(analysis, name: str, focus: bool = True) -> dict[str, bytes]:
    """Every coloring of one layer: ``absolute``, ``relative`` and, with ``focus``,
    ``focus-<k>`` per class (the live page draws focus itself; the export needs them)."""
    out = {"absolute": absolute_png(analysis, name), "relative": relative_png(analysis, name)}
    for k in range(len(analysis.class_names) if focus else 0):
        out[f"focus-{k}"] = absolute_png(analysis, name, focus=k)
    return out


def png_uri(data: bytes) -> str:
    """PNG bytes as a ``data:`` URI (a page showing it then fetches nothing)."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
