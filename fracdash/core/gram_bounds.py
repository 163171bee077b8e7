"""Squared distances in row blocks with certified error bounds, and the compiled passes
over them that :mod:`fracdash.core.neighbours` certifies its answers with.

A block row ``t`` (sample ``i``) against sample ``v`` gives ``s = sq[i] + sq[v] - 2 g[t,
v]`` in the space's scaled units, and the exact float64 distance (the re-measured one,
:func:`fracdash.core.neighbours.pair_distances`, times ``scale2``) is within
``err[i] + kappa * sq[v]`` of it. Two precisions:

- float32 (the default): the rows of :class:`~fracdash.core.centring.Centring` and its
  rigorous bound (the VAT orders' own: ``(d + 16) 2⁻²⁴ (|x_i|² + |x_j|²)``), sgemm;
- float64, for ranks deep in a row's order: there the samples are dense, and a float32
  window holds tens of them, each to re-measure (at n = 10,000, d = 2,000: 5x the
  pass's sgemm time); a float64 Gram (dgemm, about twice the float32 time) narrows
  the window 2²⁹-fold.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fracdash.core.centring import Centring
from fracdash.core.chunked import ArrayChunks
from fracdash.core.metrics import pow2_scaled

__all__ = ["GramBlocks", "candidates", "rank_bounds"]

#: Bytes of the distance block of one pass (rows x n).
BLOCK_BYTES = 32 * 2**20
#: float64 re-measurements are within ``2 (d + 1) 2⁻⁵³ (|x_i|² + |x_j|²)`` of the truth,
#: ~2⁻²⁹ of the float32 bound: 2⁻¹⁰ more covers them and the bounds' own roundings.
_SLACK32 = 1.0 + 2.0**-10
_U64 = 2.0**-53


class GramBlocks:
    """A layer's rows centred and scaled by a power of two, with the bounds of the
    distances their Gram blocks give.

    Parameters
    ----------
    z : ndarray, shape (n, d)
        The metric's rows (:func:`fracdash.core.neighbours.metric_rows`).
    wide : bool
        float64 rows and blocks (narrow bounds) instead of float32.

    Attributes
    ----------
    sq : ndarray of float64, shape (n,)
        Squared norms of the centred, scaled rows.
    err, kappa
        ``|s - exact| <= err[i] + kappa * sq[v]``.
    scale2 : float
        Factor from the metric's squared distances to the blocks' units.
    """

    def __init__(self, z: np.ndarray, wide: bool = False):
        n, d = z.shape
        if wide:
            rows = z.astype(np.float64)  # one copy, centred and scaled in place
            rows -= rows.mean(axis=0)
            peak = max(float(rows.max()), -float(rows.min()))
            exponent = int(np.frexp(peak)[1]) if peak > 0 else 0
            self.rows = pow2_scaled(rows, -exponent, out=rows)
            self.scale2 = float(np.ldexp(1.0, -2 * exponent))
            # A float64 dot product is off by at most d·u·|x|·|y|; the re-measured
            # distances by 2 (d + 3) u (|x_i|² + |x_j|²); centring and adds: the rest.
            self.kappa = 4.0 * (d + 16) * _U64
            eta = 64.0 * (d + 1) * 2.0**-1074
        else:
            centring = Centring(ArrayChunks(z))
            self.rows = np.empty((n, d), np.float32)
            f0 = 0
            for block in centring.blocks():
                self.rows[:, f0 : f0 + block.shape[1]] = block
                f0 += block.shape[1]
            self.scale2 = centring.scale2
            self.kappa = centring.kappa * _SLACK32
            eta = centring.eta * _SLACK32
        self.sq = np.einsum("ij,ij->i", self.rows, self.rows, dtype=np.float64)
        self.err = self.kappa * self.sq + eta

    def blocks(self):
        """``(r0, r1, g)``: ``g = rows[r0:r1] @ rows.T``, (r1 - r0, n), row block by
        row block."""
        n = self.rows.shape[0]
        step = int(min(n, max(16, BLOCK_BYTES // (self.rows.itemsize * n))))
        for r0 in range(0, n, step):
            r1 = min(n, r0 + step)
            yield r0, r1, self.rows[r0:r1] @ self.rows.T


@njit(cache=True, nogil=True)
def candidates(g, r0, sq, err, kappa, k, rank, before, out, counts):
    """Per row t of the block (sample r0 + t), the samples that can be among its k
    nearest: lower bound at most the k-th least upper bound (with ``before``, among
    samples of lower ``rank`` only). The first ``out.shape[1]`` go to ``out[t]``,
    their number to ``counts[t]``."""
    b, n = g.shape
    cap = out.shape[1]
    lower = np.empty(n)
    top = np.empty(k)  # the k least upper bounds so far, ascending
    for t in range(b):
        i = r0 + t
        top[:] = np.inf
        for v in range(n):
            if v == i or (before and rank[v] >= rank[i]):
                lower[v] = np.inf
                continue
            s = sq[i] + sq[v] - 2.0 * g[t, v]
            e = err[i] + kappa * sq[v]
            lower[v] = s - e
            u = s + e
            if u < top[k - 1]:  # insert, keeping ``top`` sorted
                p = k - 1
                while p > 0 and top[p - 1] > u:
                    top[p] = top[p - 1]
                    p -= 1
                top[p] = u
        thr = top[k - 1]
        c = 0
        if thr < np.inf:
            for v in range(n):
                if lower[v] <= thr:
                    if c < cap:
                        out[t, c] = v
                    c += 1
        counts[t] = c


@njit(cache=True, nogil=True)
def rank_bounds(g, r0, sq, err, kappa, tdist, targets, before, amb_t, amb_v, amb_q):
    """Per row t of the block (sample r0 + t) and target column q (sample
    ``targets[t, q]`` at exact scaled distance ``tdist[t, q]``), how many samples are
    certainly nearer (upper bound below it) into ``before[t, q]``; the other samples
    whose interval holds that distance go to the ambiguous triples ``(amb_t, amb_v,
    amb_q)``. Returns how many triples there are (the first ``amb_t.size`` written)."""
    b, n = g.shape
    m = tdist.shape[1]
    cap = amb_t.size
    na = 0
    lo, hi = np.empty(n), np.empty(n)
    for t in range(b):
        i = r0 + t
        for v in range(n):
            s = sq[i] + sq[v] - 2.0 * g[t, v]
            e = err[i] + kappa * sq[v]
            lo[v] = s - e
            hi[v] = s + e
        lo[i] = np.inf  # the sample itself is neither nearer nor in doubt
        hi[i] = np.inf
        for q in range(m):
            f, j = tdist[t, q], targets[t, q]
            nearer, inside = 0, 0
            for v in range(n):  # branch-free counts: vectorised
                nearer += hi[v] < f
                inside += (lo[v] <= f) & (hi[v] >= f)
            before[t, q] = nearer
            if lo[j] <= f and hi[j] >= f:
                inside -= 1  # the target itself
            if inside > 0:
                for v in range(n):
                    if v != j and lo[v] <= f and hi[v] >= f:
                        if na < cap:
                            amb_t[na], amb_v[na], amb_q[na] = t, v, q
                        na += 1
    return na
