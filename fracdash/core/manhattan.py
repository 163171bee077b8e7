"""Exact VAT on the Manhattan (L1) distance (docs/method.md §3.3, §3.4).

The distance between two samples is the float64 sum, feature by feature in feature
order, of ``|a_k - b_k|`` (:mod:`fracdash.core.pairwise`), and the order is VAT's on
those values, ties to the lower index. For float32 activations each difference is
exact in float64 (two float32 values need at most 24 + 29 bits between them unless
one is over 2²⁸ times the other), and the sum is then the exact L1 distance, in any
order, as long as no partial sum needs more than 53 bits: when the layer's values are
multiples of a common power of two q with ``d · 2 max|x| < 2⁵³ q``. Beyond that the
order is exact for the float64 sum as defined.

No Gram-matrix shortcut exists for L1, so there is no BLAS: n²/2 pairs of d float64
operations, in compiled tiles on every core. Two routes:

- in memory: the (n, n) float64 matrix, while ``8 n²`` bytes fit the matrix budget
  (:func:`fracdash.core.outofcore.matrix_budget`; 16,384 samples by default), then
  Prim's loop over its rows;
- past the budget, for layers of at most
  :data:`~fracdash.core.metrics.MANHATTAN_WIDEST` features: no matrix at all,
  each distance computed when Prim's loop needs it (O(n·d) memory); a wider layer is
  refused there: every step would stream all n·d values again.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from fracdash.core import outofcore
from fracdash.core.blockmin import LANES, nearest, relax
from fracdash.core.centring import NonFiniteValues, checked
from fracdash.core.direct import prim_loop
from fracdash.core.metrics import check_route
from fracdash.core.pairwise import (
    TILE_COLUMNS,
    dense_vat,
    distance_matrix,
    feature_rows,
    first_max,
    tile,
)

__all__ = ["manhattan_order"]


def manhattan_order(
    x, *, progress=None, matrix_budget: int | None = None, stats: dict | None = None
) -> np.ndarray:
    """Exact VAT permutation of the rows of ``x`` under the L1 distance.

    Parameters
    ----------
    x : array_like, shape (n, d), or a column-chunked source
        One row per sample, all finite.
    progress : callable(done, total), optional
        The distances count n, Prim's loop n.
    matrix_budget : int, optional
        Bytes the (n, n) float64 matrix may take (see
        :func:`fracdash.core.outofcore.matrix_budget`).
    stats : dict, optional
        Filled with ``rows`` ("matrix" or "direct"), ``gram_s`` (distances and first
        maximum) and ``loop_s`` (Prim's loop).

    Returns
    -------
    ndarray of int64, shape (n,)

    Raises
    ------
    fracdash.core.metrics.MetricRefused
        Past the matrix budget, for a layer wider than
        :data:`~fracdash.core.metrics.MANHATTAN_WIDEST`.
    NonFiniteValues
        NaN or inf in ``x``, or distances beyond float64's range.
    """
    stats = {} if stats is None else stats
    src = checked(x)
    n, d = src.shape
    budget = outofcore.matrix_budget(matrix_budget)
    in_memory = 8 * n * n <= budget
    stats["out_of_core"] = not in_memory
    check_route("manhattan", n, d, budget)
    t0 = time.perf_counter()
    y = feature_rows(src)
    if not np.isfinite(y).all():
        raise NonFiniteValues("vat_order needs finite values; the input holds NaN or inf")
    if in_memory:
        dist = distance_matrix(y, False, progress, 2 * n)
        _check_range(float(dist.max()))
        t1 = time.perf_counter()
        order = dense_vat(dist, progress, n, 2 * n)
        stats.update(rows="matrix")
    else:
        top, start = first_max(y, False, progress, 2 * n)
        _check_range(top)
        t1 = time.perf_counter()
        order = _direct_order(y, start, progress)
        stats.update(rows="direct")
    stats.update(gram_s=t1 - t0, loop_s=time.perf_counter() - t1, disk_bytes=0)
    return order


def _check_range(top: float) -> None:
    if not np.isfinite(top):
        raise NonFiniteValues(
            "manhattan distances overflow float64 (values near 1e308); rescale the rows"
        )


@njit(cache=True, nogil=True)
def _direct_steps(y, idx, k0, k1, order, reach, pen, bmin, acc):
    """Prim's steps ``k0 .. k1 - 1`` among the columns of ``y`` (sample ``idx[c]`` in
    column c, increasing), ``order[0]`` the start's column; each block of a visited
    row's distances is relaxed as soon as it is computed."""
    n = y.shape[1]
    for k in range(k0, k1):
        j = order[0]
        if k:
            j = nearest(reach, bmin)
        order[k] = idx[j]
        reach[j] = np.inf
        pen[j] = np.inf
        for c0 in range(0, n, TILE_COLUMNS):
            c1 = min(n, c0 + TILE_COLUMNS)
            tile(y, j, j + 1, c0, c1, acc, False)
            b0 = c0 // LANES
            blocks = bmin[b0 : b0 + -(-(c1 - c0) // LANES)]
            relax(acc[0, : c1 - c0], reach[c0:c1], pen[c0:c1], blocks)


def _direct_order(y: np.ndarray, start: int, progress) -> np.ndarray:
    """Prim's order from ``start`` with each distance computed when needed
    (:func:`fracdash.core.direct.prim_loop`, which drops the visited columns)."""
    acc = np.empty((1, TILE_COLUMNS))

    def steps(y, idx, k0, k1, order, reach, pen, bmin):
        _direct_steps(y, idx, k0, k1, order, reach, pen, bmin, acc)

    return prim_loop(y, start, steps, progress)
