"""fracdash.core.vat: the exact VAT order (docs/method.md §4) against a brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DTYPES, brute_vat, check

from fracdash import vat_order

# --------------------------------------------------------------------------- reference
# --------------------------------------------------------------------------- datasets


def gaussian(rng, n, d):
    return rng.standard_normal((n, d))


def clustered(rng, n, d):
    centres = rng.standard_normal((5, d)) * 100.0
    which = rng.integers(0, 5, size=n)
    return centres[which] + 0.01 * rng.standard_normal((n, d))


def cauchy(rng, n, d):
    return rng.standard_cauchy((n, d))


def integer_ties(rng, n, d):
    # Few distinct values: many exact duplicate rows and many exactly tied distances.
    return rng.integers(0, 3, size=(n, d)).astype(np.float64)


DATASETS = {
    "gaussian": gaussian,
    "clustered": clustered,
    "cauchy": cauchy,
    "integer_ties": integer_ties,
}


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", sorted(DATASETS))
@pytest.mark.parametrize("n,d", [(3, 2), (17, 3), (64, 10), (200, 7), (400, 32)])
def test_matches_brute_force(kind, n, d, dtype):
    rng = np.random.default_rng([n, d, len(kind)])
    x = DATASETS[kind](rng, n, d).astype(dtype)
    check(x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_high_dimensional(dtype):
    rng = np.random.default_rng(500)
    x = rng.standard_normal((150, 500)).astype(dtype)
    check(x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_high_dimensional_clustered(dtype):
    rng = np.random.default_rng(501)
    x = clustered(rng, 150, 500).astype(dtype)
    check(x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_sample(dtype):
    x = np.array([[1.5, -2.0, 3.0]], dtype=dtype)
    np.testing.assert_array_equal(check(x), [0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_two_samples(dtype):
    x = np.array([[0.0, 0.0], [3.0, 4.0]], dtype=dtype)
    # R = [[0, 5], [5, 0]]: the first maximum is at (0, 1), so row 0 starts.
    np.testing.assert_array_equal(check(x), [0, 1])
    np.testing.assert_array_equal(check(x[::-1].copy()), [0, 1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 2, 5, 50])
def test_all_identical_rows(n, dtype):
    x = np.tile(np.array([[0.1, 7.0, -3.3, 1e6]], dtype=dtype), (n, 1))
    # R is all zeros: start at row 0, every later tie broken towards the lowest index.
    np.testing.assert_array_equal(check(x), np.arange(n))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [2, 9, 120, 333])
def test_one_dimensional(n, dtype):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 1)).astype(dtype)
    got = check(x)
    # In 1-D, VAT starts at an extreme and walks the sorted values to the other end.
    values = x[got, 0].astype(np.float64)
    assert np.all(np.diff(values) >= 0) or np.all(np.diff(values) <= 0)


def test_one_dimensional_hand_case():
    x = np.array([[0.0], [10.0], [1.0], [4.0]])
    # R's first maximum is (0, 1); from 0: 1 (d=1), then 4 (d=3), then 10 (d=6).
    np.testing.assert_array_equal(check(x), [0, 2, 3, 1])


def test_hand_case_ties_go_to_lowest_index():
    # A square: start row 0 (first max is (0, 2), the diagonal); 1 and 3 tie at 1.
    x = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    np.testing.assert_array_equal(check(x), [0, 1, 2, 3])


@pytest.mark.parametrize("n", [5, 60, 250])
def test_integer_dtype_input(n):
    rng = np.random.default_rng(n + 7)
    x = rng.integers(-3, 4, size=(n, 6))
    check(x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_duplicates_mixed_with_distinct_rows(dtype):
    rng = np.random.default_rng(12)
    base = rng.standard_normal((40, 5))
    x = base[rng.integers(0, 40, size=300)].astype(dtype)
    check(x)


# --------------------------------------------------------------------------- cosine


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,d", [(1, 3), (2, 3), (30, 4), (250, 16)])
def test_cosine_is_euclidean_on_normalised_rows(n, d, dtype):
    rng = np.random.default_rng([n, d, 3])
    x = rng.standard_normal((n, d))
    x[rng.random(n) < 0.2] *= 50.0  # scale must not matter
    x = x.astype(dtype)
    check(x, metric="cosine")


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_with_zero_rows_and_duplicates(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((60, 5))
    x[[3, 17, 40]] = 0.0  # zero rows stay zero
    x[[5, 6, 7]] = x[8]  # exact duplicates
    x = x.astype(dtype)
    check(x, metric="cosine")


def test_cosine_ignores_scale():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((80, 6))
    scales = np.exp(rng.uniform(-3, 3, size=(80, 1)))
    # Powers of two scale exactly, so the normalised rows are bit-identical.
    pow2 = 2.0 ** rng.integers(-10, 10, size=(80, 1))
    np.testing.assert_array_equal(vat_order(x * pow2, "cosine"), vat_order(x, "cosine"))
    check(x * scales, metric="cosine")


def test_cosine_differs_from_euclidean():
    # Two rays: euclidean sees 3 groups by length, cosine only the 2 directions.
    x = np.array([[1.0, 0.0], [10.0, 0.0], [0.0, 1.0], [0.0, 10.0], [2.0, 0.0]])
    cos = check(x, metric="cosine")
    euc = check(x)
    assert not np.array_equal(cos, euc)
    # Cosine: rows 0, 1, 4 are one point, rows 2, 3 another, sqrt(2) apart. The first
    # maximum is (0, 2); then the zero-distance ties in index order.
    np.testing.assert_array_equal(cos, [0, 1, 4, 2, 3])
    # Euclidean: the first maximum is (1, 3); from (10, 0): (2, 0), (1, 0), (0, 1).
    np.testing.assert_array_equal(euc, [1, 4, 0, 2, 3])


# --------------------------------------------------------------------------- invariances


@pytest.mark.parametrize("kind", sorted(DATASETS))
def test_translation_invariance(kind):
    rng = np.random.default_rng(len(kind) + 100)
    # Integer-valued data and an integer shift keep every distance exact in float64.
    x = np.round(DATASETS[kind](rng, 120, 6) * 4) / 4
    shift = rng.integers(-1000, 1000, size=6).astype(np.float64)
    base = check(x)
    np.testing.assert_array_equal(check(x + shift), base)


@pytest.mark.parametrize("kind", sorted(DATASETS))
def test_column_permutation_invariance(kind):
    rng = np.random.default_rng(len(kind) + 200)
    x = np.round(DATASETS[kind](rng, 120, 6) * 4) / 4
    cols = rng.permutation(6)
    base = check(x)
    np.testing.assert_array_equal(check(x[:, cols]), base)


def test_row_permutation_equivariance_without_ties():
    rng = np.random.default_rng(300)
    x = rng.standard_normal((100, 4))
    perm = rng.permutation(100)
    # Without ties, VAT is a function of the point set; only the labels move.
    np.testing.assert_array_equal(perm[check(x[perm])], check(x))


def test_accepts_lists_and_noncontiguous_arrays():
    rng = np.random.default_rng(301)
    x = rng.standard_normal((50, 8))
    np.testing.assert_array_equal(vat_order(x.tolist()), brute_vat(x))
    view = x[::2, ::3]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(vat_order(view), brute_vat(view))
    fortran = np.asfortranarray(x)
    np.testing.assert_array_equal(vat_order(fortran), brute_vat(x))


def test_does_not_modify_input():
    rng = np.random.default_rng(302)
    x = rng.standard_normal((30, 3))
    before = x.copy()
    vat_order(x)
    vat_order(x, metric="cosine")
    np.testing.assert_array_equal(x, before)


def test_progress_callback():
    calls = []
    x = np.random.default_rng(303).standard_normal((250, 3))
    order = vat_order(x, progress=lambda done, total: calls.append((done, total)))
    np.testing.assert_array_equal(order, brute_vat(x))
    assert calls, "progress was never called"
    assert all(total == 250 for _, total in calls)
    done = [c[0] for c in calls]
    assert done == sorted(done) and done[-1] == 250 and 1 <= done[0]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "bad",
    [
        np.arange(5.0),  # 1-D
        np.zeros((0, 3)),  # no samples
        np.zeros((3, 0)),  # no features
        np.zeros((2, 3, 4)),  # 3-D
        np.array(3.0),  # 0-D
        np.array([[0.0, np.nan], [1.0, 2.0]]),
        np.array([[0.0, np.inf], [1.0, 2.0]]),
        np.array([[0.0, 1.0], [-np.inf, 2.0]]),
        np.array([[0.0, 1.0], [np.nan, 2.0]], dtype=np.float32),
    ],
    ids=["1d", "empty", "featureless", "3d", "0d", "nan", "inf", "-inf", "nan32"],
)
def test_invalid_input_raises(bad):
    with pytest.raises(ValueError):
        vat_order(bad)


def test_nan_raises_for_cosine_too():
    with pytest.raises(ValueError):
        vat_order(np.array([[0.0, np.nan], [1.0, 2.0]]), metric="cosine")


@pytest.mark.parametrize("metric", ["angular", "Euclidean", "", "sqeuclidean", None])
def test_unknown_metric_raises(metric):
    with pytest.raises(ValueError):
        vat_order(np.zeros((3, 2)), metric=metric)


def test_workspace_is_reused_and_changes_nothing():
    rng = np.random.default_rng(21)
    workspace = np.full((80, 80), np.nan, dtype=np.float32)
    for d in (3, 1500):  # a full GEMM, then ssyrk into the same memory
        x = rng.normal(size=(80, d)).astype(np.float32)
        np.testing.assert_array_equal(vat_order(x, workspace=workspace), brute_vat(x))
        assert not np.isnan(workspace).any()  # the buffer was used
    with pytest.raises(ValueError, match="C-contiguous"):
        vat_order(rng.normal(size=(80, 1500)), workspace=np.asfortranarray(workspace))
