"""Top-to-bottom layered (Sugiyama) layout of the layer graph, on grandalf.

Two forms. :func:`sugiyama_ranks` gives what the page needs: each node's rank (its
layer, sources 0), its order within the rank and its horizontal place in *lanes*, and
the lanes a long edge passes through; the browser folds the ranks into columns that
fit the window (``assets/dag_fit.js``), which only it can measure. :func:`sugiyama_layout`
gives boxes in pixels, for drawings of a fixed size (the exports).

Boxes are in pixels with a top-left origin and y growing downward: sources sit in
the top layer and every edge points down. Each connected component is laid out on
its own and the components are placed side by side, left to right.

Only the dashboard's DAG view (:mod:`fracdash.web.dag`) and the exports draw the graph,
so the layout (and its grandalf dependency) lives here, not in :mod:`fracdash.core`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from grandalf.graphs import Edge, Vertex, graph_core
from grandalf.layouts import SugiyamaLayout

from fracdash.core.graph import topological_order


@dataclass(frozen=True)
class NodeBox:
    """A node's rectangle: left edge ``x``, top edge ``y``, width ``w``, height ``h``."""

    x: float
    y: float
    w: float
    h: float


class _View:
    """What grandalf reads (``w``, ``h``) and writes (``xy``, the centre) per vertex."""

    def __init__(self, w: float, h: float) -> None:
        self.w = w
        self.h = h
        self.xy: tuple[float, float] | None = None


def _check(
    names: Sequence[str],
    edges: Sequence[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]],
    hgap: float,
    vgap: float,
) -> None:
    if len(set(names)) != len(names):
        raise ValueError("node names must be unique")
    missing = [n for n in names if n not in sizes]
    if missing:
        raise ValueError(f"no size for node(s): {', '.join(map(repr, missing))}")
    bad = [n for n in names if not (sizes[n][0] > 0 and sizes[n][1] > 0)]
    if bad:
        raise ValueError(f"sizes must be positive; not for {', '.join(map(repr, bad))}")
    if hgap < 0 or vgap < 0:
        raise ValueError(f"hgap and vgap must be >= 0, got {hgap} and {vgap}")
    for src, dst in edges:
        if src == dst:
            raise ValueError(f"self-loop on {src!r}: the layer graph must be acyclic")
    topological_order(names, edges)  # raises on unknown nodes and on cycles


def _components(
    names: Sequence[str], edges: Sequence[tuple[str, str]]
) -> list[tuple[list[str], list[tuple[str, str]]]]:
    """Connected components as (names, edges), both in input order, ordered by their
    first listed node. (grandalf's ``Graph`` collects edges in a set, whose order
    depends on object addresses: the layout would change from run to run.)"""
    parent = {name: name for name in names}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for src, dst in edges:
        parent[root(dst)] = root(src)
    groups: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}
    for name in names:
        groups.setdefault(root(name), ([], []))[0].append(name)
    for src, dst in edges:
        groups[root(src)][1].append((src, dst))
    return list(groups.values())


def _sugiyama(
    names: list[str],
    edges: list[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]],
    hgap: float,
    vgap: float,
    dummy_width: float | None = None,
) -> tuple[SugiyamaLayout, dict[str, Vertex], list[Edge]]:
    """grandalf's drawing of one connected component: the layout, vertices by name and
    edges in the order of ``edges``. ``dummy_width`` overrides the width grandalf gives
    the dummy vertices of long edges (by default the median node's)."""
    vertices = {}
    for name in names:
        vertex = Vertex(name)
        vertex.view = _View(float(sizes[name][0]), float(sizes[name][1]))
        vertices[name] = vertex
    links = [Edge(vertices[s], vertices[t]) for s, t in edges]
    sl = SugiyamaLayout(graph_core(list(vertices.values()), links))
    sl.xspace = hgap
    sl.yspace = vgap
    if dummy_width is not None:
        sl.dw = dummy_width
    # Sources are the roots (layer 0) and y grows with the layer: sources on top.
    roots = [vertices[name] for name in names if len(vertices[name].e_in()) == 0]
    sl.init_all(roots=roots, inverted_edges=[])
    sl.draw()
    return sl, vertices, links


