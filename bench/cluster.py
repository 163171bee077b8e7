"""The LocalCluster row of ``make bench`` (issue 16), and per-layer task times.

    .venv/bin/python bench/cluster.py [--scenario easy] [--network resnet8] [--samples N]
                                      [--workers 2] [--local-only] [--store DIR]

Runs one analysis of a scenario's trained model (from the store, trained first if
needed) on its test set, end to end and into no store (nothing cached): once in this
process, once with every layer's ordering sent to a ``distributed.LocalCluster`` of
``--workers`` processes (the cluster's start-up, with each process's first call of
the compiled loop, timed apart). The orders must be
identical, layer by layer. ``--network resnet8`` orders a ResNet-style network at
32x32 instead (3 stages of basic blocks with batch norm, 16/32/64 channels, seeded
random weights) on the VGG16 scenario's 32x32x3 images. Prints a summary and writes
``bench/results/cluster-*.json`` with the machine, wall times, and each layer's width
and ordering time in this process (what a worker's task costs, docs/scale-out.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def resnet8(seed: int = 0):
    """A CIFAR-style ResNet (v1, one basic block per stage) for 32x32x3 inputs."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inp = keras.Input((32, 32, 3), name="input")
    x = layers.Conv2D(16, 3, padding="same", name="conv0")(inp)
    x = layers.BatchNormalization(name="bn0")(x)
    x = layers.Activation("relu", name="relu0")(x)
    for s, width in enumerate((16, 32, 64), start=1):
        stride = 1 if s == 1 else 2
        h = layers.Conv2D(width, 3, strides=stride, padding="same", name=f"s{s}_conv1")(x)
        h = layers.BatchNormalization(name=f"s{s}_bn1")(h)
        h = layers.Activation("relu", name=f"s{s}_relu1")(h)
        h = layers.Conv2D(width, 3, padding="same", name=f"s{s}_conv2")(h)
        h = layers.BatchNormalization(name=f"s{s}_bn2")(h)
        if stride != 1:
            x = layers.Conv2D(width, 1, strides=stride, name=f"s{s}_proj")(x)
        x = layers.Add(name=f"s{s}_add")([x, h])
        x = layers.Activation("relu", name=f"s{s}_relu2")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(10, name="dense")(x)
    out = layers.Activation("softmax", name="prediction")(x)
    return keras.Model(inp, out, name="resnet8")


def predicted_wall(layers, n, forward_s, workers, gb_per_s=1.0) -> float:
    """A prediction, not a measurement: wall time of the same analysis with ``workers``
    machines like this one, from this run's per-layer times.

    The forward pass runs first, here; then each layer over 4 MB is written to the
    shared filesystem (``gb_per_s``, an assumption) in layer order and read back once
    by its worker; a free worker takes the largest layer available (dask's priority).
    Scheduler overhead (milliseconds a task) is left out.
    """
    from fracdash.cluster import INLINE_BYTES

    ready, written = [], forward_s
    for r in layers:
        size = 4 * n * r["features"]
        io = size / (gb_per_s * 1e9) if size > INLINE_BYTES else 0.0
        written += io
        ready.append((written, r["features"], r["order_s"] + io))
    free, end, pending = [forward_s] * workers, forward_s, sorted(ready)
    while pending:
        w = min(range(workers), key=free.__getitem__)
        now = max(free[w], pending[0][0])  # idle until the next layer is written
        task = max((t for t in pending if t[0] <= now), key=lambda t: t[1])
        pending.remove(task)
        free[w] = now + task[2]
        end = max(end, free[w])
    return end


