"""The dissimilarities a layer can be ordered by: one table that the VAT routes, the
command line, the pipeline and the Dask route all read (docs/method.md §3.3).

VAT's order depends only on how the dissimilarities compare (Bezdek & Hathaway's
start and Prim's choices), so it is unchanged by any strictly increasing transform of
them. Four metrics are therefore the Euclidean distance between transformed rows and
reuse the certified Euclidean routes of :mod:`fracdash.core.vat`:

- ``cosine``: rows scaled to unit length (zero rows stay zero): the squared distance
  between unit rows is ``2 - 2 cos``, and the angle ``arccos(cos)`` decreases with
  ``cos`` too, so cosine, ``1 - cos`` and the angular distance give one order.
- ``correlation``: ``1 - r`` (Pearson's r between two samples' activation vectors) is
  cosine on the row-centred rows; a constant row stays zero.
- ``standardized``: every feature centred and divided by its standard deviation over
  the test set (a constant feature contributes nothing): a z-scored Euclidean distance.
- ``relu-hamming``: the on/off pattern ``x > 0`` of a ReLU layer; the squared distance
  between 0/1 rows is the Hamming distance, an integer.

Two are not row transforms and have routes of their own: ``manhattan``
(:mod:`fracdash.core.manhattan`) and the hubness-reducing secondary distance
``local-scaling`` (:mod:`fracdash.core.local_scaling`).

Exactness (docs/method.md §3.4) is stated against each metric's float64 definition:
the transformed rows below are computed in float64 from the activations as written
here (a row's squared norm summed feature after feature, so that a layer cut into
column chunks gives the same bits), kept in float64 for the float64 re-checks (0/1
rows in float32, which is exact), and the order is exact VAT on their float64 squared
distances (no square root, which could merge two values), ties to the lower index.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = [
    "DEFAULT_METRIC",
    "LOCAL_SCALING_K",
    "METRICS",
    "METRIC_TABLE",
    "MetricRefused",
    "NonFiniteValues",
    "check_layer",
    "check_route",
    "correlation_rows",
    "metric_spec",
    "on_off_rows",
    "pow2_scaled",
    "relu_family",
    "row_transform",
    "standardized_rows",
]

#: Neighbours that set each sample's scale in ``local-scaling`` (Zelnik-Manor &
#: Perona 2004 used K = 7 throughout).
LOCAL_SCALING_K = 7
#: Widest layer that ``manhattan`` orders past the matrix budget, without a matrix
#: (:mod:`fracdash.core.manhattan`): every step streams the n·d values again.
MANHATTAN_WIDEST = 128
#: Layer kinds whose outputs are positive exactly where their input is (Keras and ONNX
#: names): their on/off pattern is ``x > 0``. A ``ReLU()`` with other arguments and an
#: ``Activation("relu")`` are known by the node's ``relu`` flag.
RELU_KINDS = frozenset({"ReLU", "LeakyReLU", "ELU", "Relu", "LeakyRelu", "Elu"})


class NonFiniteValues(ValueError):
    """The rows to order hold NaN or inf (VAT needs finite distances)."""


class MetricRefused(ValueError):
    """A metric that cannot order this layer, or not on this route (message: problem;
    fix)."""


class Metric(NamedTuple):
    """One row of :data:`METRIC_TABLE`."""

    name: str
    #: One line for ``--help`` and the README.
    summary: str
    #: How it is computed: a row transform (then the Euclidean routes) or a kernel.
    computed: str
    #: "rows" (a row transform of :func:`row_transform`), "manhattan" or "local-scaling".
    kernel: str
    #: Past the matrix budget (out of core): None if supported as in memory, else the
    #: limit and why.
    out_of_core: str | None
    #: Only for ReLU-family layers (:func:`relu_family`).
    relu_only: bool = False


METRIC_TABLE: tuple[Metric, ...] = (
    Metric("euclidean", "straight-line distance (the paper's)",
           "the activations as they are", "rows", None),
    Metric("cosine", "angle only, ignoring length (1 - cos; the angular distance orders "
           "alike)", "rows scaled to unit length", "rows", None),
    Metric("correlation", "1 - Pearson correlation of two samples' activations",
           "rows centred, then scaled to unit length (float64)", "rows",
           None),
    Metric("standardized", "Euclidean after z-scoring each feature over the test set",
           "columns centred and divided by their standard deviation (float64)", "rows",
           None),
    Metric("manhattan", "sum of absolute differences (L1)",
           "float64 kernel, features summed in order", "manhattan",
           f"without a matrix for layers of at most {MANHATTAN_WIDEST} features; wider "
           "ones are refused (every step would stream all rows)"),
    Metric("relu-hamming", "features on in one sample and off in the other (ReLU "
           "layers only)", "0/1 rows of x > 0 (integer distances)", "rows", None,
           relu_only=True),
    Metric("local-scaling", f"hubness-reducing: 1 - exp(-d^2 / (s_i s_j)), s = distance "
           f"to the {LOCAL_SCALING_K}th neighbour", "float64 kernel on the n x n "
           "matrix", "local-scaling", "refused: every distance needs both samples' "
           "neighbour scales, so the n x n float64 matrix is held in memory"),
)  # fmt: skip
METRICS: tuple[str, ...] = tuple(m.name for m in METRIC_TABLE)
DEFAULT_METRIC = METRICS[0]
_BY_NAME = {m.name: m for m in METRIC_TABLE}


def metric_spec(name: str) -> Metric:
    """The table's row for ``name``; a ValueError naming the choices otherwise."""
    spec = _BY_NAME.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"unknown metric {name!r}; choose one of {', '.join(METRICS)}")
    return spec


