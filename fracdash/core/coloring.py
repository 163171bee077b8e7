"""Colorings and the quality metric of a glyph (docs/method.md §6).

Glyphs are kept as *index images* — one integer per pixel, ``-1`` where no sample
sits — so that every coloring is only a palette applied to the same image.
"""

from __future__ import annotations

import numpy as np

#: Index of empty pixels in class and code images.
EMPTY = -1


def relative_codes(labels_in_order) -> np.ndarray:
    """Relative-coloring code of each sample in its ordering.

    ``code[k] = [label[k-1] == label[k]] + [label[k+1] == label[k]]``; a missing
    neighbour at either end counts as different.

    Parameters
    ----------
    labels_in_order : array_like, shape (n,)
        Labels of the samples in VAT order.

    Returns
    -------
    ndarray of int64, shape (n,)
        0 (black), 1 (gray) or 2 (white).
    """
    lab = np.asarray(labels_in_order).reshape(-1)
    codes = np.zeros(lab.size, dtype=np.int64)
    same = lab[1:] == lab[:-1]
    codes[1:] += same
    codes[:-1] += same
    return codes


def _grid_shape(positions: np.ndarray) -> tuple[int, int]:
    """(W, H) of the smallest square holding every pixel (the default image size)."""
    side = int(positions.max()) + 1 if positions.size else 1
    return side, side


def _paint(positions, values, size) -> np.ndarray:
    positions = np.asarray(positions, dtype=np.int64).reshape(-1, 2)
    values = np.asarray(values).reshape(-1)
    if positions.shape[0] != values.shape[0]:
        raise ValueError(
            f"positions hold {positions.shape[0]} pixels but {values.shape[0]} values were given"
        )
    if size is None:
        width, height = _grid_shape(positions)
    elif np.ndim(size) == 0:
        width = height = int(size)
    else:
        width, height = (int(v) for v in size)
    image = np.full((height, width), EMPTY, dtype=np.int32)
    image[positions[:, 1], positions[:, 0]] = values
    return image


def class_image(positions, labels, side=None) -> np.ndarray:
    """Image of class indices, row ``y`` and column ``x``; ``-1`` where empty.

    Parameters
    ----------
    positions : array_like of int, shape (n, 2)
        ``(x, y)`` pixel of each sample.
    labels : array_like of int, shape (n,)
        Class of each sample, aligned with ``positions``.
    side : int or (int, int), optional
        Image side (a square), or ``(W, H)`` for a rectangular glyph; by default the
        smallest square holding every pixel.

    Returns
    -------
    ndarray of int32, shape (H, W)
    """
    return _paint(positions, labels, side)


def code_image(positions, codes, side=None) -> np.ndarray:
    """Image of relative codes (0, 1, 2), ``-1`` where empty; see :func:`class_image`."""
    return _paint(positions, codes, side)


def quality(positions, labels) -> float:
    """Share of same-class pixels among the 8 grid neighbours of every sample pixel.

    Over every sample pixel, count its Moore neighbours that hold a sample of the same
    class; quality = that sum / (8 n). Empty pixels and the grid border never count,
    so 1 is unreachable.

    Parameters
    ----------
    positions : array_like of int, shape (n, 2)
        ``(x, y)`` pixel of each sample, all distinct.
    labels : array_like of int, shape (n,)
        Non-negative class of each sample, aligned with ``positions``.

    Returns
    -------
    float in [0, 1]
    """
    same = same_neighbours(positions, labels)
    return float(same.sum()) / (8 * same.size)


def same_neighbours(positions, labels) -> np.ndarray:
    """Per sample, how many of its 8 grid neighbours (Moore) hold a sample of its class.

    The count behind :func:`quality`, :func:`class_quality` and :func:`cohesion`;
    ``positions`` (n, 2) and ``labels`` (n,) as in :func:`quality`.

    Returns
    -------
    ndarray of int64, shape (n,)
        Each in 0..8; empty pixels and the grid border never count.
    """
    positions = np.asarray(positions, dtype=np.int64).reshape(-1, 2)
    labels = np.asarray(labels).reshape(-1)
    n = positions.shape[0]
    if n == 0:
        raise ValueError("quality needs at least one sample")
    if labels.shape[0] != n:
        raise ValueError(f"positions hold {n} pixels but {labels.shape[0]} labels were given")
    if labels.min() < 0:
        raise ValueError("labels must be non-negative class indices")
    side = max(_grid_shape(positions))
    padded = np.full((side + 2, side + 2), EMPTY, dtype=np.int64)
    xs, ys = positions[:, 0] + 1, positions[:, 1] + 1
    padded[ys, xs] = labels
    same = np.zeros(n, dtype=np.int64)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dx or dy:
                same += padded[ys + dy, xs + dx] == labels
    return same


def class_quality(positions, labels, k: int) -> np.ndarray:
    """Quality restricted to each class (docs/method.md §6.6, per-class quality).

    For class ``c``: over the pixels of class ``c``, the sum of their Moore neighbours
    holding a sample of class ``c``, over ``8 n_c``. The classes' qualities weighted by
    their counts ``n_c / n`` average to :func:`quality`.

    Parameters
    ----------
    positions : array_like of int, shape (n, 2)
        ``(x, y)`` pixel of each sample, all distinct.
    labels : array_like of int, shape (n,)
        Class of each sample in ``0 .. k-1``, aligned with ``positions``.
    k : int
        Number of classes.

    Returns
    -------
    ndarray of float64, shape (k,)
        In [0, 1]; NaN for a class without samples.
    """
    labels = np.asarray(labels).reshape(-1)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if labels.size and labels.max() >= k:
        raise ValueError(f"labels must be below k={k}, got {int(labels.max())}")
    same = same_neighbours(positions, labels)
    sums = np.bincount(labels, weights=same, minlength=k)
    counts = np.bincount(labels, minlength=k)
    out = np.full(k, np.nan)
    present = counts > 0
    out[present] = sums[present] / (8 * counts[present])
    return out


def cohesion(positions, members) -> float:
    """How tightly a group S of samples stays together on a layer's grid (docs/method.md §6.7).

    Over the pixels of S, the sum of their Moore neighbours that are also in S, over
    ``8 |S|``: the quality of S seen as one class against everything else.

    Parameters
    ----------
    positions : array_like of int, shape (n, 2)
        ``(x, y)`` pixel of each sample, all distinct.
    members : array_like, shape (n,) of bool, or shape (m,) of int
        The group: a mask over the samples, or the indices of its samples.

    Returns
    -------
    float in [0, 1]
    """
    positions = np.asarray(positions, dtype=np.int64).reshape(-1, 2)
    members = np.asarray(members)
    n = positions.shape[0]
    mask = np.zeros(n, dtype=bool)
    if members.dtype == bool:
        if members.shape != (n,):
            raise ValueError(f"a mask of members needs shape ({n},), got {members.shape}")
        mask = members
    else:
        index = members.reshape(-1).astype(np.int64)
        if index.size and (index.min() < 0 or index.max() >= n):
            raise ValueError(f"member indices must be in 0..{n - 1}")
        mask[index] = True
    if not mask.any():
        raise ValueError("cohesion needs at least one member")
    same = same_neighbours(positions, mask.astype(np.int64))
    return float(same[mask].sum()) / (8 * int(mask.sum()))
