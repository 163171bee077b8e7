"""How far two runs agree on one layer, sample by sample (docs/method.md §9).

Two runs on the same samples (two trainings, two models, two metrics) each give a
layer an order and a glyph. Three measures compare them: the glyphs' Moore
neighbourhoods (:func:`curve_agreement`), the exact k nearest neighbours in the two
layers' own spaces (:func:`knn_overlap`) and the two orders' Prim trees
(:func:`tree_edge_share`). Linear CKA, which compares the two spaces as wholes, is in
:mod:`fracdash.core.cka`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fracdash.core.measures import sample_positions
from fracdash.core.neighbours import Metric, exact_neighbours

__all__ = [
    "LayerAgreement",
    "SampleAgreement",
    "curve_agreement",
    "knn_overlap",
    "layer_agreement",
    "moore_neighbours",
    "tree_edge_share",
]

#: The 8 Moore offsets (dx, dy), row by row: the neighbourhood of the quality (§6.5).
MOORE = ((-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1))


class SampleAgreement(NamedTuple):
    """A per-sample agreement and its mean."""

    #: (n,) float64 in [0, 1]: each sample's agreement (lowest: changed most).
    per_sample: np.ndarray
    #: The mean of ``per_sample``.
    mean: float


def moore_neighbours(positions) -> np.ndarray:
    """The samples on the 8 pixels around each sample's pixel.

    Parameters
    ----------
    positions : array_like of int, shape (n, 2)
        ``(x, y)`` pixel of each sample, all distinct.

    Returns
    -------
    ndarray of int64, shape (n, 8)
        Sample indices in the order of :data:`MOORE`; -1 for an empty pixel or one
        outside the grid.
    """
    positions = np.asarray(positions)
    if positions.ndim != 2 or positions.shape[1] != 2 or positions.shape[0] < 1:
        raise ValueError(f"positions must have shape (n, 2), got {positions.shape}")
    if not np.issubdtype(positions.dtype, np.integer) or positions.min() < 0:
        raise ValueError("positions must be non-negative integer pixels (x, y)")
    n = positions.shape[0]
    xs, ys = positions[:, 0].astype(np.int64) + 1, positions[:, 1].astype(np.int64) + 1
    padded = np.full((ys.max() + 2, xs.max() + 2), -1, np.int64)
    padded[ys, xs] = np.arange(n)
    if (padded >= 0).sum() != n:
        raise ValueError("two samples share a pixel; positions must be distinct")
    return np.stack([padded[ys + dy, xs + dx] for dx, dy in MOORE], axis=1)


def _jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise |A ∩ B| / |A ∪ B| of sets given as rows of distinct ids (-1: none);
    1 where both are empty."""
    common = ((a[:, :, None] == b[:, None, :]) & (a[:, :, None] >= 0)).sum(axis=(1, 2))
    union = (a >= 0).sum(axis=1) + (b >= 0).sum(axis=1) - common
    return np.where(union > 0, common / np.maximum(union, 1), 1.0)


def curve_agreement(positions_a, positions_b) -> SampleAgreement:
    """Share of each sample's glyph neighbours that are its neighbours on both glyphs.

    For sample i with Moore neighbourhoods A (first glyph) and B (second), the
    Jaccard index |A ∩ B| / |A ∪ B| of the two sets of samples (1 when both are
    empty). The grids may differ in size.

    Parameters
    ----------
    positions_a, positions_b : array_like of int, shape (n, 2)
        Each sample's pixel on the two glyphs (:func:`fracdash.core.measures.sample_positions`).

    Returns
    -------
    SampleAgreement
        ``per_sample`` (n,) and its ``mean``.
    """
    a, b = moore_neighbours(positions_a), moore_neighbours(positions_b)
    if a.shape != b.shape:
        raise ValueError(f"the two glyphs place {a.shape[0]} and {b.shape[0]} samples")
    per = _jaccard(a, b)
    return SampleAgreement(per, float(per.mean()))


