"""A user's own model and data through ``fracdash analyze``: right results (not just
accepted input) for the inputs people really have — folders named after classes,
uint8 images, the official IDX files, class-sorted data, string labels, RGB folders,
logits — and the run list. In-process (click's CliRunner), except the check that no
argument error waits for TensorFlow, which needs a fresh interpreter."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from fracdash.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*args, cache):
    result = CliRunner().invoke(main, [*map(str, args), "--cache-dir", str(cache)])
    if result.exit_code not in (0, 2):
        raise result.exception
    return result


def stored(cache, name):
    from fracdash.runs import catalog, load_run
    from fracdash.store import Store

    store = Store(cache)
    try:
        return catalog(store), load_run(store, name)
    finally:
        store.close()


def accuracy_line(result) -> float:
    line = next(s for s in result.stdout.splitlines() if s.startswith("accuracy"))
    return float(line.split()[1].rstrip("%"))


def indicator_model(keras, rescale: bool, k: int = 3, side: int = 4):
    """Class c lights pixel c: Dense weights 10 on that pixel, biases (2, 1, 0, ...), so
    on [0, 1] input every sample is right, and on input scaled twice (x / 255 / 255)
    the biases win and every sample is called class 0."""
    from keras import layers

    stack = [keras.Input((side, side, 1))]
    if rescale:
        stack.append(layers.Rescaling(1 / 255, name="rescale"))
    stack += [layers.Flatten(name="flatten"), layers.Dense(k, name="dense"),
              layers.Softmax(name="prediction")]  # fmt: skip
    model = keras.Sequential(stack, name="indicator")
    kernel = np.zeros((side * side, k), np.float32)
    kernel[np.arange(k), np.arange(k)] = 10
    model.get_layer("dense").set_weights([kernel, np.arange(k, 0, -1, dtype=np.float32) - 1])
    return model


def indicator_images(n_per_class: int, k: int = 3, side: int = 4):
    y = np.repeat(np.arange(k), n_per_class)
    x = np.zeros((len(y), side, side), np.uint8)
    x.reshape(len(y), -1)[np.arange(len(y)), y] = 255
    return x, y


@pytest.fixture(scope="module")
def indicator(keras, tmp_path_factory):
    d = tmp_path_factory.mktemp("indicator")
    for rescale in (True, False):
        indicator_model(keras, rescale).save(d / f"{'own' if rescale else 'plain'}.keras")
    x, y = indicator_images(6)
    np.savez(d / "sorted.npz", x=x, y=y)
    return d


def write_folder(root, classes, x, y, mode="L"):
    from PIL import Image

    for i, (img, label) in enumerate(zip(x, y, strict=True)):
        folder = root / classes[label]
        folder.mkdir(parents=True, exist_ok=True)
        pixels = img if mode == "L" else np.repeat(img[..., None], 3, axis=2)
        Image.fromarray(pixels, mode=mode).save(folder / f"{i:03d}.png")
    return root


def test_folders_take_the_model_index_of_their_class_name(indicator, tmp_path):
    """Folders named after classes, in an order unlike the alphabet: --class-names maps
    each to the model's index, so the accuracy is the model's (100%), not 1 in 3."""
    x, y = indicator_images(4)
    names = ["zebra", "ant", "moose"]  # index order; sorted would be ant, moose, zebra
    data = write_folder(tmp_path / "imgs", names, x, y)
    (tmp_path / "names.txt").write_text("\n".join(names))
    result = cli("analyze", "--model", indicator / "own.keras", "--data", data,
                 "--class-names", tmp_path / "names.txt", cache=tmp_path / "c")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert accuracy_line(result) == 100.0
    run = stored(tmp_path / "c", "own")[1]
    assert run.class_names == names and np.bincount(run.labels).tolist() == [4, 4, 4]


def test_fewer_class_folders_than_classes_are_fine_and_said(indicator, tmp_path):
    x, y = indicator_images(3)
    keep = y != 1
    names = ["zebra", "ant", "moose"]
    data = write_folder(tmp_path / "imgs", names, x[keep], y[keep])
    (tmp_path / "names.txt").write_text("\n".join(names))
    result = cli("analyze", "--model", indicator / "own.keras", "--data", data,
                 "--class-names", tmp_path / "names.txt", cache=tmp_path / "c")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "absent: 1=ant" in result.stderr and accuracy_line(result) == 100.0
    assert stored(tmp_path / "c", "own")[1].class_names == names  # the legend shows all


def test_uint8_goes_to_the_model_as_it_is_unless_scaled(indicator, tmp_path):
    data = indicator / "sorted.npz"
    own = cli("analyze", "--model", indicator / "own.keras", "--data", data,
              cache=tmp_path / "a")  # fmt: skip
    assert own.exit_code == 0, own.stderr
    assert accuracy_line(own) == 100.0  # its own Rescaling(1/255) sees 0..255
    plain = cli("analyze", "--model", indicator / "plain.keras", "--data", data,
                cache=tmp_path / "b")  # fmt: skip
    assert accuracy_line(plain) == 100.0  # 255 on the class pixel: still right
    scaled = cli("analyze", "--model", indicator / "own.keras", "--data", data,
                 "--scale", "1/255", cache=tmp_path / "c")  # fmt: skip
    assert accuracy_line(scaled) == pytest.approx(100 / 3, abs=0.01)  # scaled twice: wrong
    x = np.load(data)["x"]
    assert stored(tmp_path / "a", "own")[1].n == len(x)


def test_scale_for_a_model_trained_on_unit_input(keras, tmp_path):
    from keras import layers

    model = keras.Sequential([keras.Input((2,)), layers.Dense(2), layers.Softmax()])
    # Class 1 when x0 - x1 > 0.5: right on [0, 1] input, x = (1, 0) or (0, 0).
    model.layers[0].set_weights([np.array([[5.0, 0], [-5, 0]], np.float32),
                                 np.array([0, 2.5], np.float32)])  # fmt: skip
    model.save(tmp_path / "unit.keras")
    x = np.array([[255, 0], [0, 0], [255, 0], [0, 0]], np.uint8)
    np.savez(tmp_path / "d.npz", x=x, y=[0, 1, 0, 1])
    args = ["analyze", "--model", tmp_path / "unit.keras", "--data", tmp_path / "d.npz"]
    assert accuracy_line(cli(*args, "--scale", "1/255", cache=tmp_path / "a")) == 100.0
    assert accuracy_line(cli(*args, cache=tmp_path / "b")) == 100.0  # 255 * 5 > 2.5 too
    np.savez(tmp_path / "d.npz", x=x // 2, y=[0, 1, 0, 1])  # 127: scaled 0.498 < 0.5
    assert accuracy_line(cli(*args, "--scale", "1/255", cache=tmp_path / "c")) == 50.0


def write_idx(path, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = b"\0\0\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes()))


def test_the_official_idx_files(indicator, tmp_path):
    x_test, y_test = indicator_images(3)
    x_train, y_train = indicator_images(5)
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte.gz", x_test)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", y_test)
    write_idx(folder / "train-images-idx3-ubyte.gz", x_train)
    write_idx(folder / "train-labels-idx1-ubyte.gz", y_train)
    model = indicator / "own.keras"
    result = cli("analyze", "--model", model, "--data", folder, cache=tmp_path / "a")
    assert result.exit_code == 0, result.stderr
    assert "test" in result.stderr and stored(tmp_path / "a", "own")[1].n == 9
    result = cli("analyze", "--model", model, "--data", folder, "--split", "train",
                 cache=tmp_path / "b")  # fmt: skip
    assert result.exit_code == 0 and stored(tmp_path / "b", "own")[1].n == 15
    single = folder / "t10k-images-idx3-ubyte.gz"  # its labels file is the idx1 one
    result = cli("analyze", "--model", model, "--data", single, cache=tmp_path / "c")
    assert result.exit_code == 0, result.stderr
    np.testing.assert_array_equal(stored(tmp_path / "c", "own")[1].labels, y_test)


def test_samples_are_stratified_unless_first(indicator, tmp_path):
    args = ["analyze", "--model", indicator / "own.keras", "--data", indicator / "sorted.npz"]
    cli(*args, "--samples", 6, cache=tmp_path / "a")
    assert np.bincount(stored(tmp_path / "a", "own")[1].labels).tolist() == [2, 2, 2]
    cli(*args, "--samples", 6, "--first", cache=tmp_path / "b")
    assert np.bincount(stored(tmp_path / "b", "own")[1].labels).tolist() == [6]


def test_runs_lists_and_deletes(indicator, tmp_path, toy_sequential):
    cache = tmp_path / "c"
    args = ["analyze", "--model", indicator / "own.keras", "--data", indicator / "sorted.npz"]
    cli(*args, "--name", "first", cache=cache)
    cli(*args, "--name", "second", "--samples", 6, "--scale", "1", cache=cache)
    listing = cli("runs", cache=cache).stdout.splitlines()
    assert listing[0].split() == [
        "name", "model", "data", "preprocessing", "n", "accuracy", "date", "size"]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in listing[1:]}
    assert rows["first"][1:6] == ["own.keras", "sorted.npz", "none", "18", "100.00%"]
    assert rows["second"][3:6] == ["--scale", "1", "6"]  # how it was run, to repeat it
    deleted = cli("runs", "--delete", "first", cache=cache)
    assert deleted.exit_code == 0 and "deleted run 'first'" in deleted.stdout
    assert [line.split()[0] for line in cli("runs", cache=cache).stdout.splitlines()[1:]] == [
        "second"
    ]
    from fracdash.store import Store
    from fracdash.web.loading import run_options

    store = Store(cache)
    values = [o["value"] for o in run_options(store, None)]
    store.close()
    assert "second" in values and "first" not in values  # the dashboard lists what runs lists
    missing = cli("runs", "--delete", "first", cache=cache)
    assert missing.exit_code == 2 and "no run named 'first'" in missing.stderr


def test_string_labels_rgb_folders_and_logits(keras, indicator, tmp_path):
    x, y = indicator_images(2)
    names = ["a", "b", "c"]
    np.savez(tmp_path / "s.npz", x=x, y=np.array(names)[y])
    (tmp_path / "names.txt").write_text("\n".join(names))
    result = cli("analyze", "--model", indicator / "own.keras", "--data", tmp_path / "s.npz",
                 "--class-names", tmp_path / "names.txt", cache=tmp_path / "a")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    np.testing.assert_array_equal(stored(tmp_path / "a", "own")[1].labels, y)

    rgb = write_folder(tmp_path / "rgb", names, x, y, mode="RGB")
    result = cli("analyze", "--model", indicator / "own.keras", "--data", rgb,
                 "--class-names", tmp_path / "names.txt", cache=tmp_path / "b")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "gray" in result.stderr.lower() and accuracy_line(result) == 100.0

    logits = indicator_model(keras, True)
    logits = keras.Model(logits.inputs, logits.get_layer("dense").output, name="logits")
    logits.save(tmp_path / "logits.keras")
    args = ["analyze", "--model", tmp_path / "logits.keras", "--data", indicator / "sorted.npz"]
    refused = cli(*args, cache=tmp_path / "c")
    assert refused.exit_code == 2 and "pass --logits" in refused.stderr
    result = cli(*args, "--logits", cache=tmp_path / "d")
    assert result.exit_code == 0 and accuracy_line(result) == 100.0
    assert "dense" in stored(tmp_path / "d", "logits")[1].layer_names


def test_transfer_learning_model_through_the_cli(keras, indicator, tmp_path):
    base = indicator_model(keras, True)
    inp = keras.Input((4, 4, 1), name="image")
    keras.Model(inp, base(inp), name="wrapper").save(tmp_path / "wrapped.keras")
    result = cli("analyze", "--model", tmp_path / "wrapped.keras", "--data",
                 indicator / "sorted.npz", cache=tmp_path / "c")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert accuracy_line(result) == 100.0
    run = stored(tmp_path / "c", "wrapped")[1]
    assert {"rescale", "dense", "prediction"} <= set(run.layer_names)


def test_version_and_metric_help():
    runner = CliRunner()
    from fracdash import __version__

    assert runner.invoke(main, ["--version"]).output.strip() == f"fracdash, version {__version__}"
    text = " ".join(runner.invoke(main, ["analyze", "--help"]).output.split()).replace("- ", "-")
    from fracdash.core.metrics import METRIC_TABLE

    for metric in METRIC_TABLE:  # every metric of the one table, with its summary
        said = f"{metric.name}: {' '.join(metric.summary.split())}".replace("- ", "-")
        assert said in text


def test_argument_errors_come_before_tensorflow(tmp_path):
    """A missing file, a bad name or a bad --scale fails without importing TensorFlow
    (which takes seconds): checked in a fresh interpreter."""
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 2)), y=[0, 1, 0, 1])
    (tmp_path / "m.keras").write_bytes(b"PK\x03\x04")
    cases = [
        ["--model", tmp_path / "none.keras", "--data", tmp_path / "d.npz"],
        ["--model", tmp_path / "m.keras", "--data", tmp_path / "none.npz"],
        ["--model", tmp_path / "m.keras", "--data", tmp_path / "d.npz", "--name", "easy"],
        ["--model", tmp_path / "m.keras", "--data", tmp_path / "d.npz", "--scale", "x"],
    ]
    probe = (
        "import sys\nfrom fracdash.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
        "    print(e.code, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    for args in cases:
        cmd = [sys.executable, "-c", probe, "analyze", *map(str, args),
               "--cache-dir", str(tmp_path / "c")]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.stdout.split() == ["2", "False", "False"], (args, done.stderr)
        assert done.stderr.startswith("fracdash: error: ")
