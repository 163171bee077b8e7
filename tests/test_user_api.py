"""One user path for the command line and Python: ``fracdash.analyze`` and
``fracdash.show`` make the checks ``fracdash analyze`` makes, store named runs through
the same service (listed with their data source and preprocessing), refuse the same
things with the Python keyword in the message, and raise fracdash errors only.
Preprocessing (--scale/--mean/--std), --output, LogSoftmax and sigmoid endings, and
labels permuted against the model's classes, through both.

The classifier is a softmax regression fit here in numpy on 600 MNIST test images
normalized as torchvision's MNIST tutorial does ((x / 255 - 0.1307) / 0.3081), written
as an ONNX graph with ``onnx.helper``; it is right on about 9 in 10 of the 200 images
analyzed."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import free_port
from onnx import TensorProto, helper, numpy_helper

import fracdash
from fracdash.cli import main
from fracdash.errors import FracdashError, RunError, UserDataError
from fracdash.runs import catalog, load_run
from fracdash.store import Store

MEAN, STD = 0.1307, 0.3081
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def normalized(x) -> np.ndarray:
    """torchvision's ToTensor() then Normalize((0.1307,), (0.3081,)), by hand."""
    return ((np.asarray(x, np.float32) / 255 - MEAN) / STD).astype(np.float32)


@pytest.fixture(scope="module")
def mnist():
    """200 test images to analyze, and a softmax regression (W, b) fit on 600 others."""
    from fracdash.datasets import load_dataset

    x, y = load_dataset("mnist", "test")
    y = y.astype(np.int64)
    fit_x, fit_y = normalized(x[200:800]).reshape(600, -1), y[200:800]
    w, b = np.zeros((784, 10), np.float32), np.zeros(10, np.float32)
    onehot = np.eye(10, dtype=np.float32)[fit_y]
    for _ in range(40):  # full-batch gradient descent on the cross-entropy
        z = fit_x @ w + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        grad = (p / p.sum(axis=1, keepdims=True) - onehot) / len(fit_y)
        w -= 0.1 * fit_x.T @ grad
        b -= 0.1 * grad.sum(axis=0)
    return x[:200], y[:200], w, b


def own_predictions(w, b, x) -> np.ndarray:
    """The regression's classes for uint8 images, computed here (not by fracdash)."""
    return np.argmax(normalized(x).reshape(len(x), -1) @ w + b, axis=1)


