"""The DAG view: the layer graph as page data and as Dash components (no callbacks here).

:func:`dag_view` turns an :class:`~fracdash.analysis.Analysis` into plain data — every
glyph's PNG variants as data URIs, each layer's Sugiyama rank, order and lane, the
edges, and every candidate fold of the graph into columns (:mod:`fracdash.layout`, the
exports' fold too) — and :func:`dag_children` renders it for one coloring: one node per
layer (name, glyph, quality) and the graph as JSON on the canvas. The browser, which
alone knows the window, picks the fold and the glyph scale that fill it
(``assets/dag_fit.js``, placed by ``assets/dag_view.js``), again on every resize.
Recoloring and class focus swap between the precomputed variants on the client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from dash import html

from fracdash.figures import READING_MEANS
from fracdash.glyphs import glyph_pngs, png_uri
from fracdash.layout import Fold, LayeredGraph, Spacing, candidate_folds, layered_graph
from fracdash.readings import layer_readings
from fracdash.web import ids


def png_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` of a PNG, read from its IHDR chunk (always the first)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@dataclass(frozen=True)
class GlyphView:
    """One layer's glyph as the page shows it.

    Attributes
    ----------
    name, kind : str
    output_shape : tuple of int
    quality : float
    width, height : int
        True size of the PNG in pixels (one pixel per sample slot); a glyph is a
        rectangle in general, never assumed square.
    absolute, relative : str
        PNG data URIs of the two colorings. Class focus, predicted labels and a
        selection are drawn by the browser over them (assets/sample_view.js).
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    quality: float
    width: int
    height: int
    absolute: str
    relative: str

    def src(self, coloring: str) -> str:
        """The data URI of ``coloring`` ("absolute" / "relative")."""
        return self.relative if coloring == "relative" else self.absolute

    def variants(self) -> dict:
        return {"absolute": self.absolute, "relative": self.relative}


@dataclass(frozen=True)
class DagView:
    """The layer graph as the page gets it: glyphs in topological order, edges
    ``(source, target)``, the graph layered for folding and its candidate folds."""

    glyphs: tuple[GlyphView, ...]
    edges: tuple[tuple[str, str], ...]
    graph: LayeredGraph
    folds: tuple[Fold, ...]
    #: Layer name -> "onset" or "degraded" (fracdash.readings), flagged on its node.
    flags: dict = field(default_factory=dict)

    def glyph(self, name: str) -> GlyphView:
        for g in self.glyphs:
            if g.name == name:
                return g
        raise KeyError(f"no glyph named {name!r}")


def glyph_view(analysis, name: str) -> GlyphView:
    """Every PNG variant of layer ``name`` of ``analysis``."""
    layer = analysis.layer(name)
    pngs = glyph_pngs(analysis, name, focus=False)
    width, height = png_size(pngs["absolute"])
    return GlyphView(
        name=layer.name,
        kind=layer.kind,
        output_shape=tuple(layer.output_shape),
        quality=float(layer.quality),
        width=width,
        height=height,
        absolute=png_uri(pngs["absolute"]),
        relative=png_uri(pngs["relative"]),
    )