def _layout_component(
    names: list[str],
    edges: list[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]],
    hgap: float,
    vgap: float,
) -> dict[str, tuple[float, float]]:
    """Centres ``(x, y)`` of one connected component's nodes, by name."""
    _, vertices, _ = _sugiyama(names, edges, sizes, hgap, vgap)
    return {name: tuple(vertex.view.xy) for name, vertex in vertices.items()}


#: Lane geometry handed to grandalf by :func:`sugiyama_ranks`: a node is 4 units wide
#: and nodes stand 1 unit apart, so one lane is 5 units; the dummy vertex of a long
#: edge is 1 unit wide, so an edge passing beside a node keeps clear of it.
_NODE_UNITS, _GAP_UNITS, _DUMMY_UNITS = 4.0, 1.0, 1.0
_LANE_UNITS = _NODE_UNITS + _GAP_UNITS


@dataclass(frozen=True)
class Ranking:
    """The layered form of a graph, for a drawing sized later (in the browser).

    Attributes
    ----------
    rank : dict of str to int
        Each node's layer: sources 0, every edge from a lower rank to a higher one.
    order : dict of str to int
        Each node's place among the nodes of its rank, 0 on the left.
    x : dict of str to float
        Each node's horizontal centre in lanes (one lane: a node's width plus the gap
        between two nodes); the leftmost node or edge of the graph is at 0.
    via : dict of (str, str) to tuple of float
        For each edge spanning more than one rank, its place in lanes at every rank it
        crosses (``rank[source] + 1`` to ``rank[target] - 1``); other edges: ``()``.
    """

    rank: dict[str, int]
    order: dict[str, int]
    x: dict[str, float]
    via: dict[tuple[str, str], tuple[float, ...]]


def sugiyama_ranks(names: list[str], edges: list[tuple[str, str]]) -> Ranking:
    """Ranks, orders and lanes of a DAG's nodes (grandalf's Sugiyama layering).

    Every node counts as one lane wide, so a drawing can give the lanes whatever width
    its glyphs need; connected components sit side by side, left to right.

    Parameters
    ----------
    names : list of str
        Node names, unique; their order breaks ties, so equal inputs give equal output.
    edges : list of (str, str)
        Directed edges ``(source, target)`` of an acyclic graph; duplicates are ignored.

    Returns
    -------
    Ranking

    Raises
    ------
    ValueError
        On duplicate names, an edge naming an unknown node, or a cycle.
    """
    unit = {name: (_NODE_UNITS, _NODE_UNITS) for name in names}
    _check(names, edges, unit, 0.0, 0.0)
    unique_edges = list(dict.fromkeys((src, dst) for src, dst in edges))
    rank: dict[str, int] = {}
    order: dict[str, int] = {}
    x: dict[str, float] = {}
    via: dict[tuple[str, str], tuple[float, ...]] = {}
    left = 0.0
    for members, component_edges in _components(names, unique_edges):
        sl, vertices, links = _sugiyama(
            members, component_edges, unit, _GAP_UNITS, _GAP_UNITS, _DUMMY_UNITS
        )
        lanes = {name: v.view.xy[0] / _LANE_UNITS for name, v in vertices.items()}
        paths = {}
        for (src, dst), link in zip(component_edges, links, strict=True):
            ctrl = sl.ctrls.get(link, {})
            steps = range(sl.grx[vertices[src]].rank + 1, sl.grx[vertices[dst]].rank)
            paths[src, dst] = [ctrl[r].view.xy[0] / _LANE_UNITS for r in steps]
        lowest = min([*lanes.values(), *(v for p in paths.values() for v in p)])
        for name, vertex in vertices.items():
            rank[name] = sl.grx[vertex].rank
            x[name] = lanes[name] - lowest + left
        for key, path in paths.items():
            via[key] = tuple(v - lowest + left for v in path)
        left = max([*x.values(), *(v for p in via.values() for v in p)]) + 1.0
    by_rank: dict[int, list[str]] = {}
    for name in names:
        by_rank.setdefault(rank[name], []).append(name)
    for row in by_rank.values():
        for i, name in enumerate(sorted(row, key=x.__getitem__)):
            order[name] = i
    return Ranking(
        rank={n: rank[n] for n in names},
        order={n: order[n] for n in names},
        x={n: x[n] for n in names},
        via={key: via[key] for key in unique_edges},
    )


