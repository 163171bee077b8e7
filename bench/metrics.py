"""What each metric of fracdash.core.metrics costs against the Euclidean route, in one
run on the same layer activations: prints a table and writes JSON to bench/results/.

For each width, every metric orders the same (n, d) float32 rows with
``vat_order(x, metric, stats=...)``; the time is split as the routes report it:

  transform  the row transform alone (correlation, standardized, relu-hamming, cosine's
             norms), measured apart; it is part of "distances" too;
  distances  the Gram (float32 BLAS, certified) or the float64 kernel's matrix
             (manhattan, local-scaling, no BLAS), the transform included;
  loop       the first maximum and Prim's loop (float64 re-checks included).

The data: 10 clusters of ReLU-like rows (``max(centre + noise, 0)``), seeded, at
widths 84 and 2,000 (LeNet5's narrowest hidden layer, and a wide one); no stored easy
run with its activations is needed. Each metric is compiled on a small case first,
so no JIT time is counted; Euclidean is run once untimed before each width and again
after the others ("euclidean-again": the drift of a shared machine).

    nice python bench/metrics.py [--samples 10000] [--widths 84,2000] [--metrics ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fracdash.core.centring import prepared  # noqa: E402
from fracdash.core.metrics import METRIC_TABLE, METRICS, metric_spec  # noqa: E402
from fracdash.core.vat import vat_order  # noqa: E402


def machine() -> dict:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_gb": round(mem, 1),
            "load_average_at_start": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M")}  # fmt: skip


def layer(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng([n, d, seed])
    centres = rng.standard_normal((10, d))
    x = centres[rng.integers(0, 10, size=n)] + 0.7 * rng.standard_normal((n, d))
    return np.maximum(x, 0).astype(np.float32)


def measure(x: np.ndarray, metric: str) -> dict:
    transform_s = 0.0
    if metric_spec(metric).kernel == "rows" and metric != "euclidean":
        t = time.perf_counter()
        prepared(x, metric)
        transform_s = time.perf_counter() - t
    stats = {}
    t = time.perf_counter()
    order = vat_order(x, metric, stats=stats)
    total = time.perf_counter() - t
    return {"metric": metric, "total_s": total, "transform_s": transform_s,
            "distances_s": stats.get("gram_s"), "loop_s": stats.get("loop_s"),
            "route": stats.get("rows"), "first": int(order[0])}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--widths", default="84,2000")
    parser.add_argument("--metrics", default=",".join(METRICS))
    args = parser.parse_args()
    metrics = args.metrics.split(",")
    for metric in metrics:  # compile every route first
        vat_order(layer(300, 20), metric)
    result = {"machine": machine(), "args": vars(args), "widths": []}
    print(f"{'d':>6} {'metric':<14} {'total s':>9} {'x eucl.':>8} {'transform':>10} "
          f"{'distances':>10} {'loop':>8}  route")  # fmt: skip
    for d in (int(w) for w in args.widths.split(",")):
        x = layer(args.samples, d)
        vat_order(x)  # untimed: the first large allocation's page faults
        rows = [measure(x, metric) for metric in metrics]
        if "euclidean" in metrics:  # again at the end: how much the machine drifted
            rows.append({**measure(x, "euclidean"), "metric": "euclidean-again"})
        base = next((r["total_s"] for r in rows if r["metric"] == "euclidean"), None)
        for r in rows:
            r["vs_euclidean"] = r["total_s"] / base if base else None
            ratio = f"{r['vs_euclidean']:.1f}" if base else "-"
            print(f"{d:>6} {r['metric']:<14} {r['total_s']:>9.2f} {ratio:>8} "
                  f"{r['transform_s']:>10.2f} {r['distances_s']:>10.2f} {r['loop_s']:>8.2f}"
                  f"  {r['route']}")  # fmt: skip
        result["widths"].append({"n": args.samples, "d": d, "metrics": rows})
    result["table"] = {m.name: m.computed for m in METRIC_TABLE}
    out = ROOT / "bench" / "results" / f"metrics-{time.strftime('%Y%m%d-%H%M')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
