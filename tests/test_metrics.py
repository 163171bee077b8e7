"""fracdash.core.metrics: every metric's VAT order equals a brute-force float64 (or
integer) reference of the metric as defined, on random, duplicated and adversarial
data (ties, near ties below float32's resolution, a layer wider than n), on every route
the metric claims: in memory, past the matrix budget (a distance file, or exact
distances computed when needed), from a layer spilled to a file, and as a Dask worker
runs it."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import brute_vat, star_near_ties

from fracdash import vat_order
from fracdash.cluster import _layer_source, order_task
from fracdash.core import chunked, direct, scratch
from fracdash.core.chunked import ChunkedMatrix
from fracdash.core.metrics import LOCAL_SCALING_K, METRICS

# --------------------------------------------------------------------------- references


def vat_of_matrix(r) -> np.ndarray:
    """VAT by the book on a finite matrix: its first maximum in row-major order, then
    Prim with argmin (the lowest index among equals)."""
    r = np.asarray(r, dtype=np.float64)
    n = r.shape[0]
    order = [int(np.argmax(r)) // n]
    visited = np.zeros(n, dtype=bool)
    visited[order[0]] = True
    reach = r[order[0]].copy()
    for _ in range(1, n):
        j = int(np.argmin(np.where(visited, np.inf, reach)))
        order.append(j)
        visited[j] = True
        reach = np.minimum(reach, r[j])
    return np.array(order, dtype=np.int64)


def squared_euclidean(z) -> np.ndarray:
    """R[i, j] = ((z_i - z_j) ** 2).sum() in float64, numpy's pairwise sum (no square
    root: it could merge two distinct values into a false tie)."""
    z = np.asarray(z, dtype=np.float64)
    return np.array([((z - z[i]) ** 2).sum(axis=1) for i in range(len(z))])


def feature_sum(x, term) -> np.ndarray:
    """R[i, j] = term(x_i0 - x_j0) + term(x_i1 - x_j1) + ..., added feature after
    feature in float64."""
    x = np.asarray(x, dtype=np.float64)
    r = np.zeros((len(x), len(x)))
    for k in range(x.shape[1]):
        r += term(x[:, k, None] - x[None, :, k])
    return r


def unit_reference(c) -> np.ndarray:
    """Rows times the inverse of their norm, whose square is added feature after
    feature (zero rows stay zero)."""
    c = np.asarray(c, dtype=np.float64)
    norms = np.sqrt(np.cumsum(c * c, axis=1)[:, -1])
    return c * (1.0 / np.where(norms > 0, norms, 1.0))[:, None]


def correlation_reference(x) -> np.ndarray:
    """Rows centred (a constant row: zero), then scaled to unit length."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    constant = x.max(axis=1) == x.min(axis=1)
    c = x - x.mean(axis=1, keepdims=True)
    c[constant] = 0
    return unit_reference(c)


