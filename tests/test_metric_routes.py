"""The metric table where the user meets it: the command line's choices and help, the
pipeline's refusals before any forward pass (one line naming the layer and the fix),
sibling runs of one model under several metrics, the page's header, and a real Dask
LocalCluster ordering under the new metrics."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from fracdash import vat_order
from fracdash.cluster import DaskOrderer, LayerJob, check_layers, layer_order
from fracdash.core.metrics import METRIC_TABLE, METRICS, MetricRefused, check_layer
from fracdash.core.nodes import LayerNode
from fracdash.errors import UserDataError


@pytest.mark.parametrize("command", ["analyze", "precompute"])
def test_help_lists_every_metric(command):
    from fracdash.cli import main

    out = CliRunner().invoke(main, [command, "--help"], terminal_width=400).output
    assert "[" + "|".join(METRICS) + "]" in out
    flat = " ".join(out.split())
    for metric in METRIC_TABLE:
        assert f"{metric.name}: {metric.summary}" in flat


def test_an_unknown_metric_is_one_line(tmp_path):
    from helpers import run_cli

    result = run_cli("precompute", "easy", "--metric", "angular", cache=tmp_path / "store")
    assert result.returncode == 2 and "angular" in result.stderr


NODES = [
    LayerNode("input", "InputLayer", (), (6, 6, 1)),
    LayerNode("conv", "Conv2D", ("input",), (4, 4, 3)),
    LayerNode("relu", "Activation", ("conv",), (4, 4, 3), relu=True),
    LayerNode("leaky", "LeakyReLU", ("relu",), (4, 4, 3)),
    LayerNode("dense", "Dense", ("leaky",), (200,)),
]


def test_relu_hamming_is_refused_on_a_layer_that_is_not_relu():
    check_layers(NODES, ["relu", "leaky"], "relu-hamming", 100)
    with pytest.raises(UserDataError) as caught:
        check_layers(NODES, ["relu", "conv", "dense"], "relu-hamming", 100)
    message = str(caught.value)
    assert "'conv' (Conv2D) is not one" in message and "; " in message
    assert "\n" not in message


def test_kernels_past_the_budget_are_refused_before_the_forward_pass(monkeypatch):
    monkeypatch.setenv("FRACDASH_MATRIX_BUDGET", "1M")  # 8 n² > 1 MiB past n = 362
    check_layers(NODES, ["input", "dense"], "manhattan", 362)
    check_layers(NODES, ["input"], "manhattan", 5000)  # 36 features: without a matrix
    with pytest.raises(UserDataError, match=r"manhattan on 5,000 samples at layer 'dense'.*200"):
        check_layers(NODES, ["input", "dense"], "manhattan", 5000)
    with pytest.raises(UserDataError, match=r"local-scaling on 400 samples at layer 'input'"):
        check_layers(NODES, ["input"], "local-scaling", 400)
    for metric in ("euclidean", "cosine", "correlation", "standardized"):
        check_layers(NODES, ["input", "conv", "dense"], metric, 10**6)


def test_a_refusal_while_ordering_names_the_layer():
    x = np.zeros((30, 200), np.float32)
    with pytest.raises(UserDataError, match=r"^layer 'dense': manhattan on 30 samples"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("FRACDASH_MATRIX_BUDGET", "100")
            layer_order("dense", x, "manhattan")


def test_pipeline_refuses_relu_hamming_before_the_forward_pass(toy_sequential, monkeypatch):
    from fracdash import pipeline
    from fracdash.models import activations

    def no_forward(*args, **kwargs):
        raise AssertionError("the forward pass ran")

    monkeypatch.setattr(activations, "forward", no_forward)
    x = np.random.default_rng(0).random((12, 5, 5, 1), dtype=np.float32)
    with pytest.raises(UserDataError, match=r"layer '[^']+' \(InputLayer\) is not one"):
        pipeline.analyze(toy_sequential, x, np.arange(12) % 4, metric="relu-hamming")


def test_sibling_runs_under_two_metrics(toy_sequential, tmp_path):
    """One model and data under two metrics: two analyses in the store (neither
    overwrites the other), each order that metric's, the metric in the page's header."""
    from fracdash.runs import analyze_run, load_run
    from fracdash.store import Store
    from fracdash.web.panels import note_text

    rng = np.random.default_rng(1)
    x = rng.random((40, 5, 5, 1), dtype=np.float32)
    y = np.arange(40) % 4
    store = Store(tmp_path / "store")
    runs = {m: analyze_run(store, toy_sequential, x, y, name=f"toy-{m}", metric=m,
                           keep_labels=True)  # fmt: skip
            for m in ("euclidean", "manhattan", "standardized")}
    keys = {a.meta["key"] for a in runs.values()}
    assert len(keys) == 3
    pixels = x.reshape(40, -1)
    for metric in runs:
        stored = load_run(store, f"toy-{metric}")
        assert stored.meta["metric"] == metric
        assert f"metric: {metric}" in note_text(f"toy-{metric}", stored)
        inputs = next(g for g in stored.layers if g.kind == "InputLayer")
        np.testing.assert_array_equal(inputs.order, vat_order(pixels, metric))
    euclidean, manhattan = (runs[m].layers[0].order for m in ("euclidean", "manhattan"))
    assert not np.array_equal(euclidean, manhattan)
    store.close()


def test_compare_metrics_takes_a_runs_stored_figures(toy_sequential, tmp_path, monkeypatch):
    """``fracdash metrics`` reuses what each run measured when it was analyzed: given
    as ``known``, the figures equal those measured again, and no neighbour pass runs."""
    from fracdash.core import comparison
    from fracdash.measuring import known_figures
    from fracdash.runs import analyze_run
    from fracdash.store import Store

    rng = np.random.default_rng(2)
    x = rng.random((40, 5, 5, 1), dtype=np.float32)
    y = np.arange(40) % 4
    store = Store(tmp_path / "store")
    runs = {m: analyze_run(store, toy_sequential, x, y, name=f"toy-{m}", metric=m)
            for m in ("euclidean", "correlation")}  # fmt: skip
    layer = next(g.name for g in runs["euclidean"].layers if g.kind == "InputLayer")
    orders = {m: a.layer(layer).order for m, a in runs.items()}
    known = known_figures(store, runs, 10)[layer]
    assert set(known) == set(runs)
    assert known_figures(store, runs, 5) == {}  # measured with k = 10 only
    measured = comparison.compare_metrics(x.reshape(40, -1), y, orders, k=10)
    monkeypatch.setattr(comparison, "_figures", lambda *a: pytest.fail("measured again"))
    given = comparison.compare_metrics(x.reshape(40, -1), y, orders, k=10, known=known)
    assert given == measured
    assert measured[1].tree_edges < 1.0  # correlation's tree differs: the trees are read
    store.close()


@pytest.mark.slow
def test_a_dask_local_cluster_orders_under_the_new_metrics(tmp_path):
    rng = np.random.default_rng(2)

    class Acts(dict):
        def release(self, name):
            self.pop(name)

    layers = {"wide": rng.random((300, 3000), dtype=np.float32),  # a .npy file
              "narrow": np.maximum(rng.standard_normal((300, 20)), 0).astype(np.float32)}
    jobs = [LayerJob(name, x.shape[1]) for name, x in layers.items()]
    with DaskOrderer.local(1, shared_dir=tmp_path, threads=1) as orderer:
        for metric in ("correlation", "manhattan", "relu-hamming", "local-scaling"):
            got = dict(orderer.orders(jobs, Acts(layers), metric))
            for name, x in layers.items():
                np.testing.assert_array_equal(got[name], vat_order(x, metric), name)


@pytest.mark.parametrize("metric", [m for m in METRICS if m not in ("manhattan",
                                                                     "local-scaling")])
def test_row_transforms_are_the_routes_rows(metric):
    """The callables that fracdash.core.neighbours takes give the very rows the VAT
    routes order (so measures and orders speak of one metric)."""
    from fracdash.core.metrics import row_transform

    x = np.maximum(np.random.default_rng(16).standard_normal((70, 9)), 0)
    transform = row_transform(metric)
    z = x if transform is None else transform(x)
    np.testing.assert_array_equal(vat_order(x, metric), vat_order(z, "euclidean"))


def test_refusals_name_the_problem_and_the_fix():
    x = np.zeros((20, 200), np.float32)
    with pytest.raises(MetricRefused, match=r"manhattan on 20 samples.*200 features.*; raise"):
        vat_order(x, "manhattan", matrix_budget=0)
    with pytest.raises(MetricRefused, match=r"local-scaling on 20 samples.*; raise"):
        vat_order(x, "local-scaling", matrix_budget=0)
    with pytest.raises(MetricRefused, match=r"layer 'conv' \(Conv2D\) is not one; choose"):
        check_layer("relu-hamming", "conv", "Conv2D", relu=False)
    check_layer("relu-hamming", "relu", "Activation", relu=True)
    check_layer("relu-hamming", "act", "LeakyReLU")
    check_layer("manhattan", "conv", "Conv2D")
    with pytest.raises(ValueError, match="choose one of euclidean, cosine"):
        vat_order(x, "angular")


@pytest.mark.parametrize("metric", METRICS)
def test_nan_is_refused(metric):
    from fracdash.core.centring import NonFiniteValues

    x = np.ones((5, 3))
    x[2, 1] = np.nan
    with pytest.raises(NonFiniteValues):
        vat_order(x, metric)


def test_matrix_neighbours_and_parents_equal_the_exact_neighbours():
    """fracdash metrics' neighbours from a float64 matrix (manhattan, local-scaling)
    rank as fracdash.core.neighbours does: fed the Euclidean matrix, in its summation
    order, they give its indices, ranks and Prim tree exactly (duplicates included)."""
    from fracdash.core.comparison import matrix_neighbours, matrix_parents
    from fracdash.core.neighbours import exact_neighbours

    rng = np.random.default_rng(3)
    x = rng.standard_normal((60, 5))[rng.integers(0, 45, size=120)]  # duplicates: ties
    order = vat_order(x)
    targets = np.array([rng.choice(np.delete(np.arange(120), i), 4, replace=False)
                        for i in range(120)])  # fmt: skip
    sq = np.array([((x - x[i]) ** 2).sum(axis=1) for i in range(120)])
    indices, ranks = matrix_neighbours(sq, 6, targets)
    found = exact_neighbours(x, 6, targets=targets, order=order)
    np.testing.assert_array_equal(indices, found.indices)
    np.testing.assert_array_equal(ranks, found.ranks)
    np.testing.assert_array_equal(matrix_parents(sq, order), found.parents)
