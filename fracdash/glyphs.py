"""Glyph PNGs: an index image plus a palette (docs/method.md §6).

Every coloring of a layer is the same index image under another palette, so a
recoloring (class focus, relative coloring) never touches the analysis itself.
"""

from __future__ import annotations

import base64
import io

import numpy as np

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


def palette_constants() -> dict:
    """Every color a glyph may show, for the page's scripts (one source of truth):
    ``classes``, ``empty``, ``focus_dim``, ``relative`` (codes 0, 1, 2), ``relative_empty``."""
    return {
        "classes": list(CLASS_COLORS),
        "empty": ABSOLUTE_EMPTY,
        "focus_dim": FOCUS_DIM,
        "relative": list(RELATIVE_COLORS),
        "relative_empty": RELATIVE_EMPTY,
    }


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))


def class_color(k: int) -> str:
    """Color of class ``k`` (classes beyond the palette cycle through it)."""
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def absolute_palette(n_classes: int, focus: int | None = None) -> list[tuple[int, int, int]]:
    """RGB per class index; with ``focus``, every other class is drawn in
    :data:`FOCUS_DIM` (never as empty: the glyph keeps its outline)."""
    dim = _rgb(FOCUS_DIM)
    return [_rgb(class_color(k)) if focus is None or k == focus else dim for k in range(n_classes)]


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
    palette = absolute_palette(len(analysis.class_names), focus)
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