def standardized_reference(x) -> np.ndarray:
    """Columns centred and divided by their population standard deviation."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    constant = x.max(axis=0) == x.min(axis=0)
    z = x - x.mean(axis=0)
    sd = np.sqrt((z * z).mean(axis=0))
    z = z / np.where(constant, 1.0, sd)
    z[:, constant] = 0
    return z


def local_scaling_reference(x, k=LOCAL_SCALING_K) -> np.ndarray:
    sq = feature_sum(x, np.square)
    n = len(sq)
    s = np.sqrt(np.sort(sq, axis=1)[:, min(k, n - 1)]) if n > 1 else np.zeros(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = sq / np.outer(s, s)
    q[np.isnan(q)] = 0
    q[np.isinf(q)] = np.nextafter(q[np.isfinite(q)].max(), np.inf)
    return q


def reference(x, metric) -> np.ndarray:
    if metric == "euclidean":
        return vat_of_matrix(squared_euclidean(x))
    if metric == "cosine":
        return vat_of_matrix(squared_euclidean(unit_reference(x)))
    if metric == "correlation":
        return vat_of_matrix(squared_euclidean(correlation_reference(x)))
    if metric == "standardized":
        return vat_of_matrix(squared_euclidean(standardized_reference(x)))
    if metric == "relu-hamming":
        on = np.asarray(x) > 0
        return vat_of_matrix((on[:, None, :] != on[None, :, :]).sum(axis=2))  # integers
    if metric == "manhattan":
        return vat_of_matrix(feature_sum(x, np.abs))
    return vat_of_matrix(local_scaling_reference(x))


# --------------------------------------------------------------------------- data


def gaussian(rng, n, d):
    return rng.standard_normal((n, d))


def duplicated(rng, n, d):
    base = rng.standard_normal((max(2, n // 4), d))
    return base[rng.integers(0, len(base), size=n)]


def integer_ties(rng, n, d):  # exact ties everywhere (and zero-variance rows)
    return rng.integers(0, 3, size=(n, d)).astype(np.float64)


def relu_like(rng, n, d):  # a ReLU's output: many exact zeros
    return np.maximum(rng.standard_normal((n, d)) + 0.3 * rng.standard_normal((n, 1)), 0)


def constant_parts(rng, n, d):  # rows and features of one value (0.1: its mean rounds)
    x = rng.standard_normal((n, d))
    x[: n // 5] = 0.1
    x[:, 1] = 0.1
    x[:, 2] = 0.0 if d > 2 else x[:, 2]
    return x


def wider_than_n(rng, n, d):
    return rng.standard_normal((n, 4 * n + d)) * rng.uniform(0.1, 10, size=4 * n + d)


DATA = {f.__name__: f for f in (gaussian, duplicated, integer_ties, relu_like, constant_parts,
                                 wider_than_n)}  # fmt: skip


def check_metric(x, metric, **kw):
    got = vat_order(x, metric, **kw)
    assert got.dtype == np.int64 and sorted(got.tolist()) == list(range(len(x)))
    np.testing.assert_array_equal(got, reference(x, metric))
    return got


# --------------------------------------------------------------------------- in memory


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(DATA))
@pytest.mark.parametrize("metric", METRICS)
def test_in_memory_equals_reference(metric, kind, dtype):
    rng = np.random.default_rng([len(metric), len(kind)])
    check_metric(DATA[kind](rng, 90, 7).astype(dtype), metric)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny(metric, n):
    x = np.array([[0.0, 1.0, -2.0], [3.0, 0.5, 1.0], [1.0, 1.0, 4.0]])[:n]
    check_metric(x, metric)


@pytest.mark.parametrize("metric", METRICS)
def test_identical_rows_go_in_index_order(metric):
    x = np.tile([[0.5, -1.0, 2.0, 0.0]], (9, 1))
    np.testing.assert_array_equal(check_metric(x, metric), np.arange(9))


@pytest.mark.parametrize("metric", METRICS)
def test_constant_rows(metric):
    """Rows of one value whose mean rounds (0.1 twelve times): correlation must see
    them as constant (zero), not as rounding noise along the all-ones direction."""
    assert np.full(12, 0.1).mean() != 0.1
    x = np.random.default_rng(17).standard_normal((10, 12))
    x[[2, 7]] = 0.1
    check_metric(x, metric)


@pytest.mark.parametrize("metric", METRICS)
def test_integer_input(metric):
    x = np.random.default_rng(11).integers(-3, 4, size=(70, 5))
    check_metric(x, metric)


# --------------------------------------------------------------------------- other routes


@pytest.fixture(params=["file", "direct"])
def past_budget(request, monkeypatch, tmp_path):
    """Past the matrix budget: a distance file (row metrics), or distances computed
    when needed (the narrow-layer routes)."""
    monkeypatch.setenv(scratch.ENV_VAR, str(tmp_path))
    monkeypatch.setattr(direct, "WIDEST", 0 if request.param == "file" else 10**6)
    return request.param


@pytest.mark.parametrize("kind", sorted(DATA))
@pytest.mark.parametrize("metric", [m for m in METRICS if m != "local-scaling"])
def test_past_the_matrix_budget_equals_reference(metric, kind, past_budget):
    rng = np.random.default_rng([len(metric), len(kind), 1])
    x = DATA[kind](rng, 150 if kind != "wider_than_n" else 30, 6).astype(np.float32)
    stats = {}
    check_metric(x, metric, matrix_budget=0, stats=stats)
    assert stats["out_of_core"]
    if metric != "manhattan":
        assert stats["rows"] == past_budget


def test_manhattan_without_matrix_drops_visited_columns():
    # 600 samples: the visited columns are dropped several times along the way.
    x = duplicated(np.random.default_rng(5), 600, 9).astype(np.float32)
    stats = {}
    check_metric(x, "manhattan", matrix_budget=0, stats=stats)
    assert stats["rows"] == "direct"


@pytest.mark.parametrize("metric", METRICS)
def test_a_layer_spilled_to_a_file(metric, tmp_path, monkeypatch):
    """A ChunkedMatrix source in several column chunks, and its ReLU view."""
    monkeypatch.setattr(chunked, "CHUNK_BYTES", 8 * 80 * 256)  # 256 columns a chunk
    rng = np.random.default_rng(len(metric))
    x = rng.standard_normal((80, 700)).astype(np.float32)
    x[40:50] = x[:10]
    src = ChunkedMatrix(tmp_path / "layer.f32", *x.shape)
    try:
        src.write_rows(0, x)
        assert src.width == 256
        np.testing.assert_array_equal(vat_order(src, metric), reference(x, metric))
        relu = np.maximum(x, 0)
        np.testing.assert_array_equal(vat_order(src.relu_view(), metric), reference(relu, metric))
    finally:
        src.remove()


@pytest.mark.parametrize("inline", [True, False])
@pytest.mark.parametrize("metric", METRICS)
def test_what_a_dask_worker_runs(metric, inline, tmp_path):
    """The task a worker runs (cluster.order_task) on the layer as it travels: inside
    the task, or as a .npy file read memory-mapped."""
    x = relu_like(np.random.default_rng(len(metric) + 3), 120, 40).astype(np.float32)
    source = _layer_source(x, tmp_path / "0.npy", 10**9 if inline else 0)
    assert isinstance(source, str) != inline
    np.testing.assert_array_equal(order_task(source, metric), reference(x, metric))


# --------------------------------------------------------------------------- near ties


def spherical_star(rng, spokes=10, eps=1e-9, shift=True):
    """Unit vectors: a centre u, spokes at angle 1 + eps_k from it (each in a plane
    of its own), the antipode of u; as [w, -w] rows (zero mean), each scaled and, with
    ``shift``, shifted at random (correlation ignores both, cosine the scale).
    Distances from u differ by ~eps."""
    d = spokes + 1
    w = np.zeros((spokes + 2, d))
    w[0, 0], w[1, 0] = 1.0, -1.0
    angles = 1.0 + eps * (1 + rng.permutation(spokes))
    for k, a in enumerate(angles):
        w[2 + k, 0], w[2 + k, k + 1] = np.cos(a), np.sin(a)
    x = np.hstack([w, -w]) * rng.uniform(0.5, 4, size=(len(w), 1))
    if shift:
        x += rng.uniform(-100, 100, size=(len(w), 1))
    return x[rng.permutation(len(x))]


def z_star(rng, spokes=10, eps=1e-9):
    """Each spoke one in its own column (equal columns after z-scoring) and 1 + eps_k
    in a shared column, whose z-scores keep the ~eps differences; two anchors far
    away in a column of their own."""
    n, d = spokes + 3, spokes + 2
    x = np.zeros((n, d))
    x[0, -1], x[1, -1] = -1000.0, 1000.0
    for k in range(spokes):
        x[3 + k, 0] = 1.0 + eps * (1 + rng.permutation(spokes)[k])
        x[3 + k, 1 + k] = 1.0
    return (x + rng.standard_normal(d) * 1e3)[rng.permutation(n)]


def l1_star(rng):
    x, *_ = star_near_ties(rng)  # spokes at L1 distance 1 + eps_k from the centre too
    return x


def unit_star(rng):
    return spherical_star(rng, shift=False)


NEAR_TIES = {"euclidean": l1_star, "cosine": unit_star, "correlation": spherical_star,
             "standardized": z_star, "manhattan": l1_star}  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("metric", sorted(NEAR_TIES))
def test_near_ties_below_float32(metric, seed, past_budget):
    rng = np.random.default_rng(seed)
    x = NEAR_TIES[metric](rng)
    ref = reference(x, metric)
    # The case is adversarial: its rows rounded to float32 order otherwise...
    assert not np.array_equal(reference(x.astype(np.float32), metric), ref)
    # ...and the orders, in memory and past the budget, do not.
    np.testing.assert_array_equal(vat_order(x, metric), ref)
    np.testing.assert_array_equal(vat_order(x, metric, matrix_budget=0), ref)


# --------------------------------------------------------------------------- cosine


def test_cosine_is_euclidean_on_unit_rows_and_angular():
    """1 - cos, the angle arccos(cos) and the Euclidean distance between unit rows
    are increasing functions of each other: one VAT order (data without near ties)."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((120, 6)) * rng.uniform(0.1, 50, size=(120, 1))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = np.clip(u @ u.T, -1.0, 1.0)
    got = vat_order(x, "cosine")
    np.testing.assert_array_equal(got, brute_vat(u))  # Euclidean on unit rows
    np.testing.assert_array_equal(got, vat_of_matrix(np.arccos(cos)))  # angular
    np.testing.assert_array_equal(got, vat_of_matrix(1.0 - cos))
    np.testing.assert_array_equal(got, vat_order(u, "euclidean"))


