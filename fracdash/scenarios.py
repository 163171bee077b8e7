"""The paper's five scenarios (docs/method.md §7) as plain data: which network, trained
on what, tested on what. No Keras here: the page and the store read this table;
:mod:`fracdash.models.training` builds and trains the networks it names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fracdash.datasets import CLASS_NAMES, load_dataset


@dataclass(frozen=True)
class Scenario:
    name: str
    network: str  # "lenet5" | "double_lenet5" | "vgg16"
    train_on: str
    test_on: str
    epochs: int
    paper: str  # the paper's figure for this scenario
    train_samples: int | None = None  # default: the whole training set


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("easy", "lenet5", "mnist", "mnist", 15, "accuracy 98.96%"),
        Scenario(
            "generalization", "lenet5", "fashion-mnist", "fashion-mnist", 15, "accuracy 73.44%"
        ),
        Scenario("problematic", "lenet5", "mnist", "fashion-mnist", 15, '"does not perform well"'),
        Scenario("simplification", "vgg16", "mnist", "mnist", 10, "accuracy 97%", 20_000),
        Scenario("realistic", "double_lenet5", "fashion-mnist", "fashion-mnist", 15, "branches"),
    )
}


def prepare_images(x: np.ndarray, network: str) -> np.ndarray:
    """uint8 (n, 28, 28) -> float32 in [0, 1]: (n, 28, 28, 1), or (n, 32, 32, 3) for
    VGG16 (zero-padded to 32x32, the gray channel repeated)."""
    x = x.astype(np.float32)[..., None] / 255.0
    if network == "vgg16":
        x = np.repeat(np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0))), 3, axis=-1)
    return x



def test_data(scenario: Scenario, samples: int | None = None, split: str = "test"):
    """The scenario's data to analyze: (x prepared for the network, y int64, class
    names). ``split``: "test" (10,000 images), "train" (60,000) or "all" (70,000,
    train then test; see :func:`fracdash.datasets.load_dataset`)."""
    x, y = load_dataset(scenario.test_on, split)
    if samples is not None:
        x, y = x[:samples], y[:samples]
    return prepare_images(x, scenario.network), y.astype(np.int64), CLASS_NAMES[scenario.test_on]
