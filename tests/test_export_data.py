"""A run and a comparison as data for a notebook (``fracdash export --data``,
``fracdash compare --data``): the tables' columns and values against the stored runs,
computed independently, and the refusals."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from helpers import assert_refused, run_cli
from tiny_models import curve_jaccard, mlp, samples

from fracdash.runs import analyze_run, load_run
from fracdash.store import Store

N = 60


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    cache = tmp_path_factory.mktemp("export-data") / "store"
    store = Store(cache)
    x, y = samples(N)
    names = ["cat", "dog", "bird"]
    for name, seed in (("a", 1), ("b", 2)):
        analyze_run(store, mlp(seed), x, y, names, name=name, keep_labels=True)
    store.close()
    return cache


def read_csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def stored(cache, name):
    store = Store(cache)
    try:
        return load_run(store, name)
    finally:
        store.close()


def test_a_run_as_csv_holds_every_sample_and_layer(store_dir, tmp_path):
    result = run_cli("export", "a", "--data", str(tmp_path / "a.csv"), cache=store_dir)
    assert result.returncode == 0, result.stderr
    assert f"wrote {tmp_path / 'a-layers.csv'}" in result.stdout
    run = stored(store_dir, "a")
    rows = read_csv(tmp_path / "a.csv")
    columns = ["index", "label", "label_name", "predicted", "predicted_name"]
    for g in run.layers:
        columns += [f"x:{g.name}", f"y:{g.name}", f"rank:{g.name}"]
    assert list(rows[0]) == columns and len(rows) == N
    for i, row in enumerate(rows):
        assert int(row["index"]) == i
        assert int(row["label"]) == run.labels[i]
        assert row["label_name"] == run.class_names[run.labels[i]]
        assert int(row["predicted"]) == run.predictions[i]
        for g in run.layers:
            assert int(row[f"rank:{g.name}"]) == g.order.tolist().index(i)
            assert (int(row[f"x:{g.name}"]), int(row[f"y:{g.name}"])) == tuple(g.positions[i])
    layers = read_csv(tmp_path / "a-layers.csv")
    assert [r["layer"] for r in layers] == run.layer_names
    for r, g in zip(layers, run.layers, strict=True):
        assert float(r["quality"]) == g.quality  # written to round-trip
        assert (r["kind"], r["inputs"], int(r["width"])) == (g.kind, ";".join(g.inputs), g.width)


def test_parquet_needs_pyarrow_and_other_formats_are_refused(store_dir, tmp_path):
    target = tmp_path / "a.parquet"
    result = run_cli("export", "a", "--data", str(target), cache=store_dir)
    try:
        import pyarrow.parquet as pq
    except ImportError:
        assert_refused(result, "needs pyarrow, which is not installed; pip install pyarrow")
        assert not target.exists()
    else:  # with pyarrow: the same table as the CSV's
        assert result.returncode == 0, result.stderr
        table = pq.read_table(target).to_pydict()
        run = stored(store_dir, "a")
        assert table["predicted"] == run.predictions.tolist()
    assert_refused(run_cli("export", "a", "--data", str(tmp_path / "a.xlsx"), cache=store_dir),
                   "unknown format '.xlsx'")  # fmt: skip
    same = str(tmp_path / "a.csv")
    result = run_cli("export", "a", "--data", same, "--html", same, cache=store_dir)
    assert_refused(result, "both name")
    assert not (tmp_path / "a.csv").exists()


def test_a_comparison_as_csv(store_dir, tmp_path):
    result = run_cli("compare", "a", "b", "--data", str(tmp_path / "ab.csv"), cache=store_dir)
    assert result.returncode == 0, result.stderr
    a, b = stored(store_dir, "a"), stored(store_dir, "b")
    rows = read_csv(tmp_path / "ab.csv")
    columns = ["index", "label", "predicted_a", "predicted_b", "correctness", "agreement"]
    columns += [f"rank_a:{n}" for n in a.layer_names] + [f"rank_b:{n}" for n in b.layer_names]
    columns += [c for n in a.layer_names for c in (f"curve:{n}~{n}", f"knn:{n}~{n}")]
    assert list(rows[0]) == columns and len(rows) == N  # kNN: from the stored neighbours
    curves = {n: curve_jaccard(a.layer(n).positions, b.layer(n).positions) for n in a.layer_names}
    for i, row in enumerate(rows):
        pa, pb, truth = a.predictions[i], b.predictions[i], a.labels[i]
        assert (int(row["predicted_a"]), int(row["predicted_b"])) == (pa, pb)
        want = ("both right" if pa == truth == pb else "only A right" if pa == truth
                else "only B right" if pb == truth else "both wrong")  # fmt: skip
        assert row["correctness"] == want
        for n in a.layer_names:
            assert int(row[f"rank_b:{n}"]) == b.layer(n).order.tolist().index(i)
            assert float(row[f"curve:{n}~{n}"]) == pytest.approx(curves[n][i])
        mean = np.mean([curves[n][i] for n in a.layer_names])
        assert float(row["agreement"]) == pytest.approx(mean)  # the lowest moved most
    layers = read_csv(tmp_path / "ab-layers.csv")
    assert list(layers[0]) == ["layer_a", "layer_b", "quality_a", "quality_b", "difference",
                               "curve", "knn", "tree_edges", "cka"]  # fmt: skip
    for r in layers:
        assert float(r["quality_b"]) == b.layer(r["layer_b"]).quality
        assert float(r["curve"]) == pytest.approx(np.mean(curves[r["layer_a"]]))
        assert r["cka"] == ""  # left out: no model to compute it from
        knn = [float(row[f"knn:{r['layer_a']}~{r['layer_b']}"]) for row in rows]
        assert 0 <= min(knn) and max(knn) <= 1
        assert float(r["knn"]) == pytest.approx(np.mean(knn))  # the stored neighbours'
        assert 0 <= float(r["tree_edges"]) <= 1
