"""Independent brute-force references used by several test modules."""

from __future__ import annotations

import numpy as np

from fracdash import vat_order

DTYPES = [np.float32, np.float64]


def distance_matrix(x, dtype=np.float64) -> np.ndarray:
    """R[i, j] = sqrt(sum_k (x_ik - x_jk)^2), by broadcasting, one row at a time."""
    x = np.asarray(x).astype(dtype)
    n = x.shape[0]
    r = np.empty((n, n), dtype=dtype)
    for i in range(n):
        r[i] = np.sqrt(np.sum((x - x[i][None, :]) ** 2, axis=1))
    return r


def brute_vat(x, dtype=np.float64) -> np.ndarray:
    """VAT by the book: first maximum of R in row-major order, then Prim with argmin."""
    x = np.asarray(x)
    r = distance_matrix(x.reshape(len(x), -1), dtype)
    n = r.shape[0]
    start = int(np.unravel_index(np.argmax(r), r.shape)[0])
    order = [start]
    visited = np.zeros(n, dtype=bool)
    visited[start] = True
    to_set = r[start].astype(np.float64)
    for _ in range(1, n):
        cand = np.where(visited, np.inf, to_set)
        j = int(np.argmin(cand))
        order.append(j)
        visited[j] = True
        to_set = np.minimum(to_set, r[j])
    return np.array(order, dtype=np.int64)


def normalised(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i, row in enumerate(x):
        norm = np.sqrt(np.sum(row * row))
        if norm > 0:
            out[i] = row / norm
    return out


def check(x, metric="euclidean") -> np.ndarray:
    got = vat_order(x, metric=metric)
    ref = brute_vat(normalised(x) if metric == "cosine" else x)
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.int64
    assert got.shape == (len(x),)
    assert sorted(got.tolist()) == list(range(len(x)))
    np.testing.assert_array_equal(got, ref)
    return got