def relu_family(kind: str, relu: bool = False) -> bool:
    """Whether a layer of this kind (with the node's ``relu`` flag) has an on/off
    pattern: its output is positive exactly where its input is."""
    return bool(relu) or kind in RELU_KINDS


def check_layer(metric: str, name: str, kind: str, relu: bool = False) -> None:
    """Refuse ``metric`` on a layer it does not apply to (one line: the layer, the fix).

    Raises
    ------
    MetricRefused
        ``relu-hamming`` on a layer that is not ReLU-family (:func:`relu_family`).
    """
    if metric_spec(metric).relu_only and not relu_family(kind, relu):
        raise MetricRefused(
            f"metric {metric} compares the on/off patterns of ReLU layers, and layer "
            f"{name!r} ({kind}) is not one; choose another metric, or order ReLU layers "
            "alone (fracdash metrics RUN --metrics relu-hamming)"
        )


def check_route(metric: str, n: int, d: int, budget: int, layer: str | None = None) -> None:
    """Refuse ``metric`` for n samples of d features where its kernel cannot order
    them within ``budget`` bytes of matrix (one line: the sizes, the fix).

    Raises
    ------
    MetricRefused
        ``manhattan`` past the budget (8 n² bytes) for a layer wider than
        :data:`MANHATTAN_WIDEST`; ``local-scaling`` past the budget.
    """
    kernel, need = metric_spec(metric).kernel, 8 * n * n
    if need <= budget or kernel == "rows" or (kernel == "manhattan" and d <= MANHATTAN_WIDEST):
        return
    at = f" at layer {layer!r}" if layer else ""
    why = (
        f"for {d:,} features (past {MANHATTAN_WIDEST}, an order without it streams every "
        "row at every step)"
        if kernel == "manhattan"
        else "(each distance needs both samples' neighbour scales)"
    )
    raise MetricRefused(
        f"{metric} on {n:,} samples{at} needs its {need / 1e9:.1f} GB float64 distance "
        f"matrix in memory {why}; raise FRACDASH_MATRIX_BUDGET to "
        f"{-(-need // 2**30)}G, or use fewer samples"
    )


# --------------------------------------------------------------------------- transforms
# Each takes a column-chunked source (ArrayChunks, ChunkedMatrix) or an (n, d) array and
# returns the (n, d) rows whose Euclidean geometry defines the metric.


def _float64_rows(src) -> np.ndarray:
    """The rows as one C-ordered (n, d) float64 array (a fresh copy)."""
    if not hasattr(src, "column_chunks"):
        return np.array(src, dtype=np.float64, order="C")
    out = np.empty(src.shape, dtype=np.float64)
    for f0, f1, chunk in src.column_chunks():
        out[:, f0:f1] = chunk
    return out


def _finite(z: np.ndarray) -> np.ndarray:
    if not np.isfinite(z).all():
        raise NonFiniteValues("vat_order needs finite values; the input holds NaN or inf")
    return z


def _exponents(peak: np.ndarray) -> np.ndarray:
    """Powers of two that bring ``peak`` (> 0) to [0.5, 1): scaling by them is exact
    (away from subnormals), and keeps squares from overflowing or underflowing."""
    return np.frexp(np.where(peak > 0, peak, 1.0))[1]


