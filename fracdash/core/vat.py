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

Metrics (:mod:`fracdash.core.metrics`): cosine, correlation, standardized and
relu-hamming are this Euclidean route on transformed rows (kept in float64, or 0/1 in
float32, for the re-checks); manhattan and local-scaling have float64 kernels of their
own (:mod:`fracdash.core.manhattan`, :mod:`fracdash.core.local_scaling`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy.linalg import blas

from fracdash.core import direct, outofcore
from fracdash.core.centring import GRAM_COLUMNS, Centring, NonFiniteValues, RowScaled, prepared
from fracdash.core.chunked import ArrayChunks
from fracdash.core.exact import SampleRows
from fracdash.core.local_scaling import local_scaling_order
from fracdash.core.manhattan import manhattan_order
from fracdash.core.metrics import LOCAL_SCALING_K, METRICS, MetricRefused, metric_spec
from fracdash.core.pairwise import dense_vat
from fracdash.core.prim import (
    DistanceRows,
    error_terms,
    first_max_row,
    mirror_with_norms,
    prim_state,
    prim_steps,
)

__all__ = ["METRICS", "MetricRefused", "NonFiniteValues", "vat_order"]
_TILE = 32  # mirror tiles (32 x 32): measured 0.11 s at n = 10,000, vs 0.26 s at 256


class _Float32Distances:
    """Squared distances in float32 in memory, with their error bounds.

    The Gram matrix is accumulated block of columns by block of columns with BLAS
    ``ssyrk`` (one triangle, half the flops of a GEMM), so memory stays at the n x n
    matrix plus one block.
    """

    def __init__(self, centring: Centring, workspace: np.ndarray | None = None):
        n, _ = centring.shape
        self.sq = np.zeros(n, dtype=np.float64)
        gram = _gram_buffer(n, workspace)
        beta = 0.0  # the first block overwrites: BLAS never reads C when beta is 0
        for c32 in centring.blocks():
            self.sq += np.einsum("ij,ij->i", c32, c32, dtype=np.float64)
            # Upper triangle of the Fortran-ordered gram += -2 cᵀ·c, reading the
            # C-ordered block as its Fortran-ordered transpose (no copy; measured
            # 1.3x faster than trans=0 on a Fortran copy at n = 10,000, d = 9,216).
            blas.ssyrk(alpha=-2.0, a=c32.T, beta=beta, c=gram, trans=1, overwrite_c=1)
            beta = 1.0
        self.lowmax = np.empty(n, np.float32)  # lower-triangle row maxima
        self.dist = _symmetric_distances(gram, self.sq.astype(np.float32), self.lowmax)


def _gram_buffer(n: int, workspace: np.ndarray | None) -> np.ndarray:
    """A Fortran-ordered (n, n) float32 buffer for ssyrk. A caller ordering many
    layers passes the same C-ordered ``workspace`` each time: the 400 MB of a
    10,000-sample matrix are then allocated (page-faulted) once."""
    if workspace is None or workspace.shape != (n, n) or workspace.dtype != np.float32:
        return np.empty((n, n), np.float32, "F")
    if not workspace.flags.c_contiguous:
        raise ValueError("the workspace must be a C-contiguous (n, n) float32 array")
    return workspace.T  # the same memory, Fortran-ordered


def _symmetric_distances(gram: np.ndarray, sq32: np.ndarray, lowmax: np.ndarray) -> np.ndarray:
    """``sq_i + sq_j - 2 x_i·x_j`` in place, from the upper triangle of a Fortran-
    ordered ``-2 XXᵀ`` (the lower triangle of its C-ordered view), mirrored tile by
    tile by a compiled loop, each row's lower-triangle maximum into ``lowmax``. Tiny negative values
    are kept: they lie within the error bound of the true entries."""
    dist = gram.T  # C-ordered view; its lower triangle holds the values
    mirror_with_norms(dist, sq32, _TILE, lowmax)
    return dist


def _first_max_row(centring, sq, rowmax, rows, data) -> int:
    """Row of the first maximum of the exact matrix in row-major order.

    The true maximum M is at least ``top - emax`` (``top`` the float32 maximum,
    ``emax`` the widest error bound), so every pair reaching M has a float32 entry of
    at least ``top - 2 emax``: only those are measured in float64. ``rowmax``: each
    row's float32 maximum, or that of its lower triangle (every pair has its larger
    index there).
    """
    if len(rowmax) == 1:
        return 0
    threshold = float(rowmax.max()) - 2 * (2 * centring.kappa * float(sq.max()) + centring.eta)
    candidates = np.flatnonzero(rowmax >= threshold)
    start = int(first_max_row(rows, candidates, threshold, data, np.empty(centring.shape[1])))
    if not 0 <= start < len(rowmax):  # the bound's guarantee broken: never silently
        raise RuntimeError("fracdash: no entry reached the certified maximum's threshold")
    return start


def vat_order(
    x,
    metric: str = "euclidean",
    *,
    progress: Callable[[int, int], None] | None = None,
    workspace: np.ndarray | None = None,
    matrix_budget: int | None = None,
    stats: dict | None = None,
    start: int | None = None,
) -> np.ndarray:
    """Exact VAT permutation of the rows of ``x``.

    Parameters
    ----------
    x : array_like, shape (n, d), or a column-chunked source (ChunkedMatrix)
        One row per sample (float32, float64 or integers), all finite.
    metric : str
        Dissimilarity, a name of :data:`fracdash.core.metrics.METRICS`: "euclidean",
        "cosine" (Euclidean between L2-normalised rows, zero rows staying zero, which
        orders as ``1 - cos`` and as the angle), "correlation", "standardized",
        "relu-hamming" (for a ReLU layer's output: its ``x > 0`` pattern), which are
        Euclidean on transformed rows (:mod:`fracdash.core.metrics`), "manhattan"
        (:mod:`fracdash.core.manhattan`) or "local-scaling" with k = 7
        (:mod:`fracdash.core.local_scaling`).
    progress : callable(done, total), optional
        Called now and then. In memory ``total`` is n and ``done`` the samples placed;
        out of core the distance pass comes first, as a share of ``total`` that is its
        expected share of the time (see :mod:`fracdash.core.outofcore`).
    workspace : ndarray of float32, shape (n, n), C-contiguous, optional
        Memory to reuse for the distance matrix (its content is overwritten; unused
        out of core).
    matrix_budget : int, optional
        Bytes the (n, n) float32 matrix may take in memory; past it the matrix goes to
        a scratch file (:mod:`fracdash.core.outofcore`). Default:
        ``$FRACDASH_MATRIX_BUDGET`` or 2 GiB.
    stats : dict, optional
        Filled with timings: ``gram_s`` (distances), ``loop_s`` (first maximum and
        Prim's loop), ``out_of_core``, ``rows`` (where the distances were: "memory",
        "file", "direct", or "matrix": the float64 matrix of manhattan or
        local-scaling), and out of core the I/O figures of
        :func:`~fracdash.core.outofcore.distance_rows`; with ``stats["time_reads"]``
        set, also ``row_reads_s``: the loop's row reads done again and timed apart.
    start : int, optional
        Begin Prim's order at this sample instead of VAT's (the row of the first
        maximum): the result is then a "fixed start" order, not exact VAT, and every
        later step is Prim's, exact as ever. The metrics of the Euclidean route only,
        in memory or with the matrix on disk; None (the default) is exact VAT.

    Returns
    -------
    ndarray of int64, shape (n,)
        Sample indices in VAT order.

    Raises
    ------
    NonFiniteValues
        NaN or inf in ``x``.
    MetricRefused
        A metric that cannot take this route: "manhattan" past the matrix budget for
        a layer wider than :data:`fracdash.core.metrics.MANHATTAN_WIDEST`,
        "local-scaling" past the matrix budget (:func:`fracdash.core.metrics.check_route`).
    ValueError
        A ``start`` that is not a sample index, or on a route that has no start.
    """
    stats = {} if stats is None else stats
    kernel = metric_spec(metric).kernel
    if start is not None and (kernel in ("manhattan", "local-scaling") or metric == "relu-hamming"):
        raise ValueError(f"start= is not available for metric {metric!r}; leave it out")
    if kernel == "manhattan":
        return manhattan_order(x, progress=progress, matrix_budget=matrix_budget, stats=stats)
    if kernel == "local-scaling":
        return local_scaling_order(
            x, LOCAL_SCALING_K, progress=progress, matrix_budget=matrix_budget, stats=stats
        )
    t0 = time.perf_counter()
    src = prepared(x, metric)
    n, d = src.shape
    stats["out_of_core"] = 4 * n * n > outofcore.matrix_budget(matrix_budget)
    if metric == "relu-hamming" and not stats["out_of_core"] and 2 * d < 2**24:
        return _counts_order(src.x, workspace, progress, stats, t0)
    if start is not None and not (isinstance(start, (int, np.integer)) and 0 <= start < n):
        raise ValueError(f"start={start!r} must be a sample index from 0 to {n - 1}")
    centring = Centring(src)
    if start is not None and stats["out_of_core"] and centring.shape[1] <= direct.WIDEST:
        raise ValueError("start= is not available on the direct out-of-core route; leave it out")
    if stats["out_of_core"] and centring.shape[1] <= direct.WIDEST:
        src, factors = _unscaled(centring.src)
        order = direct.direct_order(src, factors, centring.scale2, progress)
        stats.update(rows="direct", disk_bytes=0, gram_s=0.0, loop_s=time.perf_counter() - t0)
        return order
    data = _kernel_data(centring.src, centring.scale2)
    if stats["out_of_core"]:
        with outofcore.distance_rows(centring, progress, stats) as (rows, sq, rowmax, report):
            t1 = time.perf_counter()
            if start is None:
                start = _first_max_row(centring, sq, rowmax, rows, data)
            order = _prim_order(centring, sq, rows, start, data, report)
            stats["loop_s"] = time.perf_counter() - t1
            if stats.get("time_reads"):  # the loop's reads, timed apart (a benchmark's)
                stats["row_reads_s"] = outofcore.time_row_reads(rows, order)
            stats["gram_s"] = t1 - t0  # the centring's pass included
        return order
    f32 = _Float32Distances(centring, workspace)
    rows = _memory_rows(f32.dist)
    t1 = time.perf_counter()
    if start is None:
        start = _first_max_row(centring, f32.sq, f32.lowmax, rows, data)
    order = _prim_order(centring, f32.sq, rows, start, data, progress)
    stats.update(rows="memory", gram_s=t1 - t0, loop_s=time.perf_counter() - t1)
    return order


def _counts_order(z: np.ndarray, workspace, progress, stats, t0: float) -> np.ndarray:
    """VAT on 0/1 rows (n, d) float32, 2d < 2²⁴, with no bound and no re-check: every
    Gram entry is a count of common ones, an integer, so BLAS adds it exactly in any
    order; ``-2`` times it, the squared norms (counts) and their sums are integers of at
    most 2d, exact in float32 too. The float32 matrix is then the exact Hamming
    distances, and Prim's loop on it is exact (ties to the lower index). ``t0``: when
    the transform began (in ``gram_s``)."""
    n, d = z.shape
    gram = _gram_buffer(n, workspace)
    beta = 0.0
    for f0 in range(0, d, GRAM_COLUMNS):
        block = z[:, f0 : f0 + GRAM_COLUMNS]
        blas.ssyrk(alpha=-2.0, a=block.T, beta=beta, c=gram, trans=1, overwrite_c=1)
        beta = 1.0
    ones = z.sum(axis=1, dtype=np.float64).astype(np.float32)  # exact counts
    dist = _symmetric_distances(gram, ones, np.empty(n, np.float32))
    t1 = time.perf_counter()
    order = dense_vat(dist, progress)
    stats.update(rows="memory", gram_s=t1 - t0, loop_s=time.perf_counter() - t1)
    return order


def _memory_rows(dist: np.ndarray) -> DistanceRows:
    """The compiled loops' view of an in-memory matrix (see prim._row)."""
    return DistanceRows(
        matrix=dist, fd=-1, rowbuf=np.empty((2, 0), np.float32), held=np.full(2, -1, np.int64)
    )


def _prim_order(centring: Centring, sq: np.ndarray, rows, start: int, data, progress):
    """Prim's order from ``start``, certified against the float64 distances.

    The loop itself is compiled (:mod:`fracdash.core.prim`); it runs in blocks of about
    1% of the samples so that progress is reported. When another candidate could tie
    with the nearest one, the candidates are measured in float64 and join the
    ``known`` samples, whose exact distance is then kept up to date at every visit.
    """
    n, d = centring.shape
    order = np.empty(n, dtype=np.int64)
    order[0] = start
    state = prim_state(n, d)
    terms = error_terms(centring.errors(sq), centring.kappa, sq)
    step = max(1, n // 100)
    for k0 in range(0, n, step):
        k1 = min(n, k0 + step)
        prim_steps(rows, k0, k1, order, state, terms, data)
        if progress is not None:
            progress(k1, n)
    return order


def _unscaled(src):
    """(the rows, each row's float64 factor): cosine's unit rows as their source and
    scale factors, any other source with factors 1."""
    if isinstance(src, RowScaled):
        return src.src, np.asarray(src.factors, dtype=np.float64)
    return src, np.ones(src.shape[0])


def _kernel_data(src, scale2: float) -> SampleRows:
    """The rows as the compiled loops read them (see :func:`~fracdash.core.exact.
    exact_distance`): an in-memory array as it is, a layer on disk by its file."""
    src, factors = _unscaled(src)
    held = np.full(2, -1, dtype=np.int64)
    if isinstance(src, ArrayChunks):
        x = src.x if src.x.dtype in (np.float32, np.float64) else src.x.astype(np.float64)
        none = np.zeros(0, np.int64)
        return SampleRows(
            x=np.ascontiguousarray(x), factors=factors, scale2=float(scale2), fd=-1,
            file_offsets=none, widths=none,
            rowbuf=np.empty((2, 0), x.dtype),  # unused; its dtype keeps the rows' type single
            held=held, relu=False,
        )  # fmt: skip
    fd, file_offsets, widths = src.file_layout()
    return SampleRows(
        x=np.empty((0, src.shape[1]), dtype=np.float32), factors=factors,
        scale2=float(scale2), fd=fd, file_offsets=file_offsets, widths=widths,
        rowbuf=np.empty((2, src.shape[1]), dtype=np.float32), held=held,
        relu=bool(getattr(src, "relu", False)),
    )  # fmt: skip