def dag_view(analysis, glyphs: dict[str, GlyphView] | None = None) -> DagView:
    """The page data of ``analysis``' layer graph.

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
    edges = tuple(dict.fromkeys(analysis.edges))
    sizes = {g.name: (g.width, g.height) for g in views}
    graph = layered_graph([g.name for g in views], edges, sizes)
    readings = layer_readings(analysis)
    flags = dict.fromkeys(readings["degraded"], "degraded")
    if readings["onset"] is not None:
        flags[readings["onset"]] = "onset"
    return DagView(views, edges, graph, candidate_folds(graph), flags)


def graph_data(view: DagView) -> dict:
    """What ``assets/dag_fit.js`` lays out, as JSON-able data.

    Returns
    -------
    dict
        ``nodes``: per layer, in topological order, ``name``, ``kind``, ``quality``,
        ``width`` and ``height`` (the glyph's pixels), ``rank``, ``order`` and ``x``
        (its lane); ``edges``: ``source``, ``target`` and ``via``, the lanes a long
        edge passes through at the ranks between its ends; ``folds``: every candidate
        fold (:meth:`fracdash.layout.Fold.to_json`); ``spacing``: the room around the
        glyphs in pixels (:class:`fracdash.layout.Spacing`).
    """
    data = view.graph.to_json()
    extra = {g.name: {"kind": g.kind, "quality": round(g.quality, 3)} for g in view.glyphs}
    data["nodes"] = [{**node, **extra[node["name"]]} for node in data["nodes"]]
    data["folds"] = [fold.to_json() for fold in view.folds]
    data["spacing"] = Spacing().to_json()
    return data


def shape_text(shape) -> str:
    """``(26, 26, 6)`` -> ``"26×26×6"``."""
    return "×".join(str(int(s)) for s in shape) or "scalar"


#: What a flagged node's quality says in its tooltip (assets/samples.css adds ▲ / ▼):
#: the words of the quality chart's key.
FLAGS = {"onset": f"▲ {READING_MEANS['onset']}", "degraded": f"▼ {READING_MEANS['degraded']}"}


def glyph_node(
    glyph: GlyphView, coloring: str, flag: str | None = None, pending: bool = False,
    side: str = "a",
) -> html.Div:  # fmt: skip
    """Layer name (a click enlarges the glyph), glyph image and quality; placed and
    sized by assets/dag_view.js. Over the image lie a canvas (the browser's own
    drawing: predicted labels, a selection) and a layer of sample marks, both drawn by
    assets/sample_view.js. ``side``: "b" for the second run of a comparison (its ids'
    types :data:`~fracdash.web.ids.GLYPH_B`, :data:`~fracdash.web.ids.GLYPH_NAME_B`)."""
    size = {"data-width": str(glyph.width), "data-height": str(glyph.height)}
    if glyph.width == glyph.height:
        size["data-side"] = str(glyph.width)
    layer = {"data-layer": glyph.name}
    image = html.Img(
        id=ids.glyph_id(glyph.name, side),
        className="fd-glyph",
        src=glyph.src(coloring),
        alt=glyph.name,
        # A dragged glyph pans the graph; the browser's own image drag would not.
        draggable="false",
        **{**layer, "data-kind": glyph.kind, **size},
    )
    return html.Div(
        [
            html.Div(
                glyph.name,
                id=ids.glyph_name_id(glyph.name, side),
                className="fd-node-name",
                title=f"{glyph.name} ({glyph.kind}) — click to enlarge",
                n_clicks=0,
            ),
            image,
            html.Canvas(className="fd-glyph-layer fd-overlay", **layer, **size),
            html.Div(className="fd-glyph-layer fd-marks", **layer),
            html.Div(
                f"{glyph.quality:.3f}",  # the flag's mark comes from CSS (data-reading)
                className="fd-node-quality",
                title=FLAGS[flag] if flag else "quality (docs/method.md §6)",
            ),
        ],
        className="fd-node fd-pending" if pending else "fd-node",
        **layer,
        **({"data-reading": flag} if flag else {}),
    )


def view_tools() -> html.Div:
    """The current scale (screen pixels per sample, written by assets/dag_view.js), the
    "crisp" button (whole screen pixels per sample) and the "fit" button."""
    return html.Div(
        [
            html.Span(className="fd-scale", title="screen pixels per sample"),
            html.Button(
                "crisp",
                className="fd-crisp",
                title="every sample an equal square of whole screen pixels (1:1 at the least)",
            ),
            html.Button(
                "fit",
                className="fd-fit",
                title="show the whole graph (double-click the background); wheel: zoom, "
                "drag: move",
            ),
        ],
        className="fd-view-tools",
    )


def dag_children(
    view: DagView,
    coloring: str = "absolute",
    run: str | None = None,
    curve: str = "",
    pending: frozenset = frozenset(),
    side: str = "a",
) -> html.Div:
    """The DAG canvas: an empty edge layer (the browser draws the SVG edges once it has
    placed the nodes), one node per glyph, the view tools (:func:`view_tools`); the
    graph as ``data-graph``, the run and its curve as ``data-run`` and ``data-curve``
    (the browser fetches the run's sample data by them, assets/sample_view.js), and
    ``data-side``: "a", or "b" for the second run of a comparison (the browser scopes
    every layer by its canvas' run, as two runs may have layers of one name)."""
    flags = {} if pending else view.flags  # no readings on a graph still being ordered
    nodes = [glyph_node(g, coloring, flags.get(g.name), g.name in pending, side)
             for g in view.glyphs]  # fmt: skip
    return html.Div(
        [html.Div(className="fd-edges"), *nodes, view_tools()],
        className="fd-dag-canvas",
        **{
            "data-graph": json.dumps(graph_data(view), separators=(",", ":")),
            "data-run": run or "",
            "data-curve": curve,
            "data-side": side,
        },
    )


def glyph_variants(view: DagView) -> dict[str, dict]:
    """What the client swaps between: {layer: {"absolute", "relative"}}."""
    return {g.name: g.variants() for g in view.glyphs}
