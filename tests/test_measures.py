"""kNN accuracy, hubness and trustworthiness (fracdash.core.measures) against brute
force: Python loops over the whole distance matrices of the space and of the grid."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from scipy.stats import skew

from fracdash.core import positions_for
from fracdash.core.measures import (
    grid_neighbours,
    hubness,
    knn_accuracy,
    knn_predictions,
    layer_measures,
    sample_positions,
    trustworthiness,
)
from fracdash.core.neighbours import exact_neighbours


def brute_sorted(d_row, i):
    """Samples other than i by (distance, index)."""
    others = np.array([j for j in range(len(d_row)) if j != i])
    return others[np.lexsort((others, d_row[others]))]


def squared(points) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    return ((p[:, None, :] - p[None, :, :]) ** 2).sum(axis=2)


def brute_vote(row_labels):
    """Most frequent label; between equals, the one met first (nearest)."""
    counts = Counter(row_labels)
    best = max(counts.values())
    return next(lab for lab in row_labels if counts[lab] == best)


def brute_trustworthiness(x, positions, k):
    """Venna & Kaski's T(k), literally: the layout's k nearest that are not the
    space's k nearest, penalised by their rank in the space."""
    n = len(x)
    space, grid = squared(x), squared(positions)
    total = 0
    for i in range(n):
        ranked = list(brute_sorted(space[i], i))
        for j in brute_sorted(grid[i], i)[:k]:
            if j not in ranked[:k]:
                total += ranked.index(j) + 1 - k
    return 1 - 2 * total / (n * k * (2 * n - 3 * k - 1))


@pytest.mark.parametrize("curve", ["compact", "paper"])
def test_sample_positions_put_the_kth_in_order_on_the_kth_cell(curve):
    order = np.random.default_rng(0).permutation(37)
    got = sample_positions(order, curve)
    np.testing.assert_array_equal(got[order], positions_for(37, curve))


SCATTERED = np.random.default_rng(1).choice(200 * 200, 30, replace=False)

LAYOUTS = {
    "compact": lambda: positions_for(37, "compact"),
    "paper, with its hole": lambda: positions_for(37, "paper"),
    "k = n - 1": lambda: positions_for(11, "compact"),
    "scattered": lambda: np.stack([SCATTERED % 200, SCATTERED // 200], axis=1),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("k", [1, 4, 10])
def test_grid_neighbours_equal_brute_force(layout, k):
    positions = np.random.default_rng(2).permutation(LAYOUTS[layout]())
    grid = squared(positions)
    want = np.stack([brute_sorted(grid[i], i)[:k] for i in range(len(positions))])
    np.testing.assert_array_equal(grid_neighbours(positions, k), want)


def test_grid_neighbours_go_edges_then_diagonals_then_lower_index():
    positions = np.array([[1, 1], [2, 2], [0, 1], [1, 0], [2, 1], [1, 2], [0, 0]])
    np.testing.assert_array_equal(grid_neighbours(positions, 6)[0], [2, 3, 4, 5, 1, 6])


def test_knn_votes_equal_brute_force_ties_to_the_nearest():
    rng = np.random.default_rng(3)
    neighbours = np.stack([rng.permutation(60)[:4] for _ in range(60)])
    labels = rng.integers(0, 3, 60)
    want = [brute_vote(list(labels[row])) for row in neighbours]
    np.testing.assert_array_equal(knn_predictions(neighbours, labels), want)
    assert knn_accuracy(neighbours, labels) == pytest.approx(np.mean(want == labels))
    hand = np.array([[1, 2, 3, 4], [0, 2, 3, 4], [0, 1, 3, 4], [0, 1, 2, 4], [0, 1, 2, 3]])
    # Sample 0 sees 7, 8, 8, 7: a tie, to the nearest's label; sample 1 sees 9, 8, 8, 7.
    np.testing.assert_array_equal(knn_predictions(hand, [9, 7, 8, 8, 7])[:2], [7, 8])


def test_hubness_is_the_skewness_of_k_occurrences():
    rng = np.random.default_rng(4)
    x = rng.standard_t(2, size=(120, 5)).astype(np.float32)
    near = exact_neighbours(x, 5).indices
    occurrences = [sum(i in row for row in near) for i in range(120)]
    assert hubness(near) == pytest.approx(skew(occurrences), rel=1e-12)
    ring = np.array([[(i - 1) % 9, (i + 1) % 9] for i in range(9)])
    assert hubness(ring) == 0.0  # everyone occurs twice: no hubs


@pytest.mark.parametrize("curve", ["compact", "paper"])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_trustworthiness_equals_venna_and_kaski_by_brute_force(curve, k):
    rng = np.random.default_rng(k)
    x = rng.integers(-2, 3, size=(45, 3)).astype(np.float32)  # many exact ties
    order = rng.permutation(45)
    positions = sample_positions(order, curve)
    layout = grid_neighbours(positions, k)
    ranks = exact_neighbours(x, k, targets=layout).ranks
    want = brute_trustworthiness(x, positions, k)
    assert trustworthiness(ranks, k) == pytest.approx(want, abs=1e-14)
    assert layer_measures(x, np.zeros(45), order, k=k, curve=curve).trustworthiness == (
        pytest.approx(want, abs=1e-14)
    )


def test_a_space_that_is_its_own_glyph_is_fully_trustworthy():
    positions = sample_positions(np.random.default_rng(5).permutation(50), "compact")
    ranks = exact_neighbours(positions.astype(np.float32), 6, targets=grid_neighbours(positions, 6))
    assert trustworthiness(ranks.ranks) == 1.0


def test_layer_measures_combine_the_three():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(90, 40)).astype(np.float32)
    labels = rng.integers(0, 4, 90)
    x[:, :4] += 3 * np.eye(4)[labels]
    order = rng.permutation(90)
    got = layer_measures(x, labels, order, k=7, metric="cosine")
    space = squared(x / np.linalg.norm(x, axis=1, keepdims=True))
    near = np.stack([brute_sorted(space[i], i)[:7] for i in range(90)])
    votes = np.array([brute_vote(list(labels[row])) for row in near])
    assert got.knn_accuracy == pytest.approx(np.mean(votes == labels))
    assert got.hubness == pytest.approx(skew(np.bincount(near.ravel(), minlength=90)))
    unit = x.astype(np.float64) / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
    want = brute_trustworthiness(unit, sample_positions(order), 7)
    assert got.trustworthiness == pytest.approx(want, abs=1e-14)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: trustworthiness(np.ones((10, 5), int)), "k < n / 2"),
        (lambda: trustworthiness(np.ones(10, int)), "shape (n, k)"),
        (lambda: grid_neighbours([[0, 0], [0, 0], [1, 1]], 1), "share a pixel"),
        (lambda: grid_neighbours([[0, 0], [0, 1]], 2), "from 1 to n - 1 = 1"),
        (lambda: knn_predictions(np.zeros((3, 2), int), [0, 1]), "shape (2, k)"),
        (lambda: layer_measures(np.ones((8, 2)), np.ones(8), np.arange(8), k=4), "below n / 2"),
        (lambda: layer_measures(np.ones((8, 2)), np.ones(7), np.arange(8)), "7 labels"),
        (lambda: sample_positions([0, 0, 1]), "a permutation"),
    ],
)
def test_bad_input_is_refused_in_one_line(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
