"""fracdash.core.gilbert: zero-waste glyphs on a generalized Hilbert curve (issue 13)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hilbertcurve.hilbertcurve import HilbertCurve

from fracdash.core import (
    CURVES,
    compact_positions,
    compact_shape,
    curve_positions,
    gilbert_points,
    grid_shape,
    positions_for,
    quality,
)

EVERY_N = [*range(1, 5001), 10_000, 60_000]


def steps(points: np.ndarray) -> np.ndarray:
    """|dx| + |dy| between consecutive points, shape (len(points) - 1,)."""
    return np.abs(np.diff(points, axis=0)).sum(axis=1)


def ranks_from_drawing(drawing: str) -> np.ndarray:
    """Curve of a hand drawing: rank of each cell, top text row = highest y."""
    rows = [[int(v) for v in line.split()] for line in drawing.strip().splitlines()]
    rank = np.array(rows[::-1])  # rank[y, x]
    order = np.argsort(rank, axis=None)
    ys, xs = np.unravel_index(order, rank.shape)
    assert np.array_equal(rank[ys, xs], np.arange(rank.size)), "drawing must rank 0..n-1"
    return np.stack([xs, ys], axis=1)


# --------------------------------------------------------------------------- zero waste


def test_every_n_is_zero_waste_and_unit_stepped():
    for n in EVERY_N:
        width, height = compact_shape(n)
        pos = compact_positions(n)
        assert pos.shape == (n, 2) and pos.dtype == np.int64, n
        # Zero waste: fewer empty cells than one row.
        assert 0 <= width * height - n < width, (n, width, height)
        # Inside the W x H grid.
        assert pos.min() >= 0 and pos[:, 0].max() < width and pos[:, 1].max() < height, n
        # Distinct pixels: exactly n cells used.
        assert np.bincount(pos[:, 0] + width * pos[:, 1], minlength=width * height).max() == 1
        # Consecutive samples edge-adjacent: no diagonal step among the used cells.
        assert n == 1 or np.all(steps(pos) == 1), (n, width, height)


def test_shape_is_near_square():
    for n in EVERY_N:
        width, height = compact_shape(n)
        s = math.isqrt(n - 1) + 1  # ceil(sqrt(n))
        assert height <= width <= s + 1, n
        assert width - height <= 3, n
        assert (width, height) == grid_shape(n, "compact")


@pytest.mark.parametrize(
    "n,shape",
    [
        (1, (1, 1)),
        (2, (2, 1)),
        (3, (2, 2)),
        (4, (2, 2)),
        (5, (3, 2)),  # 3 x 2 has no diagonal step (shorter side 2)
        (7, (3, 3)),
        (13, (4, 4)),
        (17, (6, 3)),  # 5 x 4 would need a diagonal step
        (20, (6, 4)),  # likewise, although 5 x 4 holds 20 exactly
        (21, (5, 5)),
        (31, (6, 6)),  # 6 x 5 has an even longer side: fine
        (10_000, (100, 100)),
        (60_000, (245, 245)),  # issue 16
    ],
)
def test_shape_hand_cases(n, shape):
    assert compact_shape(n) == shape


def test_chosen_shapes_have_no_diagonal_at_all():
    # Stronger than the prefix check: the whole curve of every shape chosen for
    # n <= 5,000 is unit-stepped, so the rule never relies on where the hole falls.
    for shape in sorted({compact_shape(n) for n in range(1, 5001)}):
        pts = gilbert_points(*shape)
        assert pts.shape[0] == 1 or np.all(steps(pts) == 1), shape


def test_which_shapes_need_a_diagonal_step():
    # The rule behind compact_shape: a diagonal step exactly when the longer side is
    # odd and the shorter even and above 2; then exactly one.
    for width in range(1, 33):
        for height in range(1, 33):
            pts = gilbert_points(width, height)
            assert pts.shape == (width * height, 2)
            assert np.bincount(pts[:, 0] + width * pts[:, 1]).max() == 1
            long, short = max(width, height), min(width, height)
            d = steps(pts)
            expected = long % 2 == 1 and short % 2 == 0 and short > 2
            assert np.count_nonzero(d != 1) == int(expected), (width, height)
            if expected:
                k = int(np.flatnonzero(d != 1)[0])
                assert np.all(np.abs(pts[k + 1] - pts[k]) == 1), "a diagonal, not a jump"


def test_diagonal_never_falls_among_the_empty_cells():
    # Why odd s x (s - 1) is skipped rather than truncated: its diagonal step comes
    # before cell (s - 1)**2, the fewest samples that shape would hold.
    for s in range(5, 75, 2):
        k = int(np.flatnonzero(steps(gilbert_points(s, s - 1)) != 1)[0])
        assert k + 1 < (s - 1) ** 2 + 1, s


# --------------------------------------------------------------------------- exact curves


@pytest.mark.parametrize(
    "width,height,drawing",
    [
        (1, 1, "0"),
        (2, 1, "0 1"),
        (1, 3, "2\n1\n0"),
        (2, 2, "1 2\n0 3"),
        # Ends at (1, 0), not at the corner (2, 0): no diagonal step needed.
        (3, 2, "1 2 3\n0 5 4"),
        # The classic order-2 Hilbert curve.
        (4, 4, " 5  6  9 10\n 4  7  8 11\n 3  2 13 12\n 0  1 14 15"),
        # The 5 x 5 example published with GilbertCurves.jl (an independent port).
        (
            5,
            5,
            " 6  7 12 13 14\n 5  8 11 16 15\n 4  9 10 17 18\n 3  2 21 20 19\n 0  1 22 23 24",
        ),
    ],
)
def test_small_curves_by_hand(width, height, drawing):
    expected = ranks_from_drawing(drawing)
    np.testing.assert_array_equal(gilbert_points(width, height), expected)


@pytest.mark.parametrize("p", range(1, 7))
def test_power_of_two_square_is_the_hilbert_curve(p):
    # On 2**p x 2**p the compact curve is the paper's curve, point by point.
    side = 2**p
    ref = HilbertCurve(p, 2).points_from_distances(list(range(side * side)))
    np.testing.assert_array_equal(gilbert_points(side, side), np.array(ref))


def test_portrait_grid_runs_along_its_height():
    pts = gilbert_points(5, 8)
    assert tuple(pts[0]) == (0, 0) and tuple(pts[-1]) == (0, 7)
    assert np.all(steps(pts) == 1)
    assert pts[:, 0].max() == 4 and pts[:, 1].max() == 7


def test_returned_arrays_are_private_copies():
    pos = compact_positions(50)
    pos[:] = -7
    assert compact_positions(50).min() >= 0
    pts = gilbert_points(6, 4)
    pts[0] = 99
    assert tuple(gilbert_points(6, 4)[0]) == (0, 0)


@pytest.mark.parametrize("bad", [0, -1])
def test_invalid_sizes(bad):
    with pytest.raises(ValueError):
        compact_shape(bad)
    with pytest.raises(ValueError):
        compact_positions(bad)
    with pytest.raises(ValueError):
        gilbert_points(bad, 3)
    with pytest.raises(ValueError):
        gilbert_points(3, bad)


# --------------------------------------------------------------------------- dispatch


@pytest.mark.parametrize("n", [1, 2, 5, 17, 100, 1000, 4097])
def test_positions_for_each_curve(n):
    p, square = curve_positions(n)
    np.testing.assert_array_equal(positions_for(n), square)  # the default is unchanged
    np.testing.assert_array_equal(positions_for(n, "paper"), square)
    assert grid_shape(n) == grid_shape(n, "paper") == (2**p, 2**p)
    np.testing.assert_array_equal(positions_for(n, "compact"), compact_positions(n))
    for curve in CURVES:
        width, height = grid_shape(n, curve)
        pos = positions_for(n, curve)
        assert pos.shape == (n, 2)
        assert pos[:, 0].max() < width and pos[:, 1].max() < height


def test_compact_wastes_less_than_paper():
    for n in (10_000, 60_000):
        w, h = grid_shape(n, "compact")
        side, _ = grid_shape(n, "paper")
        assert w * h - n < w < side * side - n


def test_unknown_curve():
    with pytest.raises(ValueError, match="unknown curve"):
        positions_for(10, "peano")
    with pytest.raises(ValueError, match="unknown curve"):
        grid_shape(10, "peano")


# --------------------------------------------------------------------------- quality


def brute_quality(positions, labels, width: int, height: int) -> float:
    """Moore-neighbour same-class share on an explicit ``height x width`` grid."""
    grid = [[None] * width for _ in range(height)]
    for (x, y), lab in zip(positions.tolist(), labels.tolist(), strict=True):
        assert grid[y][x] is None
        grid[y][x] = lab
    same = 0
    for y in range(height):
        for x in range(width):
            if grid[y][x] is None:
                continue
            for ny in (y - 1, y, y + 1):
                for nx in (x - 1, x, x + 1):
                    inside = 0 <= nx < width and 0 <= ny < height
                    if (nx, ny) != (x, y) and inside and grid[ny][nx] == grid[y][x]:
                        same += 1
    return same / (8 * len(labels))


@pytest.mark.parametrize(
    "width,height,expected",
    [
        # Full 3 x 2, one class: four corners see 3 cells, the two middles 5.
        (3, 2, 22 / 48),
        (2, 3, 22 / 48),
        # A full row or column of 7: the ends see 1 cell, the rest 2.
        (7, 1, 12 / 56),
        (1, 7, 12 / 56),
    ],
)
def test_quality_on_full_rectangles_by_hand(width, height, expected):
    pos = gilbert_points(width, height)
    ones = np.zeros(len(pos), dtype=np.int64)
    assert quality(pos, ones) == pytest.approx(expected)
    assert brute_quality(pos, ones, width, height) == pytest.approx(expected)


@pytest.mark.parametrize(
    "layout",
    ["compact-20", "compact-4960", "full-13x5", "full-5x13", "prefix-29x7"],
)
@pytest.mark.parametrize("k", [1, 2, 5])
def test_quality_on_non_square_grids_vs_brute_force(layout, k):
    kind, size = layout.split("-")
    if kind == "compact":
        n = int(size)
        width, height = compact_shape(n)
        pos = compact_positions(n)
    else:
        width, height = (int(v) for v in size.split("x"))
        pos = gilbert_points(width, height)
        if kind == "prefix":
            pos = pos[: width * height - width + 3]
    assert width != height
    rng = np.random.default_rng([width, height, k])
    # Runs of labels along the curve, as VAT orderings give, plus noise.
    labels = np.repeat(rng.integers(0, k, size=len(pos) // 4 + 1), 4)[: len(pos)]
    labels = np.where(rng.random(len(pos)) < 0.2, rng.integers(0, k, size=len(pos)), labels)
    got = quality(pos, labels)
    assert got == pytest.approx(brute_quality(pos, labels, width, height), abs=1e-12)
