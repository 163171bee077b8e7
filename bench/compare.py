"""What comparing two runs costs, and how much a fixed start steadies a series.

    nice .venv/bin/python bench/compare.py cost [--samples 1000,2000] [--vgg-samples 500]
    nice .venv/bin/python bench/compare.py series [--samples 500] [--epochs 6]
    nice .venv/bin/python bench/compare.py measures [--samples 2000,10000|none] [--vgg-samples 2000]
                                                    [--stored-samples 2000]

*cost*: two LeNet5 (seeded, untrained: the comparison's cost does not depend on the
weights) analyzed on the first N MNIST test images into one store, then
``compare_runs`` on them with their models (every measure: curve agreement, kNN
overlap, shared tree edges, and CKA: of the paired layers, then the full matrix), its
time split into the forward passes, the exact kNN and Prim trees, and CKA; then the
same call again (read back from the store). VGG16 (seeded He weights, 32x32x3 inputs)
against itself likewise at ``--vgg-samples``. The issue's goal is LeNet5 against LeNet5
at 10,000 samples in seconds: the CKA matrix alone is n·(Σd)² (feature form) or
n²·Σd (Gram form) flops, Σd ≈ 37,000 for LeNet5's layers, so the times are reported per
n, for the pairs' CKA and for the whole matrix.

*measures*: the measures that need activations, on activations alone (no stored runs,
so it reaches 10,000 samples): two seeded LeNet5's layers (each distinct activation:
a Flatten or Dropout is its input's) on the first N MNIST test images, then the CKA
matrix, the matched pairs' CKA, and each run's exact kNN (k = 10) with the Prim tree of
a random order (a VAT order costs the same pass), each timed; VGG16 against itself
likewise (one set of activations given as both runs). With the multiplications each
CKA takes and a reference dgemm's rate measured in the same process, so that a figure
from a loaded machine can be read. ``--stored-samples``: the comparison from the
neighbours the measures stage stores: both seeded LeNet5 analyzed into one store (timed,
the measures stage's share apart), then ``compare_runs(..., cka="none")`` with no model
(kNN overlap and tree edges from the stored neighbours: a store read), its stages timed;
and, on one layer with its run's own order, the measures pass without and with the Prim
tree (what keeping the tree adds); ``--tree-samples``: that one-layer figure alone.

*series*: LeNet5 trained ``--epochs`` epochs on 5,000 MNIST training images, the Keras
callback recording every epoch on the first ``--samples`` test images twice: exact VAT,
and every order begun at one sample (the input layer's VAT start, the same for every
checkpoint). Per layer, the curve agreement of consecutive checkpoints, for both.

Times are wall clock and this process's CPU seconds (all its threads): on a shared
machine the CPU seconds say more. Writes ``bench/results/compare-<what>-<date>.json``
with the machine and its load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("FRACDASH_DATA", "/work/shared/datasets")

from fracdash import compare as compare_module  # noqa: E402
from fracdash.store import Store  # noqa: E402

#: The comparison's stages, timed apart: forward passes, exact kNN and trees, CKA.
STAGES = ("layer_activations", "_neighbours", "_cka")


def machine() -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "load_average": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M")}  # fmt: skip


def timed(module, name: str, spent: dict):
    """Wrap ``module.name`` so that its calls add their seconds to ``spent[name]``;
    return the function it was."""
    fn = getattr(module, name)

    def wrapper(*args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            wall, cpu = spent.get(name, (0.0, 0.0))
            spent[name] = (wall + time.perf_counter() - t0, cpu + time.process_time() - c0)

    setattr(module, name, wrapper)
    return fn


def mnist(n: int, network: str = "lenet5"):
    """The first n MNIST test images as ``network`` takes them (VGG16: 32x32x3)."""
    from fracdash.scenarios import SCENARIOS, test_data

    return test_data(SCENARIOS["simplification" if network == "vgg16" else "easy"], n)


def seeded(network: str, seed: int):
    import keras

    from fracdash.models.training import BUILDERS

    keras.utils.set_random_seed(seed)
    return BUILDERS[network]()


def one_cost(store, network: str, n: int, seeds) -> dict:
    from fracdash.runs import analyze_run

    x, y, names = mnist(n, network)
    models, t0 = {}, time.perf_counter()
    for seed in dict.fromkeys(seeds):
        name = f"{network}-{seed}-{n}"
        models[name] = seeded(network, seed)
        analyze_run(store, models[name], x, y, names, name=name, keep_labels=True, replace=True)
    analyzed = time.perf_counter() - t0
    runs = [f"{network}-{s}-{n}" for s in seeds]
    spent: dict[str, float] = {}
    kept = {fn: timed(compare_module, fn, spent) for fn in STAGES}
    given, times = {r: (models[r], x) for r in runs}, {}
    for cka in ("pairs", "matrix"):  # pairs first: a stored matrix would answer it
        spent.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        got = compare_module.compare_runs(store, *runs, inputs=given, cka=cka)
        split = {k: [round(v, 2) for v in t] for k, t in spent.items()}
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        times[cka] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "split_wall_cpu_s": split}
    t0 = time.perf_counter()
    compare_module.compare_runs(store, *runs)
    again = time.perf_counter() - t0
    for fn, original in kept.items():
        setattr(compare_module, fn, original)
    run = compare_module.stored_run(store, runs[0])[1]
    widths = [int(np.prod(g.output_shape)) for g in run.layers]
    return {"network": network, "runs": runs, "n": n, "layers": len(widths),
            "sum_width": sum(widths), "analyze_both_s": round(analyzed, 2),
            "compare": times, "again_s": round(again, 4),
            "cka_diagonal": [None if p.cka is None else round(p.cka, 4) for p in got.pairs],
            "notes": got.notes}  # fmt: skip


def cost(args) -> dict:
    out = {"machine": machine(), "results": []}
    with tempfile.TemporaryDirectory() as folder:
        store = Store(folder)
        for n in args.samples:
            out["results"].append(one_cost(store, "lenet5", n, (1, 2)))
            print(json.dumps(out["results"][-1]), flush=True)
        if args.vgg_samples:
            out["results"].append(one_cost(store, "vgg16", args.vgg_samples, (1, 1)))
            print(json.dumps(out["results"][-1]), flush=True)
        store.close()
    out["load_average_after"] = os.getloadavg()
    return out


def activations(network: str, seed: int, x) -> dict[str, np.ndarray]:
    """Every distinct layer's activations, (n, d) float32, as the comparison computes
    them (a Flatten's or Dropout's are its input's, left out)."""
    from functools import partial

    from fracdash.core.graph import shares_input_order
    from fracdash.models.activations import forward
    from fracdash.sources import as_source

    source = as_source(seeded(network, seed), example=x[0])
    net = source.network(x[:1])
    names = [g.name for g in net.nodes if not shares_input_order(g.kind, g.inputs)]
    outputs = partial(source.layer_outputs, net)
    with forward(net, [x], names, batch_size=256, outputs=outputs) as acts:
        return {name: np.array(acts.array(name)).reshape(len(x), -1) for name in names}


def stopwatch(fn):
    """(result, [wall s, CPU s]) of fn()."""
    t0, c0 = time.perf_counter(), time.process_time()
    got = fn()
    return got, [round(time.perf_counter() - t0, 2), round(time.process_time() - c0, 2)]


def dgemm_rate() -> float:
    """Multiplications per second of one float64 product, 4000 x 2000 x 2000, wall."""
    a = np.random.default_rng(0).random((4000, 2000))
    _, (wall, _) = stopwatch(lambda: a.T @ a)
    return round(4000 * 2000 * 2000 / max(wall, 1e-9) / 1e9, 1)


def one_measures(network: str, n: int, pairs_too: bool = True) -> dict:
    from fracdash.core.cka import _Layer, _plan, cka_matrix, cka_pairs
    from fracdash.core.neighbours import exact_neighbours

    x, _, _ = mnist(n, network)
    seeds = (1, 2) if network == "lenet5" else (1,)
    acts, forward = stopwatch(lambda: [activations(network, s, x) for s in seeds])
    a = list(acts[0].values())
    b = a if len(acts) == 1 else list(acts[1].values())
    shift = 0 if b is a else len(a)  # a run with itself: one set of layers
    layers = [_Layer(v, "x") for v in (a if b is a else a + b)]
    grams = _plan(layers, [(i, shift + j) for i in range(len(a)) for j in range(len(b))], "auto")
    load0, rate = os.getloadavg(), dgemm_rate()
    _, whole = stopwatch(lambda: cka_matrix(a, b))
    paired = None
    if pairs_too:
        _, paired = stopwatch(lambda: cka_pairs(a, b, [(i, i) for i in range(len(a))]))
    order, knn = np.random.default_rng(0).permutation(n), {}
    for side, run in enumerate(acts):
        for name, values in run.items():
            _, knn[f"{side}:{name}"] = stopwatch(
                lambda v=values: exact_neighbours(v, 10, order=order)
            )
    total = [round(sum(t[i] for t in knn.values()), 2) for i in (0, 1)]
    return {"network": network, "n": n, "widths": {k: v.shape[1] for k, v in acts[0].items()},
            "forward_wall_cpu_s": forward,
            "cka_matrix_wall_cpu_s": whole, "cka_pairs_wall_cpu_s": paired,
            "cka_gram_form_layers": len(grams),
            "cka_gram_mults": n * n / 2 * sum(layers[i].d for i in grams),
            "knn_wall_cpu_s": total, "knn_per_layer_wall_cpu_s": knn,
            "dgemm_gmul_per_s": rate, "load_average_before": load0,
            "load_average_after": os.getloadavg()}  # fmt: skip


def one_stored(n: int, layer: str = "relu0") -> dict:
    from fracdash import measuring
    from fracdash.runs import analyze_run, catalog, load_run

    x, y, names = mnist(n)
    runs, spent = [f"lenet5-{s}-{n}" for s in (1, 2)], {}
    with tempfile.TemporaryDirectory() as folder:
        store = Store(folder)
        kept = timed(measuring, "measures_and_neighbours", spent)
        _, analyzed = stopwatch(lambda: [
            analyze_run(store, seeded("lenet5", s), x, y, names, name=r, keep_labels=True)
            for s, r in zip((1, 2), runs, strict=True)])  # fmt: skip
        measuring.measures_and_neighbours = kept
        split: dict = {}
        stages = ("_stored_neighbours", "_neighbours", "layer_activations")
        originals = {fn: timed(compare_module, fn, split) for fn in stages}
        got, compared = stopwatch(lambda: compare_module.compare_runs(store, *runs, cka="none"))
        for fn, original in originals.items():
            setattr(compare_module, fn, original)
        assert got.has_activations and not got.notes, got.notes
        uses = catalog(store)[runs[0]]["uses"]
        labels = load_run(store, runs[0]).labels
        entries = set(measuring.measure_keys({u: u for u in uses}, "euclidean", labels).values())
        entries &= set(uses)
        size = sum(store.size_of(k) for k in entries)
        order = load_run(store, runs[0]).layer(layer).order
        store.close()
    return {"network": "lenet5", "n": n, "analyze_both_wall_cpu_s": analyzed,
            "measures_stage_wall_cpu_s": [round(v, 2) for v in spent["measures_and_neighbours"]],
            "compare_stored_cka_none_wall_cpu_s": compared,
            "compare_split_wall_cpu_s": {k: [round(v, 3) for v in t] for k, t in split.items()},
            "knn_mean": [round(p.knn, 4) for p in got.pairs],
            "stored_entries_per_run": len(entries),
            "stored_bytes_per_run": size,
            "one_layer": one_tree(n, layer, order),
            "load_average_after": os.getloadavg()}  # fmt: skip


def one_tree(n: int, layer: str = "relu0", order=None) -> dict:
    """The measures pass on one layer of a seeded LeNet5 without and with the Prim tree
    of the layer's VAT order (``order``, else computed here)."""
    from fracdash.core import vat_order
    from fracdash.core.measures import layer_measures, measures_and_neighbours

    x, y, _ = mnist(n)
    values = activations("lenet5", 1, x)[layer]
    order = vat_order(values) if order is None else order
    _, plain = stopwatch(lambda: layer_measures(values, y, order, k=10))
    _, tree = stopwatch(lambda: measures_and_neighbours(values, y, order, k=10))
    return {"n": n, "layer": layer, "width": int(values.shape[1]),
            "measures_wall_cpu_s": plain, "measures_and_tree_wall_cpu_s": tree}  # fmt: skip


def measures(args) -> dict:
    out = {"machine": machine(), "results": []}
    for n in args.stored_samples:
        out.setdefault("stored", []).append(one_stored(n))
        print(json.dumps(out["stored"][-1]), flush=True)
    for n in args.tree_samples:
        out.setdefault("tree", []).append(one_tree(n))
        print(json.dumps(out["tree"][-1]), flush=True)
    for n in args.samples:
        out["results"].append(one_measures("lenet5", n, not args.no_pairs))
        print(json.dumps(out["results"][-1]), flush=True)
    if args.vgg_samples:
        out["results"].append(one_measures("vgg16", args.vgg_samples, not args.no_pairs))
        print(json.dumps(out["results"][-1]), flush=True)
    return out


def series(args) -> dict:

    import fracdash.keras
    from fracdash.core import vat_order
    from fracdash.core.agreement import curve_agreement
    from fracdash.datasets import load_dataset
    from fracdash.runs import load_run

    x, y, _ = mnist(args.samples)
    xt, yt = load_dataset("mnist", "train")
    xt, yt = xt[:5000].astype(np.float32)[..., None] / 255.0, yt[:5000].astype(np.int64)
    with tempfile.TemporaryDirectory() as folder:
        store_dir = Path(folder)
        start = int(vat_order(x.reshape(len(x), -1))[0])  # the input layer's VAT start
        model = seeded("lenet5", 1)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        callbacks = [fracdash.keras.Checkpoints(x, y, name="exact", store=store_dir,
                                                keep_labels=True),
                     fracdash.keras.Checkpoints(x, y, name="fixed", store=store_dir,
                                                start=start, keep_labels=True)]  # fmt: skip
        t0 = time.perf_counter()
        model.fit(xt, yt, epochs=args.epochs, batch_size=128, verbose=0, callbacks=callbacks)
        took = time.perf_counter() - t0
        store = Store(store_dir)
        agreement = {}
        for kind in ("exact", "fixed"):
            steps = [load_run(store, f"{kind}@{e}") for e in range(1, args.epochs + 1)]
            agreement[kind] = {
                g.name: [round(curve_agreement(a.layer(g.name).positions,
                                               b.layer(g.name).positions).mean, 4)
                         for a, b in zip(steps[:-1], steps[1:], strict=True)]
                for g in steps[0].layers
            }  # fmt: skip
        store.close()
    mean = {k: round(float(np.mean([v for vs in a.values() for v in vs])), 4)
            for k, a in agreement.items()}  # fmt: skip
    return {"machine": machine(), "samples": args.samples, "epochs": args.epochs,
            "start": start, "fit_with_recording_s": round(took, 1),
            "mean_consecutive_curve_agreement": mean, "per_layer": agreement}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["cost", "series", "measures"])
    parser.add_argument("--samples", default=None)
    parser.add_argument("--vgg-samples", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--no-pairs", action="store_true", help="measures: skip the pairs' CKA")
    parser.add_argument("--stored-samples", default="", help="measures: from stored neighbours")
    parser.add_argument("--tree-samples", default="", help="measures: the tree's cost, one layer")
    args = parser.parse_args()
    if args.what == "cost":
        args.samples = [int(s) for s in (args.samples or "1000,2000").split(",")]
        report = cost(args)
    elif args.what == "measures":
        given = args.samples or "2000,10000"
        args.samples = [] if given == "none" else [int(s) for s in given.split(",")]
        args.stored_samples = [int(s) for s in args.stored_samples.split(",") if s]
        args.tree_samples = [int(s) for s in args.tree_samples.split(",") if s]
        report = measures(args)
    else:
        args.samples = int(args.samples or 500)
        report = series(args)
    print(json.dumps(report, indent=1))
    out = ROOT / "bench" / "results" / f"compare-{args.what}-{time.strftime('%Y%m%d-%H%M')}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
