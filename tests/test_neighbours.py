"""Exact nearest neighbours, ranks and Prim trees (fracdash.core.neighbours) against
brute force on the whole float64 distance matrix: random data, duplicated rows, exact
ties, layers wider than n, and float32 bounds too loose to decide anything alone."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree

from fracdash.core import gram_bounds, neighbours
from fracdash.core.metrics import row_transform
from fracdash.core.neighbours import exact_neighbours, metric_rows, pair_distances, prim_parents


def full_distances(z) -> np.ndarray:
    """D[i, j] = ((z_i - z_j) ** 2).sum() in float64, one row at a time."""
    z = np.asarray(z, dtype=np.float64)
    return np.stack([((z[i] - z) ** 2).sum(axis=1) for i in range(len(z))])


def brute_order(d_row, i) -> np.ndarray:
    """Samples other than i by (distance, index)."""
    others = np.array([j for j in range(len(d_row)) if j != i])
    return others[np.lexsort((others, d_row[others]))]


def brute_knn(z, k):
    d = full_distances(z)
    idx = np.stack([brute_order(d[i], i)[:k] for i in range(len(z))])
    return idx, np.take_along_axis(d, idx, axis=1)


def brute_ranks(z, targets):
    d = full_distances(z)
    out = np.empty(targets.shape, np.int64)
    for i in range(len(z)):
        position = {j: r + 1 for r, j in enumerate(brute_order(d[i], i))}
        out[i] = [position[j] for j in targets[i]]
    return out


def brute_parents(z, order):
    d = full_distances(z)
    parents = np.full(len(z), -1)
    for t in range(1, len(order)):
        seen = np.asarray(order[:t])
        parents[order[t]] = seen[np.lexsort((seen, d[order[t], seen]))[0]]
    return parents


def brute_prim_order(z):
    """VAT by the book: the first maximum's row, then the nearest unvisited (argmin)."""
    d = full_distances(z)
    order = [int(np.unravel_index(np.argmax(d), d.shape)[0])]
    to_set = d[order[0]].copy()
    for _ in range(1, len(z)):
        j = int(np.argmin(np.where(np.isin(np.arange(len(z)), order), np.inf, to_set)))
        order.append(j)
        to_set = np.minimum(to_set, d[j])
    return np.array(order)


def other_targets(rng, n, m):
    """m distinct other samples per sample."""
    return np.stack([rng.choice(np.delete(np.arange(n), i), m, replace=False) for i in range(n)])


def random_data(rng, n, d, dtype=np.float32):
    return rng.normal(size=(n, d)).astype(dtype)


