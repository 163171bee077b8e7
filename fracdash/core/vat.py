"""Exact VAT ordering (SPEC §4) in O(n² + n·d) memory and BLAS time.

VAT (Bezdek & Hathaway 2002) on the dissimilarity matrix R: start at the row of the
first maximum of R in row-major order, then repeatedly append the unvisited sample
closest to the visited set — Prim's minimum-spanning-tree order.

Exactness. Squared Euclidean distances are computed once in float32 through BLAS
(``|x|² + |y|² − 2·XYᵀ`` on centred data). Every float32 entry comes with a rigorous
error bound (a dot product of length d in float32 is off by at most ``d·u·|x|·|y|``,
u = 2⁻²⁴, whatever the summation order), so Prim keeps for each unvisited sample an
interval ``[lo, hi]`` that provably holds its true distance to the visited set. When
the interval of the smallest candidate overlaps another one, the overlapping
candidates are re-measured in float64 from the original rows. The order therefore
equals VAT on the float64 distance matrix, up to floating-point ties, which are broken
towards the lower sample index (as ``numpy.argmin`` does). Squared distances give the
same order as distances, so no square root is taken.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

METRICS = ("euclidean", "cosine")
_U32 = 2.0**-24
_ROW_BLOCK = 2048


def _prepared(x, metric: str) -> np.ndarray:
    """Rows as a 2-D float array whose Euclidean geometry defines the metric."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"vat_order needs a 2-D array (n samples, d features), not {x.shape}")
    if x.shape[0] < 1:
        raise ValueError("vat_order needs at least one sample")
    if not np.issubdtype(x.dtype, np.floating) and not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"vat_order needs numbers, got dtype {x.dtype}")
    if metric == "cosine":
        # Cosine dissimilarity = half the squared distance between unit vectors, so
        # VAT on it equals Euclidean VAT on the normalised rows. Zero rows stay zero.
        x64 = x.astype(np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", x64, x64))
        return x64 / np.where(norms > 0, norms, 1.0)[:, None]
    return x


class _Float32Distances:
    """Squared distances in float32 with a rigorous per-entry error bound.

    Rows are centred (distances are translation invariant and the bound shrinks with
    the norms) and scaled by a power of two — exact in float64 — so that the largest
    centred value is about 1: float32 then neither overflows nor underflows except
    for values far below the largest, whose absolute error ``eta`` the bound covers.
    """

    def __init__(self, x: np.ndarray):
        n, d = x.shape
        mean = np.zeros(d, dtype=np.float64)
        for start in range(0, n, _ROW_BLOCK):
            mean += x[start : start + _ROW_BLOCK].sum(axis=0, dtype=np.float64)
        mean /= n
        peak = 0.0
        for start in range(0, n, _ROW_BLOCK):
            block = x[start : start + _ROW_BLOCK] - mean
            peak = max(peak, float(np.abs(block).max()))
        exponent = int(np.frexp(peak)[1]) if peak > 0 else 0
        self.scale2 = float(np.ldexp(1.0, -2 * exponent))  # squared distances' factor
        self.xc = np.empty((n, d), dtype=np.float32)
        for start in range(0, n, _ROW_BLOCK):
            rows = slice(start, start + _ROW_BLOCK)
            self.xc[rows] = np.ldexp(x[rows] - mean, -exponent)
        self.sq = np.einsum("ij,ij->i", self.xc, self.xc, dtype=np.float64)
        # A float32 dot product of length d is off by at most d·u·|x|·|y| in any
        # summation order; the +16 covers centring, casts and the final adds, and
        # eta the absolute error of subnormal values.
        self.kappa = (d + 16) * _U32 * 1.01
        self.eta = 16.0 * (d + 1) * 2.0**-149
        self.x = x

    def matrix(self) -> np.ndarray:
        """The (n, n) float32 squared distance matrix, clipped at 0."""
        xc = self.xc
        n = xc.shape[0]
        sq32 = self.sq.astype(np.float32)
        dist = np.empty((n, n), dtype=np.float32)
        for start in range(0, n, _ROW_BLOCK):
            block = dist[start : start + _ROW_BLOCK]
            np.matmul(xc[start : start + _ROW_BLOCK], xc.T, out=block)
            block *= -2.0
            block += sq32[start : start + _ROW_BLOCK, None]
            block += sq32[None, :]
            np.maximum(block, 0.0, out=block)
        return dist

    def error(self, rows, cols=slice(None)) -> np.ndarray:
        """Bound on |float32 entry - exact entry| for the given rows and columns."""
        return self.kappa * (np.add.outer(self.sq[rows], self.sq[cols])) + self.eta

    def exact(self, i: int, others: np.ndarray) -> np.ndarray:
        """Float64 squared distances from row ``i`` to rows ``others``, in the
        float32 matrix's (power-of-two scaled) units."""
        diff = self.x[others].astype(np.float64) - self.x[i].astype(np.float64)
        return np.einsum("ij,ij->i", diff, diff) * self.scale2


def _first_max_row(f32: _Float32Distances, dist: np.ndarray) -> int:
    """Row of the first maximum of the exact matrix in row-major order."""
    n = dist.shape[0]
    if n == 1:
        return 0
    lower = -np.inf
    for start in range(0, n, _ROW_BLOCK):
        rows = slice(start, start + _ROW_BLOCK)
        lower = max(lower, float((dist[rows] - f32.error(rows)).max()))
    best_val, best_row = -np.inf, n
    for start in range(0, n, _ROW_BLOCK):
        rows = slice(start, start + _ROW_BLOCK)
        ii, jj = np.nonzero(dist[rows] + f32.error(rows) >= lower)
        for i in np.unique(ii):
            val = float(f32.exact(int(i) + start, jj[ii == i]).max())
            # Rows are visited in increasing order: only a strictly larger value wins.
            if val > best_val:
                best_val, best_row = val, int(i) + start
    return best_row


def vat_order(
    x,
    metric: str = "euclidean",
    *,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Exact VAT permutation of the rows of ``x``.

    Parameters
    ----------
    x : array_like, shape (n, d)
        One row per sample (float32, float64 or integers), all finite.
    metric : {"euclidean", "cosine"}
        Dissimilarity. Cosine is the Euclidean distance between L2-normalised rows
        (zero rows stay zero), which orders samples as ``1 - cos`` does.
    progress : callable(done, total), optional
        Called now and then with the number of samples placed so far.

    Returns
    -------
    ndarray of int64, shape (n,)
        Sample indices in VAT order.
    """
    x = _prepared(x, metric)
    if not np.isfinite(x).all():
        raise ValueError("vat_order needs finite values; the input holds NaN or inf")
    n = x.shape[0]
    f32 = _Float32Distances(x)
    dist = f32.matrix()
    return _prim_order(f32, dist, _first_max_row(f32, dist), progress)


def _prim_order(f32: _Float32Distances, dist: np.ndarray, start: int, progress) -> np.ndarray:
    """Prim's order from ``start`` with certified float32 intervals.

    ``lo <= true distance to the visited set <= hi`` for every unvisited sample.
    Samples whose interval ever overlapped the winner's are measured exactly once,
    and from then on kept exact (``known``) by measuring, at each visit, only those
    the new sample might bring closer.
    """
    n = dist.shape[0]
    order = np.empty(n, dtype=np.int64)
    lo = np.full(n, np.inf)
    hi = np.full(n, np.inf)
    known = np.zeros(n, dtype=bool)
    known_val = np.full(n, np.inf)
    visited = np.zeros(n, dtype=bool)
    row_err = f32.kappa * f32.sq + f32.eta
    step = max(1, n // 100)

    def measure(c: int) -> None:
        near = np.flatnonzero(visited & (dist[c] - f32.error(c) <= hi[c]))
        known_val[c] = lo[c] = hi[c] = float(f32.exact(c, near).min())
        known[c] = True

    j = start
    for k in range(n):
        if k:
            j = int(np.argmin(hi))
            cands = np.flatnonzero(lo <= hi[j])
            if cands.size > 1:
                best_val, best = np.inf, n
                for c in cands[np.argsort(lo[cands], kind="stable")]:
                    if lo[c] > best_val:
                        break
                    if not known[c]:
                        measure(int(c))
                    if hi[c] < best_val or (hi[c] == best_val and c < best):
                        best_val, best = hi[c], int(c)
                j = best
        order[k] = j
        visited[j] = True
        known[j] = False
        err = row_err + f32.kappa * f32.sq[j]
        row = dist[j].astype(np.float64)
        row[visited] = np.inf  # visited samples stay out of the race
        members = np.flatnonzero(known)
        closer = members[row[members] - err[members] < known_val[members]]
        np.minimum(lo, row - err, out=lo)
        np.minimum(hi, row + err, out=hi)
        if closer.size:
            known_val[closer] = np.minimum(known_val[closer], f32.exact(j, closer))
        lo[members] = hi[members] = known_val[members]
        lo[j] = hi[j] = np.inf
        if progress is not None and (k % step == 0 or k == n - 1):
            progress(k + 1, n)
    return order