def onnx_classifier(w, b, ending="Softmax", features=False) -> bytes:
    """x (n, 28, 28, 1) -> Flatten -> MatMul -> Add -> ``ending`` (none: logits); with
    ``features``, a first output "features" (a ReLU of 16 projections) before "probs"."""
    nodes = [
        helper.make_node("Flatten", ["x"], ["flat"], name="flatten", axis=1),
        helper.make_node("MatMul", ["flat", "W"], ["mm"], name="dense/MatMul"),
        helper.make_node("Add", ["mm", "b"], ["logits" if ending else "probs"], name="dense"),
    ]
    if ending:
        nodes.append(helper.make_node(ending, ["logits"], ["probs"], name="prediction"))
    weights = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")]
    outputs = [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["n", 10])]
    if features:
        project = np.random.default_rng(0).normal(size=(784, 16)).astype(np.float32)
        weights.append(numpy_helper.from_array(project, "P"))
        nodes += [helper.make_node("MatMul", ["flat", "P"], ["pf"], name="project"),
                  helper.make_node("Relu", ["pf"], ["features"], name="features")]  # fmt: skip
        outputs.insert(0, helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", 16]))
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 28, 28, 1])]
    graph = helper.make_graph(nodes, "regression", inputs, outputs, weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def cli(*args, store):
    result = CliRunner().invoke(main, [*map(str, args), "--store", str(store)])
    if result.exit_code not in (0, 2):
        raise result.exception
    return result


def accuracy_line(result) -> float:
    line = next(s for s in result.stdout.splitlines() if s.startswith("accuracy"))
    return float(line.split()[1].rstrip("%"))


def last_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def orders(analysis) -> dict:
    return {g.name: g.order for g in analysis.layers}


def assert_same_orders(a, b):
    assert a.layer_names == b.layer_names
    for name, order in orders(a).items():
        np.testing.assert_array_equal(order, orders(b)[name], name)


# --- one service: named runs from Python, listed with their data source -------------


def test_named_python_runs_are_stored_and_listed_with_their_data(mnist, tmp_path):
    from fracdash.web.panels import note_text

    x, y, w, b = mnist
    model = onnx_classifier(w, b)
    store = tmp_path / "store"
    a = fracdash.analyze(model, x, y, WORDS, name="py-run", store=store, scale="1/255",
                         mean=MEAN, std=STD)  # fmt: skip
    np.testing.assert_array_equal(a.predictions, own_predictions(w, b, x))
    s = Store(store)
    entry = catalog(s)["py-run"]
    assert entry["data"] == "Python array 200x28x28 uint8"
    assert entry["preprocessing"] == "--scale 1/255 --mean 0.1307 --std 0.3081"
    assert entry["output"] == "probabilities" and entry["n"] == 200
    stored = load_run(s, "py-run")
    assert_same_orders(stored, a)
    header = note_text("py-run", stored)  # the page's header line for the run
    assert "preprocessing: x * 0.00392157, then (x - (0.1307)) / (0.3081) per channel" in header
    assert "output: probabilities" in header

    # Without a name: computed (its orders stored with store=), no run registered.
    again = fracdash.analyze(model, x, y, store=store, scale=1 / 255, mean=MEAN, std=STD)
    assert_same_orders(again, a)
    assert set(catalog(s)) == {"py-run"}

    write(tmp_path / "m.onnx", model)
    done = cli("analyze", "--model", tmp_path / "m.onnx", "--data", npz(tmp_path, x, y),
               "--scale", "1/255", "--name", "cli-run", "--class-names",
               names_file(tmp_path), store=store)  # fmt: skip
    assert done.exit_code == 0, done.stderr
    listing = cli("runs", store=store).stdout.splitlines()
    assert listing[0].split()[:4] == ["name", "model", "data", "preprocessing"]
    rows = {line.split()[0]: line for line in listing[1:]}
    assert "Python array 200x28x28 uint8" in rows["py-run"] and "regression" in rows["py-run"]
    assert "d.npz" in rows["cli-run"] and "--scale 1/255" in rows["cli-run"]
    assert "?" not in "".join(rows.values())
    s.close()


def test_a_shown_run_is_listed_with_its_data(mnist, tmp_path):
    x, y, w, b = mnist
    model = onnx_classifier(w, b)
    by_hand = fracdash.analyze(model, normalized(x)[..., None], y)
    shown = fracdash.show(model, x, y, WORDS, name="shown", store=tmp_path, port=free_port(),
                          block=False, scale=1 / 255, mean=[MEAN], std=(STD,))  # fmt: skip
    shown.stop()
    assert_same_orders(shown.analysis, by_hand)
    assert shown.analysis.meta["output_kind"] == "probabilities"
    listing = cli("runs", store=tmp_path).stdout.splitlines()
    row = next(line for line in listing if line.startswith("shown "))
    assert "Python array 200x28x28 uint8" in row and "--mean 0.1307 --std 0.3081" in row


def write(path, data: bytes) -> None:
    path.write_bytes(data)


def names_file(tmp_path):
    (tmp_path / "names.txt").write_text("\n".join(WORDS))
    return tmp_path / "names.txt"


def npz(tmp_path, x, y, name="d.npz"):
    np.savez(tmp_path / name, x=x, y=y)
    return tmp_path / name


# --- the same refusals, naming the keyword; fracdash errors only ---------------------


def test_show_and_analyze_refuse_logits_alike_naming_the_keyword(mnist, tmp_path):
    x, y, w, b = mnist
    logits = onnx_classifier(w, b, ending=None)
    with pytest.raises(UserDataError) as analyzed:
        fracdash.analyze(logits, x, y, scale=1 / 255, mean=MEAN, std=STD)
    with pytest.raises(UserDataError) as shown:
        fracdash.show(logits, x, y, store=tmp_path, port=free_port(), block=False,
                      scale=1 / 255, mean=MEAN, std=STD)  # fmt: skip
    message = str(analyzed.value)
    assert message == str(shown.value)
    assert "looks like logits" in message and "pass logits=True" in message
    assert "--" not in message and "Python:" not in message
    assert catalog(Store(tmp_path)) == {}  # nothing stored
    a = fracdash.analyze(logits, x, y, scale=1 / 255, mean=MEAN, std=STD, logits=True)
    np.testing.assert_array_equal(a.predictions, own_predictions(w, b, x))
    assert a.meta["output_kind"] == "logits"
    # The command line names the flag, once.
    write(tmp_path / "logits.onnx", logits)
    refused = cli("analyze", "--model", tmp_path / "logits.onnx", "--data",
                  npz(tmp_path, x, y), store=tmp_path / "c")  # fmt: skip
    assert refused.exit_code == 2 and "pass --logits to take raw scores" in refused.stderr
    assert "Python" not in refused.stderr and "logits=True" not in refused.stderr


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"y": "plus 10"}, "y holds label 19, the model has 10 classes; use 0..9"),
        ({"y": "one short"}, "one label per sample"),
        ({"y": "fractions"}, "non-integer labels"),
        ({"y": "words"}, "pass class_names="),
        ({"class_names": ["a", "b"]}, "2 class names given, the model has 10"),
        ({"x": "nan"}, "NaN or inf"),
        ({"scale": "abc"}, "scale='abc' is not a positive number"),
        ({"mean": [0.1, 0.2]}, "mean= gives 2 values, the model's input has 1 channel"),
        ({"std": 0}, "std=0 is not one or more positive numbers"),
        ({"output": "nope"}, "has no output 'nope'"),
        ({"samples": 1}, "samples=1 is not a whole number >= 2; pass samples=N"),
        ({"samples": 500}, "pass samples=200 or fewer"),
        ({"metric": "no-such-metric"}, "unknown metric"),
        ({"labels": "guess"}, "labels must be"),
    ],
)
def test_bad_user_data_raises_fracdash_errors_naming_keywords(mnist, change, needle):
    x, y, w, b = mnist
    kwargs = {"scale": 1 / 255, **change}
    y = {"plus 10": y + 10, "one short": y[:-1], "fractions": y + 0.5,
         "words": np.array(WORDS)[y]}.get(kwargs.pop("y", None), y)  # fmt: skip
    if kwargs.pop("x", None) == "nan":
        x = x.astype(np.float32)
        x[3, 4, 5] = np.nan
    with pytest.raises(FracdashError) as err:
        fracdash.analyze(onnx_classifier(w, b), x, y, **kwargs)
    message = str(err.value)
    assert needle in message and "\n" not in message and ";" in message
    assert "--" not in message, message  # the keyword, not the command line's flag


