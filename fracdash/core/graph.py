"""The layer DAG as plain data: names and edges, topological order, node removal.

A graph here is ``(names, edges)``: ``names`` a list of node names, ``edges`` a list of
``(source, target)`` pairs. Functions return new lists and never mutate their inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: Keras layer classes that are the identity at inference: never shown (docs/method.md §2).
IDENTITY_KINDS = frozenset(
    {
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "ActivityRegularization",
    }
)

#: Keras layer classes that only reorder values: Euclidean distances between samples
#: are unchanged, so their glyph equals their predecessor's (docs/method.md §2).
REORDER_KINDS = frozenset({"Flatten", "Reshape", "Permute"})


def shares_input_order(kind: str, inputs: Sequence[str]) -> bool:
    """Whether a layer of class ``kind`` fed by ``inputs`` has its one input's
    distances, hence its VAT order: a reorder-only layer with a single input."""
    return kind in REORDER_KINDS and len(inputs) == 1


def topological_order(names: Sequence[str], edges: Iterable[tuple[str, str]]) -> list[str]:
    """Kahn's algorithm, stable: among ready nodes the one listed first in ``names`` wins.

    Raises
    ------
    ValueError
        If an edge names an unknown node or the graph has a cycle.
    """
    rank = {name: i for i, name in enumerate(names)}
    preds: dict[str, set[str]] = {name: set() for name in names}
    succs: dict[str, list[str]] = {name: [] for name in names}
    for src, dst in edges:
        if src not in rank or dst not in rank:
            raise ValueError(f"edge ({src!r}, {dst!r}) names a node that is not in the graph")
        if src not in preds[dst]:
            preds[dst].add(src)
            succs[src].append(dst)
    ready = sorted((n for n in names if not preds[n]), key=rank.__getitem__)
    out: list[str] = []
    while ready:
        node = ready.pop(0)
        out.append(node)
        for nxt in succs[node]:
            preds[nxt].discard(node)
            if not preds[nxt]:
                ready.append(nxt)
        ready.sort(key=rank.__getitem__)
    if len(out) != len(names):
        raise ValueError("the layer graph has a cycle")
    return out


def remove_nodes(
    names: Sequence[str], edges: Iterable[tuple[str, str]], drop: Iterable[str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """Remove ``drop`` from the graph, linking each removed node's successors to its
    predecessors (transitively, so chains of removed nodes are bridged).

    Returns
    -------
    names : list of str
        The kept names, in their original order.
    edges : list of (str, str)
        Edges between kept nodes, without duplicates, in first-seen order.
    """
    drop = set(drop)
    edges = list(edges)
    preds: dict[str, list[str]] = {name: [] for name in names}
    for src, dst in edges:
        preds[dst].append(src)

    def kept_sources(node: str, seen: frozenset[str] = frozenset()) -> list[str]:
        found: list[str] = []
        for src in preds[node]:
            if src in seen:
                continue
            if src in drop:
                found.extend(kept_sources(src, seen | {src}))
            else:
                found.append(src)
        return found

    kept = [n for n in names if n not in drop]
    out: list[tuple[str, str]] = []
    seen_edges: set[tuple[str, str]] = set()
    for dst in kept:
        for src in kept_sources(dst):
            if (src, dst) not in seen_edges:
                seen_edges.add((src, dst))
                out.append((src, dst))
    return kept, out
