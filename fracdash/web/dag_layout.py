"""Top-to-bottom layered (Sugiyama) layout of the layer graph, on grandalf.

Boxes are in pixels with a top-left origin and y growing downward: sources sit in
the top layer and every edge points down. Each connected component is laid out on
its own and the components are placed side by side, left to right.

Only the dashboard's DAG view (:mod:`fracdash.web.dag`) draws the graph, so the layout
(and its grandalf dependency) lives here, beside it, not in :mod:`fracdash.core`.
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


def _layout_component(
    names: list[str],
    edges: list[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]],
    hgap: float,
    vgap: float,
) -> dict[str, tuple[float, float]]:
    """Centres ``(x, y)`` of one connected component's nodes, by name."""
    vertices = {}
    for name in names:
        vertex = Vertex(name)
        vertex.view = _View(float(sizes[name][0]), float(sizes[name][1]))
        vertices[name] = vertex
    core = graph_core(list(vertices.values()), [Edge(vertices[s], vertices[t]) for s, t in edges])
    sl = SugiyamaLayout(core)
    sl.xspace = hgap
    sl.yspace = vgap
    # Sources are the roots (layer 0) and y grows with the layer: sources on top.
    roots = [vertices[name] for name in names if len(vertices[name].e_in()) == 0]
    sl.init_all(roots=roots, inverted_edges=[])
    sl.draw()
    return {name: tuple(vertex.view.xy) for name, vertex in vertices.items()}


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
