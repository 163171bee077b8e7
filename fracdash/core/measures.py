"""How well a layer's space and its glyph keep neighbourhoods: kNN accuracy, hubness and
trustworthiness, exact (docs/method.md §3.4).

The space's neighbours are :func:`fracdash.core.neighbours.exact_neighbours`'s: the k
nearest other samples by (float64 distance, index). The glyph's neighbours are the k
samples nearest on its grid: squared Euclidean distance between pixels, ties to the
lower sample index (:func:`grid_neighbours`).

:func:`measures_and_neighbours` also returns what the same pass found of the space
(:class:`LayerNeighbours`: the k nearest and the order's Prim tree), for whatever keeps
them (:mod:`fracdash.measuring` stores them, :mod:`fracdash.compare` reads them back).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fracdash.core.hilbert import positions_for
from fracdash.core.neighbours import Metric, exact_neighbours, order_ranks

__all__ = [
    "LayerMeasures",
    "LayerNeighbours",
    "grid_neighbours",
    "hubness",
    "knn_accuracy",
    "knn_predictions",
    "layer_measures",
    "measures_and_neighbours",
    "sample_positions",
    "trustworthiness",
]


def sample_positions(order, curve: str = "compact") -> np.ndarray:
    """Each sample's pixel on the glyph of a layer's order.

    Parameters
    ----------
    order : array_like of int, shape (n,)
        The layer's VAT order (a permutation of the samples).
    curve : {"compact", "paper"}
        The curve of :func:`fracdash.core.positions_for`.

    Returns
    -------
    ndarray of int64, shape (n, 2)
        ``(x, y)`` of sample ``s`` at row ``s``: ``positions[order] ==
        positions_for(n, curve)``.
    """
    n = np.asarray(order).size
    return positions_for(n, curve)[order_ranks(order, n)]


def _checked_positions(positions) -> np.ndarray:
    positions = np.asarray(positions)
    if positions.ndim != 2 or positions.shape[1] != 2 or positions.shape[0] < 1:
        raise ValueError(f"positions must have shape (n, 2), got {positions.shape}")
    if not np.issubdtype(positions.dtype, np.integer) or positions.min() < 0:
        raise ValueError("positions must be non-negative integer pixels (x, y)")
    positions = positions.astype(np.int64)
    if np.unique(positions, axis=0).shape[0] != positions.shape[0]:
        raise ValueError("two samples share a pixel; positions must be distinct")
    return positions


def grid_neighbours(positions, k: int = 10) -> np.ndarray:
    """Each sample's k nearest other samples on the glyph's grid.

    Grid distance is the squared Euclidean distance between pixels (the 4 edge
    neighbours at 1, the 4 diagonal ones at 2, then 4, 5, ...); samples at equal grid
    distance go to the lower sample index. Empty cells are not samples.

    Parameters
    ----------
    positions : array_like of int, shape (n, 2)
        ``(x, y)`` pixel of each sample, all distinct (:func:`sample_positions`).
    k : int
        Neighbours per sample, 1 .. n - 1.

    Returns
    -------
    ndarray of int64, shape (n, k)
        Sample indices, nearest first.
    """
    positions = _checked_positions(positions)
    n = positions.shape[0]
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= n - 1:
        raise ValueError(f"k={k!r} must be an integer from 1 to n - 1 = {n - 1}")
    width, height = positions.max(axis=0) + 1
    image = np.full((height, width), -1, np.int64)
    image[positions[:, 1], positions[:, 0]] = np.arange(n)
    xs, ys = positions[:, 0], positions[:, 1]
    radius = 2
    while True:
        # Every pixel within the disc of this radius; all others are farther.
        dy, dx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
        d2 = (dx * dx + dy * dy).reshape(-1)
        keep = (d2 > 0) & (d2 <= radius * radius)
        dx, dy, d2 = dx.reshape(-1)[keep], dy.reshape(-1)[keep], d2[keep]
        cx, cy = xs[:, None] + dx, ys[:, None] + dy
        inside = (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)
        ids = np.where(inside, image[np.clip(cy, 0, height - 1), np.clip(cx, 0, width - 1)], -1)
        whole = radius * radius >= (width - 1) ** 2 + (height - 1) ** 2
        if whole or ((ids >= 0).sum(axis=1) >= k).all():
            break
        radius *= 2
    keys = np.where(ids >= 0, d2 * n + ids, np.iinfo(np.int64).max)
    nearest = np.sort(np.partition(keys, k - 1, axis=1)[:, :k], axis=1)
    return nearest % n


def knn_predictions(neighbours, labels) -> np.ndarray:
    """Leave-one-out kNN vote of each sample.

    The label most frequent among the sample's k neighbours; between labels equally
    frequent, the one of the nearest neighbour among them (first in the row).

    Parameters
    ----------
    neighbours : array_like of int, shape (n, k)
        Each sample's k nearest other samples, nearest first.
    labels : array_like, shape (n,)
        Each sample's label.

    Returns
    -------
    ndarray, shape (n,)
        The voted label, of ``labels``' dtype.
    """
    neighbours = np.asarray(neighbours, dtype=np.int64)
    labels = np.asarray(labels).reshape(-1)
    if neighbours.ndim != 2 or neighbours.shape[0] != labels.size:
        raise ValueError(
            f"neighbours must have shape ({labels.size}, k) for {labels.size} labels, "
            f"got {neighbours.shape}"
        )
    votes = labels[neighbours]
    counts = (votes[:, :, None] == votes[:, None, :]).sum(axis=2)
    first_best = np.argmax(counts == counts.max(axis=1, keepdims=True), axis=1)
    return votes[np.arange(labels.size), first_best]


def knn_accuracy(neighbours, labels) -> float:
    """Share of samples whose :func:`knn_predictions` vote equals their own label.

    Parameters
    ----------
    neighbours : array_like of int, shape (n, k)
    labels : array_like, shape (n,)

    Returns
    -------
    float in [0, 1]
    """
    labels = np.asarray(labels).reshape(-1)
    return float((knn_predictions(neighbours, labels) == labels).mean())


def hubness(neighbours, n: int | None = None) -> float:
    """Skewness of the k-occurrence distribution.

    ``N_k(x)`` = how many samples have x among their k nearest; the hubness is its
    (biased) sample skewness ``m3 / m2**1.5`` with ``m_r`` the r-th central moment,
    and 0 when every sample occurs equally often.

    Parameters
    ----------
    neighbours : array_like of int, shape (n, k)
        Each sample's k nearest other samples.
    n : int, optional
        Number of samples (by default the rows of ``neighbours``).

    Returns
    -------
    float
        Positive when a few samples (hubs) are in many neighbourhoods.
    """
    neighbours = np.asarray(neighbours, dtype=np.int64)
    n = neighbours.shape[0] if n is None else int(n)
    counts = np.bincount(neighbours.reshape(-1), minlength=n).astype(np.float64)
    centred = counts - counts.mean()
    m2 = (centred**2).mean()
    if m2 == 0:
        return 0.0
    return float((centred**3).mean() / m2**1.5)


def trustworthiness(ranks, k: int | None = None) -> float:
    """Venna & Kaski's trustworthiness T(k) of a layout, from the ranks of its neighbours.

    ``T(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in L_k(i)} max(0, r(i, j) - k)``
    where ``L_k(i)`` are the k layout neighbours of i and ``r(i, j)`` is j's rank among
    i's neighbours in the space (1 = nearest): layout neighbours that are not among the
    k nearest in the space are penalised by how far down they rank there.

    Parameters
    ----------
    ranks : array_like of int, shape (n, k)
        ``r(i, j)`` for each sample i and each of its k layout neighbours j.
    k : int, optional
        Neighbourhood size (by default the columns of ``ranks``), below n / 2.

    Returns
    -------
    float in [0, 1]
        1 when every layout neighbourhood is within the space's.
    """
    ranks = np.asarray(ranks, dtype=np.int64)
    if ranks.ndim != 2:
        raise ValueError(f"ranks must have shape (n, k), got {ranks.shape}")
    n = ranks.shape[0]
    k = ranks.shape[1] if k is None else int(k)
    if ranks.shape[1] != k:
        raise ValueError(f"ranks must have shape (n, {k}), got {ranks.shape}")
    if not 1 <= k < n / 2:
        raise ValueError(f"trustworthiness needs 1 <= k < n / 2; got k={k} for n={n}")
    penalty = np.maximum(ranks - k, 0).sum()
    return float(1.0 - 2.0 * penalty / (n * k * (2.0 * n - 3.0 * k - 1.0)))


class LayerMeasures(NamedTuple):
    """What :func:`layer_measures` returns for one layer and metric."""

    #: Leave-one-out kNN accuracy in the layer's space (:func:`knn_accuracy`).
    knn_accuracy: float
    #: Skewness of the k-occurrence distribution (:func:`hubness`).
    hubness: float
    #: Trustworthiness of the glyph against the space (:func:`trustworthiness`).
    trustworthiness: float


class LayerNeighbours(NamedTuple):
    """What :func:`measures_and_neighbours` finds of a layer's space besides its measures."""

    #: (n, k) int32: each sample's k nearest other samples, by (float64 distance,
    #: index), nearest first (:func:`fracdash.core.neighbours.exact_neighbours`).
    indices: np.ndarray
    #: (n,) int32: each sample's parent in the Prim tree of the layer's order, -1 for
    #: the order's first sample (:func:`fracdash.core.neighbours.prim_parents`).
    parents: np.ndarray