def test_a_run_error_in_python_says_replace_true(mnist, tmp_path):
    x, y, w, b = mnist
    model = onnx_classifier(w, b)
    kwargs = {"store": tmp_path, "scale": 1 / 255, "mean": MEAN, "std": STD}
    first = fracdash.analyze(model, x, y, name="mine", **kwargs)
    with pytest.raises(RunError) as err:
        fracdash.analyze(model, x[:50], y[:50], name="mine", **kwargs)
    assert "pass replace=True to overwrite it, or another name=" in str(err.value)
    with pytest.raises(RunError) as shown:
        fracdash.show(model, x, y, name="mine", port=free_port(), block=False, **kwargs)
    assert str(shown.value) == str(err.value)
    with pytest.raises(RunError, match="pass another name="):
        fracdash.analyze(model, x, y, name="easy", **kwargs)
    assert catalog(Store(tmp_path))["mine"]["key"] == first.meta["key"]  # untouched
    again = fracdash.analyze(model, x[:50], y[:50], name="mine", replace=True, **kwargs)
    assert catalog(Store(tmp_path))["mine"]["n"] == 50 and again.n == 50


def test_python_messages_name_keywords():
    from fracdash.errors import python_message

    cases = {
        "pass --logits (Python: logits=True) to take raw scores":
            "pass logits=True to take raw scores",
        "pass --replace to overwrite it, or another --name": "pass replace=True to overwrite "
            "it, or another name=",
        "pass --samples 300 or fewer": "pass samples=300 or fewer",
        "give e.g. --mean 0.485,0.456,0.406 (one per channel)":
            "give e.g. mean=(0.485, 0.456, 0.406) (one per channel)",
        "pick it with --output NAME or INDEX (Python: output=)":
            "pick it with output=NAME or INDEX",
        "pass --class-names in order (Python: class_names=), or --keep-labels "
            "(keep_labels=True) if right": "pass class_names= in order, or keep_labels=True "
            "if right",
        "a message without flags (x, y)": "a message without flags (x, y)",
    }  # fmt: skip
    for cli_text, python_text in cases.items():
        assert python_message(cli_text) == python_text


# --- preprocessing as people write it ---------------------------------------------


def test_mean_and_std_give_the_orders_of_x_preprocessed_by_hand(mnist, tmp_path):
    x, y, w, b = mnist
    write(tmp_path / "m.onnx", onnx_classifier(w, b))
    data = npz(tmp_path, x, y)
    by_hand = fracdash.analyze(tmp_path / "m.onnx", normalized(x)[..., None], y)
    assert by_hand.meta["preprocessing"] == "none (x as given)"
    expected = own_predictions(w, b, x)
    np.testing.assert_array_equal(by_hand.predictions, expected)
    assert by_hand.accuracy > 0.8, by_hand.accuracy

    python = fracdash.analyze(tmp_path / "m.onnx", x, y, scale="1/255", mean=MEAN, std=STD)
    assert_same_orders(python, by_hand)
    result = cli("analyze", "--model", tmp_path / "m.onnx", "--data", data, "--scale", "1/255",
                 "--mean", MEAN, "--std", STD, store=tmp_path / "s")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert accuracy_line(result) == pytest.approx(100 * by_hand.accuracy)
    assert "preprocessing: x * 0.00392157, then (x - (0.1307)) / (0.3081) per channel" in (
        result.stdout
    )
    store = Store(tmp_path / "s")
    assert_same_orders(load_run(store, "m"), by_hand)
    store.close()

    # Only --scale: the run goes through, and a note names the flags that fit better.
    scaled = cli("analyze", "--model", tmp_path / "m.onnx", "--data", data, "--scale", "1/255",
                 store=tmp_path / "t")  # fmt: skip
    assert scaled.exit_code == 0, scaled.stderr
    assert "--scale 1/255 --mean 0.1307 --std 0.3081" in scaled.stderr
    assert accuracy_line(scaled) < 100 * by_hand.accuracy
