"""Prim's order on certified float32 distances, compiled with numba (docs/method.md §4).

The loop visits every sample once and reads one row of the float32 distance matrix per
visit: O(n²) work that numpy could only do with a dozen interpreter round trips per
step (measured: 27 µs a step at n = 5,000, 5x the memory traffic). The float64
re-checks it needs near ties are computed here too, with numpy's own pairwise
summation, so that they equal ``((a - b) ** 2).sum()`` bit for bit.

Notation: ``reach[c]`` is the float32 distance of unvisited ``c`` to the visited set (a
min of float32 entries, so no rounding); the true distance lies within ``slack[c]`` of
it. A sample whose true distance has been measured is ``known``; its exact distance
``known_val`` is kept up to date at every visit.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

_BLOCK = 128  # numpy's PW_BLOCKSIZE

# pread(2) from libc, called by symbol (so the compiled functions stay cacheable): rows
# of a layer kept on disk are read into a buffer, never mapped. Mapped pages would count
# as this process's memory (measured: up to 2 MB per touched row piece, large folios).
_pread = types.ExternalFunction(
    "pread", types.intp(types.intc, types.uintp, types.uintp, types.intp)
)


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
    """Row ``row`` of a layer on disk into ``rowbuf[slot]`` (kept: the next call for
    the same row and slot reads nothing)."""
    _, _, _, fd, file_offsets, widths, rowbuf, cached = data
    if cached[slot] == row:
        return
    base = rowbuf[slot].ctypes.data
    col = 0
    for t in range(widths.size):
        want = widths[t] * 4
        at = file_offsets[t] + row * want
        done = 0
        while done < want:
            # All-unsigned pointer arithmetic (uint64 + int64 would become float64).
            ptr = np.uint64(base) + np.uint64(col * 4 + done)
            got = _pread(fd, ptr, np.uint64(want - done), at + done)
            if got <= 0:
                raise OSError("fracdash: could not read a layer's rows back from disk")
            done += got
        col += widths[t]
    cached[slot] = row


@njit(cache=True, nogil=True)
def exact_distance(data, i, c, buf):
    """Float64 squared distance between rows ``i`` and ``c``, each scaled by its
    factor, in the float32 matrix's units.

    ``data`` = (rows in memory, row factors, scale, file descriptor, the file's chunk
    byte offsets and widths, a (2, d) float32 row buffer, the rows it holds). With a
    descriptor of -1 the rows are the in-memory array's; otherwise they are read from
    the file with pread into the buffer (row ``i`` stays in slot 0: callers vary ``c``
    for a fixed ``i``). ``buf`` is float64 scratch of length d."""
    x, factors, scale2, fd = data[:4]
    fi, fc = factors[i], factors[c]
    if fd >= 0:
        _load_row(data, i, 0)
        _load_row(data, c, 1)
        a, b = data[6][1], data[6][0]
    else:
        a, b = x[c], x[i]
        if buf.size <= _BLOCK:  # one pairwise leaf: no buffer needed
            return _narrow_distance(a, b, fc, fi) * scale2
    for k in range(buf.size):
        diff = np.float64(a[k]) * fc - np.float64(b[k]) * fi
        buf[k] = diff * diff
    return _pairwise(buf, 0, buf.size) * scale2


@njit(cache=True, nogil=True)
def _measure(c, dist, reach, slack, unvisited, err, kappa, sq, data, buf):
    """Exact distance of unvisited ``c`` to the visited set: only the visited samples
    whose float32 entry, less its error bound, is within reach of the nearest one."""
    limit = np.float64(reach[c]) + slack[c]
    own = kappa * sq[c]
    best = np.inf
    for v in range(dist.shape[0]):
        if not unvisited[v] and np.float64(dist[c, v]) - (err[v] + own) <= limit:
            best = min(best, exact_distance(data, c, v, buf))
    return best


@njit(cache=True, nogil=True)
def _choose(m, cands, lows, reach, slack, known, known_val, args):
    """The exact nearest among ``cands[:m]`` (lowest index among exact ties)."""
    dist, unvisited, err, kappa, sq, data, buf = args
    best = np.inf
    f = 0
    for t in range(m):
        c = cands[t]
        if known[c]:
            best = min(best, known_val[c])
        else:
            cands[f], cands[t] = c, cands[f]
            lows[f] = np.float64(reach[c]) - slack[c]
            f += 1
    for t in np.argsort(lows[:f], kind="mergesort"):
        c = cands[t]
        if lows[t] > best:
            break
        known_val[c] = _measure(c, dist, reach, slack, unvisited, err, kappa, sq, data, buf)
        known[c] = True
        best = min(best, known_val[c])
    chosen = dist.shape[0]
    for t in range(m):
        c = cands[t]
        if known[c] and known_val[c] == best and c < chosen:
            chosen = c
    return chosen


@njit(cache=True, nogil=True)
def prim_steps(dist, k0, k1, order, reach, slack, unvisited, known, known_val, fixed, data):
    """Visits ``k0 .. k1 - 1`` of Prim's order (``order[0]`` preset to the start).

    ``fixed`` = (err, kappa, sq, widest, buf, cands, lows, members, nmem): the
    per-entry error terms (``|entry error| <= err[a] + kappa * sq[b]``), the largest
    slack, scratch buffers, and the known samples' list and count. Returns the new
    count."""
    err, kappa, sq, widest, buf, cands, lows, members, nmem = fixed
    n = dist.shape[0]
    args = (dist, unvisited, err, kappa, sq, data, buf)
    for k in range(k0, k1):
        j = order[0]
        if k:
            nearest, rival, j = np.inf, np.inf, -1
            for c in range(n):
                v = reach[c]
                if v < nearest:
                    rival, nearest, j = nearest, v, c
                elif v < rival:
                    rival = v
            near = np.float64(nearest)
            if np.float64(rival) <= near + slack[j] + widest or known[j]:
                hi, lim = near + slack[j] + widest, near + slack[j]
                m = 0
                for c in range(n):
                    if reach[c] <= hi and np.float64(reach[c]) - slack[c] <= lim:
                        cands[m] = c
                        m += 1
                j = _choose(m, cands, lows, reach, slack, known, known_val, args)
                nmem = 0
                for c in range(n):  # the known list, rebuilt after a change
                    if known[c]:
                        members[nmem] = c
                        nmem += 1
        order[k] = j
        unvisited[j] = False
        reach[j] = np.inf
        if known[j]:
            known[j] = False
            t = 0
            for s in range(nmem):
                if members[s] != j:
                    members[t] = members[s]
                    t += 1
            nmem = t
        own = kappa * sq[j]
        for s in range(nmem):
            c = members[s]
            if np.float64(dist[j, c]) - (err[c] + own) < known_val[c]:
                val = exact_distance(data, j, c, buf)
                known_val[c] = min(known_val[c], val)
        row = dist[j]
        for c in range(n):
            if unvisited[c] and row[c] < reach[c]:
                reach[c] = row[c]
    return nmem


@njit(cache=True, nogil=True)
def first_max_row(dist, rows, threshold, data, buf):
    """Row of the first maximum, in row-major order, of the exact distance matrix.

    Every entry that reaches the maximum has a float32 value of at least
    ``threshold``; only those are measured. The matrix is symmetric, so the first
    row holding the maximum is the least row index of a pair reaching it: the upper
    triangle (diagonal included) of each row in ``rows`` (increasing) is enough."""
    n = dist.shape[0]
    best_val, best_row = -np.inf, n
    for i in rows:
        for j in range(i, n):
            if dist[i, j] >= threshold:
                val = exact_distance(data, i, j, buf)
                if val > best_val:  # rows come in increasing order: ties keep the first
                    best_val, best_row = val, i
    return best_row


@njit(cache=True, nogil=True)
def mirror_with_norms(dist, sq, tile):
    """``dist[i, j] = dist[j, i] = (dist[i, j] + sq[j]) + sq[i]`` for ``j <= i``, in
    place and tile by tile (pairs of tiles fit in cache): the full squared-distance
    matrix from the lower triangle of ``-2 XXᵀ`` and the float32 squared norms."""
    n = dist.shape[0]
    for i0 in range(0, n, tile):
        i1 = min(n, i0 + tile)
        for j0 in range(0, i0 + 1, tile):
            j1 = min(n, j0 + tile)
            for i in range(i0, i1):
                for j in range(j0, min(j1, i + 1)):
                    v = (dist[i, j] + sq[j]) + sq[i]
                    dist[i, j] = v
                    dist[j, i] = v
