"""``fracdash analyze`` / ``fracdash serve`` on a user's own model and data, and the
loaders of :mod:`fracdash.inputs.data`."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from fracdash.inputs import data as userdata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = ["conv", "relu", "flatten", "dense", "prediction"]


@pytest.fixture(scope="module")
def user_files(keras, tmp_path_factory):
    """A small conv classifier saved as .keras, and 40 uint8 images in an .npz."""
    from keras import layers

    d = tmp_path_factory.mktemp("user")
    keras.utils.set_random_seed(11)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(2, 3, name="conv"),
            layers.ReLU(name="relu"),
            layers.Flatten(name="flatten"),
            layers.Dense(3, name="dense"),
            layers.Softmax(name="prediction"),
        ],
        name="tiny_cnn",
    )
    model.save(d / "tiny.keras")
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (40, 8, 8), dtype=np.uint8)  # no channel axis: added
    y = np.arange(40) % 3
    np.savez(d / "test.npz", x=x, y=y)
    (d / "names.txt").write_text("cat\ndog\nbird\n")
    return d


def run_cli(*args, cache):
    env = {**os.environ, "FRACDASH_CACHE": str(cache), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "fracdash.cli", *args, "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def stored_run(cache, name):
    from fracdash.runs import catalog, load_run
    from fracdash.store import Store

    store = Store(cache)
    try:
        return catalog(store), load_run(store, name)
    finally:
        store.close()


@pytest.mark.slow  # a subprocess smoke test of the real command line (TensorFlow import)
def test_analyze_stores_a_named_run(user_files, tmp_path):
    cache = tmp_path / "cache"
    d = user_files
    args = ["--model", str(d / "tiny.keras"), "--data", str(d / "test.npz")]
    result = run_cli(
        "analyze", *args, "--class-names", str(d / "names.txt"), "--name", "mine", cache=cache
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "accuracy" in out and "on 40 test samples" in out
    quality_lines = [line for line in out.splitlines() if "quality" in line]
    assert len(quality_lines) == 1 + len(LAYERS)  # the input layer, then every layer
    for name in LAYERS:
        assert any(f" {name} " in line for line in quality_lines), (name, out)
    assert "stored as run 'mine'" in out
    entries, analysis = stored_run(cache, "mine")
    assert entries["mine"]["n"] == 40
    assert analysis.class_names == ["cat", "dog", "bird"]
    assert analysis.meta["network"] == "tiny_cnn"
    assert "tiny.keras" in analysis.meta["note"]

    # --samples draws a stratified sample and says so; the default name is the stem.
    result = run_cli("analyze", *args, "--samples", "12", cache=cache)
    assert result.returncode == 0, result.stderr
    assert "using a stratified sample of 12 of 40 samples (seed 0)" in result.stderr
    entries, analysis = stored_run(cache, "tiny")
    assert set(entries) == {"mine", "tiny"} and analysis.n == 12
    assert np.bincount(analysis.labels).tolist() == [4, 4, 4]
    # The same name again is refused (nothing changes) unless --replace.
    result = run_cli("analyze", *args, "--samples", "9", cache=cache)
    assert result.returncode == 2
    assert "a run named 'tiny' exists already (tiny.keras, test.npz" in result.stderr
    assert stored_run(cache, "tiny")[1].n == 12
    result = run_cli("analyze", *args, "--samples", "9", "--replace", cache=cache)
    assert result.returncode == 0, result.stderr
    assert stored_run(cache, "tiny")[1].n == 9


@pytest.mark.slow  # a subprocess smoke test of the real command line (TensorFlow import)
def test_serve_dry_run_analyzes_then_prints_the_url(user_files, tmp_path):
    cache = tmp_path / "cache"
    d = user_files
    args = ["--model", str(d / "tiny.keras"), "--data", str(d / "test.npz"), "--name", "served"]
    result = run_cli("serve", *args, "--port", "8123", "--dry-run", cache=cache)
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8123/" in result.stdout
    assert "'served'" in result.stdout.splitlines()[-1]
    entries, analysis = stored_run(cache, "served")
    assert "served" in entries and analysis.n == 40
    from fracdash.web import create_app

    page = str(create_app(cache_dir=cache, default_run="served").layout())
    assert "value='served'" in page  # the dashboard opens on the user's run


def write_idx(path, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = b"\0\0\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def test_idx_pair_by_images_file_and_by_folder(tmp_path):
    x = np.arange(5 * 3 * 3, dtype=np.uint8).reshape(5, 3, 3)
    y = np.array([1, 0, 1, 1, 0], np.uint8)
    write_idx(tmp_path / "test-images.idx.gz", x)
    write_idx(tmp_path / "test-labels.idx.gz", y)
    got_x, got_y, names = userdata.load_data(tmp_path / "test-images.idx.gz")
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)
    assert names is None
    got_x, got_y, _ = userdata.load_data(tmp_path)  # the folder holding the pair
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)
    warnings = []
    got_x, got_y, _ = userdata.load_data(tmp_path, samples=3, first=True, warn=warnings.append)
    np.testing.assert_array_equal(got_x, x[:3])
    assert warnings == ["using the first 3 of 5 samples (--first)"]


@pytest.mark.parametrize("mode, shape", [("L", (4, 6)), ("RGB", (4, 6, 3))])
def test_image_folder(tmp_path, mode, shape):
    from PIL import Image

    rng = np.random.default_rng(1)
    for cls, count in (("zebra", 2), ("ant", 3)):
        (tmp_path / cls).mkdir()
        for i in range(count):
            pixels = rng.integers(0, 256, shape, dtype=np.uint8)
            Image.fromarray(pixels, mode=mode).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "ant" / "notes.txt").write_text("ignored")
    warnings = []
    x, y, names = userdata.load_data(tmp_path, warn=warnings.append)
    assert names == ["ant", "zebra"]  # sorted subfolder names, and said so
    assert warnings == [
        "classes numbered by sorted folder name: 0=ant, 1=zebra; pass --class-names to map "
        "them to the model's indices"
    ]
    assert x.shape == (5, *shape) and x.dtype == np.uint8
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1])
    expected = np.asarray(Image.open(tmp_path / "zebra" / "1.png"))
    np.testing.assert_array_equal(x[4], expected)


def test_check_data_keeps_uint8_values_and_adds_the_channel_axis(keras):
    from keras import layers

    model = keras.Sequential(
        [keras.Input((3, 3, 1)), layers.Flatten(), layers.Dense(2), layers.Softmax()]
    )
    x = np.full((4, 3, 3), 255, np.uint8)
    one_hot = np.eye(2, dtype=np.float32)[[0, 1, 1, 0]]
    got_x, got_y, names = userdata.check_data(model, x, one_hot, ["a", "b"])
    assert got_x.shape == (4, 3, 3, 1) and got_x.dtype == np.float32
    assert got_x.max() == 255.0  # as it is: no silent / 255
    np.testing.assert_array_equal(got_y, [0, 1, 1, 0])
    assert names == ["a", "b"]


def test_class_names_file(tmp_path):
    (tmp_path / "n.txt").write_text("  one\n\ntwo \n")
    assert userdata.load_class_names(tmp_path / "n.txt") == ["one", "two"]
