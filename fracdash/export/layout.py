"""What both exports share: the layer graph folded as on the page, at a whole number of
pixels per sample, and the run's one-line description.

The page and the exports fold with the same candidates (:func:`fracdash.layout.candidate_folds`)
and place a fold with the same arithmetic (:func:`fracdash.layout.place`). The page picks
the fold and scale that fill its window; an export has no window, so it draws every
glyph at :func:`export_scale` (legible, whole pixels per sample) and picks the fold
whose drawing best fills a screen-shaped picture (:data:`ASPECT`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from fracdash.layout import (
    Fold,
    LayeredGraph,
    Placement,
    Spacing,
    candidate_folds,
    drawing_size,
    label_room,
    layered_graph,
    place,
)

#: A glyph's longer side is at least this many pixels in an export: a 2,000-sample glyph
#: (45x45 samples on the compact curve) at 3 px per sample, so that one sample is a
#: visible square and a glyph is as wide as a 16-character name. Larger glyphs keep
#: 1 px per sample.
MIN_GLYPH = 128
#: The shape (width / height) an export's drawing aims at: a screen's, or a slide's.
ASPECT = 16 / 10
#: Whole blocks (a "clean" fold) are worth a drawing filling up to a quarter less of
#: the picture, as on the page.
CLEAN_SHARE = 0.75
#: Room around the glyphs: the page's.
SPACING = Spacing()
FONT_SIZE = 12
#: Added to a label's drawn width, as the page does (assets/dag_view.js).
LABEL_PADDING = 6


@lru_cache(maxsize=4)
def font(size: int):
    """Pillow's built-in scalable font at ``size`` px (its bitmap font on old Pillows)."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1: a scalable font
    except TypeError:  # older Pillow: its one bitmap font
        return ImageFont.load_default()


def text_width(text: str, size: int = FONT_SIZE) -> int:
    return math.ceil(font(size).getlength(text))


def glyph_size(analysis, name: str) -> tuple[int, int]:
    """``(width, height)`` in pixels of layer ``name``'s glyph image (one pixel per slot)."""
    layer = analysis.layer(name)
    return int(layer.width), int(layer.height)


def export_scale(width: int, height: int) -> int:
    """Pixels per sample of a ``width x height`` glyph in an export: the least whole
    number giving a longer side of at least :data:`MIN_GLYPH` pixels (1 or more)."""
    return max(1, math.ceil(MIN_GLYPH / max(width, height, 1)))


@dataclass(frozen=True)
class GraphLayout:
    """An analysis' layer graph as an export draws it.

    Attributes
    ----------
    graph : LayeredGraph
    fold : Fold
        The chosen one of ``candidate_folds(graph)``.
    scale : int
        Pixels per sample of every glyph.
    placement : Placement
        Every box and edge route (``fracdash.layout.place`` of ``fold`` at ``scale``).
    width, height : int
        Size of the drawing, whole pixels.
    """

    graph: LayeredGraph
    fold: Fold
    scale: int
    placement: Placement
    width: int
    height: int

    def glyph_rect(self, name: str) -> tuple[int, int, int, int]:
        """Layer ``name``'s glyph ``(x, y, w, h)`` on whole pixels (pasted, never resampled)."""
        x, y, w, h = self.placement.boxes[name].glyph
        return round(x), round(y), round(w), round(h)


def label_widths(analysis) -> dict[str, float]:
    """Each layer's widest label (name or quality) in pixels, as an export draws it."""
    return {
        g.name: max(text_width(g.name), text_width(f"{g.quality:.3f}")) + LABEL_PADDING
        for g in analysis.layers
    }


def fill(size: tuple[float, float], aspect: float = ASPECT) -> float:
    """Share of the smallest ``aspect``-shaped rectangle around a drawing of ``size``
    that the drawing covers (1: exactly that shape)."""
    width, height = size
    box = max(width, height * aspect)
    return (width * height) / (box * box / aspect) if width > 0 and height > 0 else 0.0


def export_fold(
    graph: LayeredGraph, folds, scale: float, labels: dict, spacing: Spacing = SPACING,
    aspect: float = ASPECT,
) -> Fold:  # fmt: skip
    """The fold whose drawing at ``scale`` best fills an ``aspect``-shaped picture: the
    best "clean" one unless an "any" one fills more by over a quarter; ties go to the
    fewer columns."""
    best: dict[str, tuple[float, Fold]] = {}
    for fold in folds:
        value = fill(drawing_size(graph, fold, scale, labels, spacing), aspect)
        if fold.mode not in best or value > best[fold.mode][0] + 1e-9:
            best[fold.mode] = (value, fold)
    clean, any_ = best.get("clean"), best.get("any")
    if clean and (not any_ or clean[0] >= CLEAN_SHARE * any_[0]):
        return clean[1]
    return (any_ or clean)[1]


def graph_layout(analysis, labels: dict[str, float] | None = None) -> GraphLayout:
    """Fold ``analysis``' layer graph for an export.

    Parameters
    ----------
    analysis : Analysis
        Its layers and edges, drawn as they are (pass ``analysis.simplified()`` for the
        simplified network, ``analysis.on_curve("paper")`` for the paper's curve).
    labels : dict of str to float, optional
        Each layer's label width in pixels; :func:`label_widths` by default.

    Returns
    -------
    GraphLayout
    """
    names = analysis.layer_names
    sizes = {name: glyph_size(analysis, name) for name in names}
    graph = layered_graph(names, list(analysis.edges), sizes)
    scale = export_scale(max((w for w, _ in sizes.values()), default=1),
                         max((h for _, h in sizes.values()), default=1))  # fmt: skip
    room = label_room(graph, labels if labels is not None else label_widths(analysis), SPACING)
    folds = candidate_folds(graph)
    if not folds:
        raise ValueError("an analysis with no layers cannot be exported")
    fold = export_fold(graph, folds, scale, room)
    placement = place(graph, fold, scale, room, SPACING)
    width, height = math.ceil(placement.width), math.ceil(placement.height)
    return GraphLayout(graph, fold, scale, placement, width, height)


def run_line(analysis, title: str | None = None) -> str:
    """``title · note · compact curve · accuracy 98.12% · n = 10,000``: the run on one line."""
    parts = [title] if title else []
    note = analysis.meta.get("note")
    if note:
        parts.append(str(note))
    parts += [f"{analysis.curve} curve", f"accuracy {100 * analysis.accuracy:.2f}%",
              f"n = {analysis.n:,}"]  # fmt: skip
    return " · ".join(parts)
