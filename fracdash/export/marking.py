"""Glyph pixels with what the page draws over the server's glyphs: a selection (the
other samples faded toward black) and the comparison's coloring by correctness.

The page paints these in the browser (assets/samples.js ``paint``, assets/compare.js
``paintCorrectness``); an export paints the same pixels here, with the same colors
(:data:`CORRECTNESS_COLORS`) and the same fading (:data:`DIM`, rounded as the browser
rounds), so that a picture of a shared view shows what the view showed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from fracdash.glyphs import (
    ABSOLUTE_EMPTY,
    FOCUS_DIM,
    RELATIVE_COLORS,
    RELATIVE_EMPTY,
    run_palette,
)
from fracdash.run_comparison import CORRECTNESS

#: Each correctness code's color (0 both right, 1 only A right, 2 only B right, 3 both
#: wrong), as the page's legend and glyphs show them (assets/compare.js holds the same;
#: a test keeps them equal).
CORRECTNESS_COLORS = ("#d9d9d9", "#0072b2", "#e69f00", "#cc0033")
#: Unselected samples keep this share of their color (assets/samples.js ``DIM``).
DIM = 0.22
#: The glyphs' colorings an export draws; "correctness" needs two runs.
COLORINGS = ("absolute", "relative", "correctness")


@dataclass(frozen=True)
class Marking:
    """What an export draws over every glyph of a run (or of both runs).

    Attributes
    ----------
    mask : ndarray of bool, shape (n,), or None
        The selected samples; the others are faded. None: no selection.
    codes : ndarray of int8, shape (n,), or None
        Each sample's correctness code (``Comparison.correctness``), needed by the
        "correctness" coloring.
    note : str
        The selection in words (``selection: 12 classified differently``), for a title.
    """

    mask: np.ndarray | None = None
    codes: np.ndarray | None = None
    note: str = ""


def _rgb(colors) -> np.ndarray:
    return np.array([[int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)] for c in colors],
                    dtype=np.float64)  # fmt: skip


def faded(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` (any shape, 0..255) times :data:`DIM`, rounded half up as JavaScript's
    ``Math.round``."""
    return np.floor(np.asarray(rgb, dtype=np.float64) * DIM + 0.5)


def correctness_legend() -> list[tuple[str, str]]:
    """``(color, name)`` of each correctness code, in code order."""
    return list(zip(CORRECTNESS_COLORS, CORRECTNESS, strict=True))


def marked_glyph(analysis, name: str, coloring: str, marking: Marking | None = None,
                 focus: int | None = None) -> np.ndarray:  # fmt: skip
    """One layer's glyph as the page paints it, one pixel per grid cell.

    Parameters
    ----------
    analysis : Analysis
    name : str
        The layer.
    coloring : {"absolute", "relative", "correctness"}
        Each sample in its true class's color (:func:`fracdash.glyphs.run_palette`), its
        relative code's, or its correctness code's (``marking.codes``).
    marking : Marking, optional
        With a ``mask``, the unselected samples' colors are faded (:func:`faded`).
    focus : int, optional
        Absolute coloring: every other class in :data:`fracdash.glyphs.FOCUS_DIM`.

    Returns
    -------
    ndarray of uint8, shape (height, width, 3)
        Empty cells in the coloring's empty color (black; light blue for relative).
    """
    marking = marking or Marking()
    g = analysis.layer(name)
    if coloring == "correctness":
        if marking.codes is None:
            raise ValueError("the correctness coloring needs the comparison's codes")
        palette, key, empty = _rgb(CORRECTNESS_COLORS), marking.codes & 3, ABSOLUTE_EMPTY
    elif coloring == "relative":
        key = np.empty(analysis.n, dtype=np.int64)
        key[g.order] = g.codes  # codes are by rank
        palette, empty = _rgb(RELATIVE_COLORS), RELATIVE_EMPTY
    elif coloring == "absolute":
        palette, key, empty = _rgb(run_palette(analysis)), analysis.color_labels, ABSOLUTE_EMPTY
        if focus is not None:
            palette[np.arange(len(palette)) != focus] = _rgb([FOCUS_DIM])[0]
    else:
        raise ValueError(f"coloring must be one of {', '.join(COLORINGS)}, not {coloring!r}")
    colors = palette[np.asarray(key, dtype=np.int64)]
    if marking.mask is not None:
        colors = np.where(np.asarray(marking.mask, dtype=bool)[:, None], colors, faded(colors))
    image = np.empty((g.height, g.width, 3), dtype=np.uint8)
    image[...] = _rgb([empty])[0]
    image[g.positions[:, 1], g.positions[:, 0]] = colors.astype(np.uint8)
    return image


def rgb_png(image: np.ndarray) -> bytes:
    """An ``(h, w, 3)`` uint8 image as PNG bytes."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()
