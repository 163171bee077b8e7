"""fracdash.core.coloring: relative codes, quality and index images (docs/method.md §6)."""

from __future__ import annotations

import numpy as np
import pytest

from fracdash import curve_positions, quality, relative_codes
from fracdash.core import class_image, class_quality, code_image, cohesion

MOORE = [(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dx or dy]


# --------------------------------------------------------------------------- references


def reference_codes(labels) -> list[int]:
    """docs/method.md §6 literally: [label(k-1) == label(k)] + [label(k+1) == label(k)]."""
    labels = list(labels)
    n = len(labels)
    codes = []
    for k in range(n):
        left = k - 1 >= 0 and labels[k - 1] == labels[k]
        right = k + 1 < n and labels[k + 1] == labels[k]
        codes.append(int(left) + int(right))
    return codes


def reference_quality(positions, labels) -> float:
    grid = {(int(x), int(y)): lab for (x, y), lab in zip(positions, labels, strict=True)}
    same = 0
    for (x, y), lab in grid.items():
        for dx, dy in MOORE:
            if grid.get((x + dx, y + dy)) == lab:
                same += 1
    return same / (8 * len(grid))


def random_layout(rng, n, side):
    cells = rng.choice(side * side, size=n, replace=False)
    return np.stack([cells % side, cells // side], axis=1)


# --------------------------------------------------------------------------- relative_codes


@pytest.mark.parametrize(
    "labels,codes",
    [
        ([0, 0, 0], [1, 2, 1]),
        ([0, 1, 0], [0, 0, 0]),
        ([5], [0]),
        ([1, 1], [1, 1]),
        ([1, 2], [0, 0]),
        ([3, 3, 4, 4, 4, 3], [1, 1, 1, 2, 1, 0]),
        ([7, 7, 7, 7], [1, 2, 2, 1]),
    ],
)
def test_relative_codes_hand_cases(labels, codes):
    got = relative_codes(labels)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, codes)


@pytest.mark.parametrize("n,k", [(2, 2), (10, 2), (100, 3), (1000, 10), (777, 1)])
def test_relative_codes_random(n, k):
    rng = np.random.default_rng([n, k])
    labels = rng.integers(0, k, size=n)
    got = relative_codes(labels)
    assert got.shape == (n,)
    np.testing.assert_array_equal(got, reference_codes(labels))
    assert set(np.unique(got).tolist()) <= {0, 1, 2}


def test_relative_codes_string_labels():
    labels = ["cat", "cat", "dog", "cat"]
    np.testing.assert_array_equal(relative_codes(labels), reference_codes(labels))


def test_relative_codes_empty():
    assert relative_codes(np.array([], dtype=np.int64)).shape == (0,)


# --------------------------------------------------------------------------- quality


def test_quality_2x2_one_class():
    pos = [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert quality(pos, [2, 2, 2, 2]) == pytest.approx(3 * 4 / (8 * 4))
    assert quality(pos, [2, 2, 2, 2]) == pytest.approx(0.375)


def test_quality_3x3_one_class():
    pos = [(x, y) for y in range(3) for x in range(3)]
    expected = (3 * 4 + 5 * 4 + 8) / (8 * 9)
    assert quality(pos, [0] * 9) == pytest.approx(expected)
    assert quality(pos, [0] * 9) == pytest.approx(reference_quality(pos, [0] * 9))


def test_quality_checkerboard():
    # 2x2: each pixel has one same-class (diagonal) neighbour -> 4 / 32.
    pos = [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert quality(pos, [0, 1, 1, 0]) == pytest.approx(4 / 32)
    # 4x4: same-class neighbours are exactly the diagonal ones in the grid.
    pos = [(x, y) for y in range(4) for x in range(4)]
    labels = [(x + y) % 2 for x, y in pos]
    diagonals = sum(
        1
        for x, y in pos
        for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1))
        if 0 <= x + dx < 4 and 0 <= y + dy < 4
    )
    assert diagonals == 36
    assert quality(pos, labels) == pytest.approx(diagonals / (8 * 16))


def test_quality_stripes():
    # Vertical stripes on 4x4: same-class neighbours are the vertical ones only.
    pos = [(x, y) for y in range(4) for x in range(4)]
    labels = [x % 2 for x, _ in pos]
    assert quality(pos, labels) == pytest.approx(4 * 3 * 2 / (8 * 16))


def test_quality_empty_pixels_do_not_count():
    # Two samples diagonally apart on a 2x2 grid, two empty pixels: 1 + 1 over 16.
    assert quality([(0, 0), (1, 1)], [4, 4]) == pytest.approx(2 / 16)
    # Far apart: no neighbours at all.
    assert quality([(0, 0), (5, 5)], [1, 1]) == 0.0
    # A single sample.
    assert quality([(0, 0)], [0]) == 0.0
    # Class 0 next to empty pixels must not be confused with "empty".
    assert quality([(1, 1), (3, 3)], [0, 0]) == 0.0


def test_quality_position_order_does_not_matter():
    rng = np.random.default_rng(8)
    pos = random_layout(rng, 50, 9)
    labels = rng.integers(0, 3, size=50)
    perm = rng.permutation(50)
    assert quality(pos[perm], labels[perm]) == pytest.approx(quality(pos, labels))


@pytest.mark.parametrize("n,side,k", [(1, 1, 1), (5, 3, 2), (50, 8, 2), (200, 16, 5), (900, 32, 3)])
def test_quality_random_vs_loop(n, side, k):
    rng = np.random.default_rng([n, side, k])
    pos = random_layout(rng, n, side)
    labels = rng.integers(0, k, size=n)
    got = quality(pos, labels)
    assert isinstance(got, float)
    assert got == pytest.approx(reference_quality(pos, labels), abs=1e-12)
    assert 0.0 <= got <= 1.0


@pytest.mark.parametrize("n", [1, 2, 7, 16, 100, 1000])
def test_quality_of_curve_layout(n):
    _, pos = curve_positions(n)
    ones = np.zeros(n, dtype=np.int64)
    q = quality(pos, ones)
    assert q == pytest.approx(reference_quality(pos, ones))
    assert 0.0 <= q < 1.0
    rng = np.random.default_rng(n)
    labels = rng.integers(0, 4, size=n)
    assert quality(pos, labels) == pytest.approx(reference_quality(pos, labels))
    assert quality(pos, labels) <= q


def test_quality_invalid():
    with pytest.raises(ValueError):
        quality(np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError):
        quality([(0, 0), (0, 1)], [0, -1])


# --------------------------------------------------------------------------- images


@pytest.mark.parametrize("paint", [class_image, code_image])
def test_image_pixel_is_at_row_y_column_x(paint):
    pos = [(2, 0), (0, 1), (3, 3)]
    values = [7, 0, 2]
    img = paint(pos, values)
    assert img.shape == (4, 4)
    expected = np.full((4, 4), -1)
    expected[0, 2] = 7
    expected[1, 0] = 0
    expected[3, 3] = 2
    np.testing.assert_array_equal(img, expected)


@pytest.mark.parametrize("paint", [class_image, code_image])
def test_image_side(paint):
    img = paint([(0, 0), (1, 0)], [1, 1], side=8)
    assert img.shape == (8, 8)
    assert (img == -1).sum() == 62
    assert img[0, 0] == 1 and img[0, 1] == 1
    # Default side: the smallest square holding every pixel.
    assert paint([(0, 4)], [3]).shape == (5, 5)
    assert paint([(4, 0)], [3]).shape == (5, 5)


@pytest.mark.parametrize("n", [1, 3, 16, 17, 500])
def test_images_of_curve_layout(n):
    rng = np.random.default_rng(n)
    p, pos = curve_positions(n)
    labels = rng.integers(0, 10, size=n)
    codes = relative_codes(labels)
    for paint, values in ((class_image, labels), (code_image, codes)):
        img = paint(pos, values, side=2**p)
        assert img.shape == (2**p, 2**p)
        expected = np.full((2**p, 2**p), -1)
        for (x, y), v in zip(pos, values, strict=True):
            expected[y, x] = v
        np.testing.assert_array_equal(img, expected)
        assert (img == -1).sum() == 4**p - n


@pytest.mark.parametrize("paint", [class_image, code_image])
def test_image_length_mismatch(paint):
    with pytest.raises(ValueError):
        paint([(0, 0), (1, 1)], [1])
    with pytest.raises(ValueError):
        paint([(0, 0)], [1, 2])


# --------------------------------------------------------------------------- per class


def reference_class_quality(positions, labels, k) -> list[float]:
    """docs/method.md §6.6 literally: for class c, over its pixels, same-class Moore
    neighbours / 8 n_c."""
    grid = {(int(x), int(y)): int(lab) for (x, y), lab in zip(positions, labels, strict=True)}
    out = []
    for c in range(k):
        pixels = [xy for xy, lab in grid.items() if lab == c]
        same = sum(grid.get((x + dx, y + dy)) == c for x, y in pixels for dx, dy in MOORE)
        out.append(same / (8 * len(pixels)) if pixels else float("nan"))
    return out


def reference_cohesion(positions, members) -> float:
    """The group's pixels, their Moore neighbours in the group, over 8 |S|."""
    grid = {(int(x), int(y)): i for i, (x, y) in enumerate(positions)}
    group = set(members)
    same = 0
    for i in group:
        x, y = positions[i]
        for dx, dy in MOORE:
            same += grid.get((int(x) + dx, int(y) + dy)) in group
    return same / (8 * len(group))


def test_class_quality_by_hand():
    # 3x3, class 0 on the left column, class 1 elsewhere.
    positions = [(x, y) for y in range(3) for x in range(3)]
    labels = [0 if x == 0 else 1 for x, _ in positions]
    got = class_quality(positions, labels, 2)
    # class 0: a column of 3 -> 1 + 2 + 1 neighbours; class 1: a 2x3 block -> 3,5,3 twice.
    assert got[0] == pytest.approx(4 / 24)
    assert got[1] == pytest.approx(reference_class_quality(positions, labels, 2)[1])
    assert got[1] == pytest.approx((3 + 5 + 3 + 3 + 5 + 3) / 48)


@pytest.mark.parametrize("n,side,k", [(1, 1, 1), (30, 6, 3), (200, 16, 5), (97, 10, 20)])
def test_class_quality_random_vs_loop(n, side, k):
    rng = np.random.default_rng(n + k)
    positions = random_layout(rng, n, side)
    labels = rng.integers(0, k, n)
    got = class_quality(positions, labels, k)
    want = reference_class_quality(positions, labels, k)
    assert got.shape == (k,) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, equal_nan=True)
    # Weighted by class counts, the classes' qualities average to the quality.
    counts = np.bincount(labels, minlength=k)
    present = counts > 0
    assert np.sum(got[present] * counts[present]) / n == pytest.approx(quality(positions, labels))


def test_class_quality_of_an_absent_class_is_nan():
    got = class_quality([(0, 0), (1, 0)], [0, 2], 4)
    assert got[0] == got[2] == pytest.approx(0.0)
    assert np.isnan(got[1]) and np.isnan(got[3])


def test_class_quality_invalid():
    with pytest.raises(ValueError, match="below k"):
        class_quality([(0, 0), (1, 0)], [0, 3], 3)
    with pytest.raises(ValueError, match="k must be"):
        class_quality([(0, 0)], [0], 0)
    with pytest.raises(ValueError, match="labels were given"):
        class_quality([(0, 0), (1, 0)], [0], 2)


# --------------------------------------------------------------------------- cohesion


@pytest.mark.parametrize("n,side,m", [(1, 1, 1), (40, 8, 5), (200, 16, 60), (300, 18, 300)])
def test_cohesion_random_vs_loop(n, side, m):
    rng = np.random.default_rng(n + m)
    positions = random_layout(rng, n, side)
    members = rng.choice(n, size=m, replace=False)
    want = reference_cohesion(positions, members)
    assert cohesion(positions, members) == pytest.approx(want)
    mask = np.zeros(n, dtype=bool)
    mask[members] = True
    assert cohesion(positions, mask) == pytest.approx(want)
    assert cohesion(positions, list(members) + list(members[:3])) == pytest.approx(want)


def test_cohesion_of_a_class_is_its_class_quality():
    rng = np.random.default_rng(11)
    _, positions = curve_positions(150)
    labels = rng.integers(0, 4, 150)
    per_class = class_quality(positions, labels, 4)
    for c in range(4):
        assert cohesion(positions, labels == c) == pytest.approx(per_class[c])


def test_cohesion_of_a_contiguous_block_is_high():
    positions = [(x, y) for y in range(10) for x in range(10)]
    block = [i for i, (x, y) in enumerate(positions) if x < 5]  # the left half
    scattered = [i for i, (x, y) in enumerate(positions) if (x + y) % 2 == 0]
    assert cohesion(positions, block) > 0.5 > cohesion(positions, scattered)


def test_cohesion_invalid():
    positions = [(0, 0), (1, 0), (2, 0)]
    with pytest.raises(ValueError, match="at least one member"):
        cohesion(positions, [])
    with pytest.raises(ValueError, match="at least one member"):
        cohesion(positions, np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="in 0..2"):
        cohesion(positions, [3])
    with pytest.raises(ValueError, match="shape"):
        cohesion(positions, np.ones(2, dtype=bool))