def test_correlation_is_cosine_of_centred_rows():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((100, 8))
    r = np.corrcoef(x)
    got = vat_order(x, "correlation")
    np.testing.assert_array_equal(got, vat_of_matrix(1.0 - r))
    np.testing.assert_array_equal(got, vat_order(x - x.mean(axis=1, keepdims=True), "cosine"))


def test_standardized_ignores_each_features_unit():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((100, 5))
    scaled = x * 2.0 ** rng.integers(-20, 20, size=5) + 2.0 ** rng.integers(0, 10, size=5)
    np.testing.assert_array_equal(vat_order(scaled, "standardized"), vat_order(x, "standardized"))
    assert not np.array_equal(vat_order(scaled), vat_order(x))  # the Euclidean order moves


# --------------------------------------------------------------------------- exactness


def test_manhattan_float32_sums_are_the_exact_l1_distance():
    """Float32 values within 2^28 of each other (and with d * range within 2^53 of the
    least quantum): the feature-order float64 sum is exact, so numpy's pairwise sum and
    an exact rational sum agree with it."""
    from fractions import Fraction

    rng = np.random.default_rng(13)
    x = (rng.standard_normal((40, 300)) * 4).astype(np.float32)
    r = feature_sum(x, np.abs)
    x64 = x.astype(np.float64)
    pairwise = np.array([np.abs(x64 - x64[i]).sum(axis=1) for i in range(len(x))])
    np.testing.assert_array_equal(r, pairwise)
    for i, j in [(0, 1), (5, 39), (17, 22)]:
        pairs = zip(x[i].tolist(), x[j].tolist(), strict=True)
        exact = sum(abs(Fraction(a) - Fraction(b)) for a, b in pairs)
        assert Fraction(r[i, j]) == exact


