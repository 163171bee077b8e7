# ruff: noqa: F811  (the models fixture imported from test_userdata is a parameter by name)
"""The model's outputs, labels in another order, layouts adapted, and what a Keras file
says before TensorFlow loads (the user path's checks, continued from test_userdata.py)."""

from __future__ import annotations

import numpy as np
import pytest
from test_userdata import models, one_line  # noqa: F401  (shared helpers and fixtures)

from fracdash.errors import UserDataError
from fracdash.inputs import data as userdata

# ---------------------------------------------------------------- 7. logits


def test_logits_are_accepted_when_asked(models):
    x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32) * 5
    y = np.arange(8) % 3
    with pytest.raises(UserDataError) as err:
        userdata.check_data(models["logits3"], x, y)
    assert one_line(err) == (
        "the model's output is not a class distribution (it looks like logits); pass "
        "--logits (Python: logits=True) to take raw scores, or end the model with a Softmax "
        "layer"
    )
    got_x, got_y, _ = userdata.check_data(models["logits3"], x, y, logits=True)
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)


def test_log_softmax_and_sigmoid_endings_are_told_apart_from_logits():
    from fracdash.inputs.checks import check_distribution

    rng = np.random.default_rng(5)
    scores = rng.normal(size=(16, 4)) * 3
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    sigmoid = 1 / (1 + np.exp(-scores))
    notes: list[str] = []
    assert check_distribution(lambda x: probs, None, False, notes) == "probabilities"
    assert check_distribution(lambda x: np.log(probs), None, False, notes) == "log-probabilities"
    assert notes == []
    assert check_distribution(lambda x: sigmoid, None, False, notes) == "scores"
    assert len(notes) == 1 and "sigmoid" in notes[0]
    with pytest.raises(UserDataError, match="looks like logits"):
        check_distribution(lambda x: scores, None, False)
    # a log-softmax shifted by a constant is no longer one: its exp does not sum to 1
    with pytest.raises(UserDataError, match="looks like logits"):
        check_distribution(lambda x: np.log(probs) - 0.5, None, False)
    assert check_distribution(lambda x: scores, None, True) == "logits"


def test_permuted_labels_are_caught_with_the_mapping_and_the_fix():
    from scipy.optimize import linear_sum_assignment  # noqa: F401 (the method's engine)

    from fracdash.inputs.labels import check_label_order

    rng = np.random.default_rng(2)
    words = ["eight", "five", "four", "nine", "one", "seven", "six", "three", "two", "zero"]
    model_order = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    truth = rng.integers(0, 10, 500)  # the model's classes
    predictions = np.where(rng.random(500) < 0.8, truth, rng.integers(0, 10, 500))
    # Folders numbered alphabetically: label i means words[i]; model class of words[i]:
    alpha = np.array([model_order.index(w) for w in words])
    labels = np.argsort(alpha)[truth]  # what the folders say, in alphabetical numbering
    assert (labels == predictions).mean() < 0.3 < (truth == predictions).mean()
    with pytest.raises(UserDataError) as err:
        check_label_order(labels, predictions, words)
    message = one_line(err)
    assert "look permuted" in message and "--class-names" in message and "keep-labels" in message
    # "eight" is label 0 (alphabetical) and the model's class 8: the mapping says so.
    expected = [f"{words[i]} -> model class {alpha[i]}" for i in range(10) if alpha[i] != i]
    assert ", ".join(expected[:6]) + ", …" in message
    check_label_order(labels, predictions, words, keep_labels=True)  # the user knows
    check_label_order(truth, predictions, model_order)  # the right order passes
    # A weak model whose errors happen to favour a permutation is not refused: its best
    # relabelling stays under the floor.
    noise = rng.integers(0, 10, 500)
    check_label_order(noise, rng.integers(0, 10, 500), model_order)


