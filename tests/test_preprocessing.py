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


@pytest.mark.slow  # trains a small MLP
def test_a_silent_wrong_guess_gets_a_note_naming_the_right_flags():
    from fracdash.datasets import load_dataset
    from fracdash.inputs.preprocessing import suggest_preprocessing

    x, y = load_dataset("mnist", "train")
    x, y = x[:1500].reshape(1500, -1), y[:1500].astype(np.int64)
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    train = torch.from_numpy(((x / 255.0 - 0.1307) / 0.3081).astype(np.float32))
    optimiser = torch.optim.Adam(mlp.parameters(), 1e-2)
    for _ in range(80):  # as most PyTorch MNIST code trains: on Normalize-d inputs
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(mlp(train), torch.from_numpy(y)).backward()
        optimiser.step()

    def predict(batch):
        with torch.no_grad():
            return mlp(torch.from_numpy(np.asarray(batch, np.float32))).numpy()

    wrong = Preprocessing.parse("1/255")
    right = Preprocessing.parse("1/255", "0.1307", "0.3081")
    acc = lambda p: (predict(p.apply(x, None, True)).argmax(1) == y).mean()  # noqa: E731
    assert acc(right) > acc(wrong) + 0.1  # the wrong guess really costs accuracy here
    note = suggest_preprocessing(predict, x, y, wrong, None, True)
    assert "--scale 1/255 --mean 0.1307 --std 0.3081" in note and "\n" not in note
    assert suggest_preprocessing(predict, x, y, right, None, True) == ""
