"""``fracdash metrics RUN``: a small easy run ordered under several metrics end to end,
its sibling runs stored, and its table's figures against independent references."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_refused, run_cli

from fracdash import scenarios, vat_order
from fracdash.core.measures import knn_accuracy
from fracdash.core.neighbours import exact_neighbours, prim_parents
from fracdash.runs import catalog, load_run, precompute_scenario
from fracdash.store import Store

N, K = 200, 5


@pytest.fixture(scope="module")
def easy(tmp_path_factory):
    cache = tmp_path_factory.mktemp("metrics") / "store"
    store = Store(cache)
    precompute_scenario(store, "easy", samples=N, epochs=1, train_samples=500)
    store.close()
    return cache


def table(stdout: str) -> dict:
    rows = {}
    for line in stdout.splitlines()[1:]:
        cells = line.split()
        if len(cells) == 7:
            rows[cells[0], cells[1]] = [float(c) for c in cells[2:]]
    return rows


@pytest.mark.slow
def test_metrics_orders_a_run_under_several_metrics(easy):
    result = run_cli("metrics", f"easy-{N}", "--metrics", "correlation,manhattan,relu-hamming",
                     "--k", str(K), cache=easy)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = table(result.stdout)
    layers = {layer for layer, _ in rows}
    assert {"input", "conv2d0", "relu0", "dense1", "prediction"} <= layers
    assert "flatten" not in layers  # it shares relu1's order
    for layer in layers:
        assert rows[layer, "euclidean"][3:] == [1.0, 1.0]  # agrees with itself
        assert (layer, "relu-hamming") in rows or not layer.startswith("relu")
    assert ("conv2d0", "relu-hamming") not in rows  # ReLU layers only

    store = Store(easy)
    runs = catalog(store)
    assert {f"easy-{N}-correlation", f"easy-{N}-manhattan"} <= set(runs)
    assert f"easy-{N}-relu-hamming" not in runs
    x, y, _ = scenarios.test_data(scenarios.SCENARIOS["easy"], N)
    pixels = x.reshape(N, -1)
    manhattan = load_run(store, f"easy-{N}-manhattan")
    np.testing.assert_array_equal(manhattan.layers[0].order, vat_order(pixels, "manhattan"))
    euclidean_order = load_run(store, f"easy-{N}").layers[0].order
    store.close()

    # The input layer's manhattan figures, from a brute-force L1 matrix.
    x64 = pixels.astype(np.float64)
    l1 = np.array([np.abs(x64 - x64[i]).sum(axis=1) for i in range(N)])
    near = np.array([[j for j in np.argsort(l1[i], kind="stable") if j != i][:K]
                     for i in range(N)])  # fmt: skip
    order = manhattan.layers[0].order
    parents = np.full(N, -1)
    for t in range(1, N):
        earlier = order[:t]
        parents[order[t]] = earlier[np.lexsort((earlier, l1[order[t], earlier]))[0]]
    base = prim_parents(pixels, euclidean_order)
    child = np.flatnonzero(parents >= 0)
    edges = {frozenset((c, parents[c])) for c in child}
    shared = sum(frozenset((c, base[c])) in edges for c in np.flatnonzero(base >= 0)) / (N - 1)
    figures = rows["input", "manhattan"]
    assert figures[0] == pytest.approx(knn_accuracy(near, y), abs=5e-4)
    assert figures[3] == pytest.approx(shared, abs=5e-4)
    found = exact_neighbours(pixels, K)  # and euclidean's kNN accuracy
    assert rows["input", "euclidean"][0] == pytest.approx(knn_accuracy(found.indices, y), abs=5e-4)


@pytest.mark.slow
def test_metrics_refusals_are_one_line(easy, tmp_path):
    assert_refused(run_cli("metrics", "nosuch", cache=easy), "no run named 'nosuch'")
    assert_refused(run_cli("metrics", f"easy-{N}", "--metrics", "angular", cache=easy),
                   "unknown metric 'angular'")  # fmt: skip
    assert_refused(run_cli("metrics", f"easy-{N}", "--k", str(N), cache=easy), "--k")
