"""The neighbours the measures stage keeps (:mod:`fracdash.measuring`) and the comparison
that reads them (:mod:`fracdash.compare`): the stored kNN and Prim trees against a
brute-force float64 reference, stored by this process's route and by a cluster's
(measured after the last order), and a comparison from them equal, sample for sample,
to one computed again from the models with the neighbours deleted."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import distances, mlp, prim_edges, samples

from fracdash import compare as compare_module
from fracdash import pipeline
from fracdash.cluster import LocalOrderer
from fracdash.compare import compare_runs, owners
from fracdash.measuring import MEASURE_K, measure_keys, stored_neighbours
from fracdash.run_inputs import find_inputs
from fracdash.runs import analyze_run, catalog, load_run
from fracdash.store import Store

N = 80
DUPLICATES = {7: 2, 30: 2, 41: 5, 55: 12}  # sample -> the earlier sample it copies


def data():
    """Seeded samples with exact copies: distance ties, broken by the lower index."""
    x, y = samples(N)
    for i, j in DUPLICATES.items():
        x[i] = x[j]
    return x, y


def brute_knn(x, k: int) -> np.ndarray:
    """(n, k): each sample's k nearest others, by (float64 distance, index), from the
    full distance matrix."""
    r = distances(x)
    np.fill_diagonal(r, np.inf)
    return np.array([np.lexsort((np.arange(len(x)), row))[:k] for row in r])


class NotLocal:
    """This process's orders from an orderer the pipeline takes for a cluster's: it
    measures every layer after the last order (:class:`fracdash.measuring.Measurer`)."""

    def orders(self, jobs, acts, metric, progress=None):
        yield from LocalOrderer().orders(jobs, acts, metric, progress)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Runs "a" and "b" (two seeds) on the same samples; each model kept for inputs=."""
    cache = tmp_path_factory.mktemp("stored") / "store"
    x, y = data()
    store = Store(cache)
    for name, seed in (("a", 1), ("b", 2)):
        analyze_run(store, mlp(seed), x, y, name=name, keep_labels=True)
    store.close()
    return cache, {"a": (mlp(1), x), "b": (mlp(2), x)}


def layer_values(store, name, given) -> dict:
    """Every layer's activations (n, d) as the model computes them (float32)."""
    analysis = load_run(store, name)
    return compare_module.layer_activations(find_inputs(store, analysis, given).inputs, analysis)


def kept(store, name) -> dict:
    return stored_neighbours(store, catalog(store)[name]["measured"])


def assert_brute_force(found, acts, analysis):
    assert set(found) == set(owners(analysis).values())
    for layer, near in found.items():
        assert near.indices.dtype == np.int32 and near.parents.dtype == np.int32
        np.testing.assert_array_equal(near.indices, brute_knn(acts[layer], MEASURE_K), layer)
        order = analysis.layer(layer).order
        assert near.parents[order[0]] == -1 and (near.parents >= 0).sum() == N - 1
        edges = {frozenset((int(c), int(p))) for c, p in enumerate(near.parents) if p >= 0}
        assert edges == prim_edges(acts[layer], order), layer
        # Each child's parent is its exact nearest earlier sample, ties to the lower index.
        rank = np.argsort(order)
        r = distances(acts[layer])
        for child in order[1:]:
            earlier = order[: rank[child]]
            want = earlier[np.lexsort((earlier, r[child, earlier]))[0]]
            assert near.parents[child] == want, (layer, child)


def test_stored_neighbours_and_trees_equal_brute_force(runs):
    cache, models = runs
    store = Store(cache)
    try:
        for name in ("a", "b"):
            analysis = load_run(store, name)
            acts = layer_values(store, name, models[name])
            assert_brute_force(kept(store, name), acts, analysis)
    finally:
        store.close()


