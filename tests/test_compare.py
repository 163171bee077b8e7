"""Two runs compared (:mod:`fracdash.compare`, ``fracdash compare``): every measure
against a brute-force reference on tiny ONNX classifiers, the layer pairing, the
refusal of runs on other samples, and the stored comparison read back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import assert_refused, run_cli
from tiny_models import (
    brute_cka,
    curve_jaccard,
    knn_lists,
    mlp,
    mlp_layers,
    prim_edges,
    samples,
)

from fracdash import compare as compare_module
from fracdash.compare import compare_runs
from fracdash.errors import CompareError
from fracdash.layer_pairs import pair_layers, relative_depths
from fracdash.run_comparison import CORRECTNESS
from fracdash.runs import analyze_run, load_run
from fracdash.store import Store

N, KNN = 90, 5
DEEP = (7, 5)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Runs "a" and "b" (one architecture, two seeds), "deep" (another architecture) on
    the same samples, and "other" on other samples; each model kept for inputs=."""
    cache = tmp_path_factory.mktemp("compare") / "store"
    store = Store(cache)
    x, y = samples(N)
    x2, _ = samples(N, seed=1)
    specs = {"a": (1, (7,), x), "b": (2, (7,), x), "deep": (3, DEEP, x), "other": (1, (7,), x2)}
    for name, (seed, hidden, data) in specs.items():
        analyze_run(store, mlp(seed, hidden), data, y, name=name, keep_labels=True)
    store.close()
    models = {name: (mlp(seed, hidden), data) for name, (seed, hidden, data) in specs.items()}
    return cache, specs, models


def test_every_measure_matches_its_brute_force_reference(runs):
    cache, specs, models = runs
    store = Store(cache)
    got = compare_runs(store, "a", "b", k=KNN, inputs={n: models[n] for n in ("a", "b")})
    a, b = load_run(store, "a"), load_run(store, "b")
    store.close()
    x, y = samples(N)
    acts = {name: mlp_layers(specs[name][0], x) for name in ("a", "b")}
    assert got.pairing == "name" and got.notes == []
    assert [(p.a, p.b) for p in got.pairs] == [(n, n) for n in a.layer_names]
    for i, p in enumerate(got.pairs):
        ga, gb = a.layer(p.a), b.layer(p.b)
        assert (p.quality_a, p.quality_b) == (ga.quality, gb.quality)
        assert p.difference == pytest.approx(gb.quality - ga.quality)
        curve = curve_jaccard(ga.positions, gb.positions)
        np.testing.assert_allclose(got.curve_samples[i], curve, err_msg=p.a)
        assert p.curve == pytest.approx(curve.mean())
        near_a, near_b = knn_lists(acts["a"][p.a], KNN), knn_lists(acts["b"][p.b], KNN)
        overlap = [len(set(u) & set(v)) / KNN for u, v in zip(near_a, near_b, strict=True)]
        np.testing.assert_allclose(got.knn_samples[i], overlap, err_msg=p.a)
        edges_a = prim_edges(acts["a"][p.a], ga.order)
        edges_b = prim_edges(acts["b"][p.b], gb.order)
        assert p.tree_edges == pytest.approx(len(edges_a & edges_b) / (N - 1)), p.a
    for i, la in enumerate(a.layer_names):
        for j, lb in enumerate(b.layer_names):
            want = brute_cka(acts["a"][la], acts["b"][lb])
            assert got.cka[i, j] == pytest.approx(want, abs=1e-5), (la, lb)
    assert [p.cka for p in got.pairs] == [got.cka[i, i] for i in range(len(a.layers))]
    assert got.pairs[0].curve == 1.0 and got.pairs[0].cka == pytest.approx(1.0)  # the inputs
    classes = [CORRECTNESS.index("both right" if pa == t and pb == t else "only A right"
                                 if pa == t else "only B right" if pb == t else "both wrong")
               for pa, pb, t in zip(a.predictions, b.predictions, y, strict=True)]  # fmt: skip
    np.testing.assert_array_equal(got.correctness, classes)
    differ = [i for i in range(N) if a.predictions[i] != b.predictions[i]]
    np.testing.assert_array_equal(got.disagreements, differ)
    assert sum(got.counts().values()) == N


def test_a_run_against_itself_agrees_everywhere(runs):
    cache, _, models = runs
    store = Store(cache)
    got = compare_runs(store, "a", "a", k=KNN, inputs={"a": models["a"]})
    store.close()
    for p in got.pairs:
        assert (p.curve, p.knn, p.tree_edges, p.difference) == (1.0, 1.0, 1.0, 0.0)
    np.testing.assert_allclose(np.diag(got.cka), 1.0, atol=1e-9)
    np.testing.assert_allclose(got.cka, got.cka.T, atol=1e-9)
    assert got.disagreements.size == 0


