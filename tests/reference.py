"""Independent brute-force references used by several test modules."""

from __future__ import annotations

import numpy as np


def brute_vat(x) -> np.ndarray:
    """VAT straight from its definition on the float64 distance matrix."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    r = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    n = len(x)
    start = int(np.unravel_index(np.argmax(r), r.shape)[0])
    order = [start]
    visited = np.zeros(n, dtype=bool)
    visited[start] = True
    reach = r[start].copy()
    for _ in range(n - 1):
        reach[visited] = np.inf
        j = int(np.argmin(reach))
        order.append(j)
        visited[j] = True
        reach = np.minimum(reach, r[j])
    return np.array(order)
