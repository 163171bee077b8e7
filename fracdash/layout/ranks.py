"""The layer graph's Sugiyama layering, on grandalf: each node's rank (its layer, sources
0), its order within the rank and its horizontal place in *lanes*, and the lanes a long
edge passes through. :mod:`fracdash.layout.fold` folds the ranks into columns.

Each connected component is layered on its own and the components are placed side by
side, left to right. Only the page (:mod:`fracdash.web.dag`) and the exports draw the
graph, so the layout (and its grandalf dependency) lives here, not in
:mod:`fracdash.core`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grandalf.graphs import Edge, Vertex, graph_core
from grandalf.layouts import SugiyamaLayout

from fracdash.core.graph import topological_order


class _View:
    """What grandalf reads (``w``, ``h``) and writes (``xy``, the centre) per vertex."""

    def __init__(self, w: float, h: float) -> None:
        self.w = w
        self.h = h
        self.xy: tuple[float, float] | None = None


def _check(names: Sequence[str], edges: Sequence[tuple[str, str]]) -> None:
    if len(set(names)) != len(names):
        raise ValueError("node names must be unique")
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
    size: float,
    gap: float,
    dummy_width: float,
) -> tuple[SugiyamaLayout, dict[str, Vertex], list[Edge]]:
    """grandalf's drawing of one connected component, every node ``size`` square and
    ``gap`` apart: the layout, vertices by name and edges in the order of ``edges``.
    ``dummy_width`` is the width of the dummy vertices of long edges (grandalf's
    default is the median node's)."""
    vertices = {}
    for name in names:
        vertex = Vertex(name)
        vertex.view = _View(size, size)
        vertices[name] = vertex
    links = [Edge(vertices[s], vertices[t]) for s, t in edges]
    sl = SugiyamaLayout(graph_core(list(vertices.values()), links))
    sl.xspace = gap
    sl.yspace = gap
    sl.dw = dummy_width
    # Sources are the roots (layer 0) and y grows with the layer: sources on top.
    roots = [vertices[name] for name in names if len(vertices[name].e_in()) == 0]
    sl.init_all(roots=roots, inverted_edges=[])
    sl.draw()
    return sl, vertices, links


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
    _check(names, edges)
    unique_edges = list(dict.fromkeys((src, dst) for src, dst in edges))
    rank: dict[str, int] = {}
    order: dict[str, int] = {}
    x: dict[str, float] = {}
    via: dict[tuple[str, str], tuple[float, ...]] = {}
    left = 0.0
    for members, component_edges in _components(names, unique_edges):
        sl, vertices, links = _sugiyama(
            members, component_edges, _NODE_UNITS, _GAP_UNITS, _DUMMY_UNITS
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