def test_cka_of_the_pairs_only_or_none(runs):
    cache, _, models = runs
    store = Store(cache)
    given = {n: models[n] for n in ("a", "deep")}
    matrix = compare_runs(store, "a", "deep", k=2, inputs=given)
    pairs = compare_runs(store, "a", "deep", k=2, inputs=given, cka="pairs", pairs=[
        (p.a, p.b) for p in matrix.pairs[1:]])  # other pairs: not the stored comparison
    none = compare_runs(store, "a", "deep", k=3, inputs=given, cka="none")
    with pytest.raises(CompareError, match="unknown cka='all'"):
        compare_runs(store, "a", "deep", cka="all")
    store.close()
    assert pairs.cka is None and none.cka is None and matrix.cka.shape == (5, 7)
    for p, q in zip(matrix.pairs[1:], pairs.pairs, strict=True):
        assert q.cka == pytest.approx(p.cka, abs=1e-12) and q.knn == p.knn
    assert all(p.cka is None and p.knn is not None for p in none.pairs)


def test_other_architectures_pair_by_relative_depth_or_as_given(runs):
    cache, _, _ = runs
    store = Store(cache)
    a, deep = load_run(store, "a"), load_run(store, "deep")
    pairs, how = pair_layers(a, deep)
    assert how == "depth"
    depth_a, depth_b = relative_depths(a.layers), relative_depths(deep.layers)
    assert depth_b == {n: i / 6 for i, n in enumerate(deep.layer_names)}  # a chain of 7
    for la, lb in pairs:  # each at the nearest depth; of those, the same kind first
        gap = abs(depth_b[lb] - depth_a[la])
        assert gap == pytest.approx(min(abs(d - depth_a[la]) for d in depth_b.values()))
    assert pairs == [("x", "x"), ("dense1", "dense1"), ("relu1", "dense2"),
                     ("logits", "logits"), ("prediction", "prediction")]  # fmt: skip
    given = compare_runs(store, "a", "deep", pairs=["relu1:relu2", ("dense1", "dense2")])
    assert given.pairing == "given"
    assert [(p.a, p.b) for p in given.pairs] == [("relu1", "relu2"), ("dense1", "dense2")]
    with pytest.raises(CompareError, match="run B has no layer 'relu9'.*its layers: x, dense1"):
        compare_runs(store, "a", "deep", pairs=["relu1:relu9"])
    store.close()


def test_runs_of_other_samples_are_refused_in_one_line(runs):
    cache, _, _ = runs
    result = run_cli("compare", "a", "other", cache=cache)
    assert_refused(result, f"a holds {N} samples, other holds {N} samples: a comparison "
                           "needs the same samples in the same order")  # fmt: skip
    assert_refused(run_cli("compare", "a", "nope", cache=cache), "no run named 'nope'")
    result = run_cli("compare", "a", "b", "--pair", "dense1:nothing", cache=cache)
    assert_refused(result, "run B has no layer 'nothing'")
    assert_refused(run_cli("compare", "a", "b", "--k", str(N), cache=cache), "--k")


def test_a_second_call_reads_the_stored_comparison(runs, monkeypatch):
    cache, _, models = runs
    store = Store(cache)
    first = compare_runs(store, "b", "a", k=3, inputs={n: models[n] for n in ("a", "b")})

    def refuse(*args, **kwargs):
        raise AssertionError("computed again")

    for name in ("layer_activations", "measure", "find_inputs"):
        monkeypatch.setattr(compare_module, name, refuse)
    again = compare_runs(store, "b", "a", k=3)
    fewer = compare_runs(store, "b", "a", k=3, cka="pairs")  # the stored matrix holds them
    store.close()
    assert again.pairs == first.pairs == fewer.pairs and again.notes == []
    np.testing.assert_array_equal(again.cka, first.cka)
    np.testing.assert_array_equal(again.knn_samples, first.knn_samples)


