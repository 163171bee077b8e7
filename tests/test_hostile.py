"""Hostile input to ``fracdash analyze``: one line on stderr, exit code 2, no
traceback, and nothing written to the cache. Each case runs the real command line in
this process (click's CliRunner); test_cli_analyze.py runs a few in a subprocess."""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import assert_cache_untouched, assert_refused, good_x, good_y, npz, run_cli

from fracdash.cli import main


@pytest.fixture(scope="session")
def models(keras, tmp_path_factory):
    """One saved model per kind, shared by every case."""
    from keras import layers

    d = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(3)

    def save(name, model):
        model.save(d / name)
        return d / name

    def seq(*stack, shape=(4,)):
        return keras.Sequential([keras.Input(shape), *stack])

    paths = {
        "linear": save("linear.keras", seq(layers.Dense(3))),
        "one_unit": save("one_unit.keras", seq(layers.Dense(1, activation="sigmoid"))),
        "many": save("many.keras", seq(layers.Dense(25, activation="softmax"))),
    }
    good = seq(layers.Dense(5, activation="relu"), layers.Dense(3, activation="softmax"))
    paths["good"] = save("good.keras", good)
    lam = seq(layers.Lambda(lambda t: t * 2), layers.Dense(3, activation="softmax"))
    paths["lambda"] = save("lambda.keras", lam)
    paths["lambda_h5"] = save("lambda.h5", lam)

    @keras.saving.register_keras_serializable(package="hostile")
    class Unknown(layers.Layer):
        def call(self, t):
            return t

    paths["custom"] = save("custom.keras", seq(Unknown(), layers.Dense(3, activation="softmax")))
    # In this process the class is known; for the loader it must be unknown, as it is
    # to a user who received the file without the code.
    from keras.src.saving import object_registration

    object_registration.GLOBAL_CUSTOM_OBJECTS.pop("hostile>Unknown")
    object_registration.GLOBAL_CUSTOM_NAMES.pop(Unknown)
    inp = keras.Input((4,))
    two = keras.Model(
        inp,
        [layers.Dense(3, activation="softmax")(inp), layers.Dense(2, activation="softmax")(inp)],
    )
    paths["two_outputs"] = save("two.keras", two)
    image = seq(layers.Flatten(), layers.Dense(3, activation="softmax"), shape=(4, 4, 1))
    paths["image"] = save("image.keras", image)
    good.export(str(d / "savedmodel"), verbose=False)
    paths["savedmodel"] = d / "savedmodel"
    return paths


# Each case: (model kind or a builder of a bad model path, data builder, extra args,
# expected fragment of the one-line message).
def _random_keras(tmp):
    (tmp / "random.keras").write_bytes(os.urandom(600))
    return tmp / "random.keras"


def _text_model(tmp):
    (tmp / "model.txt").write_text("not a model\n")
    return tmp / "model.txt"


def _text_h5(tmp):
    (tmp / "model.h5").write_text("not a model\n")
    return tmp / "model.h5"


def _zip_not_model(tmp):
    with zipfile.ZipFile(tmp / "junk.keras", "w") as z:
        z.writestr("hello.txt", "hello")
    return tmp / "junk.keras"


def _directory(tmp):
    (tmp / "adir.keras").mkdir()
    return tmp / "adir.keras"


def _pickled(tmp):
    return npz(tmp, x=good_x(), y=np.array([object()] * 6, dtype=object))


def _image_folder_sizes(tmp):
    from PIL import Image

    for k, size in ((0, (4, 4)), (1, (5, 5))):
        (tmp / "imgs" / f"c{k}").mkdir(parents=True)
        Image.fromarray(np.zeros(size, np.uint8)).save(tmp / "imgs" / f"c{k}" / "a.png")
    return tmp / "imgs"


def _idx_two_images(tmp):
    (tmp / "idx").mkdir()
    for name in ("a-images-idx", "b-images-idx", "labels-idx"):
        (tmp / "idx" / name).write_bytes(b"\0")
    return tmp / "idx"


