"""Where a fold puts every node and edge at a glyph scale, in pixels.

The arithmetic of the drawing, given a :class:`~fracdash.layout.fold.Fold` and a scale
``s`` (pixels per sample, any positive number):

- a glyph of ``w x h`` samples is ``w*s x h*s``; its node box adds a name band above and
  a quality band below (``spacing.label`` each) and is as wide as the glyph or its
  label (at most ``spacing.label_max``), whichever is wider;
- a rank's band is as tall as its tallest box; a column stacks its ranks' bands,
  ``spacing.vgap`` apart; columns stand ``spacing.col_gap`` apart, ``spacing.margin``
  around the whole;
- a column's lane is its widest box plus ``spacing.hgap``; a node's centre sits at its
  lane position, and the column spans its lanes ``lo`` to ``hi``;
- an edge leaves its source's box at the bottom, passes each rank it spans in its lane,
  and enters its target's box at the top; across a fold it runs under its column, up
  the gap to the next column and over it.

``assets/dag_fit.js`` does the same arithmetic in the browser on the same data (the
page's label widths are measured there), and a test compares the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from fracdash.layout.fold import Fold, LayeredGraph

#: Label width per character when no measured width is given (px, the page's 12 px font).
CHAR_WIDTH = 7.0


@dataclass(frozen=True)
class Spacing:
    """Room around the glyphs, in pixels (see the module's description)."""

    label: float = 16.0
    hgap: float = 14.0
    vgap: float = 12.0
    col_gap: float = 28.0
    margin: float = 10.0
    label_max: float = 150.0

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Box:
    """A node's box ``(x, y, w, h)`` and its glyph's rectangle inside it."""

    x: float
    y: float
    w: float
    h: float
    glyph: tuple[float, float, float, float]
    column: int
    rank: int


@dataclass(frozen=True)
class Placement:
    """A fold drawn at ``scale``: size, boxes by node name, edge routes, columns.

    Attributes
    ----------
    routes : tuple of (str, str, tuple of (str, float, float))
        Per edge its source, target and points ``(kind, x, y)``: "M" the start, then
        "L" a straight line to the point, "S" an S-curve with vertical ends.
    columns : tuple of (float, float, float, float)
        Each column's ``(x, y, w, h)``.
    """

    scale: float
    width: float
    height: float
    boxes: dict[str, Box]
    routes: tuple[tuple[str, str, tuple[tuple[str, float, float], ...]], ...]
    columns: tuple[tuple[float, float, float, float], ...]


def label_room(graph: LayeredGraph, widths: Mapping[str, float] | None, spacing: Spacing):
    """Each node's label width (px): ``widths`` where given, else CHAR_WIDTH per
    character of its name; at most ``spacing.label_max``."""
    widths = widths or {}
    return {
        n.name: min(float(widths.get(n.name, CHAR_WIDTH * len(n.name))), spacing.label_max)
        for n in graph.nodes
    }


def _frame(graph: LayeredGraph, fold: Fold, s: float, labels: dict, sp: Spacing):
    """Per rank its band height; per column its lane, left edge, width and height."""
    bands = [2 * sp.label] * graph.rank_count
    widest = [0.0] * len(fold.columns)
    col_of = [0] * graph.rank_count
    for c, col in enumerate(fold.columns):
        for r in range(col.first, col.last + 1):
            col_of[r] = c
    for n in graph.nodes:
        bands[n.rank] = max(bands[n.rank], n.height * s + 2 * sp.label)
        widest[col_of[n.rank]] = max(widest[col_of[n.rank]], n.width * s, labels[n.name])
    lanes, lefts, widths, heights = [], [], [], []
    left = sp.margin
    for c, col in enumerate(fold.columns):
        lane = widest[c] + sp.hgap
        width = (col.hi - col.lo) * lane
        ranks = range(col.first, col.last + 1)
        lanes.append(lane)
        lefts.append(left)
        widths.append(width)
        heights.append(sum(bands[r] for r in ranks) + sp.vgap * (len(ranks) - 1))
        left += width + sp.col_gap
    return bands, col_of, lanes, lefts, widths, heights


def drawing_size(
    graph: LayeredGraph, fold: Fold, scale: float, labels: dict, spacing: Spacing = Spacing()
) -> tuple[float, float]:
    """``(width, height)`` of ``fold`` drawn at ``scale`` (``labels``: :func:`label_room`)."""
    *_, widths, heights = _frame(graph, fold, scale, labels, spacing)
    gaps = spacing.col_gap * (len(fold.columns) - 1)
    return (
        2 * spacing.margin + sum(widths) + max(0.0, gaps),
        2 * spacing.margin + max(heights, default=0.0),
    )


def place(
    graph: LayeredGraph, fold: Fold, scale: float, labels: dict, spacing: Spacing = Spacing()
) -> Placement:
    """Every box and edge route of ``fold`` drawn at ``scale`` pixels per sample.

    Parameters
    ----------
    graph : LayeredGraph
    fold : Fold
        One of :func:`~fracdash.layout.fold.candidate_folds` of ``graph``.
    scale : float
        Pixels per sample, > 0.
    labels : dict of str to float
        Each node's label width (:func:`label_room`).
    spacing : Spacing

    Returns
    -------
    Placement
    """
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    sp = spacing
    bands, col_of, lanes, lefts, widths, heights = _frame(graph, fold, scale, labels, sp)
    tops = [0.0] * graph.rank_count
    for col in fold.columns:
        y = sp.margin
        for r in range(col.first, col.last + 1):
            tops[r] = y
            y += bands[r] + sp.vgap
    boxes = {}
    for n in graph.nodes:
        c = col_of[n.rank]
        gw, gh = n.width * scale, n.height * scale
        w = max(gw, labels[n.name])
        h = gh + 2 * sp.label
        cx = lefts[c] + (n.x - fold.columns[c].lo) * lanes[c]
        y = tops[n.rank] + (bands[n.rank] - h) / 2
        glyph = (cx - gw / 2, y + sp.label, gw, gh)
        boxes[n.name] = Box(cx - w / 2, y, w, h, glyph, c, n.rank)

    def lane_x(rank: int, lane: float) -> float:
        c = col_of[rank]
        return lefts[c] + (lane - fold.columns[c].lo) * lanes[c]

    def go(points: list, x: float, y_top: float, rank: int, kind: str) -> None:
        c0, c1 = col_of[rank - 1], col_of[rank]
        if c0 == c1:
            points.append((kind, x, y_top))
            return
        under = sp.margin + heights[c0] + sp.margin / 2
        gap = lefts[c0] + widths[c0] + sp.col_gap / 2
        over = sp.margin / 2
        last_x = points[-1][1]
        points.extend([("L", last_x, under), ("L", gap, under), ("L", gap, over),
                       ("L", x, over), ("L", x, y_top)])  # fmt: skip

    ranks = {n.name: n.rank for n in graph.nodes}
    routes = []
    for e in graph.edges:
        src, dst = boxes[e.source], boxes[e.target]
        points = [("M", src.x + src.w / 2, src.y + src.h)]
        r0, r1 = ranks[e.source], ranks[e.target]
        for r in range(r0 + 1, r1):
            lane = e.via[r - r0 - 1] if r - r0 - 1 < len(e.via) else graph.node(e.source).x
            x = lane_x(r, lane)
            go(points, x, tops[r], r, "S")
            points.append(("L", x, tops[r] + bands[r]))
        go(points, dst.x + dst.w / 2, dst.y, r1, "S")
        routes.append((e.source, e.target, tuple(points)))
    columns = tuple((lefts[c], sp.margin, widths[c], heights[c]) for c in range(len(fold.columns)))
    width, height = drawing_size(graph, fold, scale, labels, sp)
    return Placement(scale, width, height, boxes, tuple(routes), columns)
