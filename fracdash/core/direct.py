"""Exact VAT straight from float64 distances, for narrow layers past memory.

A layer of at most ``WIDEST`` features (LeNet5's dense1 and prediction: 10) is ordered
out of core without any float32 matrix: every distance Prim's loop needs is computed
when needed, in float64, exactly as :func:`fracdash.core.exact.exact_distance` computes
a re-check — the rows scaled by their factors, differenced, squared and summed in
numpy's pairwise order, times the matrix's power-of-two scale — so the order is VAT's
on those values by construction, ties to the lower index, with nothing to certify.

Why: the float32 route needs float64 re-checks whenever float32 cannot rank two
candidates, and a softmax layer's confident outputs sit below float32's resolution
almost everywhere. Measured at n = 60,000 on the easy scenario's prediction layer:
82 s for the certified float32 loop (most of it the first maximum's re-checks, every
pair of confident samples of two classes lying within the error bound of the
largest), against 10.9 s here (about 0.6 n² pairs of d float64 operations). The rows
(d·n values: 2.4 MB in float32 at d = 10, when that is exact) stay in cache; a step
streams them once.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from fracdash.core.blockmin import LANES, nearest, relax

#: Widest layer ordered this way out of core (n·d float64 per step; a step of the
#: row file reads 4n bytes).
WIDEST = 16
_SPAN = 512  # samples per block of a row (a multiple of LANES)
#: Threads searching the first maximum (rows are independent there), as BLAS uses
#: every core for the Gram elsewhere.
THREADS = os.cpu_count() or 1


@njit(cache=True, nogil=True)
def _square(yk, yj, out):
    """``out = (yk - yj)²`` in float64 (one loop over two aligned slices: what LLVM
    vectorises; an offset index ran 3x slower)."""
    for c in range(out.size):
        t = np.float64(yk[c]) - yj
        out[c] = t * t


@njit(cache=True, nogil=True)
def _add_square(yk, yj, out):
    """``out += (yk - yj)²`` in float64, as :func:`_square`."""
    for c in range(out.size):
        t = np.float64(yk[c]) - yj
        out[c] += t * t


@njit(cache=True, nogil=True)
def _span(y, j, c0, c1, scale2, acc):
    """``acc[0, :c1 - c0]`` = the exact squared distances of row ``j`` to samples
    ``c0 .. c1 - 1``, times ``scale2``. ``y`` (d, n) holds the rows times their factors
    (float64, or float32 when that is exact: the products exact_distance forms); the
    sum is numpy's for d <= 128 (left to right below 8 values; else eight running
    sums, combined pairwise, then the tail). ``acc``: (8, _SPAN) scratch."""
    d = y.shape[0]
    w = c1 - c0
    full = d - d % 8
    if d < 8:
        acc[0, :w] = -0.0
    for k in range(d):
        yk, yj = y[k, c0:c1], np.float64(y[k, j])
        if d < 8 or k >= full:
            _add_square(yk, yj, acc[0, :w])
        elif k < 8:
            _square(yk, yj, acc[k, :w])
        else:
            _add_square(yk, yj, acc[k % 8, :w])
        if k == full - 1:  # the eight running sums, combined as numpy does
            a = acc
            for t in range(w):
                a[0, t] = ((a[0, t] + a[1, t]) + (a[2, t] + a[3, t])) + (
                    (a[4, t] + a[5, t]) + (a[6, t] + a[7, t])
                )
    for t in range(w):
        acc[0, t] *= scale2


@njit(cache=True, nogil=True)
def first_max_rows(y, i0, i1, scale2, acc):
    """(value, row) of the largest exact entry in the upper triangles (diagonal
    included) of rows ``i0 .. i1 - 1``, the first such row on equal values."""
    n = y.shape[1]
    best, row = -np.inf, i0
    for i in range(i0, i1):
        top = -np.inf
        for c0 in range(i, n, _SPAN):
            c1 = min(n, c0 + _SPAN)
            _span(y, i, c0, c1, scale2, acc)
            for t in range(c1 - c0):
                top = max(top, acc[0, t])
        if top > best:
            best, row = top, i
    return best, row


@njit(cache=True, nogil=True)
def prim_rows(y, idx, k0, k1, order, reach, pen, bmin, scale2, acc):
    """Steps ``k0 .. k1 - 1`` of Prim's order on the exact distances among the
    columns of ``y``, sample ``idx[c]`` in column c (increasing: the lowest column
    among equals is the lowest sample), ``order[0]`` the start's column. Each block of
    a row is relaxed into ``reach`` as soon as it is computed."""
    n = y.shape[1]
    for k in range(k0, k1):
        j = order[0]
        if k:
            j = nearest(reach, bmin)
        order[k] = idx[j]
        reach[j] = np.inf
        pen[j] = np.inf
        for c0 in range(0, n, _SPAN):
            c1 = min(n, c0 + _SPAN)
            _span(y, j, c0, c1, scale2, acc)
            b0 = c0 // LANES
            blocks = bmin[b0 : b0 + -(-(c1 - c0) // LANES)]
            relax(acc[0, : c1 - c0], reach[c0:c1], pen[c0:c1], blocks)


def scaled_rows(src, factors, n: int, d: int) -> np.ndarray:
    """The rows of a column-chunked source as a (d, n) array, each times its factor:
    ``float64(x) * f``, the product exact_distance forms — kept in float32 when the
    source is float32 and every factor is 1 (the products are then the values
    themselves: half the memory to stream at every step)."""
    exact32 = bool(np.all(factors == 1.0))
    y = None
    for f0, f1, chunk in src.column_chunks():
        chunk = np.asarray(chunk)
        if y is None:
            keep32 = exact32 and chunk.dtype == np.float32
            y = np.empty((d, n), np.float32 if keep32 else np.float64)
        if y.dtype == np.float32:
            y[f0:f1] = chunk.T
        else:
            y[f0:f1] = (chunk.astype(np.float64) * factors[:, None]).T
    return y


def _first_max(y, scale2, progress, total) -> int:
    """Row of the first maximum in row-major order: stripes of rows searched by
    ``THREADS`` threads (the compiled search releases the GIL), merged in row order."""
    n = y.shape[1]
    step = max(1, n // 100)
    stripes = [(i0, min(n, i0 + step)) for i0 in range(0, n, step)]

    def search(stripe):
        return first_max_rows(y, *stripe, scale2, np.empty((8, _SPAN)))

    found, done = [], 0
    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="fracdash-max") as pool:
        for (i0, i1), result in zip(stripes, pool.map(search, stripes), strict=True):
            found.append(result)
            done += (i1 - i0) * (2 * n - i0 - i1) // n  # rows, weighted by their length
            if progress is not None:
                progress(min(done, n), total)
    best, row = -np.inf, 0
    for value, i in found:  # stripes in row order: the first on equal values
        if value > best:
            best, row = value, i
    return int(row)


def direct_order(src, factors: np.ndarray, scale2: float, progress=None) -> np.ndarray:
    """Exact VAT order of ``src``'s rows (each times its factor) on float64 squared
    distances times ``scale2``. ``progress(done, total)``: the first maximum counts n
    (half a Prim step per row, on two threads), Prim's loop n.

    Prim's loop computes distances to the unvisited samples only: when a quarter of
    the columns in hand are visited, they are dropped (a stable compaction keeps the
    lower-index-first rule), so the loop does about 0.6 n² pairs, not n²."""
    n, d = src.shape
    y = scaled_rows(src, np.asarray(factors, np.float64), n, d)
    start = _first_max(y, scale2, progress, 2 * n)
    acc = np.empty((8, _SPAN))

    def steps(y, idx, k0, k1, order, reach, pen, bmin):
        prim_rows(y, idx, k0, k1, order, reach, pen, bmin, scale2, acc)

    return prim_loop(y, start, steps, progress)


def prim_loop(y: np.ndarray, start: int, steps, progress=None) -> np.ndarray:
    """Prim's order over the columns of ``y`` (d, n) from sample ``start``, a hundredth
    of the steps at a time: ``steps(y, idx, k0, k1, order, reach, pen, bmin)`` does
    steps ``k0 .. k1 - 1`` (as :func:`prim_rows` does) among the columns in hand, sample
    ``idx[c]`` in column c. When a quarter of the columns in hand are visited they are
    dropped (a stable compaction keeps the lower-index-first rule). ``progress(n + k,
    2 n)`` after each hundredth: the first maximum counted the first n."""
    n = y.shape[1]
    order = np.empty(n, dtype=np.int64)
    order[0] = start
    idx = np.arange(n)
    reach, pen = np.full(n, np.inf), np.zeros(n)
    bmin = np.full(-(-n // LANES), np.inf)
    step, gone = max(1, n // 100), 0
    for k0 in range(0, n, step):
        k1 = min(n, k0 + step)
        steps(y, idx, k0, k1, order, reach, pen, bmin)
        gone += k1 - k0
        if 4 * gone > idx.size and k1 < n:  # drop the visited columns
            keep = pen == 0
            y, idx, reach = np.ascontiguousarray(y[:, keep]), idx[keep], reach[keep]
            pen, gone = np.zeros(idx.size), 0
            bmin = np.full(-(-idx.size // LANES) * LANES, np.inf)
            bmin[: idx.size] = reach
            bmin = bmin.reshape(-1, LANES).min(axis=1)
        if progress is not None:
            progress(n + k1, 2 * n)
    return order
