"""fracdash.core.hilbert: curve order, Hilbert points and glyph placement (docs/method.md §5)."""

from __future__ import annotations

import numpy as np
import pytest
from hilbertcurve.hilbertcurve import HilbertCurve

from fracdash import curve_positions
from fracdash.core import curve_order, hilbert_points

SIZES = [1, 2, 3, 4, 5, 15, 16, 17, 100, 1000, 4096, 4097, 10000]


def reference_points(p: int, distances) -> np.ndarray:
    """(x, y) of each distance from the hilbertcurve package itself."""
    if p == 0:
        return np.zeros((len(distances), 2), dtype=np.int64)
    pts = HilbertCurve(p, 2).points_from_distances([int(h) for h in distances])
    return np.array(pts, dtype=np.int64).reshape(-1, 2)


def reference_order(n: int) -> int:
    p = 0
    while 4**p < n:
        p += 1
    return p


# --------------------------------------------------------------------------- curve_order


@pytest.mark.parametrize(
    "n,p",
    [(1, 0), (2, 1), (4, 1), (5, 2), (16, 2), (17, 3), (64, 3), (65, 4), (10000, 7)],
)
def test_curve_order_hand_cases(n, p):
    assert curve_order(n) == p


def test_curve_order_is_the_smallest_fitting():
    for n in list(range(1, 300)) + [4**k + e for k in range(2, 12) for e in (-1, 0, 1)]:
        p = curve_order(n)
        assert p == reference_order(n)
        assert 4**p >= n
        assert p == 0 or 4 ** (p - 1) < n


@pytest.mark.parametrize("n", [0, -1, -100])
def test_curve_order_rejects_empty(n):
    with pytest.raises(ValueError):
        curve_order(n)


# --------------------------------------------------------------------------- hilbert_points


@pytest.mark.parametrize("p", range(1, 10))
def test_hilbert_points_match_hilbertcurve(p):
    distances = np.arange(4**p)
    got = hilbert_points(p, distances)
    assert got.shape == (4**p, 2)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, reference_points(p, distances))


def test_hilbert_points_order_zero():
    got = hilbert_points(0, [0])
    assert got.shape == (1, 2)
    np.testing.assert_array_equal(got, [[0, 0]])


def test_hilbert_points_order_one_by_hand():
    # hilbertcurve's order-1 curve: (0,0) -> (0,1) -> (1,1) -> (1,0).
    np.testing.assert_array_equal(hilbert_points(1, [0, 1, 2, 3]), [[0, 0], [0, 1], [1, 1], [1, 0]])


def test_hilbert_points_any_subset_and_order():
    rng = np.random.default_rng(0)
    p = 6
    distances = rng.integers(0, 4**p, size=500)
    np.testing.assert_array_equal(hilbert_points(p, distances), reference_points(p, distances))
    assert hilbert_points(p, np.array([], dtype=np.int64)).shape == (0, 2)


@pytest.mark.parametrize("p,bad", [(0, [1]), (1, [4]), (2, [-1]), (3, [0, 64])])
def test_hilbert_points_out_of_range(p, bad):
    with pytest.raises(ValueError):
        hilbert_points(p, bad)


# --------------------------------------------------------------------------- curve_positions


@pytest.mark.parametrize("n", SIZES)
def test_curve_positions(n):
    p, pos = curve_positions(n)
    assert p == reference_order(n)
    side = 2**p
    assert pos.shape == (n, 2)
    assert pos.dtype == np.int64
    # Bounds.
    assert pos.min() >= 0 and pos.max() < side
    # One pixel per sample.
    assert len({(int(x), int(y)) for x, y in pos}) == n
    # Consecutive samples are 4-adjacent pixels.
    if n > 1:
        assert np.all(np.abs(np.diff(pos, axis=0)).sum(axis=1) == 1)
    # Centred hole: the k-th sample sits at curve distance skip + k.
    skip = (4**p - n) // 2
    np.testing.assert_array_equal(pos[0], reference_points(p, [skip])[0])
    np.testing.assert_array_equal(pos, reference_points(p, range(skip, skip + n)))
    # The empty pixels are the curve positions before skip and after skip + n - 1.
    before, after = skip, 4**p - n - skip
    assert before >= 0 and after >= 0 and abs(before - after) <= 1 and before <= after


def test_curve_positions_single_sample():
    p, pos = curve_positions(1)
    assert p == 0
    np.testing.assert_array_equal(pos, [[0, 0]])


def test_curve_positions_small_hand_case():
    # n = 2 on the order-1 curve: skip = (4 - 2) // 2 = 1, so distances 1 and 2.
    p, pos = curve_positions(2)
    assert p == 1
    np.testing.assert_array_equal(pos, [[0, 1], [1, 1]])
    # n = 3: skip = 0, distances 0, 1, 2.
    p, pos = curve_positions(3)
    np.testing.assert_array_equal(pos, [[0, 0], [0, 1], [1, 1]])


@pytest.mark.parametrize("n", [0, -1])
def test_curve_positions_invalid(n):
    with pytest.raises(ValueError):
        curve_positions(n)
