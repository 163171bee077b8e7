"""Out-of-core exact VAT (issue 16): prints a table and writes JSON to bench/results/.

One process, side by side so that ratios hold on a noisy machine:
  f. the Gram floor: time per feature of a bare blocked float32 Gram at n (the upper
     triangle's row panels, sgemm on in-memory data, nothing else), times the
     features of the layers the easy scenario orders;
  o. every ordered layer of the easy scenario's LeNet5 on n MNIST training images
     (default 60,000), through the out-of-core path: distance pass (reading,
     centring, sgemm, distances), writes, Prim's loop (row reads included), the
     rows read again in VAT order (the loop's read cost, measured apart), peak RSS of
     this process (TensorFlow included), peak scratch disk;
  x. exactness: the orders of the narrowest layers equal an independent float64 VAT
     (first maximum and Prim's loop on squared distances computed on the fly from
     float64 rows, O(n·d) memory; sums in numpy's order, as tests/helpers.py's
     brute force does); and a layer ordered from the float32 file (dense0 by
     default) equals the direct float64 route (fracdash.core.direct: no float32 at
     all, nothing certified), 12x faster than the brute force at d = 128;
  l. the narrow-layer loop at n = 10,000, d = 84 (bench/run.py's data), in memory.

    FRACDASH_DATA=... nice python bench/outofcore.py [--samples 60000] [--reference L1,L2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from numba import njit  # noqa: E402
from scipy.linalg import blas  # noqa: E402

from fracdash.core import direct, outofcore, scratch, shares_input_order, vat_order  # noqa: E402
from fracdash.core.chunked import ArrayChunks  # noqa: E402
from fracdash.datasets import load_dataset  # noqa: E402
from fracdash.store import Store, default_store_dir  # noqa: E402


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


class DiskWatch:
    """Peak bytes of this process's scratch directories, sampled every 0.2 s."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _used(self) -> int:
        total, mine = 0, f"-{os.getpid()}-"
        for entry in os.scandir(scratch.scratch_root()):
            if entry.name.startswith("fracdash-") and mine in entry.name:
                for root, _, files in os.walk(entry.path):
                    for f in files:
                        try:
                            total += os.stat(os.path.join(root, f)).st_blocks * 512
                        except OSError:
                            pass
        return total

    def _run(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._used())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def bare_gram_per_feature(n: int, d: int = 1024) -> dict:
    """Seconds per feature of the bare blocked float32 Gram at n: the upper
    triangle's row panels (the out-of-core pass's panel height), one sgemm each on
    in-memory data, no centring, no I/O, no distances. Counts the half matrix
    (n(n+1)/2 entries plus the diagonal blocks' lower halves), as ssyrk does."""
    x = np.random.default_rng(0).random((n, d), dtype=np.float32)
    b = int(max(1, min(n, outofcore.PANEL_BYTES // (4 * n))))
    panel = np.empty(b * n, dtype=np.float32)
    t = time.perf_counter()
    for i0 in range(0, n, b):
        i1 = min(n, i0 + b)
        p = panel[: (i1 - i0) * (n - i0)].reshape(i1 - i0, n - i0)
        blas.sgemm(-2.0, x[i0:].T, x[i0:i1].T, 0.0, p.T, trans_a=1, overwrite_c=1)
    seconds = time.perf_counter() - t
    return {"n": n, "d": d, "panel_rows": b, "seconds": seconds, "per_feature_s": seconds / d}


@njit(cache=True)
def _sqdist(a, b):
    """((a - b) ** 2).sum() in float64 as numpy sums it for d <= 128 (eight running
    sums, then the tail); left to right below 8 values."""
    d = a.size
    if d < 8:
        s = -0.0
        for k in range(d):
            s += (a[k] - b[k]) ** 2
        return s
    r0, r1, r2, r3 = (a[0] - b[0]) ** 2, (a[1] - b[1]) ** 2, (a[2] - b[2]) ** 2, (a[3] - b[3]) ** 2
    r4, r5, r6, r7 = (a[4] - b[4]) ** 2, (a[5] - b[5]) ** 2, (a[6] - b[6]) ** 2, (a[7] - b[7]) ** 2
    k = 8
    while k < d - d % 8:
        r0 += (a[k] - b[k]) ** 2
        r1 += (a[k + 1] - b[k + 1]) ** 2
        r2 += (a[k + 2] - b[k + 2]) ** 2
        r3 += (a[k + 3] - b[k + 3]) ** 2
        r4 += (a[k + 4] - b[k + 4]) ** 2
        r5 += (a[k + 5] - b[k + 5]) ** 2
        r6 += (a[k + 6] - b[k + 6]) ** 2
        r7 += (a[k + 7] - b[k + 7]) ** 2
        k += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while k < d:
        s += (a[k] - b[k]) ** 2
        k += 1
    return s


@njit(cache=True)
def reference_vat(x):
    """VAT by the book on float64 squared distances computed on the fly: the row of
    the first maximum in row-major order, then Prim with the lowest index among
    ties. O(n·d) memory, O(n²·d) time."""
    n = x.shape[0]
    best, start = -1.0, 0
    for i in range(n):
        for j in range(i + 1, n):
            v = _sqdist(x[i], x[j])
            if v > best:
                best, start = v, i
    order = np.empty(n, np.int64)
    reach = np.full(n, np.inf)
    seen = np.zeros(n, np.bool_)
    j = start
    for k in range(n):
        order[k] = j
        seen[j] = True
        nxt, low = -1, np.inf
        for c in range(n):
            if not seen[c]:
                v = _sqdist(x[j], x[c])
                if v < reach[c]:
                    reach[c] = v
                if reach[c] < low:
                    low, nxt = reach[c], c
        j = nxt
    return order


def narrow_loop_10k() -> dict:
    """bench/run.py's d = 84 layer at n = 10,000, in memory: Gram vs Prim's loop."""
    x, _ = load_dataset("mnist", "test")
    base = (x.reshape(len(x), -1) / 255.0).astype(np.float32)
    rng = np.random.default_rng(0)
    a = np.maximum(base @ rng.normal(size=(784, 84)).astype(np.float32), 0)
    vat_order(a[:300])
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        _ = a @ a.T
        bare = time.perf_counter() - t
        st = {}
        vat_order(a, stats=st)
        runs.append((bare, st["gram_s"], st["loop_s"]))
    bare, gram, loop = (float(np.median([r[i] for r in runs])) for i in range(3))
    return {"n": 10000, "d": 84, "bare_gram_s": bare, "gram_s": gram, "loop_s": loop}


def easy_layers(samples: int, split: str):
    from fracdash.models.network import network_graph
    from fracdash.models.training import trained_model
    from fracdash.scenarios import SCENARIOS, test_data

    store = Store(default_store_dir())
    model, _ = trained_model(SCENARIOS["easy"], store.directory / "models")
    x, _, _ = test_data(SCENARIOS["easy"], split=split)
    net = network_graph(model)
    own = [n for n in net.nodes if not shares_input_order(n.kind, n.inputs)]
    return net, x[:samples], own


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=60000)
    ap.add_argument("--split", default="train")
    ap.add_argument(
        "--reference",
        default="dense1,prediction",
        help="layers checked against the float64 reference (comma-separated)",
    )
    ap.add_argument(
        "--cross",
        default="dense0",
        help="file-route layers checked against the direct float64 route (comma-separated)",
    )
    ap.add_argument("--skip-narrow", action="store_true")
    ap.add_argument("--layers", help="order only these layers (comma-separated)")
    args = ap.parse_args()  # fmt: skip
    from fracdash.models.activations import forward

    result = {"machine": machine(), "args": vars(args)}
    if not args.skip_narrow:
        print("[l] narrow loop, n = 10,000", flush=True)
        result["narrow_10k"] = narrow_loop_10k()
        print(" ", result["narrow_10k"], flush=True)
    net, x, own = easy_layers(args.samples, args.split)
    if args.layers:
        own = [node for node in own if node.name in args.layers.split(",")]
    n = len(x)
    print(f"[f] bare blocked Gram, n = {n}", flush=True)
    result["bare_gram"] = bare_gram_per_feature(n)
    print(" ", result["bare_gram"], flush=True)
    per_feature = result["bare_gram"]["per_feature_s"]
    watch = DiskWatch()
    rows, refs, replays = [], {}, 0.0
    want = [node.name for node in own]
    t_all = time.perf_counter()
    t = time.perf_counter()
    with forward(net, [x], want) as acts:
        result["forward_s"] = time.perf_counter() - t
        print(f"[o] forward {result['forward_s']:.1f} s, RSS {rss_gb():.2f} GB", flush=True)
        for node in own:
            a, d = acts[node.name], int(np.prod(node.output_shape))
            st, t0, last = {"time_reads": True}, time.perf_counter(), [0.0]

            def progress(done, total, name=node.name, t0=t0, last=last):
                now = time.perf_counter()
                if done and done < total and now - last[0] > 10:
                    last[0] = now
                    eta = (now - t0) * (total - done) / done
                    print(f"  {name}: {100 * done / total:5.1f}% after {now - t0:5.0f} s,"
                          f" ETA {eta:5.0f} s more", flush=True)  # fmt: skip

            order = vat_order(a, progress=progress, stats=st)
            # The rows read again in VAT order (to time the loop's reads) are not work.
            replay = st.get("row_reads_s", 0.0)
            total = time.perf_counter() - t0 - replay
            replays += replay
            row = {"layer": node.name, "d": d, "total_s": total, **st,
                   "gram_floor_s": d * per_feature, "rss_gb_so_far": rss_gb()}  # fmt: skip
            rows.append(row)
            if node.name in args.reference.split(",") + args.cross.split(","):
                refs[node.name] = (np.asarray(acts.array(node.name), np.float64), order)
            print(
                f"  {node.name:<11} d={d:>5}: total {total:7.1f} s  Gram {st['gram_s']:7.1f}"
                f"  loop {st['loop_s']:6.1f}  write {st.get('write_s', 0):5.1f}  floor "
                f"{row['gram_floor_s']:6.1f}  RSS {row['rss_gb_so_far']:.2f} GB",
                flush=True,
            )
            acts.release(node.name)
    result["order_s"] = time.perf_counter() - t_all - result["forward_s"] - replays
    result["peak_scratch_bytes"] = watch.stop()
    result["peak_rss_gb"] = rss_gb()
    result["layers"] = rows
    result["gram_floor_s"] = sum(r["gram_floor_s"] for r in rows)
    result["ratio"] = result["order_s"] / result["gram_floor_s"]
    result["exactness"] = []
    for name, (a, order) in refs.items():
        brute = name in args.reference.split(",")
        how = "float64 reference" if brute else "direct float64 route"
        print(f"[x] {how} on {name} (d={a.shape[1]})", flush=True)
        t = time.perf_counter()
        if brute:
            ref = reference_vat(np.ascontiguousarray(a))
        else:
            ref = direct.direct_order(ArrayChunks(a), np.ones(n), 1.0)
        result["exactness"].append({"layer": name, "n": n, "d": a.shape[1], "against": how,
                                    "equal": bool(np.array_equal(order, ref)),
                                    "reference_s": time.perf_counter() - t})  # fmt: skip
        print(" ", result["exactness"][-1], flush=True)
    report(result)
    out = ROOT / "bench" / "results" / f"outofcore-{time.strftime('%Y%m%d-%H%M')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"written: {out.relative_to(ROOT)}")


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")  # fmt: skip
    return {"cpu": cpu, "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M"),
            "mem_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30}  # fmt: skip


def report(r: dict) -> None:
    m = r["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, {m['mem_gb']:.0f} GiB")
    if "narrow_10k" in r:
        q = r["narrow_10k"]
        print(f"l  n=10,000 d=84 in memory: bare Gram {q['bare_gram_s']:.3f} s, "
              f"distances {q['gram_s']:.3f} s, loop {q['loop_s']:.3f} s")  # fmt: skip
    g = r["bare_gram"]
    print(f"f  bare blocked Gram n={g['n']} d={g['d']}: {g['seconds']:.1f} s, "
          f"{1e3 * g['per_feature_s']:.2f} ms per feature (half matrix)")  # fmt: skip
    for row in r["layers"]:
        reads = row.get("read_s", 0)
        print(
            f"o  {row['layer']:<11} d={row['d']:>5}  total {row['total_s']:7.1f} s  "
            f"Gram {row['gram_s']:7.1f} (act. reads {reads:5.1f})  loop {row['loop_s']:6.1f}"
            f"  (row reads {row.get('row_reads_s', 0):5.1f})  writes {row.get('write_s', 0):5.1f}"
            f"  floor {row['gram_floor_s']:6.1f}"
        )
    print(
        f"o  forward {r['forward_s']:.1f} s; ordering {r['order_s']:.1f} s vs Gram floor "
        f"{r['gram_floor_s']:.1f} s: ratio {r['ratio']:.2f}; peak RSS {r['peak_rss_gb']:.2f}"
        f" GB; peak scratch disk {r['peak_scratch_bytes'] / 1e9:.1f} GB"
    )
    for row in r["exactness"]:
        print(
            f"x  n={row['n']} {row['layer']} (d={row['d']}): equals the "
            f"{row.get('against', 'float64 reference')}: {row['equal']} "
            f"(reference {row['reference_s']:.0f} s)"
        )


if __name__ == "__main__":
    main()
