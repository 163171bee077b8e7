"""fracdash.core.vat: the exact VAT order (SPEC §4) against a brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest

from fracdash import vat_order

DTYPES = [np.float32, np.float64]


# --------------------------------------------------------------------------- reference


def distance_matrix(x, dtype=np.float64) -> np.ndarray:
    """R[i, j] = sqrt(sum_k (x_ik - x_jk)^2), by broadcasting, one row at a time."""
    x = np.asarray(x).astype(dtype)
    n = x.shape[0]
    r = np.empty((n, n), dtype=dtype)
    for i in range(n):
        r[i] = np.sqrt(np.sum((x - x[i][None, :]) ** 2, axis=1))
    return r


def brute_vat(x, dtype=np.float64) -> np.ndarray:
    """VAT by the book: first maximum of R in row-major order, then Prim with argmin."""
    r = distance_matrix(x, dtype)
    n = r.shape[0]
    start = int(np.unravel_index(np.argmax(r), r.shape)[0])
    order = [start]
    visited = np.zeros(n, dtype=bool)
    visited[start] = True
    to_set = r[start].astype(np.float64)
    for _ in range(1, n):
        cand = np.where(visited, np.inf, to_set)
        j = int(np.argmin(cand))
        order.append(j)
        visited[j] = True
        to_set = np.minimum(to_set, r[j])
    return np.array(order, dtype=np.int64)


def normalised(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i, row in enumerate(x):
        norm = np.sqrt(np.sum(row * row))
        if norm > 0:
            out[i] = row / norm
    return out


def check(x, metric="euclidean") -> np.ndarray:
    got = vat_order(x, metric=metric)
    ref = brute_vat(normalised(x) if metric == "cosine" else x)
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.int64
    assert got.shape == (len(x),)
    assert sorted(got.tolist()) == list(range(len(x)))
    np.testing.assert_array_equal(got, ref)
    return got


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


def star_near_ties(rng, spokes: int = 12, scale: float = 1e-9):
    """Points whose distances to the visited set differ by ~``scale`` relative.

    Two far anchors A = -1000 e0 and B = +1000 e0 (the most dissimilar pair, so VAT
    starts at one of them), a centre C at the origin, and spokes (1 + eps_k) e_{k+1}
    (pairwise >= sqrt(2) apart, each sqrt(1000^2 + 1) from the anchors), all shifted
    by a large common vector. VAT goes anchor, C, then the spokes by increasing
    eps_k (each at distance 1 + eps_k from C), then the other anchor: a ranking that
    float32 arithmetic cannot see. Rows are shuffled so that index order and eps
    order disagree.

    Returns the rows, the indices of the anchors and of C, and the spokes' indices
    in the expected order.
    """
    d = spokes + 1
    anchors = np.zeros((2, d))
    anchors[0, 0], anchors[1, 0] = -1000.0, 1000.0
    centre = np.zeros((1, d))
    eps = scale * (1.0 + rng.permutation(spokes))
    spoke_rows = np.zeros((spokes, d))
    for k in range(spokes):
        spoke_rows[k, k + 1] = 1.0 + eps[k]
    x = np.vstack([anchors, centre, spoke_rows])
    x += 1e3 * rng.standard_normal(d)  # large common vector
    perm = rng.permutation(len(x))
    x = x[perm]
    where = np.argsort(perm)  # new index of old row i
    return x, {int(where[0]), int(where[1])}, int(where[2]), where[3 + np.argsort(eps)]


def check_star(x, anchors, centre, expected_spokes):
    ref = brute_vat(x)
    # The construction does what it claims on the float64 reference...
    assert {int(ref[0]), int(ref[-1])} == anchors
    assert ref[1] == centre
    np.testing.assert_array_equal(ref[2:-1], expected_spokes)
    # ...and float32 arithmetic alone gets it wrong.
    assert not np.array_equal(brute_vat(x.astype(np.float32), dtype=np.float32), ref)
    got = vat_order(x)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("seed", range(5))
def test_near_ties_need_float64(seed):
    rng = np.random.default_rng(seed)
    check_star(*star_near_ties(rng))


def test_near_ties_in_gram_form():
    # Centred, so no common offset: the large norms alone make |x|^2 + |y|^2 - 2 x.y
    # in float32 useless at the 1e-9 level while the data are exact in float64.
    rng = np.random.default_rng(99)
    x, anchors, centre, spokes = star_near_ties(rng, spokes=20, scale=3e-9)
    check_star(x - x.mean(axis=0), anchors, centre, spokes)


# --------------------------------------------------------------------------- extreme scales
# "Exact" holds for any finite input whose float64 distances are finite and normal: the
# float32 fast path must not lose it to float32 underflow (squared distances below
# ~1e-38) or overflow (above ~3e38).


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1e-35, 1e-25, 1e-21, 1e-18, 1e18, 1e19, 1e25, 1e35])
def test_extreme_scales(scale, dtype):
    rng = np.random.default_rng(int(np.log10(scale)) + 50)
    x = (rng.standard_normal((200, 2)) * scale).astype(dtype)
    assert np.isfinite(x).all() and np.all(x != 0)
    check(x)


@pytest.mark.parametrize("scale", [1e-150, 1e-100, 1e-50, 1e50, 1e100, 1e150])
def test_extreme_scales_float64_only(scale):
    rng = np.random.default_rng(int(np.log10(scale)) + 500)
    check(rng.standard_normal((200, 2)) * scale)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tiny_values_hand_case(dtype):
    # Sample 1 is 6e-23 from sample 0, sample 2 is 6.2e-23 from it (3 % apart, no
    # near-tie): R's first maximum is (0, 2), then 1, then 2.
    x = np.array([[-4e-23], [2.0e-23], [2.2e-23]], dtype=dtype)
    np.testing.assert_array_equal(brute_vat(x), [0, 1, 2])
    np.testing.assert_array_equal(vat_order(x), [0, 1, 2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_values_hand_case(dtype):
    # Squared distances up to 9e38 overflow float32 but are ordinary float64 numbers.
    x = np.array([[0.0], [1e19], [3e19]], dtype=dtype)
    np.testing.assert_array_equal(brute_vat(x), [0, 1, 2])
    np.testing.assert_array_equal(vat_order(x), [0, 1, 2])


@pytest.mark.parametrize("k", [-200, -70, -60, -20, 20, 60, 70, 200])
def test_power_of_two_scaling_invariance(k):
    # Scaling by 2**k is exact in float64, so the reference order cannot change.
    rng = np.random.default_rng(77)
    x = rng.standard_normal((200, 2))
    base = check(x)
    np.testing.assert_array_equal(brute_vat(x * 2.0**k), base)
    np.testing.assert_array_equal(vat_order(x * 2.0**k), base)


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
        np.zeros((2, 3, 4)),  # 3-D
        np.array(3.0),  # 0-D
        np.array([[0.0, np.nan], [1.0, 2.0]]),
        np.array([[0.0, np.inf], [1.0, 2.0]]),
        np.array([[0.0, 1.0], [-np.inf, 2.0]]),
        np.array([[0.0, 1.0], [np.nan, 2.0]], dtype=np.float32),
    ],
    ids=["1d", "empty", "3d", "0d", "nan", "inf", "-inf", "nan32"],
)
def test_invalid_input_raises(bad):
    with pytest.raises(ValueError):
        vat_order(bad)


def test_nan_raises_for_cosine_too():
    with pytest.raises(ValueError):
        vat_order(np.array([[0.0, np.nan], [1.0, 2.0]]), metric="cosine")


@pytest.mark.parametrize("metric", ["manhattan", "Euclidean", "", "sqeuclidean"])
def test_unknown_metric_raises(metric):
    with pytest.raises(ValueError):
        vat_order(np.zeros((3, 2)), metric=metric)
