"""The layered graph folded into columns: the one fold algorithm of the page and the exports.

A *fold* cuts the graph's ranks (:mod:`fracdash.layout.ranks`) into columns, read top to
bottom and then left to right. :func:`candidate_folds` lists every fold worth drawing,
one per column count, in two modes:

- ``"clean"``: a column break only where at most one edge crosses it (between two
  blocks of a ResNet, never inside the pair of branches of DoubleLeNet5);
- ``"any"``: a break between any two ranks (the branches of a rank still stay side by
  side, in their lanes, within each column).

Columns are filled evenly, the longer first (a chain of 26 in 6 columns: 5 5 4 4 4 4).
Where a fold puts each node, at a given glyph scale, is :mod:`fracdash.layout.place`'s
(and, in the browser, ``assets/dag_fit.js``'s: the same arithmetic, parity-tested).
The page gets every candidate and picks the one giving the largest glyphs in its window;
an export picks the one that best fills its target aspect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from fracdash.layout.ranks import sugiyama_ranks

#: Most columns a candidate fold has: a column narrower than a label is of no use, and
#: no window holds more than about this many.
MAX_COLUMNS = 48
#: Half the width of a long edge passing through a column, in lanes.
EDGE_HALF = 0.1
#: Decimals kept of lane positions: the page gets these values, the exports use the same.
LANE_DECIMALS = 4
FOLD_MODES = ("clean", "any")


@dataclass(frozen=True)
class GraphNode:
    """A layer as the fold sees it: its glyph's size in samples (pixels at scale 1),
    its rank, its order in the rank, and its lane ``x`` (centre, in lanes)."""

    name: str
    width: int
    height: int
    rank: int
    order: int
    x: float


@dataclass(frozen=True)
class GraphEdge:
    """An edge and the lane it passes through at each rank strictly between its ends."""

    source: str
    target: str
    via: tuple[float, ...]


@dataclass(frozen=True)
class LayeredGraph:
    """The layer graph layered for folding: nodes in topological order, edges."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]

    @property
    def rank_count(self) -> int:
        return max((n.rank for n in self.nodes), default=-1) + 1

    def node(self, name: str) -> GraphNode:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node named {name!r}")

    def to_json(self) -> dict:
        """``nodes``: name, width, height, rank, order, x; ``edges``: source, target, via."""
        return {
            "nodes": [asdict(n) for n in self.nodes],
            "edges": [
                {"source": e.source, "target": e.target, "via": list(e.via)} for e in self.edges
            ],
        }


def layered_graph(
    names: Sequence[str], edges: Sequence[tuple[str, str]], sizes: Mapping[str, tuple[int, int]]
) -> LayeredGraph:
    """Layer a DAG for folding (grandalf's Sugiyama ranks and lanes).

    Parameters
    ----------
    names : sequence of str, length m
        Node names, unique, in topological order.
    edges : sequence of (str, str)
        Directed edges; duplicates are ignored.
    sizes : mapping of str to (int, int)
        Each node's glyph ``(width, height)`` in samples.

    Returns
    -------
    LayeredGraph
        Lanes rounded to :data:`LANE_DECIMALS` decimals.

    Raises
    ------
    ValueError
        On duplicate names, an unknown node, a cycle, or a missing or non-positive size.
    """
    bad = [n for n in names if n not in sizes or min(sizes[n]) <= 0]
    if bad:
        raise ValueError(f"no positive glyph size for node(s): {', '.join(map(repr, bad))}")
    unique = list(dict.fromkeys((s, t) for s, t in edges))
    r = sugiyama_ranks(list(names), unique)
    nodes = tuple(
        GraphNode(n, int(sizes[n][0]), int(sizes[n][1]), r.rank[n], r.order[n],
                  round(r.x[n], LANE_DECIMALS))
        for n in names
    )  # fmt: skip
    links = tuple(
        GraphEdge(s, t, tuple(round(v, LANE_DECIMALS) for v in r.via[s, t])) for s, t in unique
    )
    return LayeredGraph(nodes, links)


@dataclass(frozen=True)
class Column:
    """Ranks ``first`` to ``last`` (inclusive), spanning lanes ``lo`` to ``hi``."""

    first: int
    last: int
    lo: float
    hi: float


@dataclass(frozen=True)
class Fold:
    """The graph cut into columns, left to right; ``mode`` is "clean" or "any"."""

    mode: str
    columns: tuple[Column, ...]

    def column_of(self, rank: int) -> int:
        for c, col in enumerate(self.columns):
            if col.first <= rank <= col.last:
                return c
        raise ValueError(f"rank {rank} is in no column of this fold")

    def to_json(self) -> dict:
        """``{"mode", "columns": [[first, last, lo, hi], ...]}``."""
        cols = [[c.first, c.last, c.lo, c.hi] for c in self.columns]
        return {"mode": self.mode, "columns": cols}