class LayerClock:
    """A pipeline progress callback that notes when each stage and layer starts."""

    def __init__(self):
        self.events: list[tuple[float, str, int, str]] = []

    def __call__(self, stage, done, total, detail):
        self.events.append((time.perf_counter(), stage, done, detail))

    def layer_seconds(self) -> dict[str, float]:
        """Each layer's ordering time (LocalOrderer reports each layer as it starts)."""
        order = [(t, d) for t, s, _, d in self.events if s == "order"]
        pairs = zip(order, order[1:], strict=False)
        return {d: round(t1 - t0, 3) for (t0, d), (t1, _) in pairs if d}

    def forward_seconds(self) -> float:
        forward = [t for t, s, _, _ in self.events if s == "forward"]
        first_order = next(t for t, s, _, _ in self.events if s == "order")
        return round(first_order - forward[0], 2) if forward else 0.0


def main(argv=None) -> int:
    from bench.run import machine
    from fracdash.cluster import DaskOrderer, LocalOrderer, order_task
    from fracdash.models.training import trained_model
    from fracdash.pipeline import analyze
    from fracdash.scenarios import SCENARIOS, test_data
    from fracdash.store import default_store_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="easy", choices=sorted(SCENARIOS))
    parser.add_argument("--network", choices=["resnet8"], help="instead of the scenario's")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--local-only", action="store_true", help="no LocalCluster run")
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args(argv)

    spec = SCENARIOS["simplification" if args.network else args.scenario]
    x, y, names = test_data(spec, args.samples)
    if args.network:
        model, label = resnet8(), f"{args.network} (random weights) on {spec.test_on} 32x32x3"
    else:
        model, _ = trained_model(spec, Path(args.store or default_store_dir()) / "models")
        label = f"{args.scenario} ({spec.network})"
    print(f"{label}, n = {len(y)}", flush=True)
    load_before = os.getloadavg()

    warm = np.random.default_rng(0).random((50, 3))  # numba's compiled loop, loaded once
    order_task(warm, "euclidean")
    clock, start = LayerClock(), time.perf_counter()
    local = analyze(model, x, y, names, progress=clock, orderer=LocalOrderer())
    local_s = time.perf_counter() - start
    widths = {g.name: int(np.prod(g.output_shape)) for g in local.layers}
    layers = [
        {"layer": name, "features": widths[name], "order_s": s}
        for name, s in clock.layer_seconds().items()
    ]
    result = {
        "machine": machine(), "bench": "cluster", "model": label, "n": len(y),
        "load_before": [round(v, 2) for v in load_before],  # others' work on this machine
        "local_s": round(local_s, 2), "forward_s": clock.forward_seconds(),
        "order_s": round(sum(r["order_s"] for r in layers), 2), "layers": layers,
    }  # fmt: skip
    result["predicted_s"] = {  # labelled: predictions from the measured layers
        str(w): round(predicted_wall(layers, len(y), result["forward_s"], w), 1)
        for w in (1, 2, 8, 32)
    }
    if not args.local_only:
        start = time.perf_counter()
        with DaskOrderer.local(args.workers) as orderer:
            orderer.client.run(order_task, warm, "euclidean")
            result["cluster_start_s"] = round(time.perf_counter() - start, 2)
            start = time.perf_counter()
            remote = analyze(model, x, y, names, orderer=orderer)
            result["workers"] = args.workers
            result["cluster_s"] = round(time.perf_counter() - start, 2)
        pairs = zip(local.layers, remote.layers, strict=True)
        same = [np.array_equal(a.order, b.order) for a, b in pairs]
        result["identical_orders"] = f"{sum(same)}/{len(same)}"
        result["cluster_vs_local"] = round(result["cluster_s"] / local_s, 2)
    result["load_after"] = [round(v, 2) for v in os.getloadavg()]
    out = ROOT / "bench" / "results" / f"cluster-{time.strftime('%Y%m%d-%H%M')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    for r in layers:
        print(f"  {r['layer']:<14} {r['features']:>7} features  {r['order_s']:7.2f} s")
    summary = {k: v for k, v in result.items() if k not in ("layers", "machine")}
    print(json.dumps(summary), f"\nwritten {out}", sep="")
    if not args.local_only and not all(same):
        print("orders differ between this process and the cluster", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
