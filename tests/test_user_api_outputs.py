# ruff: noqa: F811  (the fixtures imported from test_user_api are parameters by name)
"""The one user path, continued: outputs, LogSoftmax endings and labels in another order
through the command line and Python (helpers in test_user_api.py)."""

from __future__ import annotations

import numpy as np
import pytest
from test_user_api import (  # noqa: F401  (shared helpers and fixtures)
    MEAN,
    STD,
    WORDS,
    accuracy_line,
    assert_same_orders,
    cli,
    last_line,
    mnist,
    names_file,
    normalized,
    npz,
    onnx_classifier,
    orders,
    own_predictions,
    write,
)

import fracdash
from fracdash.errors import UserDataError
from fracdash.runs import catalog, load_run
from fracdash.store import Store

# --- outputs: --output, LogSoftmax, sigmoid ------------------------------------------


def test_output_picks_the_classifier_of_a_two_output_onnx_file(mnist, tmp_path):
    x, y, w, b = mnist
    write(tmp_path / "two.onnx", onnx_classifier(w, b, features=True))
    args = ["analyze", "--model", tmp_path / "two.onnx", "--data", npz(tmp_path, x, y),
            "--scale", "1/255", "--mean", MEAN, "--std", STD]  # fmt: skip
    refused = cli(*args, store=tmp_path / "a")
    assert refused.exit_code == 2 and "--output NAME or INDEX" in last_line(refused)
    assert "Python" not in refused.stderr
    right = 100 * np.mean(own_predictions(w, b, x) == y)
    for picked in ("probs", "1"):
        result = cli(*args, "--output", picked, "--name", f"by-{picked}", store=tmp_path / "b")
        assert result.exit_code == 0, result.stderr
        assert accuracy_line(result) == pytest.approx(right)
    store = Store(tmp_path / "b")
    assert_same_orders(load_run(store, "by-probs"), load_run(store, "by-1"))
    assert "features" not in load_run(store, "by-probs").layer_names  # not the classifier's
    store.close()
    wrong = cli(*args, "--output", "nope", store=tmp_path / "c")
    assert wrong.exit_code == 2 and "0: features, 1: probs" in last_line(wrong)
    a = fracdash.analyze(tmp_path / "two.onnx", x, y, scale=1 / 255, mean=MEAN, std=STD,
                         output="probs")  # fmt: skip
    assert a.accuracy == pytest.approx(right / 100)
    with pytest.raises(UserDataError, match=r"pick the classifier's with output=NAME or INDEX$"):
        fracdash.analyze(tmp_path / "two.onnx", x, y, scale=1 / 255)


@pytest.mark.slow  # imports torch and exports the module (15 s here)
def test_a_log_softmax_module_is_taken_without_logits(mnist):
    import torch
    import torch.nn.functional as F

    x, y, w, b = mnist

    class LogSoftmaxNet(torch.nn.Module):  # the ending of PyTorch's MNIST example
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(784, 10)

        def forward(self, x):
            return F.log_softmax(self.fc(x.flatten(1)), dim=1)

    net = LogSoftmaxNet()
    with torch.no_grad():
        net.fc.weight.copy_(torch.from_numpy(w.T.copy()))
        net.fc.bias.copy_(torch.from_numpy(b))
        own = net(torch.from_numpy(normalized(x))).numpy()
    assert own.max() < 0  # log-probabilities, no distribution
    a = fracdash.analyze(net, x, y, scale=1 / 255, mean=MEAN, std=STD)
    assert a.meta["output_kind"] == "log-probabilities"
    assert a.accuracy == pytest.approx(np.mean(own.argmax(axis=1) == y))
    np.testing.assert_array_equal(a.predictions, own.argmax(axis=1))


@pytest.mark.parametrize(
    ("ending", "kind", "note"),
    [("LogSoftmax", "log-probabilities", ""),
     ("Sigmoid", "scores", "independent scores in [0, 1] (a sigmoid)")],
)  # fmt: skip
def test_log_softmax_and_sigmoid_endings_are_taken(mnist, capsys, ending, kind, note):
    x, y, w, b = mnist
    a = fracdash.analyze(onnx_classifier(w, b, ending=ending), x, y, scale=1 / 255,
                         mean=MEAN, std=STD)  # fmt: skip
    assert a.meta["output_kind"] == kind
    np.testing.assert_array_equal(a.predictions, own_predictions(w, b, x))  # monotone
    err = capsys.readouterr().err
    assert (note in err and err.count("\n") == 1) if note else err == ""


# --- labels permuted against the model's classes -----------------------------------


def test_class_folders_named_as_words_are_caught_as_permuted(mnist, tmp_path):
    from PIL import Image

    x, y, w, b = mnist
    write(tmp_path / "m.onnx", onnx_classifier(w, b))
    for i, (image, label) in enumerate(zip(x, y, strict=True)):
        folder = tmp_path / "digits" / WORDS[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image, mode="L").save(folder / f"{i:03d}.png")
    args = ["analyze", "--model", tmp_path / "m.onnx", "--data", tmp_path / "digits",
            "--scale", "1/255", "--mean", MEAN, "--std", STD]  # fmt: skip
    refused = cli(*args, store=tmp_path / "a")
    assert refused.exit_code == 2
    message = last_line(refused)
    assert message.startswith("fracdash: error: the labels look permuted")
    # Alphabetically "eight" is folder 0: the mapping found puts it at model class 8.
    assert "eight -> model class 8, five -> model class 5" in message
    assert "pass --class-names with the names in the model's class order" in message
    assert "--keep-labels if the labels are right" in message and "Python" not in message
    assert catalog(Store(tmp_path / "a")) == {}  # nothing registered, no order stored
    assert Store(tmp_path / "a").keys() == []

    kept = cli(*args, "--keep-labels", store=tmp_path / "b")
    assert kept.exit_code == 0, kept.stderr
    alphabetical = np.array([sorted(WORDS).index(WORDS[c]) for c in range(10)])
    right = own_predictions(w, b, x)
    assert accuracy_line(kept) == pytest.approx(100 * np.mean(right == alphabetical[y]))

    (tmp_path / "names.txt").write_text("\n".join(WORDS))
    named = cli(*args, "--class-names", tmp_path / "names.txt", store=tmp_path / "c")
    assert named.exit_code == 0, named.stderr
    assert accuracy_line(named) == pytest.approx(100 * np.mean(right == y))

    # From Python: the same refusal, naming the keywords.
    with pytest.raises(UserDataError) as err:
        fracdash.analyze(tmp_path / "m.onnx", x, alphabetical[y], sorted(WORDS),
                         scale=1 / 255, mean=MEAN, std=STD)  # fmt: skip
    assert "eight -> model class 8" in str(err.value)
    assert "pass class_names= with the names in the model's class order" in str(err.value)
    assert "keep_labels=True if the labels are right" in str(err.value)
    a = fracdash.analyze(tmp_path / "m.onnx", x, alphabetical[y], sorted(WORDS),
                         scale=1 / 255, mean=MEAN, std=STD, keep_labels=True)  # fmt: skip
    assert a.accuracy == pytest.approx(np.mean(right == alphabetical[y]))