def crossings(graph: LayeredGraph) -> list[int]:
    """``out[r]``: how many edges cross the cut between rank r and rank r + 1."""
    rank = {n.name: n.rank for n in graph.nodes}
    out = [0] * max(0, graph.rank_count - 1)
    for e in graph.edges:
        for r in range(rank[e.source], rank[e.target]):
            out[r] += 1
    return out


def _units(cross: list[int], count: int, mode: str) -> list[tuple[int, int]]:
    """Runs of ranks ``(first, last)`` that no column break may split."""
    out, start = [], 0
    for r in range(count):
        if r == count - 1 or mode == "any" or cross[r] <= 1:
            out.append((start, r))
            start = r + 1
    return out


def even_split(weights: Sequence[float], k: int) -> list[tuple[int, int]]:
    """Cut ``weights`` into ``min(k, len(weights))`` contiguous groups as even as
    possible, the longer first: each group takes items until it holds its share of what
    is left, keeping at least one item for each group after it.

    Returns
    -------
    list of (start, stop)
        Index ranges, ``stop`` exclusive, covering ``weights`` in order.
    """
    count = len(weights)
    k = max(1, min(k, count))
    total = [0.0]  # total[i]: the weight of items 0 .. i-1
    for w in weights:
        total.append(total[-1] + w)
    groups, i = [], 0
    for c in range(k):
        left = k - c
        if left == 1:
            groups.append((i, count))
            break
        target = (total[count] - total[i]) / left
        j, held = i + 1, weights[i]
        while j < count - (left - 1) and held < target - 1e-9:
            held += weights[j]
            j += 1
        groups.append((i, j))
        i = j
    return groups


def _rank_spans(graph: LayeredGraph) -> list[tuple[float, float]]:
    """Per rank, the lanes its items span: its nodes (half a lane either side of the
    centre) and the long edges passing through it."""
    rank = {n.name: n.rank for n in graph.nodes}
    lo = [float("inf")] * graph.rank_count
    hi = [float("-inf")] * graph.rank_count
    for n in graph.nodes:
        lo[n.rank], hi[n.rank] = min(lo[n.rank], n.x - 0.5), max(hi[n.rank], n.x + 0.5)
    for e in graph.edges:
        for r, lane in enumerate(e.via, start=rank[e.source] + 1):
            lo[r], hi[r] = min(lo[r], lane - EDGE_HALF), max(hi[r], lane + EDGE_HALF)
    return list(zip(lo, hi, strict=True))


def _column(spans: list[tuple[float, float]], first: int, last: int) -> Column:
    """Ranks ``first``..``last`` as a column spanning all their lanes."""
    lo = min(a for a, _ in spans[first : last + 1])
    hi = max(b for _, b in spans[first : last + 1])
    return Column(first, last, round(lo, LANE_DECIMALS), round(hi, LANE_DECIMALS))


def candidate_folds(graph: LayeredGraph, max_columns: int = MAX_COLUMNS) -> tuple[Fold, ...]:
    """Every fold of ``graph`` worth drawing: per mode ("clean", then "any"), one per
    column count from 1 to ``max_columns``; a fold equal to an earlier one is left out.

    Parameters
    ----------
    graph : LayeredGraph
    max_columns : int
        Most columns of a fold.

    Returns
    -------
    tuple of Fold
        Empty for an empty graph; the first is always the single column.
    """
    count = graph.rank_count
    if count == 0:
        return ()
    tallest = [0] * count
    for n in graph.nodes:
        tallest[n.rank] = max(tallest[n.rank], n.height)
    cross = crossings(graph)
    spans = _rank_spans(graph)
    folds: list[Fold] = []
    seen: set[tuple[int, ...]] = set()
    for mode in FOLD_MODES:
        units = _units(cross, count, mode)
        weights = [sum(tallest[a : b + 1]) + (b - a + 1) for a, b in units]
        for k in range(1, min(len(units), max_columns) + 1):
            groups = even_split(weights, k)
            starts = tuple(units[a][0] for a, _ in groups)
            if starts in seen:
                continue
            seen.add(starts)
            columns = tuple(_column(spans, units[a][0], units[b - 1][1]) for a, b in groups)
            folds.append(Fold(mode, columns))
    return tuple(folds)
