"""Exact float64 distances between two rows, as numpy computes them (docs/method.md §4).

The certified float32 loops of :mod:`fracdash.core.prim` re-measure near ties here: the
rows scaled, differenced, squared and summed in numpy's pairwise order, so that a value
equals ``((a - b) ** 2).sum()`` bit for bit. Rows come from memory or, for a layer
kept on disk, from its file with ``pread`` (never mapped).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, types

_BLOCK = 128  # numpy's PW_BLOCKSIZE

# pread(2) from libc, called by symbol (so the compiled functions stay cacheable): rows
# of a layer kept on disk are read into a buffer, never mapped. Mapped pages would count
# as this process's memory (measured: up to 2 MB per touched row piece, large folios).
_pread = types.ExternalFunction(
    "pread", types.intp(types.intc, types.uintp, types.uintp, types.intp)
)


class SampleRows(NamedTuple):
    """The samples' rows as the compiled loops read them (:func:`exact_distance`); the
    kernels read each field by its name, so two fields of one type cannot trade places
    unseen."""

    #: (n, d) rows in memory, or (0, d) when they are read from a file.
    x: np.ndarray
    #: (n,) float64: each row's factor.
    factors: np.ndarray
    #: The float32 matrix's power-of-two scale (distances are in its units).
    scale2: float
    #: Descriptor of the layer's file, or -1 for rows in memory.
    fd: int
    #: (chunks,) int64: byte offset of each chunk of columns in the file.
    file_offsets: np.ndarray
    #: (chunks,) int64: columns of each chunk.
    widths: np.ndarray
    #: (2, d) float32: two rows read from the file (unused in memory).
    rowbuf: np.ndarray
    #: (2,) int64: the row each slot of ``rowbuf`` holds (-1: none).
    held: np.ndarray
    #: The file is read as ``max(x, 0)`` (a ReLU view of its input's file).
    relu: bool


@njit(cache=True, nogil=True)
def _leaf(a, lo, n):
    """numpy's pairwise_sum for n <= 128: eight running sums, then the tail."""
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - n % 8:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True, nogil=True)
def _pairwise(a, lo, n):
    """numpy's pairwise sum of ``a[lo:lo + n]`` (umath ``pairwise_sum``): halves, cut
    at a multiple of 8, until 128 values or fewer. Its recursion is unrolled onto a
    stack here (numba cannot cache recursive functions)."""
    los, ns, stage = np.empty(64, np.int64), np.empty(64, np.int64), np.empty(64, np.int64)
    vals = np.empty(64)
    top, nv = 0, 0
    los[0], ns[0], stage[0] = lo, n, 0
    while top >= 0:
        m = ns[top]
        if m <= _BLOCK:
            vals[nv] = _leaf(a, los[top], m)
            nv += 1
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if stage[top] == 0:
            stage[top] = 1
            los[top + 1], ns[top + 1], stage[top + 1] = los[top], half, 0
            top += 1
        elif stage[top] == 1:
            stage[top] = 2
            los[top + 1], ns[top + 1], stage[top + 1] = los[top] + half, m - half, 0
            top += 1
        else:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
            top -= 1
    return vals[0]


@njit(cache=True, nogil=True, inline="always")
def _sq(a, b, k, fa, fb):
    diff = np.float64(a[k]) * fa - np.float64(b[k]) * fb
    return diff * diff


@njit(cache=True, nogil=True)
def _narrow_distance(a, b, fa, fb):
    """:func:`_leaf` over the squared differences of two rows of at most 128 values,
    computed on the fly (the same values, added in the same order)."""
    n = a.size
    if n < 8:
        res = -0.0
        for k in range(n):
            res += _sq(a, b, k, fa, fb)
        return res
    r0, r1 = _sq(a, b, 0, fa, fb), _sq(a, b, 1, fa, fb)
    r2, r3 = _sq(a, b, 2, fa, fb), _sq(a, b, 3, fa, fb)
    r4, r5 = _sq(a, b, 4, fa, fb), _sq(a, b, 5, fa, fb)
    r6, r7 = _sq(a, b, 6, fa, fb), _sq(a, b, 7, fa, fb)
    k = 8
    while k < n - n % 8:
        r0 += _sq(a, b, k, fa, fb)
        r1 += _sq(a, b, k + 1, fa, fb)
        r2 += _sq(a, b, k + 2, fa, fb)
        r3 += _sq(a, b, k + 3, fa, fb)
        r4 += _sq(a, b, k + 4, fa, fb)
        r5 += _sq(a, b, k + 5, fa, fb)
        r6 += _sq(a, b, k + 6, fa, fb)
        r7 += _sq(a, b, k + 7, fa, fb)
        k += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while k < n:
        res += _sq(a, b, k, fa, fb)
        k += 1
    return res


@njit(cache=True, nogil=True)
def _load_row(data, row, slot):
    """Row ``row`` of a layer on disk into ``data.rowbuf[slot]`` (kept: the next call
    for the same row and slot reads nothing)."""
    if data.held[slot] == row:
        return
    r = data.rowbuf[slot]
    base = np.uint64(r.ctypes.data)
    widths = data.widths
    col = 0
    for t in range(widths.size):
        want = widths[t] * 4
        pread_all(data.fd, base + np.uint64(col * 4), want, data.file_offsets[t] + row * want)
        col += widths[t]
    if data.relu:
        for k in range(r.size):
            r[k] = max(r[k], np.float32(0))
    data.held[slot] = row


@njit(cache=True, nogil=True)
def exact_distance(data, i, c, buf):
    """Float64 squared distance between rows ``i`` and ``c``, each scaled by its
    factor, in the float32 matrix's units.

    ``data``: a :class:`SampleRows`. With a descriptor of -1 the rows are the
    in-memory array's; otherwise they are read from the file with pread into its row
    buffer (row ``i`` stays in slot 0: callers vary ``c`` for a fixed ``i``). ``buf`` is
    float64 scratch of length d."""
    scale2 = data.scale2
    fi, fc = data.factors[i], data.factors[c]
    if data.fd >= 0:
        _load_row(data, i, np.intp(0))  # np.intp: one compiled version for both slots
        _load_row(data, c, np.intp(1))
        a, b = data.rowbuf[1], data.rowbuf[0]
    else:
        a, b = data.x[c], data.x[i]
        if buf.size <= _BLOCK:  # one pairwise leaf: no buffer needed
            return _narrow_distance(a, b, fc, fi) * scale2
    for k in range(buf.size):
        diff = np.float64(a[k]) * fc - np.float64(b[k]) * fi
        buf[k] = diff * diff
    return _pairwise(buf, np.intp(0), buf.size) * scale2


@njit(cache=True, nogil=True)
def pread_all(fd, base, want, at):
    """``want`` bytes at file offset ``at`` into the memory at ``base`` (short reads
    retried)."""
    done = 0
    while done < want:
        # All-unsigned pointer arithmetic (uint64 + int64 would become float64).
        got = _pread(fd, np.uint64(base) + np.uint64(done), np.uint64(want - done), at + done)
        if got <= 0:
            raise OSError("fracdash: could not read scratch data back from disk")
        done += got
