"""The float32 distance matrix on disk, for n past memory (docs/decisions.md, "Out of
core").

When the (n, n) float32 matrix exceeds the matrix budget, it is computed in row
panels of b rows: only the panels on and above the diagonal, by BLAS ``sgemm`` on the
centred float32 rows (:class:`~fracdash.core.centring.Centring`, the same values and
error bound as in memory), then turned into squared distances, and each panel and
its transpose are written to a scratch file with ``pwrite`` — never mapped: mapped
file pages would count as this process's memory, the page cache does not. The row
maxima are kept during the pass (the first maximum needs them). Prim's loop then
reads each step's row back with ``pread`` (:func:`fracdash.core.prim._row`), the
rest of the exact method unchanged.

Memory: two panels (``PANEL_BYTES`` each: one computed while the other is
written), one block of centred columns, O(n) vectors.
Disk: 4·n² bytes, in a :class:`~fracdash.core.scratch.ScratchDir` removed on exit.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager

import numpy as np
from numba import njit, types
from scipy.linalg import blas

from fracdash.core.prim import DistanceRows
from fracdash.core.scratch import ScratchDir

ENV_VAR = "FRACDASH_MATRIX_BUDGET"
#: Default matrix budget: a 10,000-sample matrix (0.4 GB) stays in memory as before,
#: 23,170 samples (2 GiB) is the last in memory, 60,000 (14.4 GB) goes to disk.
DEFAULT_MATRIX_BUDGET = 2 * 2**30
#: Bytes of one row panel in memory (rows per panel = PANEL_BYTES / 4n).
PANEL_BYTES = 512 * 2**20
#: What a step of Prim's loop costs, in features of the distance pass (see
#: :func:`distance_rows`'s progress): the reported fraction tracks the time.
#: Measured at n = 60,000: the loop takes 7.5-16 s a layer, a feature of the pass
#: 13-19 ms (sgemm and the rest).
PRIM_WORK = 600
#: The least the pass costs, in features: the writes (4n² bytes at disk speed, 23-36 s
#: at n = 60,000) bound it from below for narrow layers (d = 128: 26 s, not 2 s).
WRITE_WORK = 2000
_TRANSPOSE = 16  # columns per transposed tile: one 64-byte line of each panel row

_pwrite = types.ExternalFunction(
    "pwrite", types.intp(types.intc, types.uintp, types.uintp, types.intp)
)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_bytes(text: str) -> int:
    """``"2G"``, ``"512M"``, ``"1000000"`` -> bytes (binary units)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"{ENV_VAR}={text!r}: give bytes, e.g. 2G or 500M")
    return int(float(match[1]) * _UNITS[match[2].upper()])


def matrix_budget(value: int | None = None) -> int:
    """Bytes the float32 distance matrix may take in memory: ``value``, else
    ``$FRACDASH_MATRIX_BUDGET``, else ``DEFAULT_MATRIX_BUDGET``."""
    if value is not None:
        return int(value)
    env = os.environ.get(ENV_VAR)
    return parse_bytes(env) if env else DEFAULT_MATRIX_BUDGET


@njit(cache=True, nogil=True)
def _pwrite_all(fd, base, want, at):
    done = 0
    while done < want:
        got = _pwrite(fd, np.uint64(base) + np.uint64(done), np.uint64(want - done), at + done)
        if got <= 0:
            raise OSError("fracdash: could not write the distance matrix (disk full?)")
        done += got


@njit(cache=True, nogil=True)
def _panel_distances(p, i0, sq32):
    """Panel rows ``i0 .. i0 + b`` of ``-2 XXᵀ`` (columns ``i0 .. n``) -> squared
    distances ``(g + sq[lower index]) + sq[higher index]``, as the in-memory mirror
    adds them, in place; the diagonal block mirrored (the file stays exactly
    symmetric)."""
    bb, m = p.shape
    for r in range(bb):
        a = sq32[i0 + r]
        row = p[r]
        for c in range(r, m):
            row[c] = (row[c] + a) + sq32[i0 + c]
    for c0 in range(0, bb, 32):  # the lower half of the diagonal block, by tiles
        for r in range(c0, bb):
            for c in range(c0, min(r, c0 + 32)):
                p[r, c] = p[c, r]


