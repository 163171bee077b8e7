"""One layer under several metrics: the measures of each metric's space and glyph, and
how far each order agrees with the Euclidean one (``fracdash metrics``).

For each metric: leave-one-out kNN accuracy, hubness and trustworthiness
(:mod:`fracdash.core.measures`), all on the metric's own exact neighbours; against the
Euclidean order: the share of Prim-tree edges both orders grew and the mean share of
each sample's curve neighbours kept (:mod:`fracdash.core.agreement`). The row metrics'
neighbours come from :func:`fracdash.core.neighbours.exact_neighbours` on the metric's
rows (:func:`fracdash.core.metrics.row_transform`); ``manhattan`` and
``local-scaling`` are not Euclidean on any rows, so theirs come from their own float64
matrix (:mod:`fracdash.core.pairwise`), ordered by (distance, index) in the same way.
A metric whose figures are already known for the layer (a run's stored measures and
Prim tree, :mod:`fracdash.measuring`) is given them (``known``) and not measured again.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fracdash.core.agreement import curve_agreement, tree_edge_share
from fracdash.core.chunked import ArrayChunks
from fracdash.core.local_scaling import neighbour_scales, scaled_distances
from fracdash.core.measures import (
    grid_neighbours,
    hubness,
    knn_accuracy,
    sample_positions,
    trustworthiness,
)
from fracdash.core.metrics import LOCAL_SCALING_K, metric_spec, row_transform
from fracdash.core.neighbours import exact_neighbours
from fracdash.core.pairwise import distance_matrix, feature_rows

__all__ = ["MetricComparison", "compare_metrics", "matrix_neighbours", "matrix_parents"]


class MetricComparison(NamedTuple):
    """One metric's figures for one layer."""

    metric: str
    knn_accuracy: float
    hubness: float
    trustworthiness: float
    #: Share of the Prim-tree edges the Euclidean order grew too (1 for euclidean).
    tree_edges: float
    #: Mean share of each sample's Moore neighbours on the glyph kept from the
    #: Euclidean glyph (1 for euclidean).
    curve_kept: float


def matrix_neighbours(dist: np.ndarray, k: int, targets: np.ndarray):
    """From a float64 (n, n) matrix: each sample's k nearest others by (distance,
    index), shape (n, k), and the 1-based rank of each target in that order, shape
    (n, m)."""
    n = dist.shape[0]
    indices = np.empty((n, k), np.int64)
    ranks = np.empty(targets.shape, np.int64)
    for i in range(n):
        ranked = np.argsort(dist[i], kind="stable")  # the lower index first among equals
        ranked = ranked[ranked != i]
        indices[i] = ranked[:k]
        where = np.empty(n, np.int64)
        where[ranked] = np.arange(1, n)
        ranks[i] = where[targets[i]]
    return indices, ranks


def matrix_parents(dist: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Each sample's nearest earlier sample in ``order`` (by distance, then index), -1
    for the first: the tree of a VAT order on ``dist``."""
    n = dist.shape[0]
    reach, near = np.full(n, np.inf), np.full(n, n, np.int64)
    parents = np.full(n, -1, np.int64)
    for t in range(1, n):
        v = order[t - 1]
        row = dist[v]
        better = (row < reach) | ((row == reach) & (v < near))
        reach, near = np.where(better, row, reach), np.where(better, v, near)
        parents[order[t]] = near[order[t]]
    return parents


def _matrix(x, metric: str) -> np.ndarray:
    y = feature_rows(ArrayChunks(np.asarray(x)))
    if metric == "manhattan":
        return distance_matrix(y, False)
    sq = distance_matrix(y, True)
    return scaled_distances(sq, neighbour_scales(sq, LOCAL_SCALING_K))


def _figures(x, order, metric, k, curve):
    """(indices, ranks of the glyph's neighbours, Prim parents) under ``metric``."""
    targets = grid_neighbours(sample_positions(order, curve), k)
    if metric_spec(metric).kernel == "rows":
        transform = row_transform(metric)
        found = exact_neighbours(x, k, transform or "euclidean", targets=targets, order=order)
        return found.indices, found.ranks, found.parents
    dist = _matrix(x, metric)
    indices, ranks = matrix_neighbours(dist, k, targets)
    return indices, ranks, matrix_parents(dist, np.asarray(order, np.int64))


def _measured(x, labels, order, metric, k, curve):
    """((kNN accuracy, hubness, trustworthiness), Prim parents) of one metric."""
    indices, ranks, parents = _figures(x, order, metric, k, curve)
    n = labels.size
    return (knn_accuracy(indices, labels), hubness(indices, n), trustworthiness(ranks, k)), parents


def compare_metrics(x, labels, orders: dict, *, k: int = 10, curve: str = "compact",
                    known: dict | None = None):  # fmt: skip
    """The figures of one layer under each metric of ``orders``.

    Parameters
    ----------
    x : array_like, shape (n, d)
        The layer's activations.
    labels : array_like of int, shape (n,)
    orders : dict of str to ndarray of int, shape (n,)
        Each metric's VAT order of the layer; must hold "euclidean".
    k : int
        Neighbourhood size, 1 <= k < n / 2.
    curve : {"compact", "paper"}
    known : dict of str to (measures, parents), optional
        Metrics whose figures were found before for this layer, ``orders``' order, k
        and curve: ``measures`` its (kNN accuracy, hubness, trustworthiness), ``parents``
        ((n,) int) its order's Prim tree (:func:`fracdash.core.neighbours.prim_parents`).
        They are used as given; the other metrics are measured here.

    Returns
    -------
    list of MetricComparison
        In the order of ``orders``.
    """
    labels = np.asarray(labels).reshape(-1)
    n = labels.size
    if not 1 <= k < n / 2:
        raise ValueError(f"k={k} must be at least 1 and below n / 2 = {n / 2:g}")
    x = np.asarray(x).reshape(n, -1)
    known = known or {}
    found = {m: known[m] if m in known else _measured(x, labels, order, m, k, curve)
             for m, order in orders.items()}  # fmt: skip
    base_parents = np.asarray(found["euclidean"][1])
    base_positions = sample_positions(orders["euclidean"], curve)
    rows = []
    for metric, order in orders.items():
        measures, parents = found[metric]
        rows.append(MetricComparison(
            metric, *map(float, measures), tree_edge_share(base_parents, np.asarray(parents)),
            curve_agreement(base_positions, sample_positions(order, curve)).mean,
        ))  # fmt: skip
    return rows
