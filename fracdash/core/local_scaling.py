"""Exact VAT on the local-scaling secondary distance (docs/method.md §3.3, §3.4).

Local scaling (Zelnik-Manor & Perona 2004; as a hubness reduction: Schnitzer et al.
2012) rescales each distance by the neighbourhood sizes of its two samples:

    d'(i, j) = 1 - exp(-d(i, j)² / (s_i s_j)),   s_i = d(i, its k-th nearest neighbour)

so that a sample in a dense region and one in a sparse region are compared on their
own scales, and "hubs" (samples that are everyone's neighbour in high dimension)
lose their pull. ``d'`` is not monotone in ``d``: the order changes.

Computed exactly as defined, in float64: ``d²`` is the feature-order sum of squared
differences (:mod:`fracdash.core.pairwise`), ``s_i`` the square root of the k-th
least ``d²(i, j)`` over the other samples j (duplicates count, at 0; ``k`` is capped
at n - 1), and ``q = d² / (s_i s_j)``. VAT's order depends only on how the
dissimilarities compare, and ``1 - exp(-q)`` is strictly increasing in ``q``, so the
order is VAT's on ``q``: evaluating ``1 - exp(-q)`` in float64 would merge distinct
values into false ties (every q above about 37 rounds to 1). A pair whose scales
multiply to 0 (a sample with k duplicates) is at q = 0 when the two rows are equal,
else at the largest dissimilarity (d' = 1): one value above every finite q.

The (n, n) float64 matrix is held in memory; past the matrix budget the metric is
refused (the neighbour scales need every distance before the first step).
"""

from __future__ import annotations

import time

import numpy as np

from fracdash.core import outofcore
from fracdash.core.centring import NonFiniteValues, checked
from fracdash.core.metrics import LOCAL_SCALING_K, check_route
from fracdash.core.pairwise import dense_vat, distance_matrix, feature_rows

__all__ = ["local_scaling_order", "neighbour_scales", "scaled_distances"]

_BAND = 256  # rows per pass of the partition and the division


def neighbour_scales(sq: np.ndarray, k: int) -> np.ndarray:
    """``s_i²``: the k-th least entry of row i of the squared distances ``sq`` (n, n)
    over the other samples (k capped at n - 1); shape (n,), float64."""
    n = sq.shape[0]
    k = min(k, n - 1)
    out = np.zeros(n)
    if k < 1:
        return out
    for r0 in range(0, n, _BAND):
        # The row holds the sample itself at 0, the least value: the k-th least of the
        # others is the row's (k + 1)-th least.
        out[r0 : r0 + _BAND] = np.partition(sq[r0 : r0 + _BAND], k, axis=1)[:, k]
    return out


def scaled_distances(sq: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """``q = sq / (s_i s_j)`` in place (``s = sqrt(s2)``), 0 where ``sq`` is 0, and one
    value above every finite ``q`` where the scales multiply to 0."""
    n = sq.shape[0]
    s = np.sqrt(s2)
    with np.errstate(divide="ignore", invalid="ignore"):
        for r0 in range(0, n, _BAND):
            band = sq[r0 : r0 + _BAND]
            np.divide(band, s[r0 : r0 + _BAND, None] * s[None, :], out=band)
            band[np.isnan(band)] = 0.0  # 0 / 0: equal rows
    infinite = np.isinf(sq)
    if infinite.any():
        finite = sq[~infinite]
        top = float(np.nextafter(finite.max() if finite.size else 0.0, np.inf))
        if not np.isfinite(top):
            raise NonFiniteValues("local-scaling distances overflow float64; rescale the rows")
        sq[infinite] = top
    return sq


def local_scaling_order(
    x,
    k: int = LOCAL_SCALING_K,
    *,
    progress=None,
    matrix_budget: int | None = None,
    stats: dict | None = None,
) -> np.ndarray:
    """Exact VAT permutation of the rows of ``x`` under local scaling.

    Parameters
    ----------
    x : array_like, shape (n, d), or a column-chunked source
        One row per sample, all finite.
    k : int
        The neighbour whose distance is each sample's scale (capped at n - 1).
    progress : callable(done, total), optional
        The distances count n, Prim's loop n.
    matrix_budget : int, optional
        Bytes the (n, n) float64 matrix may take (see
        :func:`fracdash.core.outofcore.matrix_budget`).
    stats : dict, optional
        Filled with ``rows`` ("matrix"), ``gram_s`` (distances and scales) and
        ``loop_s`` (Prim's loop).

    Returns
    -------
    ndarray of int64, shape (n,)

    Raises
    ------
    fracdash.core.metrics.MetricRefused
        When the (n, n) float64 matrix exceeds the matrix budget.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"local-scaling needs a whole number of neighbours k >= 1, not {k!r}")
    stats = {} if stats is None else stats
    src = checked(x)
    n, d = src.shape
    check_route("local-scaling", n, d, outofcore.matrix_budget(matrix_budget))
    t0 = time.perf_counter()
    y = feature_rows(src)
    if not np.isfinite(y).all():
        raise NonFiniteValues("vat_order needs finite values; the input holds NaN or inf")
    sq = distance_matrix(y, True, progress, 2 * n)
    if not np.isfinite(sq.max()):
        raise NonFiniteValues("squared distances overflow float64; rescale the rows")
    q = scaled_distances(sq, neighbour_scales(sq, int(k)))
    t1 = time.perf_counter()
    order = dense_vat(q, progress, n, 2 * n)
    stats.update(rows="matrix", out_of_core=False, disk_bytes=0, gram_s=t1 - t0)
    stats["loop_s"] = time.perf_counter() - t1
    return order
