"""Series of checkpoints (:mod:`fracdash.series`): ``fracdash analyze --model 'ckpt_*'``,
the Keras callback and the PyTorch helper, the reuse of stored orders for identical
weights, and the fixed-start option of ``vat_order`` against a brute-force Prim order."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers import assert_refused, brute_vat, distance_matrix, run_cli

import fracdash.cluster
import fracdash.series
from fracdash.compare import owners
from fracdash.core import vat_order
from fracdash.runs import analyze_run, catalog, delete_run, load_run
from fracdash.series import FIXED_START, series_catalog, series_runs
from fracdash.store import Store

N, D, K = 48, 6, 3


def brute_prim(x, start: int) -> np.ndarray:
    """Prim's order from ``start`` on the float64 distances, ties to the lower index."""
    r = distance_matrix(x)
    order, seen = [start], np.zeros(len(x), bool)
    seen[start] = True
    reach = r[start].copy()
    for _ in range(1, len(x)):
        j = int(np.argmin(np.where(seen, np.inf, reach)))
        order.append(j)
        seen[j] = True
        reach = np.minimum(reach, r[j])
    return np.array(order)


def test_vat_order_from_a_given_start_is_prims_order_from_it():
    x = np.random.default_rng(3).normal(size=(70, 5))
    np.testing.assert_array_equal(vat_order(x), brute_vat(x))  # the default: exact VAT
    for start in (0, 17, 69):
        np.testing.assert_array_equal(vat_order(x, start=start), brute_prim(x, start))
    cosine = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_array_equal(vat_order(x, "cosine", start=5), brute_prim(cosine, 5))
    for bad in (-1, 70, 2.0):
        with pytest.raises(ValueError, match="must be a sample index"):
            vat_order(x, start=bad)
    with pytest.raises(ValueError, match="not available for metric 'manhattan'"):
        vat_order(x, "manhattan", start=0)


def data():
    rng = np.random.default_rng(4)
    return rng.normal(size=(N, D)).astype(np.float32), np.arange(N) % K


def tiny(keras, seed: int):
    from keras import layers

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((D,)), layers.Dense(5, activation="relu", name="hidden"),
                             layers.Flatten(name="flat"), layers.Dense(K, name="logits"),
                             layers.Softmax(name="prediction")], name="tiny")  # fmt: skip


@pytest.fixture(scope="module")
def checkpoints(keras, tmp_path_factory):
    """ckpt_1, ckpt_2 and ckpt_10 of one network: 2 and 10 hold the same weights."""
    folder = tmp_path_factory.mktemp("ckpt")
    tiny(keras, 1).save(folder / "ckpt_1.keras")
    tiny(keras, 2).save(folder / "ckpt_2.keras")
    shutil.copy(folder / "ckpt_2.keras", folder / "ckpt_10.keras")
    x, y = data()
    np.savez(folder / "test.npz", x=x, y=y)
    return folder


def counting(monkeypatch) -> list:
    calls = []

    def counted(x, metric="euclidean", **kw):
        calls.append(kw.get("start"))
        return vat_order(x, metric, **kw)

    monkeypatch.setattr(fracdash.cluster, "vat_order", counted)  # exact: LocalOrderer
    monkeypatch.setattr(fracdash.series, "vat_order", counted)  # fixed start
    return calls


def test_a_pattern_of_checkpoints_is_one_series(checkpoints, tmp_path, monkeypatch):
    cache, calls = tmp_path / "store", counting(monkeypatch)
    args = ["analyze", "--model", str(checkpoints / "ckpt_*.keras"), "--data",
            str(checkpoints / "test.npz"), "--keep-labels"]  # fmt: skip
    result = run_cli(*args, cache=cache)
    assert result.returncode == 0, result.stderr
    assert "series 'ckpt': 3 checkpoints, steps 1, 2, 10" in result.stdout
    store = Store(cache)
    runs = catalog(store)
    record = series_catalog(store)["ckpt"]
    first, second, tenth = (load_run(store, f"ckpt@{s}") for s in (1, 2, 10))
    store.close()
    assert record["runs"] == ["ckpt@1", "ckpt@2", "ckpt@10"] and record["steps"] == [1, 2, 10]
    assert record["order"] == "exact VAT"
    # ckpt_10 has ckpt_2's weights: its orders were read from the store, none computed.
    assert runs["ckpt@10"]["key"] == runs["ckpt@2"]["key"]
    assert runs["ckpt@10"]["uses"] == runs["ckpt@2"]["uses"]
    assert len(calls) == 2 * len(set(owners(first).values()))
    assert owners(first)["flat"] == "hidden"  # a Flatten shares its input's order
    for a, b in zip(second.layers, tenth.layers, strict=True):
        np.testing.assert_array_equal(a.order, b.order)
    assert not np.array_equal(first.layers[1].order, second.layers[1].order)

    calls.clear()  # the same checkpoints from a fixed start: stored apart, exact ones kept
    result = run_cli(*args, "--name", "fixed", "--start-sample", "7", cache=cache)
    assert result.returncode == 0, result.stderr
    store = Store(cache)
    record = series_catalog(store)["fixed"]
    fixed, exact = load_run(store, "fixed@2"), load_run(store, "ckpt@2")
    store.close()
    assert record["order"] == FIXED_START and fixed.meta["order"] == FIXED_START
    assert fixed.meta["start"] == 7 and calls == [7] * (2 * len(set(owners(fixed).values())))
    x, _ = data()
    hidden = hidden_layer(checkpoints / "ckpt_2.keras", x)
    np.testing.assert_array_equal(fixed.layer("hidden").order, brute_prim(hidden, 7))
    np.testing.assert_array_equal(exact.layer("hidden").order, brute_vat(hidden))  # kept
    assert all(g.order[0] == 7 for g in fixed.layers)

    store = Store(cache)  # a deleted run leaves its series
    delete_run(store, "fixed@1")
    assert series_runs(store, "fixed") == [(2, "fixed@2"), (10, "fixed@10")]
    store.close()


