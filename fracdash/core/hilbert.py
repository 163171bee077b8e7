"""Placement of ordered samples on a Hilbert curve (docs/method.md §5).

The curve convention is the ``hilbertcurve`` package's (``HilbertCurve(p, 2)``);
:func:`hilbert_points` is a vectorised port of its ``point_from_distance`` and must
match it exactly (a test compares them for p = 1..9). :func:`positions_for` and
:func:`grid_shape` choose between this square curve and the zero-waste rectangle of
:mod:`fracdash.core.gilbert`.
"""

from __future__ import annotations

import numpy as np

from fracdash.core.gilbert import checked_count, compact_positions, compact_shape


def curve_order(n: int) -> int:
    """Smallest ``p`` with ``4**p >= n`` (p = 0 for n = 1).

    Raises
    ------
    ValueError
        If ``n < 1``.
    """
    n = checked_count(n)
    p = 0
    while 4**p < n:
        p += 1
    return p


def hilbert_points(p: int, distances) -> np.ndarray:
    """Pixel (x, y) of each distance along a 2-D Hilbert curve of order ``p``.

    Parameters
    ----------
    p : int
        Curve order; the grid is ``2**p`` pixels wide. ``p = 0`` is the 1-pixel grid.
    distances : array_like of int, shape (m,)
        Positions along the curve, each in ``[0, 4**p)``.

    Returns
    -------
    ndarray of int64, shape (m, 2)
        ``(x, y)`` of each distance, as ``HilbertCurve(p, 2).points_from_distances``.
    """
    h = np.asarray(distances, dtype=np.int64).reshape(-1)
    if h.size and (h.min() < 0 or h.max() >= 4**p):
        raise ValueError(f"curve distances must lie in [0, {4**p}) for order p={p}")
    if p == 0:
        return np.zeros((h.size, 2), dtype=np.int64)
    # Transpose: the bits of h, most significant first, alternate between x0 and x1.
    x0 = np.zeros_like(h)
    x1 = np.zeros_like(h)
    for j in range(p):
        x0 |= ((h >> (2 * j + 1)) & 1) << j
        x1 |= ((h >> (2 * j)) & 1) << j
    # Gray decode.
    t = x1 >> 1
    x1 ^= x0
    x0 ^= t
    # Undo excess work, i = n-1 (x1) then i = 0 (x0), as in hilbertcurve.
    q = 2
    z = 1 << p
    while q != z:
        mask = q - 1
        hit = (x1 & q) != 0
        swap = (x0 ^ x1) & mask
        x0 = np.where(hit, x0 ^ mask, x0 ^ swap)
        x1 = np.where(hit, x1, x1 ^ swap)
        x0 = np.where((x0 & q) != 0, x0 ^ mask, x0)
        q <<= 1
    return np.stack([x0, x1], axis=1)


def curve_positions(n: int) -> tuple[int, np.ndarray]:
    """Where the k-th sample in order sits on the glyph.

    ``skip = (4**p - n) // 2`` curve positions stay empty at the start of the curve
    (the rest at its end), so the hole is centred and consecutive samples are always
    adjacent pixels.

    Parameters
    ----------
    n : int
        Number of samples, at least 1.

    Returns
    -------
    p : int
        The curve order (:func:`curve_order`); the glyph is ``2**p x 2**p`` pixels.
    positions : ndarray of int64, shape (n, 2)
        ``(x, y)`` pixel of the k-th sample in order.
    """
    p = curve_order(n)
    skip = (4**p - n) // 2
    return p, hilbert_points(p, skip + np.arange(n, dtype=np.int64))


#: Curve kinds of :func:`positions_for` and :func:`grid_shape`: the square Hilbert
#: curve of the paper (:func:`curve_positions`) and the zero-waste rectangle
#: (:func:`fracdash.core.gilbert.compact_positions`).
CURVES = ("paper", "compact")


def _check_curve(curve: str) -> None:
    if curve not in CURVES:
        raise ValueError(f"unknown curve {curve!r}; expected one of {CURVES}")


def grid_shape(n: int, curve: str = "paper") -> tuple[int, int]:
    """Glyph size for ``n`` samples placed by :func:`positions_for` with ``curve``.

    Parameters
    ----------
    n : int
        Number of samples, at least 1.
    curve : {"paper", "compact"}
        ``"paper"``: the ``2**p x 2**p`` square of :func:`curve_positions`;
        ``"compact"``: the near-square rectangle of
        :func:`fracdash.core.gilbert.compact_shape`, less than one row empty.

    Returns
    -------
    (int, int)
        ``(W, H)``: width (columns, x) and height (rows, y) in pixels.
    """
    _check_curve(curve)
    if curve == "compact":
        return compact_shape(n)
    side = 2 ** curve_order(n)
    return side, side


def positions_for(n: int, curve: str = "paper") -> np.ndarray:
    """Pixel of the k-th sample in order, on the glyph of :func:`grid_shape`.

    The default stays the paper's square curve so that callers switching to this
    function from :func:`curve_positions` keep their glyphs; pass ``curve="compact"``
    for the zero-waste rectangle.

    Parameters
    ----------
    n : int
        Number of samples, at least 1.
    curve : {"paper", "compact"}
        See :func:`grid_shape`.

    Returns
    -------
    ndarray of int64, shape (n, 2)
        ``(x, y)`` pixel of the k-th sample, inside ``grid_shape(n, curve)``;
        consecutive samples are edge-adjacent pixels.
    """
    _check_curve(curve)
    if curve == "compact":
        return compact_positions(n)
    return curve_positions(n)[1]
