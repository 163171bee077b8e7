"""Prim's order on certified float32 distances, compiled with numba (docs/method.md §4).

The loop visits every sample once and reads one row of the float32 distance matrix per
visit: O(n²) work that numpy could only do with a dozen interpreter round trips per
step (measured: 27 µs a step at n = 5,000, 5x the memory traffic). The float64
re-checks it needs near ties are computed here too, with numpy's own pairwise
summation, so that they equal ``((a - b) ** 2).sum()`` bit for bit.

Notation: entry (a, b) of the float32 matrix is within ``err[a] + kappa * sq[b]`` of
the true one; for an unvisited ``c``, ``low[c]`` and ``high[c]`` are the minima over
the visited ``v`` of the entry less and plus ``kappa * sq[v]`` (float32, rounded
either way), so the true distance of ``c`` to the visited set lies between
``low[c] - err[c]`` and ``high[c] + err[c]`` (roundings covered): each sample's bounds
use the norms of the samples it is near, not the largest norm. A sample whose true
distance has been measured is ``known``; its exact distance ``known_val`` is kept up
to date at every visit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from fracdash.core.blockmin import LANES, block_min, nearest
from fracdash.core.exact import exact_distance, pread_all

__all__ = [
    "DistanceRows",
    "ErrorTerms",
    "PrimState",
    "error_terms",
    "exact_distance",
    "first_max_row",
    "mirror_with_norms",
    "prim_state",
    "prim_steps",
]

# The compiled functions take their arrays in named tuples and read every field by its
# name: a positional tuple of same-typed arrays (low and high, err and sq) compiles just
# as well with two of them swapped, and the bounds would then be silently wrong.


class DistanceRows(NamedTuple):
    """The float32 squared-distance matrix as the compiled loops read it (:func:`_row`):
    in memory, or row by row from a file with pread (never mapped)."""

    #: (n, n) float32 in memory, or (0, n) when the rows are in the file.
    matrix: np.ndarray
    #: Descriptor of the row file (row-major, n float32 a row), or -1 in memory.
    fd: int
    #: (2, n) float32: two rows read from the file (unused in memory).
    rowbuf: np.ndarray
    #: (2,) int64: the row each slot of ``rowbuf`` holds (-1: none).
    held: np.ndarray


class ErrorTerms(NamedTuple):
    """What bounds the float32 entries: ``|entry (a, b) - true| <= err[a] + kappa *
    sq[b]``."""

    #: (n,) float64: each row's own error term.
    err: np.ndarray
    #: The error per unit of the other row's squared norm.
    kappa: float
    #: (n,) float64: squared norms, in the matrix's units.
    sq: np.ndarray
    #: (ceil(n / LANES),) float64: the largest ``err`` of each block of samples.
    berr: np.ndarray


class PrimState(NamedTuple):
    """What Prim's loop keeps between steps (and calls of :func:`prim_steps`)."""

    #: (n,) float32 lower bounds of each unvisited sample's distance to the visited set.
    low: np.ndarray
    #: (n,) float32 upper bounds of the same.
    high: np.ndarray
    #: (n,) float32: 0 for an unvisited sample, inf for a visited one.
    pen: np.ndarray
    #: (ceil(n / LANES),) float32: each block's least ``low``.
    blow: np.ndarray
    #: (ceil(n / LANES),) float32: each block's least ``high``.
    bhigh: np.ndarray
    #: (n,) bool: the sample's distance to the visited set is measured in float64 ...
    known: np.ndarray
    #: (n,) float64: ... and is this (kept up to date at every visit).
    known_val: np.ndarray
    #: (n,) int64: the known samples, the first ``nmem[0]`` of them.
    members: np.ndarray
    #: (1,) int64: how many samples are known.
    nmem: np.ndarray
    #: (d,) float64 scratch of :func:`~fracdash.core.exact.exact_distance`.
    buf: np.ndarray
    #: (n,) int64 scratch: a step's candidates.
    cands: np.ndarray
    #: (n,) float64 scratch: their lower bounds.
    lows: np.ndarray