def test_without_the_models_the_orders_measures_remain(runs):
    cache, specs, models = runs
    store = Store(cache)
    given = {n: models[n] for n in ("a", "deep")}
    with_models = compare_runs(store, "a", "deep", k=4, inputs=given)
    orders_only = compare_runs(store, "a", "deep", k=11)  # ONNX objects given in Python: gone
    from_store = compare_runs(store, "a", "deep", k=3)  # k <= 10: the stored neighbours
    recomputed = compare_runs(store, "a", "deep", k=3, inputs=given)
    wrong = compare_runs(store, "a", "deep", k=6, inputs={**given, "a": models["b"]})
    store.close()
    assert orders_only.knn_samples is None and orders_only.cka is None
    assert all(p.knn is None and p.tree_edges is None and p.cka is None for p in orders_only.pairs)
    assert "knn, tree_edges, cka need the layers' activations" in orders_only.notes[0]
    assert "pass inputs= from Python" in orders_only.notes[0]
    assert from_store.cka is None and "cka needs the layers' activations" in from_store.notes[0]
    np.testing.assert_array_equal(from_store.knn_samples, recomputed.knn_samples)
    assert [p.tree_edges for p in from_store.pairs] == [p.tree_edges for p in recomputed.pairs]
    assert [p.curve for p in orders_only.pairs] == [p.curve for p in with_models.pairs]
    assert "predicts" in wrong.notes[0] and wrong.cka is None  # b's model is not a's


def test_the_command_prints_the_table_and_json(runs, tmp_path):
    cache, _, _ = runs
    result = run_cli("compare", "a", "deep", "--pair", "relu1:relu2", "--json", cache=cache)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["pairing"] == "given" and doc["pairs"][0]["a"] == "relu1"
    assert doc["cka_diagonal"] == [None] and doc["notes"]  # stored without the models
    assert sum(doc["correctness"].values()) == N == doc["n"]
    result = run_cli("compare", "a", "b", cache=cache)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"a (A) against b (B): {N} samples, layers paired by name"
    header = lines[3].split()
    assert header[:2] == ["layer", "A"] and "CKA" in header
    rows = {line.split()[0]: line.split() for line in lines[4:] if not line.startswith("note")}
    store = Store(cache)
    a, b = load_run(store, "a"), load_run(store, "b")
    store.close()
    assert float(rows["relu1"][2]) == pytest.approx(a.layer("relu1").quality, abs=5e-4)
    assert float(rows["relu1"][4]) == pytest.approx(
        b.layer("relu1").quality - a.layer("relu1").quality, abs=5e-4)


def test_runs_of_fracdash_analyze_find_their_models_again(tmp_path):
    import onnx

    cache = tmp_path / "store"
    x, y = samples(N)
    np.savez(tmp_path / "test.npz", x=x, y=y)
    for name, seed in (("ua", 1), ("ub", 2)):
        onnx.save(mlp(seed), tmp_path / f"{name}.onnx")
        result = run_cli("analyze", "--model", str(tmp_path / f"{name}.onnx"), "--data",
                         str(tmp_path / "test.npz"), "--name", name, "--keep-labels",
                         cache=cache)  # fmt: skip
        assert result.returncode == 0, result.stderr
    result = run_cli("compare", "ua", "ub", "--k", str(KNN), "--json", cache=cache)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["notes"] == [] and doc["cka"] is None  # the pairs' CKA only, by default
    acts = {name: mlp_layers(seed, x) for name, seed in (("ua", 1), ("ub", 2))}
    for pair, cka in zip(doc["pairs"], doc["cka_diagonal"], strict=True):
        assert cka == pytest.approx(brute_cka(acts["ua"][pair["a"]], acts["ub"][pair["b"]]),
                                    abs=1e-5)  # fmt: skip
    (tmp_path / "test.npz").unlink()  # the data gone: the orders' measures only, with why
    result = run_cli("compare", "ua", "ub", "--k", "3", "--json", cache=cache)
    assert "its data file" in json.loads(result.stdout)["notes"][0]


def test_a_scenario_run_names_its_data_set():
    from helpers import toy_analysis

    from fracdash.compare import check_same_samples, describe_samples

    run = toy_analysis(n=40)
    run.meta.update(scenario="problematic", split="test", data_digest="f" * 64)
    said = describe_samples("problematic", run, {})
    assert said == "problematic holds 40 Fashion-MNIST test samples"
    other = toy_analysis(n=40)
    other.meta.update(data_digest="e" * 64)
    entry = {"data": "test.npz"}
    with pytest.raises(CompareError) as refused:
        check_same_samples("problematic", run, {}, "mine", other, entry)
    assert str(refused.value) == (
        "problematic holds 40 Fashion-MNIST test samples, mine holds 40 samples of test.npz: "
        "a comparison needs the same samples in the same order; compare two runs of one test set"
    )