def test_a_clusters_route_stores_them_too(runs, tmp_path):
    cache, models = runs
    x, y = data()
    store = Store(tmp_path / "store")
    try:
        got = pipeline.analyze(mlp(1), x, y, store=store, orderer=NotLocal())
        measured = measure_keys({u: u for u in got.meta["uses"]}, "euclidean", y).values()
        assert len(set(measured) & set(got.meta["uses"])) == len(got.layers)
        assert set(got.meta["measured"].values()) <= set(got.meta["uses"])
        found = stored_neighbours(store, got.meta["measured"])
    finally:
        store.close()
    reference = Store(cache)
    try:
        acts = layer_values(reference, "a", models["a"])
        for g in got.layers:
            np.testing.assert_array_equal(g.order, load_run(reference, "a").layer(g.name).order)
    finally:
        reference.close()
    assert_brute_force(found, acts, got)


def forget_neighbours(store, name):
    """Delete run ``name``'s stored measures (an older run's store: no neighbours)."""
    analysis = load_run(store, name)
    keys = measure_keys({u: u for u in catalog(store)[name]["uses"]}, "euclidean",
                        analysis.labels)  # fmt: skip
    for key in keys.values():
        store.delete(key)


@pytest.mark.parametrize("k", [MEASURE_K, 4])
def test_a_comparison_from_stored_neighbours_equals_one_computed_again(runs, tmp_path, k,
                                                                       monkeypatch):  # fmt: skip
    import shutil

    cache, models = runs
    copy = tmp_path / "store"
    shutil.copytree(cache, copy)
    store = Store(copy)
    try:
        with monkeypatch.context() as m:  # no model, no neighbour pass
            for fn in ("find_inputs", "layer_activations", "exact_neighbours"):
                m.setattr(compare_module, fn, lambda *a, fn=fn, **kw: pytest.fail(f"{fn} called"))
            fast = compare_runs(store, "a", "b", k=k, cka="none")
        assert fast.notes == [] and fast.has_activations
        store.delete(fast.meta["key"])
        for name in ("a", "b"):
            forget_neighbours(store, name)
        calls, real = [], compare_module.exact_neighbours
        monkeypatch.setattr(compare_module, "exact_neighbours",
                            lambda *a, **kw: calls.append(1) or real(*a, **kw))  # fmt: skip
        again = compare_runs(store, "a", "b", k=k, cka="none", inputs=models)
    finally:
        store.close()
    assert len(calls) == 2 * len(fast.pairs)  # today's path: every layer of both runs
    assert again.meta["key"] == fast.meta["key"] and again.notes == []
    np.testing.assert_array_equal(fast.knn_samples, again.knn_samples)
    assert [(p.knn, p.tree_edges) for p in fast.pairs] == [(p.knn, p.tree_edges)
                                                           for p in again.pairs]  # fmt: skip
    assert all(p.cka is None for p in fast.pairs)
    assert 0 < np.mean([p.tree_edges for p in fast.pairs]) < 1  # not a vacuous equality


def test_without_the_models_cka_none_still_gives_the_stored_measures(runs, tmp_path):
    import shutil

    cache, models = runs
    shutil.copytree(cache, tmp_path / "store")
    store = Store(tmp_path / "store")
    try:
        orders_only = compare_runs(store, "a", "b")  # ONNX objects given in Python: gone
        stored = compare_runs(store, "a", "b", cka="none")
        full = compare_runs(store, "a", "b", inputs=models)
        too_wide = compare_runs(store, "a", "b", k=MEASURE_K + 1, cka="none")  # past stored
    finally:
        store.close()
    assert orders_only.cka is None  # no model: CKA left out, kNN and trees from the store
    assert orders_only.notes[0].startswith("cka needs the layers' activations, not found")
    np.testing.assert_array_equal(orders_only.knn_samples, stored.knn_samples)
    assert stored.notes == [] and stored.cka is None
    assert full.notes == [] and full.cka is not None
    np.testing.assert_array_equal(stored.knn_samples, full.knn_samples)
    assert [p.tree_edges for p in stored.pairs] == [p.tree_edges for p in full.pairs]
    assert too_wide.knn_samples is None and too_wide.notes[0].endswith("; left out")