def prim_state(n: int, d: int) -> PrimState:
    """A fresh :class:`PrimState` for ``n`` samples of ``d`` features: nothing visited,
    nothing known, every bound infinite."""
    blocks = -(-n // LANES)
    return PrimState(
        low=np.full(n, np.inf, np.float32),
        high=np.full(n, np.inf, np.float32),
        pen=np.zeros(n, np.float32),
        blow=np.full(blocks, np.inf, np.float32),
        bhigh=np.full(blocks, np.inf, np.float32),
        known=np.zeros(n, bool),
        known_val=np.full(n, np.inf),
        members=np.empty(n, np.int64),
        nmem=np.zeros(1, np.int64),
        buf=np.empty(d),
        cands=np.empty(n, np.int64),
        lows=np.empty(n),
    )


def error_terms(err: np.ndarray, kappa: float, sq: np.ndarray) -> ErrorTerms:
    """:class:`ErrorTerms` of rows with error terms ``err`` (shape (n,)) and squared
    norms ``sq`` (shape (n,)), each block's largest term computed here."""
    n = err.size
    blocks = -(-n // LANES)
    berr = np.full(blocks * LANES, -np.inf)
    berr[:n] = err
    berr = berr.reshape(blocks, LANES).max(axis=1)
    return ErrorTerms(err=err, kappa=float(kappa), sq=sq, berr=berr)


@njit(cache=True, nogil=True)
def _row(rows, i, slot):
    """Row ``i`` of the float32 distance matrix (``rows``: a :class:`DistanceRows`):
    read from the file with pread into ``rows.rowbuf[slot]`` when there is one, else
    the matrix's own row. A buffered row is kept: the next call for the same row and
    slot reads nothing."""
    if rows.fd < 0:
        return rows.matrix[i]
    buf = rows.rowbuf
    if rows.held[slot] != i:
        n = buf.shape[1]
        pread_all(rows.fd, buf[slot].ctypes.data, n * 4, i * n * 4)
        rows.held[slot] = i
    return buf[slot]


@njit(cache=True, nogil=True, fastmath={"nnan", "nsz"})
def _block_hits(row, err, pen, thr, lo, hi):
    """How many samples of ``lo .. hi`` are visited (``pen`` inf) with a float32 entry,
    less its row's error term ``err``, at most ``thr``: a branch-free count LLVM
    vectorises, so that a block without any is passed over at memory speed."""
    hits = 0
    for v in range(lo, hi):
        hits += (np.float64(row[v]) - err[v] <= thr) & (pen[v] != 0)
    return hits


@njit(cache=True, nogil=True)
def _measure(c, rows, limit, state, terms, data):
    """Exact distance of unvisited ``c`` to the visited set, at most ``limit``: only
    the visited samples whose float32 entry, less its error bound, is within the
    limit (blocks of ``LANES`` samples are first counted branch-free; only blocks with
    a hit are walked)."""
    err, pen = terms.err, state.pen
    own = terms.kappa * terms.sq[c]
    best = np.inf
    row = _row(rows, c, np.intp(1))
    n = pen.size
    for lo in range(0, n, LANES):
        hi = min(n, lo + LANES)
        if _block_hits(row, err, pen, limit + own, lo, hi):
            for v in range(lo, hi):
                if pen[v] != 0 and np.float64(row[v]) - (err[v] + own) <= limit:
                    best = min(best, exact_distance(data, c, v, state.buf))
    return best


@njit(cache=True, nogil=True)
def _choose(m, rows, state, terms, data):
    """The exact nearest among ``state.cands[:m]`` (lowest index among exact ties); the
    samples measured here join the known list."""
    cands, lows = state.cands, state.lows
    known, known_val, members = state.known, state.known_val, state.members
    err = terms.err
    best = np.inf
    f = 0
    for t in range(m):
        c = cands[t]
        if known[c]:
            best = min(best, known_val[c])
        else:
            cands[f], cands[t] = c, cands[f]
            lows[f] = _lower(state.low[c]) - err[c]
            f += 1
    nmem = state.nmem[0]
    for t in _stable_argsort(lows[:f]):
        c = cands[t]
        if lows[t] > best:
            break
        limit = _upper(state.high[c]) + err[c]
        known_val[c] = _measure(c, rows, limit, state, terms, data)
        known[c] = True
        members[nmem] = c
        nmem += 1
        best = min(best, known_val[c])
    state.nmem[0] = nmem
    chosen = known.size
    for t in range(m):
        c = cands[t]
        if known[c] and known_val[c] == best and c < chosen:
            chosen = c
    return chosen


@njit(cache=True, nogil=True)
def _stable_argsort(v):
    """``np.argsort(v, kind="mergesort")`` (stable), bottom-up: numba's own takes 2 s
    to compile, which a fresh install's first run pays."""
    f, width = v.size, 1
    idx, tmp = np.arange(f), np.empty(f, dtype=np.int64)
    while width < f:
        for lo in range(0, f, 2 * width):
            mid, hi = min(lo + width, f), min(lo + 2 * width, f)
            a, b = lo, mid
            for o in range(lo, hi):
                if b >= hi or (a < mid and v[idx[a]] <= v[idx[b]]):
                    tmp[o] = idx[a]
                    a += 1
                else:
                    tmp[o] = idx[b]
                    b += 1
        idx, tmp = tmp, idx
        width *= 2
    return idx


@njit(cache=True, nogil=True, inline="always")
def _lower(x):
    """A lower bound of the reals whose float32 roundings have ``x`` as their least
    (``fl(a) >= a - 2⁻²³|fl(a)|``, 2⁻¹⁴⁸ for subnormals; monotone in ``x``)."""
    x = np.float64(x)
    return x - abs(x) * 2.0**-22 - 2.0**-148


@njit(cache=True, nogil=True, inline="always")
def _upper(x):
    """An upper bound likewise (see :func:`_lower`)."""
    x = np.float64(x)
    return x + abs(x) * 2.0**-22 + 2.0**-148


@njit(cache=True, nogil=True, fastmath={"nnan", "nsz"})
def _relax_bounds(row, s, state):
    """The bounds of each unvisited sample's distance to the visited set after a
    visit: ``low = min(low, row + pen - s)``, ``high = min(high, row + pen + s)`` in
    float32, where ``s`` >= the visited row's own error term ``kappa * sq[row]``
    (``pen``: 0 unvisited, inf visited), and the block minima of both, as
    :func:`~fracdash.core.blockmin.relax` keeps them. With the other sample's term
    ``err[c]`` added and the roundings covered (:func:`_lower`, :func:`_upper`), they
    bound the true distance entry by entry: tighter than one slack from the largest
    norm (at n = 10,000, d = 84: half the float64 re-checks)."""
    low, high, pen = state.low, state.high, state.pen
    blow, bhigh = state.blow, state.bhigh
    n = low.size
    full = n // LANES
    for b in range(full):  # fixed trip counts: what LLVM vectorises
        lo = b * LANES
        for c in range(lo, lo + LANES):
            v = row[c] + pen[c]
            w = v - s
            r = low[c]
            low[c] = w if w < r else r
            w = v + s
            r = high[c]
            high[c] = w if w < r else r
        bhigh[b] = block_min(high, lo)
        blow[b] = block_min(low, lo)
    if full < bhigh.size:  # the last, partial block
        least, lowest = np.inf, np.inf
        for c in range(full * LANES, n):
            v = row[c] + pen[c]
            r = min(high[c], v + s)
            high[c] = r
            least = min(least, r)
            r = min(low[c], v - s)
            low[c] = r
            lowest = min(lowest, r)
        bhigh[full] = least
        blow[full] = lowest


@njit(cache=True, nogil=True)
def prim_steps(rows, k0, k1, order, state, terms, data):
    """Visits ``k0 .. k1 - 1`` of Prim's order (``order[0]`` preset to the start).

    ``rows``: the distance rows (:class:`DistanceRows`); ``state``: the bounds, the
    known samples and scratch (:class:`PrimState`, updated); ``terms``: the entries'
    error terms (:class:`ErrorTerms`); ``data``: the rows the float64 re-checks read
    (:class:`~fracdash.core.exact.SampleRows`).

    A step's candidates are the unvisited samples whose certified lower bound is at
    most the certified upper bound of the one with the least ``high`` (the nearest
    is among them; alone, it is certified as it is); a block can hold one only if its
    least ``low``, less its largest error term, is — most steps look at the block
    minima and one block."""
    low, high, pen = state.low, state.high, state.pen
    blow, bhigh = state.blow, state.bhigh
    known, known_val, members, cands = state.known, state.known_val, state.members, state.cands
    err, kappa, sq, berr = terms.err, terms.kappa, terms.sq, terms.berr
    n = order.size
    for k in range(k0, k1):
        j = order[0]
        if k:
            j = nearest(high, bhigh)
            lim = _upper(high[j]) + err[j]
            m = np.intp(0)  # not the literal 0: _choose would be compiled twice
            for b in range(blow.size):  # only blocks that can hold a candidate
                if _lower(blow[b]) - berr[b] <= lim:
                    for c in range(b * LANES, min(n, (b + 1) * LANES)):
                        if _lower(low[c]) - err[c] <= lim:
                            cands[m] = c
                            m += 1
            if m > 1:
                j = _choose(m, rows, state, terms, data)
        order[k] = j
        low[j] = np.inf
        high[j] = np.inf
        pen[j] = np.inf
        nmem = state.nmem[0]
        if known[j]:
            known[j] = False
            t = 0
            for s in range(nmem):
                if members[s] != j:
                    members[t] = members[s]
                    t += 1
            nmem = t
            state.nmem[0] = nmem
        own = kappa * sq[j]
        row = _row(rows, j, np.intp(0))
        for s in range(nmem):
            c = members[s]
            if np.float64(row[c]) - (err[c] + own) < known_val[c]:
                val = exact_distance(data, j, c, state.buf)
                known_val[c] = min(known_val[c], val)
        s32 = np.float32(own * (1.0 + 2.0**-20) + 2.0**-149)  # >= own, rounded
        _relax_bounds(row, s32, state)


@njit(cache=True, nogil=True)
def first_max_row(rows, candidates, threshold, data, buf):
    """Row of the first maximum, in row-major order, of the exact distance matrix.

    Every entry that reaches the maximum has a float32 value of at least
    ``threshold``; only those are measured. ``candidates`` must hold at least one of
    the two samples of every such pair (the rows whose lower-triangle or full maximum
    reaches it). The matrix is symmetric, so the first row holding the maximum is the
    least index of a pair reaching it: each candidate's whole row is scanned and a
    pair counts for its lower index. ``rows``: a :class:`DistanceRows`; ``data``: a
    :class:`~fracdash.core.exact.SampleRows`."""
    n = rows.matrix.shape[1]
    best_val, best_row = -np.inf, n
    for i in candidates:
        row = _row(rows, i, np.intp(0))
        for j in range(n):
            if row[j] >= threshold:
                val = exact_distance(data, i, j, buf)
                low = min(i, j)
                if val > best_val or (val == best_val and low < best_row):
                    best_val, best_row = val, low
    return best_row


@njit(cache=True, nogil=True)
def mirror_with_norms(dist, sq, tile, lowmax):
    """``dist[i, j] = dist[j, i] = (dist[i, j] + sq[j]) + sq[i]`` for ``j <= i``, in
    place and tile by tile (pairs of tiles fit in cache): the full squared-distance
    matrix from the lower triangle of ``-2 XXᵀ`` and the float32 squared norms. The
    maximum of each row's lower triangle (``j <= i``) goes into ``lowmax`` on the way:
    every pair has its larger index there (a pass over the whole matrix for the row
    maxima cost 0.03 s at n = 10,000)."""
    n = dist.shape[0]
    lowmax[:] = -np.inf
    for i0 in range(0, n, tile):
        i1 = min(n, i0 + tile)
        for j0 in range(0, i0 + 1, tile):
            j1 = min(n, j0 + tile)
            for i in range(i0, i1):
                top = lowmax[i]
                for j in range(j0, min(j1, i + 1)):
                    v = (dist[i, j] + sq[j]) + sq[i]
                    dist[i, j] = v
                    dist[j, i] = v
                    top = max(top, v)
                lowmax[i] = top
