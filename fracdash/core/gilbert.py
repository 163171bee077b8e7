"""Zero-waste glyph placement on a generalized Hilbert curve (issue 13).

The square "paper" placement (:func:`fracdash.core.hilbert.curve_positions`) puts n
samples on the smallest ``2**p x 2**p`` Hilbert curve, which can leave most of a glyph
empty (10,000 samples on 128 x 128: 39 %). Here the samples fill a near-square
``W x H`` rectangle instead, with fewer than ``W`` pixels (less than one row) empty.

The curve is the generalized Hilbert curve ("gilbert") of

    J. Červený, "gilbert: generalized Hilbert space-filling curve for rectangular
    domains", 2019, https://github.com/jakubcerveny/gilbert (BSD-2-Clause).

This is an independent implementation of the published recursion, described here in
our own words. A block is a rectangle given by a corner ``(x, y)``, a *major* vector
``a`` (along which the curve travels from the corner to the adjacent corner) and a
*minor* vector ``b``; both are axis-parallel, of lengths ``w = |a|`` and ``h = |b|``.

* A block one cell thick (``h == 1`` or ``w == 1``) is walked straight along its long
  side.
* A block much longer than it is thick (``2 w > 3 h``) is cut across its major axis into
  two blocks with the same orientation, walked one after the other.
* Otherwise the block is cut Hilbert-style into three: a block covering the first half
  of the major axis and the first half of the minor axis, walked with the axes swapped
  (the curve climbs along ``b``); the whole far half of the minor axis, walked along
  ``a``; and the rest, walked back down with both axes reversed, ending at the corner
  ``(x, y) + a - a/|a|``.

Halves are rounded so that the sub-blocks have even sides whenever possible (a cut of
an odd half is moved by one cell), because an even major side is what lets a block be
walked corner to adjacent corner with unit steps only. When the longer side is odd and
the shorter even, a checkerboard argument shows that no such walk of the whole grid
exists: it visits ``w * h`` (even) cells alternating in colour, so its ends differ in
colour, but ``(0, 0)`` and ``(w - 1, 0)`` share one when ``w`` is odd. The published
recursion then takes exactly one diagonal step, in the middle of the curve (60-65 %
along it), except when the shorter side is 2: then it ends elsewhere instead (3 x 2
ends at ``(1, 0)``) and all steps stay unit steps. :func:`compact_shape` only picks
shapes without a diagonal step; the tests check every step of every shape it returns
for n up to 5,000, and which shapes have one for sides up to 32.

The recursion is evaluated breadth first, all blocks of one depth at once with numpy,
each block carrying its offset along the curve; there is no Python recursion (depth is
no concern) and no per-cell Python loop (60,000 cells take about 15 ms).
"""

from __future__ import annotations

import functools
import math

import numpy as np

_COLUMNS = 7  # x, y, ax, ay, bx, by, offset of the block's first cell along the curve


def gilbert_points(width: int, height: int) -> np.ndarray:
    """Every cell of a ``width x height`` grid, in generalized-Hilbert-curve order.

    The curve starts at ``(0, 0)`` and travels along the longer side: it ends at
    ``(width - 1, 0)`` when ``width >= height``, else at ``(0, height - 1)``.

    Parameters
    ----------
    width, height : int
        Grid size in pixels, each at least 1.

    Returns
    -------
    ndarray of int64, shape (width * height, 2)
        ``(x, y)`` of the k-th cell along the curve. Consecutive cells are
        edge-adjacent, except for one diagonal step when the longer side is odd and the
        shorter even and above 2 (unavoidable, see the module docstring).

    Raises
    ------
    ValueError
        If ``width`` or ``height`` is below 1.
    """
    width, height = int(width), int(height)
    if width < 1 or height < 1:
        raise ValueError(f"a grid needs positive sides, got {width} x {height}")
    return _curve(width, height).copy()


# Glyphs of one layer set are redrawn many times at the same size, and a 60,000-cell
# curve is only ~1 MB, so a few recent curves are kept (read-only; callers get copies).
@functools.lru_cache(maxsize=16)
def _curve(width: int, height: int) -> np.ndarray:
    out = np.empty((width * height, 2), dtype=np.int64)
    if width >= height:
        root = [0, 0, width, 0, 0, height, 0]
    else:
        root = [0, 0, 0, height, width, 0, 0]
    blocks = np.array([root], dtype=np.int64)
    while blocks.shape[0]:
        blocks = _split(blocks, out)
    out.flags.writeable = False
    return out


