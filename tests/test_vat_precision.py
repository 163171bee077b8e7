"""fracdash.core.vat stays exact where float32 alone cannot: near ties far below float32
resolution, and data at scales where float32 underflows or overflows."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DTYPES, brute_vat, check, star_near_ties

from fracdash import vat_order


def check_star(x, anchors, centre, expected_spokes):
    ref = brute_vat(x)
    # The construction does what it claims on the float64 reference...
    assert {int(ref[0]), int(ref[-1])} == anchors
    assert ref[1] == centre
    np.testing.assert_array_equal(ref[2:-1], expected_spokes)
    # ...and float32 arithmetic alone gets it wrong.
    assert not np.array_equal(brute_vat(x.astype(np.float32), dtype=np.float32), ref)
    got = vat_order(x)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("seed", range(5))
def test_near_ties_need_float64(seed):
    rng = np.random.default_rng(seed)
    check_star(*star_near_ties(rng))


def test_near_ties_in_gram_form():
    # Centred, so no common offset: the large norms alone make |x|^2 + |y|^2 - 2 x.y
    # in float32 useless at the 1e-9 level while the data are exact in float64.
    rng = np.random.default_rng(99)
    x, anchors, centre, spokes = star_near_ties(rng, spokes=20, scale=3e-9)
    check_star(x - x.mean(axis=0), anchors, centre, spokes)


# --------------------------------------------------------------------------- extreme scales
# "Exact" holds for any finite input whose float64 distances are finite and normal: the
# float32 fast path must not lose it to float32 underflow (squared distances below
# ~1e-38) or overflow (above ~3e38).


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1e-35, 1e-25, 1e-21, 1e-18, 1e18, 1e19, 1e25, 1e35])
def test_extreme_scales(scale, dtype):
    rng = np.random.default_rng(int(np.log10(scale)) + 50)
    x = (rng.standard_normal((200, 2)) * scale).astype(dtype)
    assert np.isfinite(x).all() and np.all(x != 0)
    check(x)


@pytest.mark.parametrize("scale", [1e-150, 1e-100, 1e-50, 1e50, 1e100, 1e150])
def test_extreme_scales_float64_only(scale):
    rng = np.random.default_rng(int(np.log10(scale)) + 500)
    check(rng.standard_normal((200, 2)) * scale)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tiny_values_hand_case(dtype):
    # Sample 1 is 6e-23 from sample 0, sample 2 is 6.2e-23 from it (3 % apart, no
    # near-tie): R's first maximum is (0, 2), then 1, then 2.
    x = np.array([[-4e-23], [2.0e-23], [2.2e-23]], dtype=dtype)
    np.testing.assert_array_equal(brute_vat(x), [0, 1, 2])
    np.testing.assert_array_equal(vat_order(x), [0, 1, 2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_values_hand_case(dtype):
    # Squared distances up to 9e38 overflow float32 but are ordinary float64 numbers.
    x = np.array([[0.0], [1e19], [3e19]], dtype=dtype)
    np.testing.assert_array_equal(brute_vat(x), [0, 1, 2])
    np.testing.assert_array_equal(vat_order(x), [0, 1, 2])


@pytest.mark.parametrize("k", [-200, -70, -60, -20, 20, 60, 70, 200])
def test_power_of_two_scaling_invariance(k):
    # Scaling by 2**k is exact in float64, so the reference order cannot change.
    rng = np.random.default_rng(77)
    x = rng.standard_normal((200, 2))
    base = check(x)
    np.testing.assert_array_equal(brute_vat(x * 2.0**k), base)
    np.testing.assert_array_equal(vat_order(x * 2.0**k), base)
