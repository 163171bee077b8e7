"""Shared fixtures: real data locations, quiet TensorFlow, small seeded Keras models."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The test tools outside the package: a Chromium finder and a free port (tools/).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if SHARED_DATA.is_dir():
    # The official MNIST files sit beside the checkout on this workplace's machines.
    os.environ.setdefault("FRACDASH_DATA", str(SHARED_DATA))


@pytest.fixture(scope="session")
def keras():
    import keras

    return keras


@pytest.fixture(scope="session")
def toy_branched(keras):
    """A small branched functional classifier with a Dropout and a Permute."""
    from keras import layers

    keras.utils.set_random_seed(7)
    inp = keras.Input((6, 6, 1), name="input")
    rot = layers.Permute((2, 1, 3), name="rotate")(inp)
    branches = []
    for prefix, src in (("a_", inp), ("b_", rot)):
        h = layers.Conv2D(3, 3, name=f"{prefix}conv")(src)
        h = layers.Activation("relu", name=f"{prefix}relu")(h)
        h = layers.Flatten(name=f"{prefix}flatten")(h)
        h = layers.Dropout(0.5, name=f"{prefix}dropout")(h)
        h = layers.Dense(8, name=f"{prefix}dense")(h)
        branches.append(h)
    h = layers.Concatenate(name="concat")(branches)
    h = layers.Dense(3, name="logits")(h)
    out = layers.Activation("softmax", name="prediction")(h)
    return keras.Model(inp, out, name="toy_branched")


@pytest.fixture(scope="session")
def toy_sequential(keras):
    from keras import layers

    keras.utils.set_random_seed(8)
    model = keras.Sequential(
        [
            keras.Input((5, 5, 1)),
            layers.Conv2D(2, 3, name="conv"),
            layers.ReLU(name="relu"),
            layers.Flatten(name="flatten"),
            layers.Dropout(0.3, name="dropout"),
            layers.Dense(4, name="dense"),
            layers.Softmax(name="prediction"),
        ],
        name="toy_sequential",
    )
    return model


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of the session (Playwright's sync
    API allows one instance at a time). ``make test`` finds or installs a Chromium first
    (tools/browser.py); without one these tests fail, saying what to install, and are
    never skipped."""
    from browser import ARGS, BrowserNotFound, find_chromium

    try:
        chromium = find_chromium()
    except BrowserNotFound as err:
        pytest.fail(f"the browser tests need Chromium: {err}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=ARGS
        )
        yield launched
        launched.close()