def pow2_scaled(a: np.ndarray, e, out: np.ndarray | None = None) -> np.ndarray:
    """``np.ldexp(a, e)`` bit for bit (``e`` ints broadcasting against ``a``, a float
    array), as one multiplication by ``2**e`` wherever every such factor is a normal
    number of ``a``'s type: a product by a power of two is rounded once, as ldexp's
    result is; ldexp itself is about 30 times slower."""
    e = np.asarray(e)
    info = np.finfo(a.dtype)
    if e.size == 0 or not info.minexp <= e.min() <= e.max() < info.maxexp:
        return np.ldexp(a, e, out=out)
    return np.multiply(a, np.ldexp(np.ones(e.shape, a.dtype), e), out=out)


def correlation_rows(src) -> tuple[np.ndarray, np.ndarray]:
    """``(c, f)``: the row-centred rows ``c = x - mean(x, axis=1)`` in float64 and each
    row's factor ``f = 1 / |c|`` (1 for a constant row, which is set to exactly zero:
    its rounded mean would otherwise leave noise). The metric's rows are ``c * f``,
    as cosine forms them (:class:`~fracdash.core.centring.RowScaled`); their squared
    distance is ``2 - 2 r``. The norm is taken of ``c`` scaled by a power of two, which
    gives the same bits wherever ``|c|`` neither overflows nor underflows."""
    c = _finite(_float64_rows(src))
    constant = c.max(axis=1) == c.min(axis=1)
    c -= c.mean(axis=1, keepdims=True)
    c[constant] = 0.0
    e = _exponents(np.abs(c).max(axis=1))
    scaled = pow2_scaled(c, -e[:, None])
    norms = np.sqrt(np.cumsum(scaled * scaled, axis=1)[:, -1])  # feature order, as cosine
    f = np.ldexp(1.0 / np.where(norms > 0, norms, 1.0), -e)
    return c, _finite(np.where(norms > 0, f, 1.0))


def standardized_rows(src) -> np.ndarray:
    """``(x - mean) / std`` per feature over the samples, in float64 (population
    standard deviation); a constant feature (max = min) is zero. Each centred column is
    first scaled by a power of two (exact: the same bits as without it wherever its
    squares neither overflow nor underflow)."""
    z = _finite(_float64_rows(src))
    constant = z.max(axis=0) == z.min(axis=0)
    z -= z.mean(axis=0)
    z = pow2_scaled(z, -_exponents(np.abs(z).max(axis=0)), out=z)
    sd = np.sqrt((z * z).mean(axis=0))
    z /= np.where(constant, 1.0, sd)
    z[:, constant] = 0.0
    return _finite(z)


def on_off_rows(src) -> np.ndarray:
    """``x > 0`` as float32 0/1 rows: every distance an integer count, exact."""
    if not hasattr(src, "column_chunks"):
        x = _finite(np.asarray(src))
        return (x > 0).astype(np.float32)
    out = np.empty(src.shape, dtype=np.float32)
    for f0, f1, chunk in src.column_chunks():
        _finite(chunk)
        np.greater(chunk, 0, out=out[:, f0:f1])
    return out


def _unit(x):
    c = _finite(np.array(x, dtype=np.float64))
    norms = np.sqrt(np.cumsum(c * c, axis=1)[:, -1])  # as centring.squared_norms
    return c * (1.0 / np.where(norms > 0, norms, 1.0))[:, None]


def _correlation(x):
    c, f = correlation_rows(x)
    return c * f[:, None]


_TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray] | None] = {
    "euclidean": None,
    "cosine": _unit,
    "correlation": _correlation,
    "standardized": standardized_rows,
    "relu-hamming": on_off_rows,
}


def row_transform(name: str) -> Callable[[np.ndarray], np.ndarray] | None:
    """The (n, d) -> (n, d) row transform of a row metric, as a callable that
    :func:`fracdash.core.neighbours.metric_rows` takes (None for ``euclidean``).

    Raises
    ------
    MetricRefused
        For ``manhattan`` and ``local-scaling``, which are not Euclidean on any rows.
    """
    spec = metric_spec(name)
    if spec.kernel != "rows":
        raise MetricRefused(
            f"metric {name} is not a Euclidean distance between transformed rows; use "
            "its own route (vat_order)"
        )
    return _TRANSFORMS[name]
