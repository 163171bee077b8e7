"""Float64 distances without BLAS, summed feature by feature, and VAT on them.

The metrics that are not a Euclidean distance between transformed rows
(:mod:`fracdash.core.metrics`: ``manhattan``, and ``local-scaling`` whose base is the
squared Euclidean distance) are computed here, exactly as defined: for a pair of rows
``a, b`` (each value taken as float64), the differences ``a_k - b_k`` and the sum over
the features ``k = 0 .. d - 1`` in that order, all in float64:

- ``l1``: ``sum |a_k - b_k|``;
- ``sq``: ``sum (a_k - b_k)²``.

Each pair's sum is sequential in k, so a tile of pairs is vectorised across its pairs,
never across the features (which would reorder the sums): the value of a pair is the
same in every tile, row and thread, and a reference can compute it with a loop over
the features. Symmetric bit for bit (``a - b = -(b - a)`` exactly).

Memory: the rows as a (d, n) array (float32 stays float32), and, for the matrix
route, the (n, n) float64 matrix. Time: n²/2 pairs of d operations (no BLAS).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from fracdash.core.blockmin import LANES, nearest, relax

__all__ = [
    "THREADS",
    "TILE_COLUMNS",
    "dense_vat",
    "distance_matrix",
    "feature_rows",
    "first_max",
    "tile",
]

#: Threads filling the matrix (the compiled tiles release the GIL).
THREADS = os.cpu_count() or 1
_ROWS = 8  # rows of a tile: each feature's slice of columns is reused by all of them
#: Columns of a tile: _ROWS x TILE_COLUMNS float64 sums stay in L1.
TILE_COLUMNS = 256
_DEPTH = 64  # features per pass over a tile's rows: their slices stay in L2
_STRIPE = 32  # rows per task of the matrix fill


def feature_rows(src) -> np.ndarray:
    """The rows of a column-chunked source as a C-ordered (d, n) array: float32 when
    the source is float32 (every value is exact in float64 as it is read), else float64."""
    n, d = src.shape
    y = None
    for f0, f1, chunk in src.column_chunks():
        chunk = np.asarray(chunk)
        if y is None:
            y = np.empty((d, n), np.float32 if chunk.dtype == np.float32 else np.float64)
        y[f0:f1] = chunk.T
    return y


@njit(cache=True, nogil=True)
def _tile_l1(y, i0, i1, c0, c1, acc):
    """``acc[a, t] = sum_k |y[k, c0 + t] - y[k, i0 + a]|``, k in order, in float64."""
    d = y.shape[0]
    w = c1 - c0
    acc[: i1 - i0, :w] = 0.0
    for k0 in range(0, d, _DEPTH):
        for a in range(i1 - i0):
            row = acc[a, :w]
            for k in range(k0, min(d, k0 + _DEPTH)):
                yk = y[k, c0:c1]
                xi = np.float64(y[k, i0 + a])
                for t in range(w):
                    row[t] += abs(np.float64(yk[t]) - xi)


@njit(cache=True, nogil=True)
def _tile_sq(y, i0, i1, c0, c1, acc):
    """``acc[a, t] = sum_k (y[k, c0 + t] - y[k, i0 + a])²``, k in order, in float64."""
    d = y.shape[0]
    w = c1 - c0
    acc[: i1 - i0, :w] = 0.0
    for k0 in range(0, d, _DEPTH):
        for a in range(i1 - i0):
            row = acc[a, :w]
            for k in range(k0, min(d, k0 + _DEPTH)):
                yk = y[k, c0:c1]
                xi = np.float64(y[k, i0 + a])
                for t in range(w):
                    v = np.float64(yk[t]) - xi
                    row[t] += v * v


@njit(cache=True, nogil=True)
def tile(y, i0, i1, c0, c1, acc, squared):
    """``acc[a, t]`` = the distance (``squared``: the squared Euclidean, else L1) of
    rows ``i0 + a`` and ``c0 + t`` of ``y`` (d, n), for ``a < i1 - i0``, ``t < c1 - c0``."""
    if squared:
        _tile_sq(y, i0, i1, c0, c1, acc)
    else:
        _tile_l1(y, i0, i1, c0, c1, acc)


@njit(cache=True, nogil=True)
def _fill_stripe(y, dist, r0, r1, squared, acc):
    """Rows ``r0 .. r1 - 1`` of the matrix from their diagonal on, mirrored into the
    columns (each entry of the upper triangle is computed by one stripe only)."""
    n = y.shape[1]
    for i0 in range(r0, r1, _ROWS):
        i1 = min(r1, i0 + _ROWS)
        for c0 in range(i0, n, TILE_COLUMNS):
            c1 = min(n, c0 + TILE_COLUMNS)
            tile(y, i0, i1, c0, c1, acc, squared)
            for a in range(i1 - i0):
                i = i0 + a
                for t in range(max(0, i - c0), c1 - c0):
                    v = acc[a, t]
                    dist[i, c0 + t] = v
                    dist[c0 + t, i] = v


def distance_matrix(y: np.ndarray, squared: bool, progress=None, total=None) -> np.ndarray:
    """The (n, n) float64 matrix of the rows ``y`` (d, n) (see the module), filled by
    :data:`THREADS` threads; ``progress(done, total)`` with ``done`` up to n."""
    n = y.shape[1]
    dist = np.empty((n, n))
    stripes = [(r0, min(n, r0 + _STRIPE)) for r0 in range(0, n, _STRIPE)]

    def fill(stripe):
        _fill_stripe(y, dist, *stripe, squared, np.empty((_ROWS, TILE_COLUMNS)))
        return stripe

    _run(stripes, fill, n, progress, total)
    return dist


def _run(stripes, work, n, progress, total):
    """``work(stripe)`` on every stripe of rows, by threads; progress in rows weighted
    by their share of the upper triangle."""
    done = 0
    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="fracdash-pairs") as pool:
        for r0, r1 in pool.map(work, stripes):
            done += (r1 - r0) * (2 * n - r0 - r1) / n
            if progress is not None:
                progress(min(n, int(done)), total or n)


@njit(cache=True, nogil=True)
def _stripe_max(y, r0, r1, squared, acc):
    """(value, row) of the largest entry of rows ``r0 .. r1 - 1`` over their upper
    triangles, the first row on equal values."""
    n = y.shape[1]
    best, row = -np.inf, r0
    for i in range(r0, r1):
        top = -np.inf
        for c0 in range(i, n, TILE_COLUMNS):
            c1 = min(n, c0 + TILE_COLUMNS)
            tile(y, i, i + 1, c0, c1, acc, squared)
            for t in range(c1 - c0):
                top = max(top, acc[0, t])
        if top > best:
            best, row = top, i
    return best, row


def first_max(y: np.ndarray, squared: bool, progress=None, total=None) -> tuple[float, int]:
    """(value, row) of the first maximum of the matrix in row-major order, without the
    matrix: the least row index of a pair reaching the maximum."""
    n = y.shape[1]
    found = {}
    stripes = [(r0, min(n, r0 + _STRIPE)) for r0 in range(0, n, _STRIPE)]

    def search(stripe):
        found[stripe] = _stripe_max(y, *stripe, squared, np.empty((1, TILE_COLUMNS)))
        return stripe

    _run(stripes, search, n, progress, total)
    best, row = -np.inf, 0
    for stripe in stripes:  # in row order: the first on equal values
        value, i = found[stripe]
        if value > best:
            best, row = value, i
    return float(best), int(row)


@njit(cache=True, nogil=True)
def _dense_steps(dist, k0, k1, order, reach, pen, bmin):
    for k in range(k0, k1):
        j = order[0]
        if k:
            j = nearest(reach, bmin)
        order[k] = j
        reach[j] = np.inf
        pen[j] = np.inf
        relax(dist[j], reach, pen, bmin)


def dense_vat(dist: np.ndarray, progress=None, offset: int = 0, total=None) -> np.ndarray:
    """VAT order of a finite (n, n) float64 matrix in memory: start at the row of its
    first maximum in row-major order, then Prim, ties to the lower index.
    ``progress(offset + done, total)`` with ``done`` up to n."""
    n = dist.shape[0]
    order = np.empty(n, dtype=np.int64)
    order[0] = int(np.argmax(dist)) // n  # numpy's argmax: the first, row-major
    reach, pen = np.full(n, np.inf), np.zeros(n)
    bmin = np.full(-(-n // LANES), np.inf)
    step = max(1, n // 100)
    for k0 in range(0, n, step):
        k1 = min(n, k0 + step)
        _dense_steps(dist, k0, k1, order, reach, pen, bmin)
        if progress is not None:
            progress(offset + k1, total or n)
    return order