def layer_measures(
    x, labels, order, *, k: int = 10, metric: Metric = "euclidean", curve: str = "compact"
) -> LayerMeasures:
    """kNN accuracy, hubness and glyph trustworthiness of one layer, in one pass.

    Parameters
    ----------
    x : array_like, shape (n, d)
        The layer's activations.
    labels : array_like, shape (n,)
        Each sample's label.
    order : array_like of int, shape (n,)
        The layer's VAT order under ``metric``: where the glyph puts the samples.
    k : int
        Neighbourhood size for all three, 1 <= k < n / 2.
    metric : str or callable
        See :func:`fracdash.core.neighbours.metric_rows`.
    curve : {"compact", "paper"}
        The glyph's curve.

    Returns
    -------
    LayerMeasures
    """
    return _measured(x, labels, order, k, metric, curve, tree=False)[0]


def measures_and_neighbours(
    x, labels, order, *, k: int = 10, metric: Metric = "euclidean", curve: str = "compact"
) -> tuple[LayerMeasures, LayerNeighbours]:
    """:func:`layer_measures` and, from the same pass over the distances, the layer's k
    nearest neighbours and the Prim tree of ``order`` (one more nearest-earlier search).

    Parameters are :func:`layer_measures`'.

    Returns
    -------
    (LayerMeasures, LayerNeighbours)
    """
    return _measured(x, labels, order, k, metric, curve, tree=True)


def _measured(x, labels, order, k, metric, curve, tree):
    labels = np.asarray(labels).reshape(-1)
    n = labels.size
    if np.asarray(x).shape[:1] != (n,):
        raise ValueError(f"x has {np.asarray(x).shape[:1]} rows but {n} labels were given")
    if not 1 <= k < n / 2:
        raise ValueError(f"k={k} must be at least 1 and below n / 2 = {n / 2:g}")
    layout = grid_neighbours(sample_positions(order, curve), k)
    found = exact_neighbours(x, k, metric, targets=layout, order=order if tree else None)
    measures = LayerMeasures(
        knn_accuracy=knn_accuracy(found.indices, labels),
        hubness=hubness(found.indices, n),
        trustworthiness=trustworthiness(found.ranks, k),
    )
    near = None
    if tree:
        near = LayerNeighbours(found.indices.astype(np.int32), found.parents.astype(np.int32))
    return measures, near
