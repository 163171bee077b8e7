"""Agreement of two runs on one layer (fracdash.core.agreement) against brute force:
Python sets of glyph neighbours, of nearest neighbours and of tree edges."""

from __future__ import annotations

import re

import numpy as np
import pytest

from fracdash.core.agreement import (
    curve_agreement,
    knn_overlap,
    layer_agreement,
    moore_neighbours,
    tree_edge_share,
)
from fracdash.core.measures import sample_positions


def moore_sets(positions):
    """Each sample's set of samples at Chebyshev distance 1 (every pair looked at)."""
    p = np.asarray(positions)
    return [
        {j for j in range(len(p)) if j != i and np.abs(p[j] - p[i]).max() == 1}
        for i in range(len(p))
    ]


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def brute_knn(x, k):
    z = np.asarray(x, dtype=np.float64)
    out = []
    for i in range(len(z)):
        d = ((z - z[i]) ** 2).sum(axis=1)
        others = np.array([j for j in range(len(z)) if j != i])
        out.append(set(others[np.lexsort((others, d[others]))][:k]))
    return out


def brute_tree(x, order):
    """Edges {order[t], its nearest earlier sample} by brute force."""
    z = np.asarray(x, dtype=np.float64)
    edges = set()
    for t in range(1, len(order)):
        seen = np.asarray(order[:t])
        d = ((z[seen] - z[order[t]]) ** 2).sum(axis=1)
        edges.add(frozenset((int(order[t]), int(seen[np.lexsort((seen, d))[0]]))))
    return edges


@pytest.mark.parametrize("curve", ["compact", "paper"])
def test_moore_neighbours_equal_brute_force(curve):
    positions = sample_positions(np.random.default_rng(0).permutation(29), curve)
    got = moore_neighbours(positions)
    assert [set(row[row >= 0]) for row in got] == moore_sets(positions)


@pytest.mark.parametrize("curve", ["compact", "paper"])
def test_curve_agreement_is_the_jaccard_of_moore_neighbourhoods(curve):
    rng = np.random.default_rng(1)
    a, b = (sample_positions(rng.permutation(50), curve) for _ in range(2))
    want = [jaccard(s, t) for s, t in zip(moore_sets(a), moore_sets(b), strict=True)]
    got = curve_agreement(a, b)
    np.testing.assert_allclose(got.per_sample, want, rtol=0, atol=1e-15)
    assert got.mean == pytest.approx(np.mean(want))
    same = curve_agreement(a, a)
    assert same.mean == 1.0 and (same.per_sample == 1.0).all()


def test_curve_agreement_compares_glyphs_of_different_curves():
    order = np.random.default_rng(2).permutation(40)
    a, b = sample_positions(order, "compact"), sample_positions(order, "paper")
    want = [jaccard(s, t) for s, t in zip(moore_sets(a), moore_sets(b), strict=True)]
    np.testing.assert_allclose(curve_agreement(a, b).per_sample, want, atol=1e-15)


@pytest.mark.parametrize("k", [1, 5])
def test_knn_overlap_counts_common_neighbours(k):
    rng = np.random.default_rng(k)
    a = np.stack([rng.permutation(30)[:k] for _ in range(30)])
    b = np.stack([rng.permutation(30)[:k] for _ in range(30)])
    want = [len(set(s) & set(t)) / k for s, t in zip(a, b, strict=True)]
    got = knn_overlap(a, b)
    np.testing.assert_allclose(got.per_sample, want, atol=1e-15)
    assert got.mean == pytest.approx(np.mean(want))
    assert knn_overlap(a, a[:, ::-1]).mean == 1.0  # sets, not sequences


def test_tree_edge_share_counts_undirected_common_edges():
    rng = np.random.default_rng(3)
    orders = [rng.permutation(25) for _ in range(2)]
    trees = [np.full(25, -1) for _ in range(2)]
    for tree, order in zip(trees, orders, strict=True):  # random trees: attach to an earlier sample
        for t in range(1, 25):
            tree[order[t]] = order[rng.integers(0, t)]
    sets = [{frozenset((c, int(p))) for c, p in enumerate(tree) if p >= 0} for tree in trees]
    want = len(sets[0] & sets[1]) / 24
    assert tree_edge_share(*trees) == pytest.approx(want)
    assert tree_edge_share(trees[1], trees[0]) == pytest.approx(want)
    flipped = trees[0].copy()  # the same edges, the root moved: all shared
    root, child = orders[0][0], orders[0][1]
    flipped[root], flipped[child] = child, -1
    assert tree_edge_share(trees[0], flipped) == 1.0
    assert tree_edge_share([-1], [-1]) == 1.0


def test_layer_agreement_equals_brute_force_on_two_layers():
    rng = np.random.default_rng(4)
    x_a = rng.normal(size=(60, 5)).astype(np.float32)
    x_b = (x_a[:, :3] + 0.3 * rng.normal(size=(60, 3))).astype(np.float32)  # related
    x_b = np.concatenate([x_b, x_b[:8]])[:60]  # with duplicated rows
    order_a, order_b = rng.permutation(60), rng.permutation(60)
    got = layer_agreement(x_a, x_b, order_a, order_b, k=6)
    near_a, near_b = brute_knn(x_a, 6), brute_knn(x_b, 6)
    knn = [len(s & t) / 6 for s, t in zip(near_a, near_b, strict=True)]
    np.testing.assert_allclose(got.knn.per_sample, knn, atol=1e-15)
    tree_a, tree_b = brute_tree(x_a, order_a), brute_tree(x_b, order_b)
    assert got.tree_edges == pytest.approx(len(tree_a & tree_b) / 59)
    pos_a, pos_b = sample_positions(order_a), sample_positions(order_b)
    curve = [jaccard(s, t) for s, t in zip(moore_sets(pos_a), moore_sets(pos_b), strict=True)]
    np.testing.assert_allclose(got.curve.per_sample, curve, atol=1e-15)
    assert 0 < got.knn.mean < 1 and 0 < got.tree_edges < 1


def test_a_layer_against_itself_agrees_everywhere():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 4))
    order = rng.permutation(40)
    got = layer_agreement(x, x[:, ::-1] * 2.0, order, order, k=5)  # same geometry, scaled
    assert got.curve.mean == got.knn.mean == got.tree_edges == 1.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: moore_neighbours([[0, 0], [0, 0]]), "share a pixel"),
        (lambda: moore_neighbours([[0, -1]]), "non-negative"),
        (lambda: curve_agreement([[0, 0], [0, 1]], [[0, 0]]), "2 and 1 samples"),
        (lambda: knn_overlap(np.zeros((3, 2)), np.zeros((3, 3))), "one shape (n, k)"),
        (lambda: tree_edge_share([-1, 0], [-1, 0, 1]), "2 and 3 samples"),
        (lambda: tree_edge_share([-1, -1, 0], [-1, 0, 0]), "one -1 (the root)"),
        (lambda: layer_agreement(np.ones((5, 2)), np.ones((4, 2)), range(5), range(4)), "5 and 4"),
    ],
)
def test_bad_input_is_refused_in_one_line(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