def _finish_panel(p, i0, sq32, rowmax):
    """Distances in place, then the maxima of the panel's rows over their upper
    triangles: every pair lies in the row of its lower index, which is all the first
    maximum's search needs (column maxima too would make both samples of each
    near-maximal pair a candidate, and re-read every panel)."""
    _panel_distances(p, i0, sq32)
    bb = p.shape[0]
    np.maximum(rowmax[i0 : i0 + bb], p.max(axis=1), out=rowmax[i0 : i0 + bb])


@njit(cache=True, nogil=True)
def _write_panel(fd, p, i0, n, tile):
    """Each panel row at ``(i0 + r, i0 ..)``, and the panel's columns past the
    diagonal block as rows ``(i0 + c, i0 .. i0 + b)`` (the transpose), through a
    tile of ``_TRANSPOSE`` columns."""
    bb, m = p.shape
    for r in range(bb):
        _pwrite_all(fd, p[r].ctypes.data, m * 4, ((i0 + r) * n + i0) * 4)
    for c0 in range(bb, m, tile.shape[0]):
        c1 = min(m, c0 + tile.shape[0])
        for r in range(bb):
            for t in range(c1 - c0):
                tile[t, r] = p[r, c0 + t]
        for t in range(c1 - c0):
            _pwrite_all(fd, tile[t].ctypes.data, bb * 4, ((i0 + c0 + t) * n + i0) * 4)


def time_row_reads(rows, order: np.ndarray) -> float:
    """Seconds to read the file's rows again in ``order`` (the reads Prim's loop did,
    from the page cache as it is now), for a benchmark to report I/O apart."""
    rows.held[0] = -1  # rowbuf[0] is overwritten below
    target = memoryview(rows.rowbuf[0]).cast("B")
    t = time.perf_counter()
    for i in order:
        os.preadv(rows.fd, [target], int(i) * target.nbytes)
    return time.perf_counter() - t


def _check_space(directory, need: int) -> None:
    free = shutil.disk_usage(directory).free
    if free < need:
        raise OSError(
            f"the {need / 1e9:.1f} GB distance matrix does not fit in {directory} "
            f"({free / 1e9:.1f} GB free); set FRACDASH_TMPDIR to a larger disk"
        )


