"""Groups of classes the classifier confuses with one another, from its confusion matrix.

A run of many classes is colored in hue families, one per group (:mod:`fracdash.glyphs`);
without groups given by the user, they are found here: average-linkage agglomerative
clustering of the classes on their symmetrised confusion rates, cut where the linkage
drops the most (in ratio) between two consecutive merges, into at most
:data:`MAX_GROUPS` groups. Deterministic: ties go to the lowest class indices.
"""

from __future__ import annotations

import math

import numpy as np

#: The most groups found: a hue family each, so their hues stay apart.
MAX_GROUPS = 12
#: Groups found hold this many classes on average at most (a legend section one reads
#: at a glance): with k classes, at least ``ceil(k / GROUP_SIZE)`` groups.
GROUP_SIZE = 25
#: Confusion rates below this count as none when comparing two merges' linkages.
RATE_FLOOR = 1e-3


def confusion_similarity(confusion) -> np.ndarray:
    """``(k, k)`` symmetric: how often classes ``i`` and ``j`` are taken for each other,
    ``(r_ij + r_ji) / 2`` with ``r_ij`` the share of class ``i``'s samples predicted as
    ``j`` (0 for a class with no samples); the diagonal is 0.

    Parameters
    ----------
    confusion : array_like of int, shape (k, k)
        Counts, rows the true class, columns the prediction.
    """
    counts = np.asarray(confusion, dtype=float)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    similarity = (rates + rates.T) / 2
    np.fill_diagonal(similarity, 0)
    return similarity


def _merge_pair(average: np.ndarray, members: dict) -> tuple[int, int, float]:
    """The two live clusters to merge next and their linkage: the most similar pair
    (dead clusters and the diagonal hold -1); when no pair is similar at all, the two
    neighbours (by their first class) of the least combined size, so that unrelated
    classes make balanced groups."""
    flat = int(np.argmax(average))  # row-major: ties go to the lowest indices
    a, b = divmod(flat, len(average))
    if average[a, b] > 0:
        return min(a, b), max(a, b), float(average[a, b])
    by_first = sorted(members, key=lambda c: members[c][0])
    sizes = [len(members[c]) for c in by_first]
    i = int(np.argmin([x + y for x, y in zip(sizes, sizes[1:], strict=False)]))
    a, b = sorted((by_first[i], by_first[i + 1]))
    return a, b, 0.0


def agglomerate(similarity) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Average-linkage (UPGMA) merges of ``k`` classes down to one cluster.

    Parameters
    ----------
    similarity : array_like of float, shape (k, k)
        Symmetric, non-negative.

    Returns
    -------
    merges : list of (a, b), k - 1 of them
        Cluster ``b`` merged into cluster ``a < b`` (clusters named by their first index).
    heights : ndarray of float, shape (k - 1,)
        The average similarity of each merged pair, non-increasing.
    """
    average = np.array(similarity, dtype=float)
    k = len(average)
    np.fill_diagonal(average, -1.0)
    members = {i: [i] for i in range(k)}
    merges, heights = [], []
    for _ in range(k - 1):
        a, b, height = _merge_pair(average, members)
        na, nb = len(members[a]), len(members[b])
        row = (na * average[a] + nb * average[b]) / (na + nb)  # Lance-Williams
        dead = average[a] < 0
        row[dead | (average[b] < 0)] = -1.0
        average[a], average[:, a] = row, row
        average[b], average[:, b] = -1.0, -1.0
        average[a, a] = -1.0
        members[a] = sorted(members[a] + members.pop(b))
        merges.append((a, b))
        heights.append(height)
    return merges, np.array(heights)


def cut(k: int, merges, n_groups: int) -> list[list[int]]:
    """The groups after the first ``k - n_groups`` merges, each sorted, ordered by their
    first class."""
    members = {i: [i] for i in range(k)}
    for a, b in merges[: k - n_groups]:
        members[a] = members[a] + members.pop(b)
    return sorted(sorted(m) for m in members.values())


def confusion_groups(confusion, max_groups: int = MAX_GROUPS) -> list[list[int]]:
    """Groups of classes confused with one another (module docstring).

    Parameters
    ----------
    confusion : array_like of int, shape (k, k)
        Counts, rows the true class, columns the prediction.
    max_groups : int
        The most groups.

    Returns
    -------
    list of list of int
        Between ``min(k, max(2, ceil(k / GROUP_SIZE)))`` and ``min(k, max_groups)``
        groups covering ``0..k-1`` once, each sorted, ordered by their first class. The
        number is where the linkage drops the most between the last merge made and the
        next (rates floored at :data:`RATE_FLOOR`); ties take the most groups.
    """
    similarity = confusion_similarity(confusion)
    k = len(similarity)
    if k <= 2:
        return [[i] for i in range(k)]
    merges, heights = agglomerate(similarity)
    high = min(max_groups, k)
    low = min(high, max(2, math.ceil(k / GROUP_SIZE)))
    floored = np.maximum(heights, RATE_FLOOR)
    # Cutting into g groups makes merges 0..k-g-1; merge k-g is the first one not made.
    drops = {g: floored[k - g - 1] / floored[k - g] if g < k else 1.0 for g in range(low, high + 1)}
    best = max(drops.values())
    n_groups = max(g for g, drop in drops.items() if drop == best)
    return cut(k, merges, n_groups)
