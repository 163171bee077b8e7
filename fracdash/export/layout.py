"""What both exports share: the layer graph laid out on whole pixels, and the run's
one-line description.

Both use the dashboard's Sugiyama layout (:func:`fracdash.layout.sugiyama_layout`,
top to bottom) on the glyphs' real pixel sizes; only the glyph scale differs (1 in the
PNG, the page's integer factor in the HTML).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from fracdash.layout import NodeBox, edge_points, sugiyama_layout


@dataclass(frozen=True)
class GraphLayout:
    """Node boxes on whole pixels, edge segments, and the drawing's size.

    Attributes
    ----------
    boxes : dict of str to NodeBox
        Each layer's box, integer coordinates, in ``[0, width] x [0, height]``.
    edges : list of (str, str, (x0, y0), (x1, y1))
        Each edge with its segment: bottom centre of the source box to top centre of
        the target box.
    width, height : int
        Size of the drawing.
    """

    boxes: dict[str, NodeBox]
    edges: list[tuple[str, str, tuple[float, float], tuple[float, float]]]
    width: int
    height: int


def glyph_size(analysis, name: str) -> tuple[int, int]:
    """``(width, height)`` in pixels of layer ``name``'s glyph image (one pixel per slot)."""
    layer = analysis.layer(name)
    return int(layer.width), int(layer.height)


def graph_layout(
    analysis, sizes: Mapping[str, tuple[int, int]], *, hgap: float, vgap: float
) -> GraphLayout:
    """Lay ``analysis``' layer graph out top to bottom with node sizes ``sizes``.

    Parameters
    ----------
    analysis : Analysis
        Its layers and edges, drawn as they are (pass ``analysis.simplified()`` for the
        simplified network).
    sizes : dict of str to (int, int)
        Width and height of every layer's node box, in pixels.
    hgap, vgap : float
        Horizontal gap between boxes, vertical gap between layers.

    Returns
    -------
    GraphLayout
    """
    names = analysis.layer_names
    boxes, _, _ = sugiyama_layout(names, list(analysis.edges), dict(sizes), hgap=hgap, vgap=vgap)
    # Whole pixels: a glyph pasted at a fractional offset would have to be resampled.
    boxes = {
        n: NodeBox(float(round(b.x)), float(round(b.y)), float(b.w), float(b.h))
        for n, b in boxes.items()
    }
    width = max((math.ceil(b.x + b.w) for b in boxes.values()), default=0)
    height = max((math.ceil(b.y + b.h) for b in boxes.values()), default=0)
    points = edge_points(boxes, analysis.edges)
    edges = [(s, t, p0, p1) for (s, t), (p0, p1) in zip(analysis.edges, points, strict=True)]
    return GraphLayout(boxes, edges, int(width), int(height))


def run_line(analysis, title: str | None = None) -> str:
    """``title · note · accuracy 98.12% · n = 10,000``: what the run is, on one line."""
    parts = [title] if title else []
    note = analysis.meta.get("note")
    if note:
        parts.append(str(note))
    parts += [f"accuracy {100 * analysis.accuracy:.2f}%", f"n = {analysis.n:,}"]
    return " · ".join(parts)