def sugiyama_layout(
    names: list[str],
    edges: list[tuple[str, str]],
    sizes: dict[str, tuple[float, float]],
    *,
    hgap: float = 24.0,
    vgap: float = 40.0,
) -> tuple[dict[str, NodeBox], float, float]:
    """Top-to-bottom layered layout (grandalf's ``SugiyamaLayout``).

    Parameters
    ----------
    names : list of str, length m
        Node names, unique. Their order breaks ties, so equal inputs give equal output.
    edges : list of (str, str)
        Directed edges ``(source, target)`` of an acyclic graph; duplicates are ignored.
    sizes : dict of str to (float, float)
        Width and height of every node's box, in pixels, > 0.
    hgap, vgap : float
        Minimum horizontal gap between boxes (and between components), and vertical
        gap between layers.

    Returns
    -------
    boxes : dict of str to NodeBox
        Each node's box; all coordinates >= 0, top-left origin, y growing downward,
        sources at the top.
    width, height : float
        Size of the whole drawing: every box lies inside ``[0, width] x [0, height]``.

    Raises
    ------
    ValueError
        On duplicate names, a missing or non-positive size, an edge naming an unknown
        node, or a cycle.
    """
    _check(names, edges, sizes, hgap, vgap)
    if not names:
        return {}, 0.0, 0.0
    unique_edges = list(dict.fromkeys((src, dst) for src, dst in edges))
    boxes: dict[str, NodeBox] = {}
    left = 0.0
    height = 0.0
    for members, component_edges in _components(names, unique_edges):
        centres = _layout_component(members, component_edges, sizes, hgap, vgap)
        w = np.array([sizes[n][0] for n in members], dtype=float)
        h = np.array([sizes[n][1] for n in members], dtype=float)
        cx = np.array([centres[n][0] for n in members], dtype=float)
        cy = np.array([centres[n][1] for n in members], dtype=float)
        x0 = cx - w / 2
        y0 = cy - h / 2
        dx = left - x0.min()
        dy = -min(0.0, y0.min())
        for i, name in enumerate(members):
            boxes[name] = NodeBox(float(x0[i] + dx), float(y0[i] + dy), float(w[i]), float(h[i]))
        right = float((x0 + w).max() + dx)
        height = max(height, float((y0 + h).max() + dy))
        left = right + hgap
    width = left - hgap
    return {name: boxes[name] for name in names}, width, height


def edge_points(
    boxes: Mapping[str, NodeBox], edges: Iterable[tuple[str, str]]
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Straight segment of each edge: bottom centre of the source box to top centre of
    the target box.

    Parameters
    ----------
    boxes : dict of str to NodeBox
        As returned by :func:`sugiyama_layout`.
    edges : iterable of (str, str)
        Edges ``(source, target)``.

    Returns
    -------
    list of ((x0, y0), (x1, y1))
        One segment per edge, in the order of ``edges``.
    """
    out = []
    for src, dst in edges:
        a, b = boxes[src], boxes[dst]
        out.append(((a.x + a.w / 2, a.y + a.h), (b.x + b.w / 2, b.y)))
    return out