def _split(blocks: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write the one-cell-thick blocks into ``out``; return the children of the others.

    ``blocks`` has shape (m, 7), one row ``(x, y, ax, ay, bx, by, offset)`` per block.
    """
    x, y, ax, ay, bx, by, off = blocks.T
    w = np.abs(ax + ay)  # one of ax, ay is zero
    h = np.abs(bx + by)
    dax, day, dbx, dby = np.sign(ax), np.sign(ay), np.sign(bx), np.sign(by)

    thin = (w == 1) | (h == 1)
    if thin.any():
        # A row (h == 1) runs along a; a column (w == 1, h > 1) runs along b.
        along_a = h[thin] == 1
        length = np.where(along_a, w[thin], h[thin])
        sx = np.where(along_a, dax[thin], dbx[thin])
        sy = np.where(along_a, day[thin], dby[thin])
        seg = np.repeat(np.arange(length.size), length)
        step = np.arange(seg.size) - np.repeat(np.cumsum(length) - length, length)
        where = off[thin][seg] + step
        out[where, 0] = x[thin][seg] + step * sx[seg]
        out[where, 1] = y[thin][seg] + step * sy[seg]

    keep = ~thin
    x, y, ax, ay, bx, by, off = (v[keep] for v in (x, y, ax, ay, bx, by, off))
    w, h, dax, day, dbx, dby = (v[keep] for v in (w, h, dax, day, dbx, dby))
    # Halves round towards -inf (numpy floor division), which for a negative vector
    # gives the larger half; the parity fixes below make the result even either way.
    ax2, ay2, bx2, by2 = ax // 2, ay // 2, bx // 2, by // 2
    long = 2 * w > 3 * h

    # Long block: two halves along a, the first one's length made even if it can be.
    lx, ly = ax2[long], ay2[long]
    odd = (np.abs(lx + ly) % 2 == 1) & (w[long] > 2)
    lx, ly = lx + odd * dax[long], ly + odd * day[long]
    L = (x[long], y[long], ax[long], ay[long], bx[long], by[long], off[long], h[long])
    first_size = np.abs(lx + ly) * L[7]
    long_a = np.stack([L[0], L[1], lx, ly, L[4], L[5], L[6]], axis=1)
    long_b = np.stack(
        [L[0] + lx, L[1] + ly, L[2] - lx, L[3] - ly, L[4], L[5], L[6] + first_size], axis=1
    )

    # Standard block: up (axes swapped), across, down (axes reversed).
    std = ~long
    x, y, ax, ay, bx, by, off = (v[std] for v in (x, y, ax, ay, bx, by, off))
    w, h, dax, day, dbx, dby = (v[std] for v in (w, h, dax, day, dbx, dby))
    ax2, ay2, bx2, by2 = ax2[std], ay2[std], bx2[std], by2[std]
    odd = (np.abs(bx2 + by2) % 2 == 1) & (h > 2)
    bx2, by2 = bx2 + odd * dbx, by2 + odd * dby
    h2 = np.abs(bx2 + by2)
    w2 = np.abs(ax2 + ay2)
    up_size = h2 * w2
    across_size = w * (h - h2)
    up = np.stack([x, y, bx2, by2, ax2, ay2, off], axis=1)
    across = np.stack([x + bx2, y + by2, ax, ay, bx - bx2, by - by2, off + up_size], axis=1)
    down = np.stack(
        [
            x + (ax - dax) + (bx2 - dbx),
            y + (ay - day) + (by2 - dby),
            -bx2,
            -by2,
            -(ax - ax2),
            -(ay - ay2),
            off + up_size + across_size,
        ],
        axis=1,
    )
    return np.concatenate([long_a, long_b, up, across, down]).reshape(-1, _COLUMNS)


def checked_count(n) -> int:
    """``n`` as an int, or ValueError when a glyph of ``n`` samples cannot be drawn."""
    n = int(n)
    if n < 1:
        raise ValueError(f"a glyph needs at least one sample, got n={n}")
    return n


def compact_shape(n: int) -> tuple[int, int]:
    """Near-square ``(W, H)`` grid for ``n`` samples with less than one row empty.

    With ``s = ceil(sqrt(n))``: ``W = s`` and ``H = ceil(n / s)`` (``s`` or ``s - 1``),
    unless that makes the longer side odd and the shorter even and above 2 (``s`` odd,
    ``H = s - 1 > 2``), the only shapes whose curve has a diagonal step; then
    ``W = s + 1`` and ``H = ceil(n / (s + 1))`` (``s - 2`` or ``s - 1``), whose longer
    side is even. Either way ``W >= H`` and ``0 <= W * H - n < W``. (Keeping ``s x H``
    and leaving the diagonal among the empty cells is never possible: it sits 60-65 %
    along the curve, and fewer than ``W`` cells are empty.)

    Parameters
    ----------
    n : int
        Number of samples, at least 1.

    Returns
    -------
    (int, int)
        ``(W, H)``: width and height of the glyph in pixels; 10,000 gives (100, 100),
        60,000 gives (245, 245).

    Raises
    ------
    ValueError
        If ``n < 1``.
    """
    n = checked_count(n)
    s = math.isqrt(n - 1) + 1  # ceil(sqrt(n)), exact for any int
    height = -(-n // s)
    if s % 2 == 1 and height == s - 1 > 2:
        s += 1
        height = -(-n // s)
    return s, height


def compact_positions(n: int) -> np.ndarray:
    """Where the k-th sample in order sits on the zero-waste glyph.

    The samples take the first ``n`` cells of the ``W x H`` curve of
    :func:`compact_shape`; the ``W * H - n < W`` empty cells are the curve's last ones.
    Empties at the end (rather than split around a centred block, as the square
    placement does) keep the samples one unbroken run of the curve, so consecutive
    samples stay adjacent, and put the hole, at most one row's worth of pixels, in one
    compact patch around the curve's end corner ``(W - 1, 0)``; there is no large hole
    left to centre.

    Parameters
    ----------
    n : int
        Number of samples, at least 1.

    Returns
    -------
    ndarray of int64, shape (n, 2)
        ``(x, y)`` pixel of the k-th sample, ``0 <= x < W`` and ``0 <= y < H``;
        consecutive rows are edge-adjacent pixels.
    """
    width, height = compact_shape(n)
    return _curve(width, height)[:n].copy()