def test_local_scaling_scales_are_the_exact_kth_neighbour():
    """s_i is the distance to the k-th nearest other sample, as the exact neighbours of
    fracdash.core.neighbours find it (in numpy's summation order: equal to the last
    bits)."""
    from fracdash.core.local_scaling import neighbour_scales
    from fracdash.core.neighbours import exact_neighbours

    x = duplicated(np.random.default_rng(14), 80, 6)
    sq = feature_sum(x, np.square)
    s2 = neighbour_scales(sq.copy(), LOCAL_SCALING_K)
    found = exact_neighbours(x, LOCAL_SCALING_K).distances[:, -1]
    np.testing.assert_allclose(s2, found, rtol=1e-12, atol=0)
    assert (s2 == 0).any() and (s2 > 0).any()  # duplicates: some scales are zero


def test_local_scaling_changes_the_euclidean_order():
    # A dense cluster and a sparse one: local scaling compares each on its own scale.
    rng = np.random.default_rng(15)
    x = np.vstack([rng.standard_normal((40, 3)) * 0.01, rng.standard_normal((40, 3)) * 5 + 20])
    assert not np.array_equal(vat_order(x, "local-scaling"), vat_order(x))
    check_metric(x, "local-scaling")


def test_relu_hamming_counts_switches():
    x = np.array([[1.0, 0.0, 2.0], [3.0, 0.0, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    # Patterns 101, 101, 010, 000: rows 0 and 1 at 0, rows 2 and 3 at 1, the maximum 3
    # first at (0, 2); then 1 (0), 3 (2 from both), 2 (1 from 3).
    np.testing.assert_array_equal(check_metric(x, "relu-hamming"), [0, 1, 3, 2])
