"""Exact nearest neighbours in a layer's own space (docs/method.md §3.4: exact means exact).

A metric is a row transform: the distance of samples i and j is the float64 squared
distance ``((z[i] - z[j]) ** 2).sum()`` of their transformed rows z; ties go to the lower
index. The named ones are the row metrics VAT orders with
(:func:`fracdash.core.metrics.row_transform`: ``"euclidean"`` keeps the rows,
``"cosine"`` scales them to unit length, ...); any callable on the rows adds one.

Exact without an n × n float64 matrix: distances come in row blocks from BLAS with a
rigorous per-entry bound (:mod:`fracdash.core.gram_bounds`: float32 and the VAT
orders' own bound, or float64 for ranks), an interval around each true distance. The k
nearest are certainly under a row's k-th least upper bound; every sample whose lower
bound is under it is re-measured in float64, and the k nearest are chosen among those
by (distance, index). A rank is certified likewise: the samples whose interval holds
the target's distance are re-measured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from fracdash.core.gram_bounds import GramBlocks, candidates, rank_bounds
from fracdash.core.metrics import row_transform

__all__ = [
    "Neighbours",
    "exact_neighbours",
    "metric_rows",
    "order_ranks",
    "pair_distances",
    "prim_parents",
]

#: Bytes of float64 differences per chunk of re-measured pairs.
_PAIR_BYTES = 16 * 2**20

Metric = str | Callable[[np.ndarray], np.ndarray]


def metric_rows(x, metric: Metric = "euclidean") -> np.ndarray:
    """The rows whose Euclidean geometry defines ``metric``.

    Parameters
    ----------
    x : array_like, shape (n, d)
        A layer's activations, one row per sample.
    metric : str or callable
        A row metric of :data:`fracdash.core.metrics.METRIC_TABLE` (the transform VAT
        orders with), or a callable applied once to the (n, d) array and returning
        (n, d') rows whose Euclidean distances define the metric.

    Returns
    -------
    ndarray of floats, shape (n, d')
        ``x`` itself for ``"euclidean"`` (float32 stays float32, integers become
        float64); finite.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"need a 2-D array of n samples x d features, got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"need numbers, got dtype {x.dtype}")
    transform = metric if callable(metric) else row_transform(metric)
    z = x if transform is None else np.asarray(transform(x))
    if z.ndim != 2 or z.shape[0] != x.shape[0] or z.shape[1] < 1:
        raise ValueError(
            f"the metric's row transform returned shape {z.shape} for {x.shape[0]} "
            "samples; it must return one row per sample"
        )
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    if not np.isfinite(z).all():
        raise ValueError("the rows hold NaN or inf; neighbours need finite values")
    return z


def pair_distances(z: np.ndarray, rows, cols) -> np.ndarray:
    """Float64 squared distances ``((z[i] - z[j]) ** 2).sum()`` of pairs, bit for bit.

    Parameters
    ----------
    z : ndarray, shape (n, d)
        Rows from :func:`metric_rows`.
    rows, cols : array_like of int, shape (p,)
        The pairs (rows[t], cols[t]).

    Returns
    -------
    ndarray of float64, shape (p,)
    """
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    cols = np.asarray(cols, dtype=np.int64).reshape(-1)
    out = np.empty(rows.size)
    step = max(1, _PAIR_BYTES // (8 * z.shape[1]))
    buffer = np.empty(min(step, rows.size) * z.shape[1])  # reused by every chunk
    for p0 in range(0, rows.size, step):
        r, c = rows[p0 : p0 + step], cols[p0 : p0 + step]
        diff = buffer[: r.size * z.shape[1]].reshape(r.size, z.shape[1])
        np.subtract(z[r], z[c], out=diff, dtype=np.float64)  # in float64, not z's type
        np.square(diff, out=diff)
        out[p0 : p0 + step] = diff.sum(axis=1)  # numpy's pairwise sum, row by row
    return out


class Neighbours(NamedTuple):
    """What :func:`exact_neighbours` returns."""

    #: (n, k) int64: each sample's k nearest other samples, nearest first.
    indices: np.ndarray
    #: (n, k) float64: their squared distances (the metric's units).
    distances: np.ndarray
    #: (n, m) int64: the rank of each target (1 = nearest), or None without targets.
    ranks: np.ndarray | None
    #: (n,) int64: each sample's parent in the order's Prim tree (:func:`prim_parents`),
    #: or None without an order.
    parents: np.ndarray | None


def _smallest(z, space, r0, g, k, rank, before, cap):
    """The ``k`` exact nearest of the block's rows (``-1`` where a row has fewer
    allowed samples), their distances, and the candidate capacity to use next."""
    b = g.shape[0]
    while True:
        out = np.empty((b, cap), np.int64)
        counts = np.empty(b, np.int64)
        candidates(g, r0, space.sq, space.err, space.kappa, k, rank, before, out, counts)
        if counts.max() <= cap:
            break
        cap = int(counts.max())
    rows = np.repeat(np.arange(r0, r0 + b), counts)
    cols = out[np.arange(cap)[None, :] < counts[:, None]]
    if cols.size == 0:
        return np.full((b, k), -1, np.int64), np.full((b, k), np.inf), cap
    dist = pair_distances(z, rows, cols)
    ranked = np.lexsort((cols, dist, rows))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    take = np.minimum(starts[:, None] + np.arange(k), ranked.size - 1)
    idx, near = cols[ranked[take]], dist[ranked[take]]
    idx[counts == 0], near[counts == 0] = -1, np.inf
    return idx, near, cap


def _ranks(z, space, r0, g, targets):
    """1-based rank of each target in its row's exact order (by distance, then index)."""
    b, m = targets.shape
    rows = np.repeat(np.arange(r0, r0 + b), m)
    tdist = pair_distances(z, rows, targets.reshape(-1)).reshape(b, m)
    before = np.empty((b, m), np.int64)
    cap, scaled, bounds = 4 * b * m, tdist * space.scale2, (space.sq, space.err, space.kappa)
    while True:
        amb = [np.empty(cap, np.int64) for _ in range(3)]
        na = rank_bounds(g, r0, *bounds, scaled, targets, before, *amb)
        if na <= cap:
            break
        cap = na
    at, av, aq = (a[:na] for a in amb)
    dist = pair_distances(z, r0 + at, av)
    tq, jq = tdist[at, aq], targets[at, aq]
    np.add.at(before, (at, aq), (dist < tq) | ((dist == tq) & (av < jq)))
    return before + 1


def exact_neighbours(
    x, k: int = 10, metric: Metric = "euclidean", *, targets=None, order=None
) -> Neighbours:
    """Each sample's exact k nearest other samples; optionally ranks and a Prim tree.

    Samples are ordered by (float64 squared distance, index): a duplicate of a sample
    is at distance 0 and counts as a neighbour; the sample itself never does. All is
    computed in one blocked pass over the distances.

    Parameters
    ----------
    x : array_like, shape (n, d)
        A layer's activations; any width (d may exceed n).
    k : int
        Neighbours per sample, 1 .. n - 1.
    metric : str or callable
        See :func:`metric_rows`.
    targets : array_like of int, shape (n, m), optional
        For each sample i, m other samples whose rank in i's order is wanted.
    order : array_like of int, shape (n,), optional
        A permutation of the samples whose tree is wanted (see :func:`prim_parents`).

    Returns
    -------
    Neighbours
        ``indices`` (n, k) int64, nearest first; ``distances`` (n, k) float64 squared
        distances; ``ranks`` (n, m) int64, 1 for the nearest other sample (None
        without ``targets``); ``parents`` (n,) int64 (None without ``order``).
    """
    z = metric_rows(x, metric)
    n = z.shape[0]
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= n - 1:
        raise ValueError(f"k={k!r} must be an integer from 1 to n - 1 = {n - 1}")
    if targets is not None:
        targets = np.asarray(targets, dtype=np.int64)
        if targets.ndim != 2 or targets.shape[0] != n:
            raise ValueError(f"targets must have shape ({n}, m), got {targets.shape}")
        if targets.size and (targets.min() < 0 or targets.max() >= n):
            raise ValueError(f"targets must be sample indices in 0..{n - 1}")
        if (targets == np.arange(n)[:, None]).any():
            raise ValueError("a sample cannot be its own target; give other samples")
    rank = None if order is None else order_ranks(order, n)
    return _one_pass(z, int(k), targets, rank)


def _one_pass(z, k, targets, rank) -> Neighbours:
    n = z.shape[0]
    space = GramBlocks(z, wide=targets is not None and targets.shape[1] > 0)
    indices, distances = np.empty((n, k), np.int64), np.empty((n, k))
    ranks = None if targets is None else np.empty(targets.shape, np.int64)
    parents = None if rank is None else np.empty(n, np.int64)
    everyone, cap, cap1 = np.zeros(n, np.int64), k + 16, 16
    for r0, r1, g in space.blocks():
        if k:
            found = _smallest(z, space, r0, g, k, everyone, False, cap)
            indices[r0:r1], distances[r0:r1], cap = found
        if ranks is not None and targets.shape[1]:
            ranks[r0:r1] = _ranks(z, space, r0, g, targets[r0:r1])
        if parents is not None:
            idx, _, cap1 = _smallest(z, space, r0, g, 1, rank, True, cap1)
            parents[r0:r1] = idx[:, 0]
    return Neighbours(indices, distances, ranks, parents)


def order_ranks(order, n: int) -> np.ndarray:
    """Each sample's place in ``order`` ((n,) int64), after checking that ``order`` is a
    permutation of ``0 .. n - 1``."""
    order = np.asarray(order).reshape(-1)
    if order.size != n or not np.issubdtype(order.dtype, np.integer):
        raise ValueError(f"an order must hold the {n} sample indices, got {order.size} values")
    if (np.sort(order) != np.arange(n)).any():
        raise ValueError("an order must be a permutation of the sample indices 0..n-1")
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    return rank


def prim_parents(x, order, metric: Metric = "euclidean") -> np.ndarray:
    """The tree of a VAT (Prim) order: each sample's nearest earlier sample in the order.

    For ``t >= 1`` the parent of ``order[t]`` is the exact nearest of ``order[:t]``
    (by float64 distance, then lower index). For a VAT order these n - 1 edges are the
    minimum spanning tree that Prim's algorithm grew.

    Parameters
    ----------
    x : array_like, shape (n, d)
        The layer's activations.
    order : array_like of int, shape (n,)
        A permutation of the samples (the layer's VAT order).
    metric : str or callable
        See :func:`metric_rows`; the one the order was computed with.

    Returns
    -------
    ndarray of int64, shape (n,)
        ``parent[s]``, indexed by sample; -1 for ``order[0]``.
    """
    z = metric_rows(x, metric)
    n = z.shape[0]
    rank = order_ranks(order, n)
    if n == 1:
        return np.full(1, -1, np.int64)
    return _one_pass(z, 0, None, rank).parents
