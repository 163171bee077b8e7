"""The user's preprocessing, torchvision's convention: (x * scale - mean) / std per
channel, checked against torch's own Normalize on ToTensor's output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fracdash.errors import UserDataError
from fracdash.inputs.preprocessing import Preprocessing, channel_axis


def torchvision_normalize(x_uint8_nchw, mean, std):
    """ToTensor (/255) then Normalize, written with torch ops as torchvision does."""
    t = torch.from_numpy(x_uint8_nchw).float().div(255)
    m = torch.tensor(mean).view(-1, 1, 1)
    s = torch.tensor(std).view(-1, 1, 1)
    return t.sub(m).div(s).numpy()


def test_normalize_equals_torchvision_per_channel_in_both_layouts():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 3, 5, 6), dtype=np.uint8)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    want = torchvision_normalize(x, mean, std)
    prep = Preprocessing.parse("1/255", "0.485,0.456,0.406", [0.229, 0.224, 0.225])
    assert channel_axis((3, 5, 6)) == 1 and channel_axis((5, 6, 3)) == -1
    np.testing.assert_allclose(prep.apply(x, 1, True), want, rtol=1e-6, atol=1e-6)
    nhwc = np.moveaxis(x, 1, -1)
    np.testing.assert_allclose(prep.apply(nhwc, -1, True), np.moveaxis(want, 1, -1),
                               rtol=1e-6, atol=1e-6)  # fmt: skip
    assert prep.describe() == (
        "x * 0.00392157, then (x - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225) per channel"
    )


def test_mnist_normalize_on_a_gray_image_and_a_flat_input():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (3, 1, 28, 28), dtype=np.uint8)
    want = torchvision_normalize(x, (0.1307,), (0.3081,))
    prep = Preprocessing.parse("1/255", "0.1307", "0.3081")
    np.testing.assert_allclose(prep.apply(x, 1, True), want, rtol=1e-6, atol=1e-6)
    flat = x.reshape(3, -1)
    np.testing.assert_allclose(prep.apply(flat, None, True), want.reshape(3, -1),
                               rtol=1e-6, atol=1e-6)  # fmt: skip


def test_bad_values_and_counts_are_refused_in_one_line():
    with pytest.raises(UserDataError, match=r"--std '0' is not one or more positive numbers"):
        Preprocessing.parse(std="0")
    with pytest.raises(UserDataError, match="--mean 'a,b' is not one or more numbers"):
        Preprocessing.parse(mean="a,b")
    prep = Preprocessing.parse(mean="0.5,0.5")
    with pytest.raises(UserDataError, match="--mean gives 2 values, the model's input has 3"):
        prep.apply(np.zeros((2, 4, 4, 3), np.float32), -1, True)
    assert not Preprocessing() and Preprocessing().describe() == "none (x as given)"
