"""The measures stage: each layer's kNN accuracy, hubness and trustworthiness, computed
as its order arrives, stored with the run, shown in the CLI's table."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

import fracdash
import fracdash.cluster as cluster
import fracdash.measuring as measuring
from fracdash.analysis import Analysis
from fracdash.core.measures import layer_measures
from fracdash.store import Store

RNG = np.random.default_rng(3)


def mlp():
    """Flatten (reorder-only), MatMul + Relu, MatMul, Softmax: 3 classes."""
    n, rng = helper.make_node, np.random.default_rng(5)
    nodes = [
        n("Flatten", ["x"], ["f"], name="flatten", axis=1),
        n("MatMul", ["f", "W1"], ["h"], name="dense"),
        n("Relu", ["h"], ["r"], name="relu"),
        n("MatMul", ["r", "W2"], ["logits"], name="out"),
        n("Softmax", ["logits"], ["y"], name="prediction"),
    ]
    weights = [
        numpy_helper.from_array(rng.normal(size=s).astype(np.float32), w)
        for w, s in (("W1", (8, 6)), ("W2", (6, 3)))
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])], weights,
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def data(n=60):
    y = np.arange(n) % 3
    x = (RNG.normal(size=(n, 2, 4)) + y[:, None, None]).astype(np.float32)
    return x, y


def activations(model, x, name):
    """A layer's output, from onnxruntime on a graph whose output is that tensor."""
    import onnxruntime as ort

    out = {"dense": "h", "relu": "r", "out": "logits", "prediction": "y"}[name]
    m = helper.make_model(model.graph, opset_imports=model.opset_import)
    del m.graph.output[:]
    m.graph.output.extend([helper.make_tensor_value_info(out, TensorProto.FLOAT, None)])
    session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0].reshape(len(x), -1)


def measures_entry(store, key) -> bool:
    """Whether ``key`` holds a layer's measures (a record with ``measures``; orders and
    predictions are plain arrays)."""
    return "measures" in (store.get_array(key).dtype.names or ())


def test_stored_measures_are_the_layers_own(tmp_path):
    model, (x, y) = mlp(), data()
    analysis = fracdash.analyze(model, x, y, store=tmp_path)
    assert analysis.meta["measures_k"] == 10
    for g in analysis.layers:
        flat = g.name in ("x", "flatten")
        source = x.reshape(len(x), -1) if flat else activations(model, x, g.name)
        want = layer_measures(source, y, g.order, k=10)
        got = (g.knn_accuracy, g.hubness, g.trustworthiness)
        assert got == pytest.approx(tuple(want), abs=1e-9), g.name
    # The stored analysis carries them (JSON header, no pickle).
    again = Analysis.from_bytes(analysis.to_bytes())
    assert [g.hubness for g in again.layers] == [g.hubness for g in analysis.layers]
    # Another curve keeps the space's measures, not the compact glyph's trustworthiness.
    paper = analysis.on_curve("paper")
    assert paper.layers[1].knn_accuracy == analysis.layers[1].knn_accuracy
    assert paper.layers[1].trustworthiness is None


