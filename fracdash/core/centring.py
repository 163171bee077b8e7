"""Rows centred and scaled into float32, with the error bound of their distances.

Both routes to the float32 distance matrix — in memory (:mod:`fracdash.core.vat`) and
in row panels on disk (:mod:`fracdash.core.outofcore`) — read a layer through
:class:`Centring`: the same float32 values, the same rigorous per-entry bound. A float32
dot product of length d is off by at most ``d·u·|x|·|y|`` (u = 2⁻²⁴) in any summation
order, so the bound holds whether BLAS accumulates with ``ssyrk`` or ``sgemm``, in one
chunk of columns or many.
"""

from __future__ import annotations

import numpy as np

from fracdash.core.chunked import ArrayChunks
from fracdash.core.metrics import (
    METRICS,
    NonFiniteValues,
    correlation_rows,
    metric_spec,
    on_off_rows,
    pow2_scaled,
    standardized_rows,
)

__all__ = [
    "METRICS",
    "Centring",
    "NonFiniteValues",
    "RowScaled",
    "checked",
    "prepared",
    "squared_norms",
]
_U32 = 2.0**-24
#: Columns per BLAS call: ssyrk and sgemm run as fast on 1,024 columns at a time as on
#: all of them (measured), and the float32 block stays small.
GRAM_COLUMNS = 1024


class RowScaled:
    """A chunked source with every row multiplied by a factor (cosine's unit rows)."""

    def __init__(self, src, factors: np.ndarray):
        self.src, self.factors, self.shape = src, factors, src.shape

    def column_chunks(self, start: int = 0):
        for f0, f1, chunk in self.src.column_chunks(start):
            yield f0, f1, chunk * self.factors[start:, None]


def squared_norms(src) -> np.ndarray:
    """Each row's ``sum x_k²`` in float64, added feature after feature in feature order
    (a running sum across the column chunks: the same bits however the row is cut)."""
    sq = np.zeros(src.shape[0])
    for _, _, chunk in src.column_chunks():
        c64 = chunk.astype(np.float64)
        np.multiply(c64, c64, out=c64)
        c64[:, 0] += sq
        sq = np.cumsum(c64, axis=1)[:, -1]
    return sq


def checked(x):
    """``x`` as a column-chunked source after checking its shape and type (an array is
    wrapped in :class:`~fracdash.core.chunked.ArrayChunks`)."""
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
    return x


def prepared(x, metric: str):
    """A column-chunked source whose Euclidean geometry defines the metric (a row
    metric of :data:`fracdash.core.metrics.METRIC_TABLE`)."""
    if metric_spec(metric).kernel != "rows":
        raise ValueError(f"metric {metric!r} is not Euclidean on transformed rows")
    x = checked(x)
    if metric == "cosine":
        # Cosine dissimilarity = half the squared distance between unit vectors, so
        # VAT on it equals Euclidean VAT on the normalised rows. Zero rows stay zero.
        norms = np.sqrt(squared_norms(x))
        return RowScaled(x, 1.0 / np.where(norms > 0, norms, 1.0))
    if metric == "correlation":  # cosine of the row-centred rows, kept in float64
        c, factors = correlation_rows(x)
        return RowScaled(ArrayChunks(c), factors)
    if metric == "standardized":
        return ArrayChunks(standardized_rows(x))
    if metric == "relu-hamming":
        return ArrayChunks(on_off_rows(x))
    return x


class Centring:
    """A layer's rows centred and scaled by a power of two, as float32 blocks.

    Rows are centred (distances are translation invariant and the bound shrinks with
    the norms) and scaled by a power of two — exact in float64 — so that the largest
    centred value is at most 1: float32 then neither overflows nor underflows except
    for values far below the largest, whose absolute error ``eta`` the bound covers.

    Attributes
    ----------
    scale2 : float
        Factor from true squared distances to the float32 matrix's units.
    kappa, eta : float
        ``|float32 entry - exact entry| <= kappa * (sq_i + sq_j) + eta``.
    """

    def __init__(self, src):
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
        self.exponent = int(np.frexp(peak)[1]) if peak > 0 else 0
        self.scale2 = float(np.ldexp(1.0, -2 * self.exponent))  # squared distances' factor
        self.mean, self.src, self.shape = mean, src, (n, d)
        self._scratch = None  # the blocks' buffer, made at the first call
        # A float32 dot product of length d is off by at most d·u·|x|·|y| in any
        # summation order; the +16 covers centring, casts and the final adds, and
        # eta the absolute error of subnormal values.
        self.kappa = (d + 16) * _U32 * 1.01
        self.eta = 16.0 * (d + 1) * 2.0**-149

    def blocks(self, start: int = 0):
        """Rows ``start .. n`` in float32, centred and scaled, ``GRAM_COLUMNS`` columns
        at a time: (n - start, w) arrays in one buffer reused from block to block, and
        from call to call (out of core a layer is read once per row panel; fresh memory
        costs page faults), each valid until the next is yielded."""
        n, d = self.shape
        rows = n - start
        if self._scratch is None:
            self._scratch = np.empty(n * min(d, GRAM_COLUMNS), dtype=np.float32)
        scratch = self._scratch
        for f0, f1, chunk in self.src.column_chunks(start):
            for s0 in range(0, f1 - f0, GRAM_COLUMNS):
                s1 = min(f1 - f0, s0 + GRAM_COLUMNS)
                part, m = chunk[:, s0:s1], self.mean[f0 + s0 : f0 + s1]
                c32 = scratch[: rows * (s1 - s0)].reshape(rows, s1 - s0)
                if part.dtype == np.float32:
                    # Centring on a float32 mean is a translation too: only the rounding
                    # of each difference (|δ| <= u|x - m|) adds error, which kappa covers.
                    np.subtract(part, m.astype(np.float32), out=c32)
                    pow2_scaled(c32, -self.exponent, out=c32)
                else:
                    c32[...] = pow2_scaled(part - m, -self.exponent)
                yield c32

    def errors(self, sq: np.ndarray) -> np.ndarray:
        """Per-row error terms from the float64 squared norms ``sq``: an entry (a, b)
        is off by at most ``row_err[a] + kappa * sq[b]``."""
        return self.kappa * sq + self.eta
