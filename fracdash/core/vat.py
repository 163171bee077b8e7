"""Exact VAT ordering (docs/method.md §4) in O(n² + n·d) memory and BLAS time.

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
from fracdash.core.prim import first_max_row, mirror_with_norms, prim_steps

METRICS = ("euclidean", "cosine")
_U32 = 2.0**-24
_TILE = 32  # mirror tiles (32 x 32): measured 0.11 s at n = 10,000, vs 0.26 s at 256
_GRAM_COLUMNS = 1024  # columns per ssyrk call


class _RowScaled:
    """A chunked source with every row multiplied by a factor (cosine's unit rows)."""

    def __init__(self, src, factors: np.ndarray):
        self.src, self.factors, self.shape = src, factors, src.shape

    def column_chunks(self):
        for f0, f1, chunk in self.src.column_chunks():
            yield f0, f1, chunk * self.factors[:, None]


class NonFiniteValues(ValueError):
    """The rows to order hold NaN or inf (VAT needs finite distances)."""



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
    if x.shape[1] < 1:
        raise ValueError("vat_order needs at least one feature per sample")
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
            top = max(top, abs(float(chunk.max())), abs(float(chunk.min())))
        if not (np.isfinite(mean).all() and np.isfinite(top)):
            raise NonFiniteValues("vat_order needs finite values; the input holds NaN or inf")
        # A bound on the largest centred value, within a factor 2 of it: enough to keep
        # float32 away from overflow and from underflow of the values that matter.
        peak = top + float(np.abs(mean).max())
        exponent = int(np.frexp(peak)[1]) if peak > 0 else 0
        self.scale2 = float(np.ldexp(1.0, -2 * exponent))  # squared distances' factor
        self.sq = np.zeros(n, dtype=np.float64)
        gram = _gram_buffer(n, workspace)
        beta = 0.0  # the first chunk overwrites: BLAS never reads C when beta is 0
        # One small float32 block, reused: fresh memory costs page faults, and ssyrk
        # runs as fast on 1,024 columns at a time as on all of them (measured).
        scratch = np.empty(n * min(d, _GRAM_COLUMNS), dtype=np.float32)
        for f0, f1, chunk in src.column_chunks():
            for s0 in range(0, f1 - f0, _GRAM_COLUMNS):
                s1 = min(f1 - f0, s0 + _GRAM_COLUMNS)
                part, m = chunk[:, s0:s1], mean[f0 + s0 : f0 + s1]
                c32 = scratch[: n * (s1 - s0)].reshape(n, s1 - s0)
                if part.dtype == np.float32:
                    # Centring on a float32 mean is a translation too: only the rounding
                    # of each difference (|δ| <= u|x - m|) adds error, which kappa covers.
                    np.subtract(part, m.astype(np.float32), out=c32)
                    np.ldexp(c32, -exponent, out=c32)
                else:
                    c32[...] = np.ldexp(part - m, -exponent)
                self.sq += np.einsum("ij,ij->i", c32, c32, dtype=np.float64)
                # Upper triangle of the Fortran-ordered gram += -2 cᵀ·c, reading the
                # C-ordered block as its Fortran-ordered transpose (no copy; measured
                # 1.3x faster than trans=0 on a Fortran copy at n = 10,000, d = 9,216).
                blas.ssyrk(alpha=-2.0, a=c32.T, beta=beta, c=gram, trans=1, overwrite_c=1)
                beta = 1.0
        self.dist = _symmetric_distances(gram, self.sq.astype(np.float32))
        # A float32 dot product of length d is off by at most d·u·|x|·|y| in any
        # summation order; the +16 covers centring, casts and the final adds, and
        # eta the absolute error of subnormal values.
        self.kappa = (d + 16) * _U32 * 1.01
        self.eta = 16.0 * (d + 1) * 2.0**-149
        self.row_err = self.kappa * self.sq + self.eta
        self.src = src


def _gram_buffer(n: int, workspace: np.ndarray | None) -> np.ndarray:
    """A Fortran-ordered (n, n) float32 buffer for ssyrk. A caller ordering many
    layers passes the same C-ordered ``workspace`` each time: the 400 MB of a
    10,000-sample matrix are then allocated (page-faulted) once."""
    if workspace is None or workspace.shape != (n, n) or workspace.dtype != np.float32:
        return np.empty((n, n), np.float32, "F")
    if not workspace.flags.c_contiguous:
        raise ValueError("the workspace must be a C-contiguous (n, n) float32 array")
    return workspace.T  # the same memory, Fortran-ordered


def _symmetric_distances(gram: np.ndarray, sq32: np.ndarray) -> np.ndarray:
    """``sq_i + sq_j - 2 x_i·x_j`` in place, from the upper triangle of a Fortran-
    ordered ``-2 XXᵀ`` (the lower triangle of its C-ordered view), mirrored tile by
    tile by a compiled loop. Tiny negative values are kept: they lie within the error
    bound of the true entries."""
    dist = gram.T  # C-ordered view; its lower triangle holds the values
    mirror_with_norms(dist, sq32, _TILE)
    return dist


def _first_max_row(f32: _Float32Distances, dist: np.ndarray, data) -> int:
    """Row of the first maximum of the exact matrix in row-major order.

    The true maximum M is at least ``top - emax`` (``top`` the float32 maximum,
    ``emax`` the widest error bound), so every pair reaching M has a float32 entry of
    at least ``top - 2 emax``: only those are measured in float64.
    """
    n = dist.shape[0]
    if n == 1:
        return 0
    rowmax = dist.max(axis=1)
    threshold = float(rowmax.max()) - 2 * (2 * f32.kappa * float(f32.sq.max()) + f32.eta)
    rows = np.flatnonzero(rowmax >= threshold)
    return int(first_max_row(dist, rows, threshold, data, np.empty(f32.src.shape[1])))


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
    data = _kernel_data(f32.src, f32.scale2)
    return _prim_order(f32, dist, _first_max_row(f32, dist, data), data, progress)


def _prim_order(f32: _Float32Distances, dist: np.ndarray, start: int, data, progress):
    """Prim's order from ``start``, certified against the float64 distances.

    The loop itself is compiled (:mod:`fracdash.core.prim`); it runs in blocks of about
    1% of the samples so that progress is reported. When another candidate could tie
    with the nearest one, the candidates are measured in float64 and join the
    ``known`` samples, whose exact distance is then kept up to date at every visit.
    """
    n = dist.shape[0]
    order = np.empty(n, dtype=np.int64)
    order[0] = start
    reach = np.full(n, np.inf, dtype=np.float32)
    unvisited = np.ones(n, dtype=bool)
    slack = f32.kappa * (f32.sq + f32.sq.max()) + f32.eta
    known = np.zeros(n, dtype=bool)
    known_val = np.full(n, np.inf)
    buf, cands, lows = np.empty(f32.src.shape[1]), np.empty(n, np.int64), np.empty(n)
    members, nmem = np.empty(n, dtype=np.int64), 0
    step = max(1, n // 100)
    fixed = (f32.row_err, f32.kappa, f32.sq, float(slack.max()), buf, cands, lows, members)
    for k0 in range(0, n, step):
        k1 = min(n, k0 + step)
        nmem = prim_steps(
            dist, k0, k1, order, reach, slack, unvisited, known, known_val, (*fixed, nmem), data
        )
        if progress is not None:
            progress(k1, n)
    return order


def _kernel_data(src, scale2: float):
    """The rows as the compiled loops read them (see :func:`~fracdash.core.prim.
    exact_distance`): an in-memory array as it is, a layer on disk by its file."""
    factors = np.ones(src.shape[0])
    if isinstance(src, _RowScaled):
        factors, src = src.factors, src.src
    factors = np.asarray(factors, dtype=np.float64)
    cached = np.full(2, -1, dtype=np.int64)
    if isinstance(src, ArrayChunks):
        x = src.x if src.x.dtype in (np.float32, np.float64) else src.x.astype(np.float64)
        none = np.zeros(0, np.int64)
        rowbuf = np.empty((2, 0), x.dtype)  # unused; its dtype keeps the rows' type single
        return np.ascontiguousarray(x), factors, float(scale2), -1, none, none, rowbuf, cached
    fd, file_offsets, widths = src.file_layout()
    rowbuf = np.empty((2, src.shape[1]), dtype=np.float32)
    no_rows = np.empty((0, src.shape[1]), dtype=np.float32)
    return no_rows, factors, float(scale2), fd, file_offsets, widths, rowbuf, cached