def knn_overlap(neighbours_a, neighbours_b) -> SampleAgreement:
    """Share of each sample's k nearest neighbours that are nearest in both spaces.

    ``|N_k^A(i) ∩ N_k^B(i)| / k``, from each space's exact k nearest other samples
    (:func:`fracdash.core.neighbours.exact_neighbours`).

    Parameters
    ----------
    neighbours_a, neighbours_b : array_like of int, shape (n, k)
        Each sample's k nearest other samples in the two spaces (distinct per row).

    Returns
    -------
    SampleAgreement
        ``per_sample`` (n,) in multiples of 1/k, and its ``mean``.
    """
    a = np.asarray(neighbours_a, dtype=np.int64)
    b = np.asarray(neighbours_b, dtype=np.int64)
    if a.ndim != 2 or a.shape != b.shape or a.shape[1] < 1:
        raise ValueError(f"both neighbour lists need one shape (n, k), got {a.shape} and {b.shape}")
    per = (a[:, :, None] == b[:, None, :]).sum(axis=(1, 2)) / a.shape[1]
    return SampleAgreement(per, float(per.mean()))


def _edges(parents: np.ndarray) -> np.ndarray:
    n = parents.size
    child = np.flatnonzero(parents >= 0)
    if child.size != n - 1 or parents.max() >= n:
        raise ValueError("parents must hold one -1 (the root) and n - 1 sample indices")
    lo, hi = np.minimum(child, parents[child]), np.maximum(child, parents[child])
    return lo * n + hi


def tree_edge_share(parents_a, parents_b) -> float:
    """Share of the edges of one spanning tree that the other has too.

    Each tree is given by its parents (:func:`fracdash.core.neighbours.prim_parents`:
    the edges ``(order[t], its nearest earlier sample)`` of a VAT order); edges are
    undirected. Both trees have n - 1 edges, so the share is symmetric.

    Parameters
    ----------
    parents_a, parents_b : array_like of int, shape (n,)
        Each sample's parent, -1 for the root.

    Returns
    -------
    float in [0, 1]
        1 for a single sample (no edge to disagree on).
    """
    a = np.asarray(parents_a, dtype=np.int64).reshape(-1)
    b = np.asarray(parents_b, dtype=np.int64).reshape(-1)
    if a.size != b.size or a.size < 1:
        raise ValueError(f"the two trees span {a.size} and {b.size} samples")
    if a.size == 1:
        return 1.0
    common = np.intersect1d(_edges(a), _edges(b), assume_unique=True).size
    return common / (a.size - 1)


class LayerAgreement(NamedTuple):
    """What :func:`layer_agreement` returns for one pair of layers."""

    #: Moore-neighbourhood agreement of the two glyphs (:func:`curve_agreement`).
    curve: SampleAgreement
    #: Exact kNN overlap of the two spaces (:func:`knn_overlap`).
    knn: SampleAgreement
    #: Share of Prim-tree edges in both orders (:func:`tree_edge_share`).
    tree_edges: float


def layer_agreement(
    x_a,
    x_b,
    order_a,
    order_b,
    *,
    k: int = 10,
    metric: Metric = "euclidean",
    curve: str = "compact",
) -> LayerAgreement:
    """All the per-sample agreements of one layer of run A with one layer of run B.

    Parameters
    ----------
    x_a : array_like, shape (n, d_a)
        Run A's layer, one row per sample.
    x_b : array_like, shape (n, d_b)
        Run B's layer, the same samples in the same rows (d_b may differ).
    order_a, order_b : array_like of int, shape (n,)
        The two layers' VAT orders under ``metric``.
    k : int
        Neighbours per sample for the kNN overlap, 1 .. n - 1.
    metric : str or callable
        See :func:`fracdash.core.neighbours.metric_rows`.
    curve : {"compact", "paper"}
        The glyphs' curve.

    Returns
    -------
    LayerAgreement
    """
    n = np.asarray(x_a).shape[0]
    if np.asarray(x_b).shape[0] != n:
        raise ValueError(f"the two layers hold {n} and {np.asarray(x_b).shape[0]} samples")
    positions = [sample_positions(o, curve) for o in (order_a, order_b)]
    a = exact_neighbours(x_a, k, metric, order=order_a)  # one pass: kNN and tree
    b = exact_neighbours(x_b, k, metric, order=order_b)
    return LayerAgreement(
        curve=curve_agreement(*positions),
        knn=knn_overlap(a.indices, b.indices),
        tree_edges=tree_edge_share(a.parents, b.parents),
    )
