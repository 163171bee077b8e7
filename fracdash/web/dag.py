"""The DAG view: the layer graph as page data and as Dash components (no callbacks here).

:func:`dag_view` turns an :class:`~fracdash.analysis.Analysis` into plain data —
every glyph's PNG variants as data URIs, node boxes from the Sugiyama layout, edge
segments — and :func:`dag_children` renders that data for one coloring. Recoloring
and class focus swap between the precomputed variants on the client.
"""

from __future__ import annotations

import base64
import html as html_text
from dataclasses import dataclass

from dash import dcc, html

from fracdash.glyphs import glyph_pngs
from fracdash.web import ids
from fracdash.web.dag_layout import NodeBox, edge_points, sugiyama_layout

#: A glyph is scaled up by the largest integer factor keeping it within this size (px).
GLYPH_TARGET = 128
#: Height of the name line above and the quality line below each glyph (px).
LABEL_HEIGHT = 18
#: Extra width of a node box beyond its glyph (room for long layer names).
NODE_PADDING = 16
HGAP, VGAP, MARGIN = 20.0, 30.0, 8.0
#: Dash length (px) of the dotted edges: one dot and its gap; the CSS animation
#: shifts stroke-dashoffset by the same period, so the dots move smoothly.
DASH_PERIOD = 8


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def glyph_scale(side: int, target: int = GLYPH_TARGET) -> int:
    """Integer factor drawing a ``side``-pixel glyph at most ``target`` px (at least 1)."""
    return max(1, target // side)


@dataclass(frozen=True)
class GlyphView:
    """One layer's glyph as the page shows it.

    Attributes
    ----------
    name, kind : str
    output_shape : tuple of int
    quality : float
    side : int
        True size of the PNG (one pixel per sample slot).
    scale : int
        Integer display factor; the glyph is ``side * scale`` px wide on the page.
    absolute, relative : str
        PNG data URIs of the two colorings.
    focus : tuple of str
        PNG data URI of the absolute coloring focused on class k, per class.
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    quality: float
    side: int
    scale: int
    absolute: str
    relative: str
    focus: tuple[str, ...]

    @property
    def display(self) -> int:
        return self.side * self.scale

    def src(self, coloring: str, focus: int | None = None) -> str:
        """The data URI of ``coloring`` ("absolute" / "relative"), focus for absolute only."""
        if coloring == "relative":
            return self.relative
        return self.absolute if focus is None else self.focus[focus]

    def variants(self) -> dict:
        return {"absolute": self.absolute, "relative": self.relative, "focus": list(self.focus)}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    start: tuple[float, float]
    end: tuple[float, float]


@dataclass(frozen=True)
class DagView:
    """The drawn DAG: glyphs in topological order, their boxes, edges and size (px)."""

    glyphs: tuple[GlyphView, ...]
    boxes: dict[str, NodeBox]
    edges: tuple[Edge, ...]
    width: float
    height: float

    def glyph(self, name: str) -> GlyphView:
        for g in self.glyphs:
            if g.name == name:
                return g
        raise KeyError(f"no glyph named {name!r}")


def glyph_view(analysis, name: str) -> GlyphView:
    """Every PNG variant of layer ``name`` of ``analysis``."""
    layer = analysis.layer(name)
    pngs = glyph_pngs(analysis, name)
    k = len(analysis.class_names)
    return GlyphView(
        name=layer.name,
        kind=layer.kind,
        output_shape=tuple(layer.output_shape),
        quality=float(layer.quality),
        side=layer.side,
        scale=glyph_scale(layer.side),
        absolute=png_uri(pngs["absolute"]),
        relative=png_uri(pngs["relative"]),
        focus=tuple(png_uri(pngs[f"focus-{c}"]) for c in range(k)),
    )


def node_size(glyph: GlyphView) -> tuple[float, float]:
    return float(glyph.display + NODE_PADDING), float(glyph.display + 2 * LABEL_HEIGHT)


def dag_view(analysis, glyphs: dict[str, GlyphView] | None = None) -> DagView:
    """Lay out ``analysis``' layer graph top to bottom (Sugiyama).

    Parameters
    ----------
    analysis : Analysis
        Its layers (in topological order) and edges are drawn as they are; pass
        ``analysis.simplified()`` for the simplified network.
    glyphs : dict of str to GlyphView, optional
        Already rendered glyphs by layer name (reused across simplification).
    """
    glyphs = glyphs or {}
    views = tuple(glyphs.get(n) or glyph_view(analysis, n) for n in analysis.layer_names)
    names = [g.name for g in views]
    sizes = {g.name: node_size(g) for g in views}
    boxes, width, height = sugiyama_layout(names, list(analysis.edges), sizes, hgap=HGAP, vgap=VGAP)
    boxes = {n: NodeBox(b.x + MARGIN, b.y + MARGIN, b.w, b.h) for n, b in boxes.items()}
    points = edge_points(boxes, analysis.edges)
    edges = tuple(
        Edge(s, t, p0, p1) for (s, t), (p0, p1) in zip(analysis.edges, points, strict=True)
    )
    return DagView(views, boxes, edges, width + 2 * MARGIN, height + 2 * MARGIN)


def shape_text(shape) -> str:
    """``(26, 26, 6)`` -> ``"26×26×6"``."""
    return "×".join(str(int(s)) for s in shape) or "scalar"


def edge_path(edge: Edge) -> str:
    """SVG path data of a vertical S-curve from the edge's start to its end."""
    (x0, y0), (x1, y1) = edge.start, edge.end
    mid = (y0 + y1) / 2
    return f"M{x0:.1f},{y0:.1f} C{x0:.1f},{mid:.1f} {x1:.1f},{mid:.1f} {x1:.1f},{y1:.1f}"


def edges_svg(view: DagView) -> str:
    """One inline SVG (a single line: no blank line may end the Markdown HTML block)
    with one ``path.fd-edge`` per edge, carrying ``data-source``/``data-target``."""
    esc = html_text.escape
    paths = "".join(
        f'<path class="fd-edge" data-source="{esc(e.source)}" data-target="{esc(e.target)}" '
        f'd="{edge_path(e)}" stroke-dasharray="2 {DASH_PERIOD - 2}"/>'
        for e in view.edges
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="fd-edges-svg" '
        f'width="{view.width:.0f}" height="{view.height:.0f}">\n{paths}\n</svg>'
    )


def glyph_node(glyph: GlyphView, box: NodeBox, coloring: str) -> html.Div:
    """Layer name, glyph image (scaled, pixelated) and quality, at ``box``."""
    image = html.Img(
        id=ids.glyph_id(glyph.name),
        className="fd-glyph",
        src=glyph.src(coloring),
        alt=glyph.name,
        title=f"{glyph.name} ({glyph.kind}) — click to enlarge",
        n_clicks=0,
        style={"width": f"{glyph.display}px", "height": f"{glyph.display}px"},
        **{"data-layer": glyph.name, "data-side": str(glyph.side), "data-kind": glyph.kind},
    )
    return html.Div(
        [
            html.Div(glyph.name, className="fd-node-name"),
            image,
            html.Div(f"{glyph.quality:.3f}", className="fd-node-quality"),
        ],
        className="fd-node",
        style={"left": f"{box.x:.0f}px", "top": f"{box.y:.0f}px", "width": f"{box.w:.0f}px"},
        **{"data-layer": glyph.name},
    )


def dag_children(view: DagView, coloring: str = "absolute") -> html.Div:
    """The DAG canvas: the edge SVG underneath, one absolutely placed node per glyph."""
    edges = dcc.Markdown(edges_svg(view), dangerously_allow_html=True, className="fd-edges")
    nodes = [glyph_node(g, view.boxes[g.name], coloring) for g in view.glyphs]
    return html.Div(
        [edges, *nodes],
        className="fd-dag-canvas",
        style={"width": f"{view.width:.0f}px", "height": f"{view.height:.0f}px"},
    )


def glyph_variants(view: DagView) -> dict[str, dict]:
    """What the client swaps between: {layer: {"absolute", "relative", "focus": [...]}}."""
    return {g.name: g.variants() for g in view.glyphs}
