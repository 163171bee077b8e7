"""The layer graph's drawing, shared by the page and the exports (below both).

:mod:`~fracdash.layout.ranks` layers the graph (Sugiyama, on grandalf);
:mod:`~fracdash.layout.fold` cuts the ranks into columns (every candidate fold);
:mod:`~fracdash.layout.place` draws a fold at a glyph scale, in pixels. The page gets
the layered graph and the candidate folds and picks the fold and scale that fit its
window (``assets/dag_fit.js``, the same arithmetic as ``place``); an export picks them
for its own size (:mod:`fracdash.export.layout`).
"""

from fracdash.layout.fold import (
    Column,
    Fold,
    GraphEdge,
    GraphNode,
    LayeredGraph,
    candidate_folds,
    layered_graph,
)
from fracdash.layout.place import Box, Placement, Spacing, drawing_size, label_room, place
from fracdash.layout.ranks import Ranking, sugiyama_ranks

__all__ = [
    "Box",
    "Column",
    "Fold",
    "GraphEdge",
    "GraphNode",
    "LayeredGraph",
    "Placement",
    "Ranking",
    "Spacing",
    "candidate_folds",
    "drawing_size",
    "label_room",
    "layered_graph",
    "place",
    "sugiyama_ranks",
]