def _class_folders(*classes):
    def build(tmp):
        from PIL import Image

        for k, cls in enumerate(classes):
            (tmp / "imgs" / cls).mkdir(parents=True)
            for i in range(2):
                pixels = np.full((4, 4), 40 * k + i, np.uint8)
                Image.fromarray(pixels).save(tmp / "imgs" / cls / f"{i}.png")
        return tmp / "imgs"

    return build


def _raw_pickle(tmp):
    (tmp / "data.npz").write_bytes(pickle.dumps({"x": 1}))
    return tmp / "data.npz"


def _csv(tmp):
    (tmp / "data.csv").write_text("1,2,3\n")
    return tmp / "data.csv"


def _idx_test_only(tmp):
    import gzip
    import struct

    (tmp / "idx").mkdir()
    for name, a in (("t10k-images-idx3-ubyte.gz", np.zeros((4, 4, 4), np.uint8)),
                    ("t10k-labels-idx1-ubyte.gz", np.arange(4, dtype=np.uint8) % 3)):  # fmt: skip
        header = b"\0\0\x08" + bytes([a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
        (tmp / "idx" / name).write_bytes(gzip.compress(header + a.tobytes()))
    return tmp / "idx"


def _names(tmp, n):
    (tmp / "names.txt").write_text("\n".join(f"c{i}" for i in range(n)) + "\n")
    return ["--class-names", str(tmp / "names.txt")]


def _data(x=None, y=None, **extra):
    def build(tmp):
        arrays = {"x": good_x() if x is None else x, "y": good_y() if y is None else y}
        arrays.update(extra)
        return npz(tmp, **{k: v for k, v in arrays.items() if v is not False})

    return build


NAN_X = good_x()
NAN_X[2, 1] = np.nan
INF_X = good_x()
INF_X[0, 3] = -np.inf

CASES = {
    "missing model": (lambda t: t / "nope.keras", _data(), [], "does not exist"),
    "model is a directory": (_directory, _data(), [], "is a directory"),
    "corrupt .keras": (_random_keras, _data(), [], "not a .keras archive"),
    "text file as model": (_text_model, _data(), [], "not a .keras or .h5 file"),
    "text file as .h5": (_text_h5, _data(), [], "not an HDF5 file"),
    "zip that is no model": (_zip_not_model, _data(), [], "holds no Keras model"),
    "Lambda layer": ("lambda", _data(), [], "Lambda layer"),
    "Lambda layer in .h5": ("lambda_h5", _data(), [], "Lambda layer"),
    "unknown custom layer": ("custom", _data(), [], "uses 'Unknown', a class Keras does not know"),
    "several outputs": ("two_outputs", _data(), [], "2 outputs"),
    "output not a distribution": ("linear", _data(), [], "looks like logits); pass --logits"),
    "one output unit": ("one_unit", _data(), [], "k >= 2"),
    "SavedModel directory": ("savedmodel", _data(), [], "TensorFlow SavedModel"),
    "x shape mismatch": ("good", _data(x=np.zeros((6, 5), np.float32)), [], "model takes"),
    "y length mismatch": ("good", _data(y=np.arange(5) % 3), [], "one label per sample"),
    "labels out of range": ("good", _data(y=np.array([0, 1, 2, 3, 0, 1])), [], "label 3"),
    "negative labels": ("good", _data(y=np.array([0, 1, -1, 2, 0, 1])), [], "negative"),
    "float labels": ("good", _data(y=np.array([0, 0.5, 1, 2, 0, 1])), [], "non-integer"),
    "string labels": ("good", _data(y=np.array(list("abcabc"))), [], "dtype"),
    "class-name count": ("good", _data(), "names2", "2 class names given"),
    "zero samples": ("good", _data(np.zeros((0, 4), np.float32), np.zeros(0, int)), [], "no sam"),
    "one sample": ("good", _data(good_x(1), good_y(1)), [], "1 sample"),
    "NaN in x": ("good", _data(x=NAN_X), [], "NaN or inf"),
    "inf in x": ("good", _data(x=INF_X), [], "NaN or inf"),
    "pickled npz": ("good", _pickled, [], "refusing to unpickle"),
    "npz that is a pickle": ("good", _raw_pickle, [], "cannot read"),
    "npz without y": ("good", _data(y=False), [], "no array 'y'"),
    "missing data": ("good", lambda t: t / "none.npz", [], "does not exist"),
    "data of unknown format": ("good", _csv, [], "not an .npz"),
    "images of two sizes": ("good", _image_folder_sizes, [], "resize"),
    "two IDX images files": ("good", _idx_two_images, [], "exactly one of each"),
    "run named like a scenario": ("good", _data(), ["--name", "easy"], "built-in scenario"),
    "run named like a scenario subset": ("good", _data(), ["--name", "easy-300"], "built-in"),
    "folder not among the class names": (
        "image",
        _class_folders("cat", "emu"),
        "names:cat,dog,bird",
        "'emu'",
    ),
    "fewer folders than classes, no names": (
        "image",
        _class_folders("cat", "dog"),
        [],
        "the folders name 2 classes but the model",
    ),
    "labels that are no class name": (
        "good",
        _data(y=np.array(["c0", "c1", "emu", "c0", "c1", "c2"])),
        "names3",
        "'emu'",
    ),
    "scale that is no number": ("good", _data(), ["--scale", "abc"], "--scale 'abc'"),
    "scale of zero": ("good", _data(), ["--scale", "0"], "positive"),
    "mean that is no number": ("good", _data(), ["--mean", "abc"], "--mean 'abc' is not"),
    "std of zero": ("good", _data(), ["--std", "0"], "one or more positive numbers"),
    "a mean per channel, no channels": ("good", _data(), ["--mean", "0.1,0.2"], "2 values"),
    "output the model lacks": ("good", _data(), ["--output", "nope"], "no output 'nope'"),
    "train split of a test-only pair": ("image", _idx_test_only, ["--split", "train"], "train"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input(case, models, tmp_path):
    model, data, extra, expected = CASES[case]
    model_path = models[model] if isinstance(model, str) else model(tmp_path)
    data_path = data(tmp_path)
    if extra in ("names2", "names3"):
        extra = _names(tmp_path, int(extra[-1]))
    elif isinstance(extra, str):  # "names:a,b,c"
        (tmp_path / "names.txt").write_text(extra.split(":")[1].replace(",", "\n"))
        extra = ["--class-names", str(tmp_path / "names.txt")]
    cache = tmp_path / "cache"
    args = ["analyze", "--model", str(model_path), "--data", str(data_path), *extra]
    result = run_cli(*args, "--cache-dir", str(cache), cache=cache)
    assert_refused(result, expected)
    assert_cache_untouched(cache)


def test_nan_in_activations(keras, tmp_path):
    """x is finite, but one sample overflows a hidden layer to inf: the ordering refuses
    it, and no run is registered."""
    from keras import layers

    huge = keras.initializers.Constant(1e30)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(4, kernel_initializer=huge, name="huge"),
            layers.Dense(3, name="out"),
            layers.Softmax(name="prediction"),
        ]
    )
    model.save(tmp_path / "huge.keras")
    x = good_x(30)
    x[20] = 1e10  # past the first samples, which check the output is a distribution
    data = npz(tmp_path, x=x, y=np.arange(30) % 3)
    cache = tmp_path / "cache"
    args = ["analyze", "--model", str(tmp_path / "huge.keras"), "--data", str(data)]
    result = run_cli(*args, "--cache-dir", str(cache), cache=cache)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "fracdash: error: layer 'huge' outputs NaN or inf; check the model's weights and "
        "the input scaling (--scale)"
    )
    assert "Traceback" not in result.stderr
    from fracdash.runs import catalog
    from fracdash.store import Store

    store = Store(cache)
    try:
        assert catalog(store) == {}
    finally:
        store.close()


def test_serve_needs_model_and_data(models, tmp_path):
    cache = tmp_path / "cache"
    result = run_cli("serve", "--model", str(models["good"]), "--dry-run", cache=cache)
    assert result.returncode == 2
    assert result.stderr.strip() == "fracdash: error: --model and --data go together; " + (
        "pass both, or neither"
    )
    assert not cache.exists()


def test_debug_shows_the_traceback(models, tmp_path):
    from fracdash.errors import UserDataError

    cache = tmp_path / "cache"
    data = _data(x=NAN_X)(tmp_path)
    args = ["--debug", "analyze", "--model", str(models["good"]), "--data", str(data)]
    result = CliRunner(env={"FRACDASH_CACHE": str(cache)}).invoke(main, args)
    assert result.exit_code != 0  # the exception itself escapes, with its traceback
    assert isinstance(result.exception, UserDataError) and "NaN" in str(result.exception)


def test_many_classes_take_hue_families_of_their_groups(models, tmp_path):
    cache = tmp_path / "cache"
    data = npz(tmp_path, x=good_x(30), y=np.arange(30) % 25)
    args = ["analyze", "--model", str(models["many"]), "--data", str(data), "--name", "wide"]
    result = run_cli(*args, "--cache-dir", str(cache), cache=cache)
    assert result.returncode == 0, result.stderr
    assert "fracdash: warning: 25 classes: colored in hue families, one per group of " \
        "classes the model confuses; --class-groups FILE" in result.stderr  # fmt: skip
    groups = tmp_path / "groups.txt"
    groups.write_text("low: 0, 1, 2, 3, 4\nhigh: 20, 21, 22, 23, 24\n", encoding="utf-8")
    args[-1] = "grouped"
    result = run_cli(*args, "--class-groups", str(groups), "--cache-dir", str(cache), cache=cache)
    assert result.returncode == 0, result.stderr
    assert "15 classes are in no group of --class-groups" in result.stderr
    from fracdash.runs import catalog, load_run
    from fracdash.store import Store

    store = Store(cache)
    try:
        assert catalog(store)["wide"]["n"] == 30
        found, given = load_run(store, "wide").meta, load_run(store, "grouped").meta
    finally:
        store.close()
    assert found["class_groups"]["source"] == "confusion"
    assert given["class_groups"]["names"] == ["low", "high", "ungrouped"]
    assert given["class_groups"]["members"] == [[0, 1, 2, 3, 4], [20, 21, 22, 23, 24],
                                                list(range(5, 20))]  # fmt: skip
    for meta in (found, given):
        assert len(set(meta["class_palette"])) == 25


def test_bad_class_groups_are_refused_in_one_line(models, tmp_path):
    cache = tmp_path / "cache"
    data = npz(tmp_path, x=good_x(30), y=np.arange(30) % 25)
    groups = tmp_path / "groups.txt"
    groups.write_text("low: 0, 1, zebra\n", encoding="utf-8")
    args = ["analyze", "--model", str(models["many"]), "--data", str(data)]
    result = run_cli(*args, "--class-groups", str(groups), "--cache-dir", str(cache), cache=cache)
    assert_refused(result, "'zebra' in group 'low' of --class-groups is not a class")
    assert_cache_untouched(cache)


def test_precompute_without_data_is_one_line(tmp_path, monkeypatch):
    """No data anywhere and no network: one line naming where it looked, exit 2."""
    import sys
    import types

    from fracdash import datasets

    def offline():
        raise OSError("network unreachable")

    module = types.SimpleNamespace(load_data=offline)
    fake = types.SimpleNamespace(datasets=types.SimpleNamespace(mnist=module, fashion_mnist=module))
    monkeypatch.setitem(sys.modules, "keras", fake)
    monkeypatch.delenv("FRACDASH_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", tmp_path / "none")
    result = CliRunner().invoke(main, ["precompute", "easy", "--store", str(tmp_path / "s")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fracdash: error: mnist not found")
    assert "set FRACDASH_DATA" in lines[0]