def hidden_layer(path, x) -> np.ndarray:
    """The "hidden" layer of a saved tiny model on ``x``: relu(x W + b) in float64."""
    import keras

    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    w, b = model.get_layer("hidden").get_weights()
    return np.maximum(x.astype(np.float64) @ w.astype(np.float64) + b, 0)


def test_series_refusals(checkpoints, tmp_path):
    cache = tmp_path / "store"
    result = run_cli("analyze", "--model", str(checkpoints / "none_*.keras"), "--data",
                     str(checkpoints / "test.npz"), cache=cache)  # fmt: skip
    assert_refused(result, "no model file matches")
    result = run_cli("analyze", "--model", str(checkpoints / "ckpt_1.keras"), "--data",
                     str(checkpoints / "test.npz"), "--start-sample", "3", cache=cache)  # fmt: skip
    assert_refused(result, "--start-sample goes with a --model pattern")
    result = run_cli("analyze", "--model", str(checkpoints / "ckpt_*.keras"), "--data",
                     str(checkpoints / "test.npz"), "--start-sample", str(N),
                     "--keep-labels", cache=cache)  # fmt: skip
    assert_refused(result, f"start sample {N} is not one of the {N} samples")


def test_the_keras_callback_records_a_series(keras, tmp_path):
    import fracdash.keras

    x, y = data()
    model = tiny(keras, 5)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    callback = fracdash.keras.Checkpoints(x, y, every=2, name="fit", store=tmp_path,
                                          keep_labels=True)  # fmt: skip
    model.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[callback])
    assert callback.steps == [2, 4]
    store = Store(tmp_path)
    record = series_catalog(store)["fit"]
    last = load_run(store, "fit@4")
    again = analyze_run(store, model, x, y, name="after", keep_labels=True)  # the final model
    entries = catalog(store)
    store.close()
    assert record["runs"] == ["fit@2", "fit@4"]
    assert entries["fit@4"]["key"] == entries["after"]["key"]
    assert entries["fit@2"]["key"] != entries["fit@4"]["key"]  # it trained in between
    for a, b in zip(last.layers, again.layers, strict=True):
        np.testing.assert_array_equal(a.order, b.order)


@pytest.mark.slow  # imports torch and exports the module to ONNX (about 15 s here)
def test_the_torch_helper_records_a_series(tmp_path):
    import torch

    import fracdash.torch

    torch.manual_seed(0)
    x, y = data()
    model = torch.nn.Sequential(torch.nn.Linear(D, 5), torch.nn.ReLU(), torch.nn.Linear(5, K),
                                torch.nn.Softmax(dim=1))  # fmt: skip
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y).long()
    for epoch in (1, 2):
        model.train()
        optimizer.zero_grad()
        torch.nn.functional.nll_loss(torch.log(model(tx)), ty).backward()
        optimizer.step()
        fracdash.torch.record(model, tx, ty, epoch, name="loop", store=tmp_path, keep_labels=True)
        assert model.training  # left in train mode
    store = Store(tmp_path)
    record = series_catalog(store)["loop"]
    again = analyze_run(store, model, x, y, name="after", keep_labels=True)
    entries = catalog(store)
    store.close()
    assert record["steps"] == [1, 2]
    assert entries["loop@2"]["key"] == entries["after"]["key"] != entries["loop@1"]["key"]
    assert again.n == N


def test_the_thin_modules_import_nothing_heavy_and_shadow_nothing():
    code = ("import sys, importlib.util, fracdash.keras, fracdash.torch; "
            "heavy = [m for m in ('keras', 'tensorflow', 'torch') if m in sys.modules]; "
            "assert not heavy, heavy; "
            "found = [importlib.util.find_spec(m).origin for m in ('keras', 'torch')]; "
            "assert not [f for f in found if '/fracdash/' in f], found")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