def duplicated(rng, n, d):
    base = rng.normal(size=(n // 3, d)).astype(np.float32)
    return base[rng.integers(0, len(base), n)]  # every row repeated ~3 times


def integer_ties(rng, n, d):
    """Small integers: many pairs at exactly equal distances (sums exact in any order)."""
    return rng.integers(-2, 3, size=(n, d)).astype(np.float32)


def far_clusters(rng, n, d):
    """Two clusters 2,000 apart, each 1e-3 wide: the float32 bound (~1e-1) is far wider
    than the distances inside a cluster, so every candidate needs float64."""
    x = rng.normal(scale=1e-3, size=(n, d))
    x[: n // 2, 0] += 1000.0
    x[n // 2 :, 0] -= 1000.0
    return x


CASES = {
    "random": lambda rng: random_data(rng, 120, 7),
    "float64": lambda rng: random_data(rng, 90, 5, np.float64),
    "wider than n": lambda rng: random_data(rng, 60, 300),
    "duplicated rows": lambda rng: duplicated(rng, 90, 6),
    "integer ties": lambda rng: integer_ties(rng, 100, 3),
    "one feature": lambda rng: integer_ties(rng, 40, 1),
    "far clusters": lambda rng: far_clusters(rng, 80, 4),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("k", [1, 10])
def test_k_nearest_equal_brute_force(case, k):
    x = CASES[case](np.random.default_rng(len(case) + k))
    got = exact_neighbours(x, k)
    idx, dist = brute_knn(x, k)
    np.testing.assert_array_equal(got.indices, idx)
    np.testing.assert_array_equal(got.distances, dist)
    assert got.ranks is None and got.parents is None


@pytest.mark.parametrize("case", CASES)
def test_ranks_of_targets_equal_brute_force(case):
    rng = np.random.default_rng(7)
    x = CASES[case](rng)
    targets = other_targets(rng, len(x), 6)
    got = exact_neighbours(x, 3, targets=targets)  # float64 blocks
    np.testing.assert_array_equal(got.ranks, brute_ranks(x, targets))
    np.testing.assert_array_equal(got.indices, brute_knn(x, 3)[0])


@pytest.mark.parametrize("case", CASES)
def test_prim_parents_equal_brute_force(case):
    rng = np.random.default_rng(3)
    x = CASES[case](rng)
    order = rng.permutation(len(x))
    np.testing.assert_array_equal(prim_parents(x, order), brute_parents(x, order))
    both = exact_neighbours(x, 2, order=order)  # the same in the shared pass
    np.testing.assert_array_equal(both.parents, brute_parents(x, order))


def test_the_tree_of_a_vat_order_is_a_minimum_spanning_tree():
    x = random_data(np.random.default_rng(11), 150, 4).astype(np.float64)
    parents = prim_parents(x, brute_prim_order(x))
    d = np.sqrt(full_distances(x))
    child = np.flatnonzero(parents >= 0)
    assert child.size == len(x) - 1
    weight = d[child, parents[child]].sum()
    assert weight == pytest.approx(minimum_spanning_tree(d).sum(), rel=1e-12)


def test_blocks_of_rows_give_the_same_answers(monkeypatch):
    rng = np.random.default_rng(5)
    x = duplicated(rng, 100, 5)
    targets, order = other_targets(rng, 100, 4), rng.permutation(100)
    whole = exact_neighbours(x, 5, targets=targets, order=order)
    monkeypatch.setattr(gram_bounds, "BLOCK_BYTES", 8 * 100 * 17)  # 17 rows a block
    monkeypatch.setattr(neighbours, "_PAIR_BYTES", 8 * 5 * 3)  # 3 pairs a chunk
    for got, want in zip(exact_neighbours(x, 5, targets=targets, order=order), whole, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(whole.indices, brute_knn(x, 5)[0])


def test_cosine_is_euclidean_on_unit_rows_and_orders_as_one_minus_cos():
    rng = np.random.default_rng(2)
    x = random_data(rng, 80, 6) * rng.uniform(0.1, 10, size=(80, 1)).astype(np.float32)
    x[5] = 0  # a zero row stays zero
    got = exact_neighbours(x, 8, "cosine").indices
    np.testing.assert_array_equal(got, brute_knn(metric_rows(x, "cosine"), 8)[0])
    x64 = x.astype(np.float64)
    norms = np.linalg.norm(x64, axis=1)
    unit = x64 / np.where(norms > 0, norms, 1.0)[:, None]
    # Row 5 is 1 away from every unit row: ties to the last bit, which the two
    # normalisations round differently; every other row is decided far from a tie.
    keep = np.arange(80) != 5
    np.testing.assert_array_equal(got[keep], brute_knn(unit, 8)[0][keep])
    norms[5] = 1.0
    cos = x64 @ x64.T / np.outer(norms, norms)
    for i in (0, 17, 42):  # rows away from the zero row: by 1 - cos
        others = np.array([j for j in range(80) if j not in (i, 5)])
        want = others[np.argsort(1 - cos[i, others], kind="stable")][:7]
        assert list(want) == [j for j in got[i] if j != 5][:7]


def test_a_row_transform_adds_a_metric():
    rng = np.random.default_rng(4)
    x = random_data(rng, 70, 5)

    def first_two_scaled(rows):
        return rows[:, :2].astype(np.float64) * np.array([1.0, 3.0])

    got = exact_neighbours(x, 4, first_two_scaled).indices
    np.testing.assert_array_equal(got, brute_knn(first_two_scaled(x), 4)[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [1, 9, 130, 1000])
def test_pair_distances_are_numpy_one_pair_at_a_time_bit_for_bit(d, dtype):
    rng = np.random.default_rng(d)
    z = (rng.normal(size=(20, d)) * 10.0 ** rng.integers(-3, 4, size=(20, 1))).astype(dtype)
    rows, cols = rng.integers(0, 20, 50), rng.integers(0, 20, 50)
    want = [
        ((z[i].astype(np.float64) - z[j].astype(np.float64)) ** 2).sum()
        for i, j in zip(rows, cols, strict=True)
    ]
    assert pair_distances(z, rows, cols).tolist() == want


def test_metric_rows_keep_float32_and_scale_cosine_rows():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    x[0] = 0
    assert metric_rows(x) is x
    unit = metric_rows(x, "cosine")
    np.testing.assert_allclose(np.linalg.norm(unit[1:], axis=1), 1.0)
    np.testing.assert_array_equal(unit[0], 0.0)
    assert metric_rows(np.arange(6).reshape(3, 2)).dtype == np.float64


@pytest.mark.parametrize("metric", ["correlation", "standardized", "relu-hamming"])
def test_every_row_metric_of_the_table_is_exact(metric):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(90, 12)).astype(np.float32)  # relu-hamming: integer distances, ties
    got = exact_neighbours(x, 6, metric, order=np.arange(90))
    z = row_transform(metric)(x)
    np.testing.assert_array_equal(got.indices, brute_knn(z, 6)[0])
    np.testing.assert_array_equal(got.parents, brute_parents(z, np.arange(90)))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: exact_neighbours(x, 0), "k=0 must be an integer from 1 to n - 1"),
        (lambda x: exact_neighbours(x, 10), "k=10 must be an integer from 1 to n - 1 = 9"),
        (lambda x: exact_neighbours(x, 2, "chebyshev"), "unknown metric 'chebyshev'"),
        (lambda x: exact_neighbours(x, 2, "manhattan"), "not a Euclidean distance"),
        (lambda x: exact_neighbours(x[0], 2), "need a 2-D array"),
        (lambda x: exact_neighbours(np.where(x > 0, np.nan, x), 2), "NaN or inf"),
        (lambda x: exact_neighbours(x, 2, lambda r: r[:3]), "one row per sample"),
        (lambda x: exact_neighbours(x, 2, targets=np.zeros((10, 1), int)), "its own target"),
        (lambda x: exact_neighbours(x, 2, targets=np.ones((9, 1), int)), "shape (10, m)"),
        (lambda x: prim_parents(x, np.zeros(10, int)), "a permutation"),
        (lambda x: prim_parents(x, np.arange(9)), "the 10 sample indices"),
    ],
)
def test_bad_input_is_refused_in_one_line(call, message):
    x = random_data(np.random.default_rng(0), 10, 3)
    with pytest.raises(ValueError, match=re.escape(message)):
        call(x)


def test_one_sample_has_a_root_and_no_neighbours():
    x = np.ones((1, 4), np.float32)
    np.testing.assert_array_equal(prim_parents(x, [0]), [-1])
    with pytest.raises(ValueError, match="n - 1 = 0"):
        exact_neighbours(x, 1)