@contextmanager
def distance_rows(centring, progress=None, stats: dict | None = None):
    """The float32 squared-distance rows of ``centring``'s rows, beyond memory.

    The rows are written to a scratch file (a layer of at most
    :data:`fracdash.core.direct.WIDEST` features never comes here: it is ordered from
    exact distances computed when needed, :mod:`fracdash.core.direct`). Yields
    ``(rows, sq, rowmax, report)``: the compiled loops' view
    (:class:`~fracdash.core.prim.DistanceRows`), the float64 squared norms (matrix units), the
    float32 row maxima (upper triangles), and a ``report(k, n)`` for Prim's steps that continues
    ``progress``. Progress counts work in features: the pass is worth
    ``n·max(d, WRITE_WORK)`` (reported panel by panel, in proportion to the entries
    done), Prim's loop ``n·PRIM_WORK``. ``stats`` (optional) receives ``gram_s`` (reading, centring,
    sgemm, distances), ``read_s`` (reading and centring the rows, part of gram_s),
    ``sgemm_s`` (BLAS alone, part of gram_s: the run's own Gram floor),
    ``write_s`` (the writing thread's time), ``write_wait_s`` (the part of it the pass
    waited for), ``disk_bytes`` and ``rows`` ("file"). The file and its
    directory are removed on exit.
    """
    n, d = centring.shape
    stats = {} if stats is None else stats
    work = max(d, WRITE_WORK)
    total = n * (work + PRIM_WORK)

    def report(k, _n):
        if progress is not None:
            progress(n * work + k * PRIM_WORK, total)

    f32 = np.float32
    with ScratchDir("vat") as directory:
        _check_space(directory, 4 * n * n)
        fd = os.open(directory / "distances.f32", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            sq, rowmax = _write_panels(centring, fd, progress, stats, (work, total))
            stats.update(disk_bytes=os.fstat(fd).st_size, rows="file")
            rows = DistanceRows(
                matrix=np.empty((0, n), f32), fd=fd, rowbuf=np.empty((2, n), f32),
                held=np.full(2, -1, np.int64),
            )  # fmt: skip
            yield rows, sq, rowmax, report
        finally:
            os.close(fd)


def _write_panels(centring, fd, progress, stats, scale):
    """The pass: panel after panel, each written by a second thread while the next
    one is computed (the writes run at disk speed once the kernel's dirty-page limit
    is reached: measured 52 s for 14.4 GB, longer than the Gram of a narrow layer).
    Two panel buffers; at most one write in flight, always finished before its
    buffer is reused or the file closed — an error or Ctrl-C included. ``scale`` =
    (the pass's work per sample, the total) for ``progress``."""
    n, d = centring.shape
    work, total = scale
    b = int(max(1, min(n, PANEL_BYTES // (4 * n))))
    sq = np.zeros(n)
    sq32 = None
    rowmax = np.full(n, -np.inf, dtype=np.float32)
    panels = [np.empty(b * n, dtype=np.float32)]
    tile = np.empty((_TRANSPOSE, b), dtype=np.float32)  # one write at a time: one tile
    times = {"gram_s": 0.0, "read_s": 0.0, "sgemm_s": 0.0, "write_wait_s": 0.0, "write_s": 0.0}
    written, pending = 0, None

    def report(entries):
        if progress is not None:
            progress(int(n * work * entries / (n * (n + 1) // 2)), total)

    def write(p, i0, tile):
        t = time.perf_counter()
        _write_panel(fd, p, i0, n, tile)
        return time.perf_counter() - t

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fracdash-write") as pool:
        try:
            for k, i0 in enumerate(range(0, n, b)):
                i1 = min(n, i0 + b)
                if k == 1:
                    panels.append(np.empty(b * n, dtype=np.float32))
                p = panels[k % len(panels)][: (i1 - i0) * (n - i0)].reshape(i1 - i0, n - i0)
                t0 = time.perf_counter()
                sq32 = _panel(centring, p, i0, i1, sq, sq32, times)
                _finish_panel(p, i0, sq32, rowmax)
                t1 = time.perf_counter()
                times["gram_s"] += t1 - t0
                if pending is not None:  # frees the other buffer
                    times["write_s"] += pending.result()
                    report(written)  # progress follows the writes: they set the pace
                times["write_wait_s"] += time.perf_counter() - t1
                pending = pool.submit(write, p, i0, tile)
                written += (i1 - i0) * (n - i0) - (i1 - i0) * (i1 - i0 - 1) // 2
            t = time.perf_counter()
            times["write_s"] += pending.result() if pending is not None else 0.0
            report(written)
            times["write_wait_s"] += time.perf_counter() - t
        finally:
            if pending is not None and not pending.done():
                wait([pending])  # never close the file under a running write
    stats.update(times, panel_rows=b)
    return sq, rowmax


def _panel(centring, p, i0, i1, sq, sq32, times):
    """``p = -2 X[i0:i1] X[i0:]ᵀ`` by sgemm over the centred column blocks; the first
    panel (it holds every row) also sums the float64 squared norms into ``sq``."""
    blocks, beta = centring.blocks(i0), 0.0
    while True:
        t = time.perf_counter()
        c32 = next(blocks, None)
        times["read_s"] += time.perf_counter() - t
        if c32 is None:
            break
        if sq32 is None:
            sq += np.einsum("ij,ij->i", c32, c32, dtype=np.float64)
        # p (C-ordered) = -2 X[i0:i1] X[i0:]ᵀ, i.e. Fortran pᵀ = -2 X[i0:] X[i0:i1]ᵀ.
        t = time.perf_counter()
        blas.sgemm(-2.0, c32.T, c32[: i1 - i0].T, beta, p.T, trans_a=1, overwrite_c=1)
        times["sgemm_s"] += time.perf_counter() - t
        beta = 1.0
    return sq.astype(np.float32) if sq32 is None else sq32
