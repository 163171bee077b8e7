"""The compiled Prim loop: its float64 re-checks equal numpy's expression bit for bit,
and it orders layers kept on disk as column chunks exactly like in-memory ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import brute_vat, star_near_ties

from fracdash import vat_order
from fracdash.core import chunked, vat
from fracdash.core.exact import SampleRows
from fracdash.core.prim import exact_distance


def in_memory(x, factors, scale2):
    """exact_distance's data for rows held in memory (no file)."""
    none = np.zeros(0, np.int64)
    return SampleRows(x=x, factors=factors, scale2=scale2, fd=-1, file_offsets=none,
                      widths=none, rowbuf=np.empty((2, 0), x.dtype), held=np.full(2, -1),
                      relu=False)  # fmt: skip


WIDTHS = [1, 2, 7, 8, 9, 15, 16, 17, 127, 128, 129, 255, 256, 257, 784, 1000, 4704, 8193]


def numpy_distance(x, factors, scale2, i, c):
    """What fracdash.core.vat did in numpy: rows scaled, differenced, squared, summed."""
    a = x[[c]].astype(np.float64) * factors[[c], None]
    b = x[[i]].astype(np.float64) * factors[[i], None]
    return float(((a - b) ** 2).sum(axis=1)[0] * scale2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", WIDTHS)
def test_exact_distance_is_numpy_bit_for_bit(d, dtype):
    rng = np.random.default_rng(d)
    # Mixed magnitudes make the summation order visible in the last bits.
    x = (rng.normal(size=(4, d)) * 10.0 ** rng.integers(-6, 6, size=(4, d))).astype(dtype)
    factors = rng.uniform(0.5, 2.0, size=4)
    buf = np.empty(d)
    data = in_memory(x, factors, 0.25)
    for i, c in [(0, 1), (2, 3), (3, 0)]:
        assert exact_distance(data, i, c, buf) == numpy_distance(x, factors, 0.25, i, c)


def test_exact_distance_sums_in_numpys_order_not_left_to_right():
    # 1 + 2^-53 * 8 ones: left to right loses every small term, pairwise keeps them.
    x = np.zeros((2, 9))
    x[0, 0] = 1.0
    x[0, 1:] = 2.0**-27
    buf = np.empty(9)
    data = in_memory(x, np.ones(2), 1.0)
    got = exact_distance(data, 1, 0, buf)
    left_to_right = 0.0
    for v in x[0] ** 2:
        left_to_right += v
    assert got == float((x[0] ** 2).sum())
    assert got != left_to_right


@pytest.mark.parametrize("seed", range(3))
def test_chunked_layer_with_near_ties(tmp_path, monkeypatch, seed):
    """A layer on disk in several column chunks, with ties below float32 resolution,
    orders as the float64 brute force does (re-checks read rows from the maps)."""
    monkeypatch.setattr(chunked, "CHUNK_BYTES", 1)  # chunks of 256 columns, the least
    x, *_ = star_near_ties(np.random.default_rng(seed), spokes=600)
    n, d = x.shape
    m = chunked.ChunkedMatrix(tmp_path / "layer.f32", n, d)
    m.write_rows(0, x.astype(np.float32))
    assert len(m.file_layout()[1]) > 1
    got = vat_order(m)
    np.testing.assert_array_equal(got, brute_vat(x.astype(np.float32).astype(np.float64)))
    np.testing.assert_array_equal(got, vat_order(x.astype(np.float32)))
    m.remove()


@pytest.mark.parametrize("d", [5, 300, 1000])
def test_rows_read_from_disk_give_the_same_distances(tmp_path, monkeypatch, d):
    """On disk, exact_distance reads both rows with pread (in several chunks) and
    equals numpy's expression bit for bit, cached row or not."""
    monkeypatch.setattr(chunked, "CHUNK_BYTES", 1)
    rng = np.random.default_rng(d)
    x = (rng.normal(size=(6, d)) * 10.0 ** rng.integers(-4, 4, size=(6, d))).astype(np.float32)
    m = chunked.ChunkedMatrix(tmp_path / "layer.f32", *x.shape)
    m.write_rows(0, x)
    data = vat._kernel_data(m, 0.5)
    assert data.fd >= 0 and len(data.widths) == -(-d // 256)  # a file in d/256 chunks
    factors = np.ones(6)
    buf = np.empty(d)
    for i, c in [(0, 1), (0, 2), (3, 3), (5, 0), (0, 1)]:
        assert exact_distance(data, i, c, buf) == numpy_distance(x, factors, 0.5, i, c)
    m.remove()


def test_chunked_layer_is_read_never_mapped(tmp_path, monkeypatch):
    """Tight clusters (members 1e-6 apart, norms ~10: far below float32 resolution)
    force float64 re-checks at nearly every step; on a layer kept on disk they read
    rows into a buffer (mapped pages would count as this process's memory): the file
    is never mapped, and the order is exact."""
    monkeypatch.setattr(chunked, "CHUNK_BYTES", 1)
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(4, 300))
    x = (centres[rng.integers(0, 4, 240)] + 1e-6 * rng.normal(size=(240, 300))).astype(np.float32)
    m = chunked.ChunkedMatrix(tmp_path / "layer.f32", *x.shape)
    m.write_rows(0, x)
    got = vat_order(m)
    np.testing.assert_array_equal(got, brute_vat(x.astype(np.float64)))
    np.testing.assert_array_equal(got, vat_order(x))
    maps = Path("/proc/self/maps")
    if maps.exists():
        assert str(tmp_path / "layer.f32") not in maps.read_text()
    m.remove()


def test_progress_reaches_the_end_in_blocks():
    x = np.random.default_rng(1).normal(size=(250, 5))
    seen = []
    order = vat_order(x, progress=lambda done, total: seen.append((done, total)))
    np.testing.assert_array_equal(order, brute_vat(x))
    assert seen[-1] == (250, 250)
    assert [d for d, _ in seen] == sorted({d for d, _ in seen})
    assert len(seen) > 10


@pytest.mark.parametrize("seed", range(4))
def test_certified_loop_survives_errors_up_to_its_bound(seed):
    """The float32 matrix replaced by the exact distances plus errors of 80% of the
    bound each entry is allowed (``|error| <= err[a] + kappa * sq[b]``), signs chosen
    to mislead: near ties everywhere, the order must still be the exact one. Random
    data never comes near the worst case the bound covers; this does, so a bound term
    dropped anywhere in the loop shows."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, 3)) * 3
    x = centres[rng.integers(0, 4, 240)] + rng.normal(size=(240, 3)) * 0.2
    x[200:] = x[:40] + rng.normal(size=(40, 3)) * 1e-7  # pairs a few ulps apart
    centring = vat.Centring(vat.prepared(x, "euclidean"))
    data = vat._kernel_data(centring.src, centring.scale2)
    n = len(x)
    exact = np.array([[exact_distance(data, i, c, np.empty(3)) for c in range(n)]
                      for i in range(n)])  # fmt: skip
    y = (x - centring.mean) * 2.0**-centring.exponent
    sq = (y * y).sum(axis=1)
    row_err = centring.errors(sq)
    bound = row_err[:, None] + centring.kappa * sq[None, :]
    bound = np.minimum(bound, bound.T)  # symmetric, within both entries' bounds
    sign = np.sign(rng.normal(size=(n, n)))
    sign = np.triu(sign, 1) + np.triu(sign, 1).T
    dist = (exact + 0.8 * bound * sign).astype(np.float32)
    assert np.all(np.abs(dist - exact) <= bound)  # the float32 rounding included
    rows = vat._memory_rows(dist)
    start = vat._first_max_row(centring, sq, dist.max(axis=1), rows, data)
    got = vat._prim_order(centring, sq, rows, start, data, None)
    np.testing.assert_array_equal(got, brute_vat(x))


def test_kernels_read_their_arguments_by_name():
    """The compiled loops take their arrays in named tuples and read each field by its
    name: the same arrays in a plain tuple do not compile, so two fields of one type
    (low and high, err and sq) cannot trade places unseen."""
    from numba.core.errors import TypingError

    from fracdash.core.prim import error_terms, prim_state, prim_steps

    x = np.arange(12.0).reshape(3, 4)
    data = in_memory(x, np.ones(3), 1.0)
    assert exact_distance(data, 0, 1, np.empty(4)) == 64.0  # 4 features, each 4 apart
    with pytest.raises(TypingError):
        exact_distance(tuple(data), 0, 1, np.empty(4))
    dist = np.array([[0, 64, 256], [64, 0, 64], [256, 64, 0]], np.float32)
    rows, order = vat._memory_rows(dist), np.array([0, -1, -1])
    state, terms = prim_state(3, 4), error_terms(np.zeros(3), 0.0, np.zeros(3))
    prim_steps(rows, 0, 3, order, state, terms, data)
    np.testing.assert_array_equal(order, [0, 1, 2])
    for args in [(tuple(rows), state, terms), (rows, tuple(state), terms),
                 (rows, state, tuple(terms))]:  # fmt: skip
        with pytest.raises(TypingError):
            prim_steps(args[0], 0, 3, order, args[1], args[2], data)


def test_the_stable_argsort_is_numpys_mergesort():
    from fracdash.core.prim import _stable_argsort

    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 3, 7, 8, 9, 100, 1001):
        for trial in range(12):
            v = rng.integers(0, 5, n).astype(np.float64)  # many ties: stability shows
            if trial % 3 == 0:
                v[rng.random(n) < 0.2] = np.inf
            assert np.array_equal(_stable_argsort(v), np.argsort(v, kind="mergesort"))
