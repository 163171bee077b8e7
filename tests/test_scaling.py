"""Scaling by a power of two, as the distance passes do it: ``pow2_scaled`` is
``np.ldexp`` bit for bit (one multiplication instead), on normal and subnormal
results, overflow, and exponents whose factor is not a normal number."""

from __future__ import annotations

import numpy as np
import pytest

from fracdash.core.metrics import pow2_scaled


def values(dtype, rng):
    info = np.finfo(dtype)
    special = [0.0, -0.0, info.tiny, info.tiny / 2, info.smallest_subnormal, info.max,
               -info.max, info.eps, 1.0, 1.5, -3.0]  # fmt: skip
    normal = rng.standard_normal(200) * np.exp2(rng.integers(-40, 40, 200))
    return np.concatenate([special, normal]).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("e", [0, 1, -1, -7, 30, -30, -126, 127, 128, -149, -150, 1023,
                               -1022, -1074, 2000, -2000])  # fmt: skip
def test_a_scalar_exponent_equals_ldexp(dtype, e):
    a = values(dtype, np.random.default_rng(abs(e)))
    with np.errstate(over="ignore", under="ignore"):
        want = np.ldexp(a, e)
        got = pow2_scaled(a, e)
        out = a.copy()
        pow2_scaled(out, e, out=out)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.view(f"u{a.itemsize}"), want.view(f"u{a.itemsize}"))
    np.testing.assert_array_equal(out.view(f"u{a.itemsize}"), want.view(f"u{a.itemsize}"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_per_row_and_per_column_exponents_equal_ldexp(dtype):
    rng = np.random.default_rng(3)
    a = values(dtype, rng)[:200].reshape(20, 10)
    for e in (rng.integers(-60, 60, (20, 1)), rng.integers(-60, 60, 10),
              np.array([[-200], *[[1]] * 19])):  # fmt: skip
        with np.errstate(over="ignore", under="ignore"):
            want, got = np.ldexp(a, e), pow2_scaled(a, e)
        np.testing.assert_array_equal(got.view(f"u{a.itemsize}"), want.view(f"u{a.itemsize}"))