def test_second_analyze_reads_them_from_the_store(tmp_path, monkeypatch):
    model, (x, y) = mlp(), data()
    calls = []
    real = measuring.measures_and_neighbours  # (with a store: the neighbours too)
    monkeypatch.setattr(
        measuring, "measures_and_neighbours", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    first = fracdash.analyze(model, x, y, store=tmp_path)
    owners = len({g.name for g in first.layers} - {"flatten"})  # flatten shares x's
    assert len(calls) == owners
    second = fracdash.analyze(model, x, y, store=tmp_path)
    assert len(calls) == owners
    assert [g.knn_accuracy for g in second.layers] == [g.knn_accuracy for g in first.layers]
    # Orders stored without their measures (an older run): measured, not reordered.
    store = Store(tmp_path)
    stored = [k for k in first.meta["uses"] if measures_entry(store, k)]
    assert len(stored) == owners
    for key in stored:
        store.delete(key)
    ordered = []
    real_order = cluster.layer_order
    monkeypatch.setattr(cluster, "layer_order", lambda *a: ordered.append(1) or real_order(*a))
    third = fracdash.analyze(model, x, y, store=tmp_path)
    assert ordered == []
    assert len(calls) == 2 * owners
    assert [g.trustworthiness for g in third.layers] == [g.trustworthiness for g in first.layers]


def test_metric_without_exact_neighbours_has_none():
    model, (x, y) = mlp(), data(30)
    analysis = fracdash.analyze(model, x, y, metric="manhattan")
    assert all(g.knn_accuracy is None and g.hubness is None for g in analysis.layers)
    assert "measures_k" not in analysis.meta


def test_cli_table_prints_the_measures(tmp_path):
    import onnx

    from fracdash.cli import main
    from fracdash.runs import load_run

    onnx.save(mlp(), tmp_path / "mlp.onnx")
    x, y = data()
    np.savez(tmp_path / "data.npz", x=x, y=y)
    args = ["--model", str(tmp_path / "mlp.onnx"), "--data", str(tmp_path / "data.npz"),
            "--cache-dir", str(tmp_path / "store"), "--keep-labels"]  # fmt: skip
    result = CliRunner().invoke(main, ["analyze", *args])
    assert result.exit_code == 0, result.output
    assert "kNN accuracy, hubness, trustworthiness: k = 10" in result.stdout
    store = Store(tmp_path / "store")
    try:
        analysis = load_run(store, "mlp")
    finally:
        store.close()
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if " quality " in line}
    for g in analysis.layers:
        assert f"kNN {g.knn_accuracy:.3f}  hubness {g.hubness:+.2f}  " in rows[g.name]
        assert rows[g.name].endswith(f"trust {g.trustworthiness:.3f}")
    # --no-measures (Python: measures=False) stores a run without them.
    skipped = CliRunner().invoke(main, ["analyze", *args, "--name", "plain", "--no-measures"])
    assert skipped.exit_code == 0, skipped.output
    assert "kNN accuracy" not in skipped.stdout
    store = Store(tmp_path / "store")
    try:
        assert all(g.knn_accuracy is None for g in load_run(store, "plain").layers)
    finally:
        store.close()


def test_measures_false_leaves_them_out(tmp_path):
    from fracdash.pipeline import analyze

    model, (x, y) = mlp(), data(30)
    analysis = analyze(model, x, y, store=tmp_path, measures=False)
    assert all(g.trustworthiness is None for g in analysis.layers)
    store = Store(tmp_path)
    assert not any(measures_entry(store, k) for k in analysis.meta["uses"])


def test_every_stored_entry_form_is_read(tmp_path):
    """The three forms a measures entry takes: a full record (measures, neighbours,
    tree), a bare array of three measures (stored before neighbours were kept), and an
    empty array (a layer not measured). Each reader takes what the form holds."""
    store = Store(tmp_path)
    rng = np.random.default_rng(3)
    near = measuring.LayerNeighbours(rng.integers(0, 20, (20, 10)).astype(np.int32),
                                     rng.integers(0, 20, 20).astype(np.int32))  # fmt: skip
    full = measuring.LayerMeasures(0.75, 1.5, 0.875)
    store.set_array("full", measuring._entry(full, near))
    store.set_array("old", np.array([0.5, 2.0, 0.625]))
    store.set_array("none", measuring._entry(None, None))
    keys = {"a": "full", "b": "old", "c": "none", "d": "absent"}
    assert measuring.stored_measures(store, keys) == {
        "a": full,
        "b": measuring.LayerMeasures(0.5, 2.0, 0.625),
        "c": None,
    }
    got = measuring.stored_neighbours(store, keys)
    assert list(got) == ["a"]
    np.testing.assert_array_equal(got["a"].indices, near.indices)
    np.testing.assert_array_equal(got["a"].parents, near.parents)
    assert measuring.stored_measures(None, keys) == {}

    class Run:  # what known_figures reads of an analysis
        meta = {"measured": keys}

    known = measuring.known_figures(store, {"euclidean": Run, "cosine": Run}, 10)
    assert list(known) == ["a"] and set(known["a"]) == {"euclidean", "cosine"}
    assert known["a"]["cosine"][0] == full
    np.testing.assert_array_equal(known["a"]["cosine"][1], near.parents)
    assert measuring.known_figures(store, {"euclidean": Run}, 7) == {}  # stored k is 10
    assert measuring.known_figures(store, {"euclidean": Run}, 10, curve="paper") == {}
