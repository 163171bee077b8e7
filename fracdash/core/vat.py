"""Exact VAT ordering (SPEC §4) in O(n² + n·d) memory and BLAS time.

VAT (Bezdek & Hathaway 2002) on the dissimilarity matrix R: start at the row of the
first maximum of R in row-major order, then repeatedly append the unvisited sample
closest to the visited set — Prim's minimum-spanning-tree order.

Exactness. Squared Euclidean distances are computed once in float32 through BLAS
(``|x|² + |y|² − 2·XYᵀ`` on centred data). Every float32 entry comes with a rigorous
error bound (a dot product of length d in float32 is off by at most ``d·u·|x|·|y|``,
u = 2⁻²⁴, whatever the summation order), so each unvisited sample's float32 distance
to the visited set is within a known slack of the true one. When another candidate's
slack window overlaps the nearest one's, the candidates are measured in float64 from
the original rows and kept exact from then on. The order therefore equals VAT on the
float64 distance matrix, up to floating-point ties, which are broken towards the
lower sample index (as ``numpy.argmin`` does). Squared distances give the same order
as distances, so no square root is taken.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.linalg import blas

from fracdash.core.chunked import ArrayChunks

METRICS = ("euclidean", "cosine")
_U32 = 2.0**-24
_ROW_BLOCK = 2048
_FULL_GEMM_WIDTH = 1024


class _RowScaled:
    """A chunked source with every row multiplied by a factor (cosine's unit rows)."""

    def __init__(self, src, factors: np.ndarray):
        self.src, self.factors, self.shape = src, factors, src.shape

    def column_chunks(self):
        for f0, f1, chunk in self.src.column_chunks():
            yield f0, f1, chunk * self.factors[:, None]

    def take(self, rows) -> np.ndarray:
        return self.src.take(rows) * self.factors[rows, None]


def _prepared(x, metric: str):
    """A column-chunked source whose Euclidean geometry defines the metric."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if not hasattr(x, "column_chunks"):
        x = np.asarray(x)
        if x.ndim != 2:
            raise ValueError(f"vat_order needs a 2-D array (n samples, d features), not {x.shape}")
        if not np.issubdtype(x.dtype, np.floating) and not np.issubdtype(x.dtype, np.integer):
            raise ValueError(f"vat_order needs numbers, got dtype {x.dtype}")
        x = ArrayChunks(x)
    if x.shape[0] < 1:
        raise ValueError("vat_order needs at least one sample")
    if metric == "cosine":
        # Cosine dissimilarity = half the squared distance between unit vectors, so
        # VAT on it equals Euclidean VAT on the normalised rows. Zero rows stay zero.
        sq = np.zeros(x.shape[0])
        for _, _, chunk in x.column_chunks():
            c64 = chunk.astype(np.float64)
            sq += np.einsum("ij,ij->i", c64, c64)
        norms = np.sqrt(sq)
        return _RowScaled(x, 1.0 / np.where(norms > 0, norms, 1.0))
    return x


class _Float32Distances:
    """Squared distances in float32 with a rigorous per-entry error bound.

    Rows are centred (distances are translation invariant and the bound shrinks with
    the norms) and scaled by a power of two — exact in float64 — so that the largest
    centred value is at most 1: float32 then neither overflows nor underflows except
    for values far below the largest, whose absolute error ``eta`` the bound covers.
    The Gram matrix is accumulated chunk of columns by chunk of columns with BLAS
    ``ssyrk`` (one triangle, half the flops of a GEMM), so memory stays at the n x n
    matrix plus one chunk.
    """

    def __init__(self, src, workspace: np.ndarray | None = None):
        n, d = src.shape
        mean = np.zeros(d, dtype=np.float64)
        top = 0.0
        for f0, f1, chunk in src.column_chunks():
            mean[f0:f1] = chunk.sum(axis=0, dtype=np.float64) / n
            top = max(top, float(np.abs(chunk).max()))
        if not (np.isfinite(mean).all() and np.isfinite(top)):
            raise ValueError("vat_order needs finite values; the input holds NaN or inf")
        # A bound on the largest centred value, within a factor 2 of it: enough to keep
        # float32 away from overflow and from underflow of the values that matter.
        peak = top + float(np.abs(mean).max())
        exponent = int(np.frexp(peak)[1]) if peak > 0 else 0
        self.scale2 = float(np.ldexp(1.0, -2 * exponent))  # squared distances' factor
        self.sq = np.zeros(n, dtype=np.float64)
        # A narrow layer takes one full GEMM; a wide one one triangle (ssyrk, half the
        # flops) then a mirror copy, cheaper once d is large.
        full = d <= _FULL_GEMM_WIDTH
        gram = _gram_buffer(n, full, workspace)
        for f0, f1, chunk in src.column_chunks():
            # Fortran order: what ssyrk reads without a copy (and trans=0 is its fast path).
            c32 = np.empty(chunk.shape, dtype=np.float32, order="F")
            if chunk.dtype == np.float32:
                # Centring on a float32 mean is a translation too: only the rounding
                # of each difference (|δ| <= u|x - m|) adds error, which kappa covers.
                np.subtract(chunk, mean[f0:f1].astype(np.float32), out=c32)
                np.ldexp(c32, -exponent, out=c32)
            else:
                c32[...] = np.ldexp(chunk - mean[f0:f1], -exponent)
            self.sq += np.einsum("ij,ij->i", c32, c32, dtype=np.float64)
            if full:
                np.matmul(c32 * np.float32(-2.0), c32.T, out=gram)  # -2 is exact
            else:
                # upper triangle += -2 c cᵀ
                blas.ssyrk(alpha=-2.0, a=c32, beta=1.0, c=gram, trans=0, overwrite_c=1)
        sq32 = self.sq.astype(np.float32)
        self.dist = _add_norms(gram, sq32) if full else _symmetric_distances(gram, sq32)
        # A float32 dot product of length d is off by at most d·u·|x|·|y| in any
        # summation order; the +16 covers centring, casts and the final adds, and
        # eta the absolute error of subnormal values.
        self.kappa = (d + 16) * _U32 * 1.01
        self.eta = 16.0 * (d + 1) * 2.0**-149
        self.row_err = self.kappa * self.sq + self.eta
        self.src = src

    def error(self, row: int, cols=slice(None)) -> np.ndarray:
        """Bound on |float32 entry - exact entry| for one row and the given columns."""
        return self.row_err[cols] + self.kappa * self.sq[row]

    def exact(self, i: int, others: np.ndarray) -> np.ndarray:
        """Float64 squared distances from row ``i`` to rows ``others``, in the
        float32 matrix's (power-of-two scaled) units."""
        # The plain expression, so that values equal those of a straightforward
        # float64 reference bit for bit and only true ties remain ties.
        diff = self.src.take(others).astype(np.float64) - self.src.take([i]).astype(np.float64)
        return (diff**2).sum(axis=1) * self.scale2


def _gram_buffer(n: int, full: bool, workspace: np.ndarray | None) -> np.ndarray:
    """An (n, n) float32 buffer: C-ordered for a full GEMM, Fortran-ordered and zeroed
    for ssyrk. A caller ordering many layers passes the same ``workspace`` each time:
    the 400 MB of a 10,000-sample matrix are then allocated (page-faulted) once."""
    if workspace is None or workspace.shape != (n, n) or workspace.dtype != np.float32:
        return np.empty((n, n), np.float32) if full else np.zeros((n, n), np.float32, "F")
    if not workspace.flags.c_contiguous:
        raise ValueError("the workspace must be a C-contiguous (n, n) float32 array")
    if full:
        return workspace
    gram = workspace.T  # the same memory, Fortran-ordered
    gram.fill(0.0)
    return gram


def _add_norms(dist: np.ndarray, sq32: np.ndarray) -> np.ndarray:
    """``sq_i + sq_j - 2 x_i·x_j`` in place, from a full C-ordered ``-2 XXᵀ`` (tiny
    negative values kept: they lie within the error bound of the true entries)."""
    for start in range(0, dist.shape[0], _ROW_BLOCK):
        rows = slice(start, start + _ROW_BLOCK)
        dist[rows] += sq32[rows, None]
        dist[rows] += sq32[None, :]
    return dist


def _symmetric_distances(gram: np.ndarray, sq32: np.ndarray) -> np.ndarray:
    """Like :func:`_add_norms`, from the upper triangle of a Fortran-ordered
    ``-2 XXᵀ``, mirrored block by block into a full C-ordered matrix."""
    dist = gram.T  # C-ordered view; its lower triangle holds the values
    n = dist.shape[0]
    for start in range(0, n, _ROW_BLOCK):
        rows = slice(start, start + _ROW_BLOCK)
        block = dist[rows, rows]
        block[...] = np.tril(block) + np.tril(block, -1).T
        for col in range(start + _ROW_BLOCK, n, _ROW_BLOCK):
            cols = slice(col, col + _ROW_BLOCK)
            dist[rows, cols] = dist[cols, rows].T
    return _add_norms(dist, sq32)


def _first_max_row(f32: _Float32Distances, dist: np.ndarray) -> int:
    """Row of the first maximum of the exact matrix in row-major order.

    The true maximum M is at least ``top - emax`` (``top`` the float32 maximum,
    ``emax`` the widest error bound), so every pair reaching M has a float32 entry of
    at least ``top - 2 emax``: only those are measured in float64.
    """
    n = dist.shape[0]
    if n == 1:
        return 0
    top = float(dist.max())
    emax = 2 * f32.kappa * float(f32.sq.max()) + f32.eta
    best_val, best_row = -np.inf, n
    for start in range(0, n, _ROW_BLOCK):
        ii, jj = np.nonzero(dist[start : start + _ROW_BLOCK] >= top - 2 * emax)
        if not ii.size:
            continue
        bounds = np.flatnonzero(np.diff(ii)) + 1
        for rows, cols in zip(np.split(ii, bounds), np.split(jj, bounds), strict=True):
            i = int(rows[0]) + start
            val = float(f32.exact(i, cols).max())
            # Rows come in increasing order: only a strictly larger value wins.
            if val > best_val:
                best_val, best_row = val, i
    return best_row


def vat_order(
    x,
    metric: str = "euclidean",
    *,
    progress: Callable[[int, int], None] | None = None,
    workspace: np.ndarray | None = None,
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
    workspace : ndarray of float32, shape (n, n), C-contiguous, optional
        Memory to reuse for the distance matrix (its content is overwritten).

    Returns
    -------
    ndarray of int64, shape (n,)
        Sample indices in VAT order.
    """
    f32 = _Float32Distances(_prepared(x, metric), workspace)
    dist = f32.dist
    return _prim_order(f32, dist, _first_max_row(f32, dist), progress)


def _prim_order(f32: _Float32Distances, dist: np.ndarray, start: int, progress) -> np.ndarray:
    """Prim's order from ``start``, certified against the float64 distances.

    ``reach[c]`` is the float32 distance of unvisited ``c`` to the visited set (a min
    of float32 entries, so no rounding); the true distance is within ``slack[c]`` of
    it. The usual step costs three passes over ``reach``. When another candidate could
    tie with the smallest one, the candidates are measured in float64 and join the
    ``known`` samples, whose exact distance is then kept up to date at every visit by
    measuring only those that the new sample's float32 row says could come closer.
    """
    n = dist.shape[0]
    order = np.empty(n, dtype=np.int64)
    unvisited = np.ones(n, dtype=bool)
    reach = np.full(n, np.inf, dtype=np.float32)
    slack = f32.kappa * (f32.sq + f32.sq.max()) + f32.eta
    widest = float(slack.max())
    known = np.zeros(n, dtype=bool)
    known_val = np.full(n, np.inf)
    members = np.empty(0, dtype=np.int64)  # flatnonzero(known), refreshed on change
    step = max(1, n // 100)

    def measure(c: int) -> None:
        limit = float(reach[c]) + slack[c]
        near = np.flatnonzero(~unvisited & (dist[c] - f32.error(c) <= limit))
        known_val[c] = float(f32.exact(c, near).min())
        known[c] = True

    def choose(cands: np.ndarray) -> int:
        fresh = cands[~known[cands]]
        old = cands[known[cands]]
        best_val = float(known_val[old].min()) if old.size else np.inf
        lows = reach[fresh] - slack[fresh]
        for c in fresh[np.argsort(lows, kind="stable")]:
            if reach[c] - slack[c] > best_val:
                break
            measure(int(c))
            best_val = min(best_val, known_val[c])
        exact = cands[known[cands]]
        return int(exact[known_val[exact] == best_val].min())

    j = start
    for k in range(n):
        if k:
            j = int(np.argmin(reach))
            nearest = float(reach[j])
            reach[j] = np.inf
            rival = float(reach.min())  # the usual step ends here: no possible tie
            reach[j] = nearest
            if rival <= nearest + slack[j] + widest or known[j]:
                cands = np.flatnonzero(reach <= nearest + slack[j] + widest)
                cands = cands[reach[cands] - slack[cands] <= nearest + slack[j]]
                j = choose(cands)
                if members.size != np.count_nonzero(known):
                    members = np.flatnonzero(known)
        order[k] = j
        unvisited[j] = False
        if known[j]:
            known[j] = False
            members = members[members != j]
        if members.size:
            row = dist[j, members]
            closer = members[row - f32.error(j, members) < known_val[members]]
            if closer.size:
                known_val[closer] = np.minimum(known_val[closer], f32.exact(j, closer))
        np.minimum(reach, dist[j], out=reach, where=unvisited)
        reach[j] = np.inf
        if progress is not None and (k % step == 0 or k == n - 1):
            progress(k + 1, n)
    return order