def test_few_samples_are_not_called_permuted_by_chance():
    """On 20 samples, answers that favour a relabelling (15% right as given, 60% after)
    are not refused: 3 / sqrt(20) = 0.67 is a gain chance can give on so few. The same
    confusion on ten times the samples is refused."""
    from itertools import permutations

    from fracdash.inputs.labels import check_label_order

    y = np.repeat([0, 1, 2], [7, 7, 6])
    predictions = np.concatenate([[2] * 4 + [0] * 3, [0] * 4 + [2] * 3, [1] * 4 + [0] * 2])
    best = max(np.mean(np.array(p)[y] == predictions) for p in permutations(range(3)))
    assert (np.mean(y == predictions), best) == (0.15, 0.6)  # gain 0.45 < 0.67
    check_label_order(y, predictions, None)
    with pytest.raises(UserDataError, match="look permuted"):
        check_label_order(np.tile(y, 10), np.tile(predictions, 10), None)  # 0.45 > 0.21


def test_layouts_are_adapted_only_when_one_way_fits():
    from fracdash.inputs.shapes import fit_shape

    rng = np.random.default_rng(4)
    images = rng.integers(0, 255, (5, 28, 28), dtype=np.uint8)  # as the IDX files hold them
    notes: list[str] = []
    flat = fit_shape(images, (784,), "idx", notes)
    assert flat.shape == (5, 784) and "flattened" in notes[-1]
    np.testing.assert_array_equal(flat[3], np.array([images[3][r][c] for r in range(28)
                                                     for c in range(28)]))  # fmt: skip
    nchw = rng.normal(size=(4, 3, 8, 6)).astype(np.float32)
    nhwc = fit_shape(nchw, (8, 6, 3), "npz", notes)
    assert nhwc.shape == (4, 8, 6, 3) and "axes moved" in notes[-1]
    assert nhwc[2, 5, 4, 1] == nchw[2, 1, 5, 4]
    with pytest.raises(UserDataError, match=r"shape \(28, 28\), the model takes \(785,\)"):
        fit_shape(images, (785,), "idx", [])  # the counts differ: nothing to adapt
    with pytest.raises(UserDataError):
        fit_shape(rng.normal(size=(4, 2, 8, 6)), (8, 6, 3), "npz", [])  # 2 is no channel count


@pytest.mark.slow  # saves Keras files (imports TensorFlow in this process only)
def test_keras_files_are_read_and_checked_without_tensorflow(tmp_path, keras):
    import subprocess
    import sys

    from keras import layers

    flat = keras.Sequential([keras.Input((784,)), layers.Dense(10), layers.Softmax()])
    flat.save(tmp_path / "flat.keras")
    flat.save(tmp_path / "flat.h5")
    cut = tmp_path / "cut.keras"
    cut.write_bytes((tmp_path / "flat.keras").read_bytes()[:300])
    x = np.zeros((6, 28, 28), np.uint8)
    np.savez(tmp_path / "bad.npz", x=np.zeros((6, 27, 28), np.uint8), y=np.arange(6) % 3)
    np.savez(tmp_path / "labels.npz", x=x, y=np.array([0, 1, 2, 3, 11, 5]))
    code = f"""
import sys, numpy as np
from pathlib import Path
from fracdash.errors import UserDataError
from fracdash.inputs.checks import check_before_loading
from fracdash.sources.keras_file import summarize
t = Path({str(tmp_path)!r})
for name in ("flat.keras", "flat.h5"):
    s = summarize(t / name)
    assert s.input_shape == (784,) and s.n_classes == 10 and s.kinds[-1] == "Softmax", s
    check_before_loading(s, np.zeros((6, 28, 28), np.uint8), np.arange(6))  # flattened later
    for data in ("bad.npz", "labels.npz"):
        d = np.load(t / data)
        try:
            check_before_loading(s, d["x"], d["y"])
        except UserDataError as err:
            print(data, err)
try:
    summarize(t / "cut.keras")
except UserDataError as err:
    print("cut", err)
print("heavy", sorted(m for m in ("tensorflow", "keras", "torch") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    lines = out.splitlines()
    assert lines[-1] == "heavy []"
    assert sum("bad.npz x has samples of shape (27, 28), the model takes (784,)" in ln
               for ln in lines) == 2  # fmt: skip
    assert sum("labels.npz y holds label 11, the model has 10 classes" in ln for ln in lines) == 2
    assert any(ln.startswith("cut model") and "corrupt or truncated" in ln for ln in lines)
