"""fracdash benchmark (issue 4): prints a table and writes it as JSON in bench/results/.

Everything is measured side by side in one run so that ratios hold on a noisy machine:
  a. vat_order vs pyclustertend's VAT (n = 1,000 and 2,000, MNIST test images);
  b. distances + VAT at n = 10,000 for d = 84, 784, 4,704 vs the bare float32 Gram X @ X.T;
  c. the easy scenario end to end (model trained and cached; orders not cached);
  d. all five scenarios, training excluded;
  e. warm start: stored easy run -> dashboard data ready, and first page served;
  plus an exactness check at n = 10,000 against a float64 VAT on real layers, and
  each scenario's Gram floor: its ordered features times the Gram's cost per feature.
Training (once, stored) happens before any timing.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tools"))

from helpers import brute_vat  # noqa: E402
from ports import free_port  # noqa: E402

from fracdash.core import vat_order  # noqa: E402
from fracdash.datasets import load_dataset  # noqa: E402
from fracdash.store import Store, default_store_dir  # noqa: E402

SCENARIOS = ["easy", "generalization", "problematic", "simplification", "realistic"]
TARGETS = {
    "pyclustertend_ratio_2000": ">= 200",
    "vat_5000_784_vs_gram": "<= 2.0",
    "easy_wall_s": "<= 15",
    "easy_vs_gemm": "<= 1.5",
    "easy_rss_gb": "<= 3.0",
    "five_wall_s": "<= 180",
    "warm_start_s": "<= 2",
}


def timed(fn, *args, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t)
    return best, out


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        )
    except ImportError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "blas": blas,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def mnist(n: int) -> np.ndarray:
    x, _ = load_dataset("mnist", "test")
    return (x[:n].reshape(n, -1) / 255.0).astype(np.float32)


def bench_pyclustertend() -> list[dict]:
    from pyclustertend.visual_assessment_of_tendency import compute_ordered_dissimilarity_matrix
    from sklearn.metrics import pairwise_distances

    compute_ordered_dissimilarity_matrix(mnist(50))  # JIT compile outside the timing
    rows = []
    for n in (1000, 2000):
        x = mnist(n)
        theirs_s, odm = timed(compute_ordered_dissimilarity_matrix, x)
        ours_s, order = timed(vat_order, x, repeat=3)
        d = pairwise_distances(x)
        rows.append(
            {
                "n": n,
                "pyclustertend_s": theirs_s,
                "fracdash_s": ours_s,
                "ratio": theirs_s / ours_s,
                "same_order": bool(np.array_equal(d[np.ix_(order, order)], odm)),
            }
        )
    return rows


def bench_gram() -> list[dict]:
    base = mnist(10000)
    rng = np.random.default_rng(0)
    data = {
        84: np.maximum(base @ rng.normal(size=(784, 84)).astype(np.float32), 0),
        784: base,
        4704: np.tile(base, 6) + rng.random((10000, 4704), dtype=np.float32) * 0.01,
    }
    rows = []
    for d, x in data.items():
        gram_s, _ = timed(lambda a: a @ a.T, x, repeat=2)
        vat_s, _ = timed(vat_order, x)
        rows.append({"n": 10000, "d": d, "gram_s": gram_s, "vat_s": vat_s, "ratio": vat_s / gram_s})
    x = base[:5000]
    gram_s, _ = timed(lambda a: a @ a.T, x, repeat=3)
    vat_s, _ = timed(vat_order, x, repeat=3)
    rows.append({"n": 5000, "d": 784, "gram_s": gram_s, "vat_s": vat_s, "ratio": vat_s / gram_s})
    return rows


def run_precompute(scenario: str, cache: Path) -> dict:
    cmd = [
        "/usr/bin/time",
        "-f",
        "%e %M",
        sys.executable,
        "-m",
        "fracdash.cli",
        "precompute",
        scenario,
        "--cache-dir",
        str(cache),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"precompute {scenario} failed: {done.stderr[-2000:]}")
    wall, rss_kb = done.stderr.strip().splitlines()[-1].split()
    return {
        "scenario": scenario,
        "wall_s": float(wall),
        "rss_gb": int(rss_kb) / 2**20,
        "accuracy": done.stdout.splitlines()[0],
    }


def fresh_cache(models: Path) -> Path:
    """An empty store whose models/ is the trained models' folder: nothing but
    training is reused."""
    cache = Path(tempfile.mkdtemp(prefix="fracdash-bench-"))
    (cache / "models").symlink_to(models)
    return cache


def easy_network(models: Path):
    """The easy scenario's layer graph (trained model) and its 10,000 test inputs."""
    from fracdash.models.network import network_graph
    from fracdash.models.training import trained_model
    from fracdash.scenarios import SCENARIOS as SPECS
    from fracdash.scenarios import test_data

    model, _ = trained_model(SPECS["easy"], models)
    x, _, _ = test_data(SPECS["easy"])
    return network_graph(model), x


def easy_gemm_seconds(models: Path) -> float:
    """Sum of the bare Gram times of the easy scenario's layer activations."""
    from fracdash.models.activations import forward

    net, x = easy_network(models)
    names = [node.name for node in net.nodes]
    with forward(net, [x], names, memory_budget=2**34) as acts:
        return sum(timed(lambda m: m @ m.T, acts.array(name))[0] for name in names)


def gram_floors(models: Path, gram: list[dict]) -> dict[str, dict]:
    """Per scenario: the features of the layers it orders (a reorder-only layer shares
    its predecessor's order) times the Gram's cost per feature at n = 10,000, the slope
    between b's d = 784 and d = 4,704 runs. The flops alone: a lower bound on the
    ordering stage of any exact method that forms the Gram matrix."""
    from fracdash.core import shares_input_order
    from fracdash.models.network import network_graph
    from fracdash.models.training import trained_model
    from fracdash.scenarios import SCENARIOS as SPECS

    at = {row["d"]: row["gram_s"] for row in gram if row["n"] == 10000}
    per_feature = (at[4704] - at[784]) / (4704 - 784)
    floors = {}
    for name in SCENARIOS:
        net = network_graph(trained_model(SPECS[name], models)[0])
        own = [n for n in net.nodes if not shares_input_order(n.kind, n.inputs)]
        features = sum(int(np.prod(n.output_shape)) for n in own)
        floors[name] = {"features": features, "gram_floor_s": features * per_feature}
    return floors


def bench_exactness(store: Store) -> list[dict]:
    """At n = 10,000: vat_order equals the tests' brute-force float64 VAT (distances
    from differences), on the easy run's relu2 and prediction layers."""
    from fracdash.models.activations import forward

    net, x = easy_network(store.directory / "models")
    rows = []
    with forward(net, [x], ["relu2", "prediction"]) as acts:
        for name in ("relu2", "prediction"):
            a = acts.array(name)
            ref = brute_vat(a)  # tests/reference.py, float64 by the book
            rows.append(
                {
                    "layer": name,
                    "n": len(a),
                    "d": a.shape[1],
                    "equal": bool(np.array_equal(vat_order(a), ref)),
                }
            )
    return rows



def bench_warm_start(cache: Path) -> dict:
    code = (
        "import time; t=time.perf_counter(); from fracdash.store import Store; "
        f"from fracdash.runs import load_run; a=load_run(Store({str(cache)!r}), 'easy'); "
        "from fracdash.glyphs import glyph_pngs; [glyph_pngs(a, g.name) for g in a.layers]; "
        "print(time.perf_counter()-t)"
    )
    data_s = float(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.strip()
    )
    port = free_port()
    t = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port), "--cache-dir", str(cache)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        served = None
        while served is None and time.perf_counter() - t < 60:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_dash-layout", timeout=30).read()
                served = time.perf_counter() - t
            except OSError:
                time.sleep(0.05)
    finally:
        server.terminate()
        server.wait()
    return {"data_ready_s": data_s, "first_page_s": served}


def main() -> None:
    store = Store(default_store_dir())
    from fracdash.runs import precompute_scenario

    for name in SCENARIOS:  # trains once per recipe; stores everything
        print(f"[prepare] {name}", flush=True)
        precompute_scenario(store, name)
    models = store.directory / "models"
    result = {"machine": machine(), "targets": TARGETS}
    print("[a] pyclustertend", flush=True)
    result["pyclustertend"] = bench_pyclustertend()
    print("[b] Gram", flush=True)
    result["gram"] = bench_gram()
    print("[c/d] scenarios", flush=True)
    runs = []
    for name in SCENARIOS:
        cache = fresh_cache(models)
        runs.append(run_precompute(name, cache))
        if name == "easy":
            result["warm_start"] = bench_warm_start(cache)
        shutil.rmtree(cache)
    result["scenarios"] = runs
    result["easy_gemm_s"] = easy_gemm_seconds(models)
    result["gram_floor"] = gram_floors(models, result["gram"])
    print("[x] exactness", flush=True)
    result["exactness"] = bench_exactness(store)
    report(result)
    out = ROOT / "bench" / "results" / f"{time.strftime('%Y%m%d-%H%M')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"written: {out.relative_to(ROOT)}")


def report(r: dict) -> None:
    m = r["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, BLAS {m['blas']}")
    for row in r["pyclustertend"]:
        print(
            f"a  VAT n={row['n']:>5}: pyclustertend {row['pyclustertend_s']:8.3f} s  "
            f"fracdash {row['fracdash_s']:.4f} s  ratio {row['ratio']:7.1f}x  "
            f"same order: {row['same_order']}"
        )
    for row in r["gram"]:
        print(
            f"b  n={row['n']:>5} d={row['d']:>5}: Gram {row['gram_s']:.3f} s  "
            f"vat_order {row['vat_s']:.3f} s  ratio {row['ratio']:.2f}"
        )
    easy = r["scenarios"][0]
    print(
        f"c  easy: {easy['wall_s']:.1f} s wall, peak RSS {easy['rss_gb']:.2f} GB, "
        f"bare-GEMM sum {r['easy_gemm_s']:.1f} s, ratio {easy['wall_s'] / r['easy_gemm_s']:.2f}"
    )
    total = sum(s["wall_s"] for s in r["scenarios"])
    floor = r["gram_floor"]
    for s in r["scenarios"]:
        f = floor[s["scenario"]]
        print(
            f"d  {s['scenario']:<15} {s['wall_s']:7.1f} s  peak RSS {s['rss_gb']:.2f} GB  "
            f"Gram floor {f['gram_floor_s']:6.1f} s ({f['features']:,} features)  "
            f"{s['accuracy']}"
        )
    floors = sum(f["gram_floor_s"] for f in floor.values())
    print(f"d  five scenarios: {total:.1f} s (Gram floor {floors:.1f} s)")
    w = r["warm_start"]
    print(f"e  warm start: data ready {w['data_ready_s']:.2f} s, first page {w['first_page_s']} s")
    for row in r["exactness"]:
        print(f"x  n={row['n']} {row['layer']} (d={row['d']}): equals float64 VAT: {row['equal']}")
    print("targets: " + ", ".join(f"{k} {v}" for k, v in TARGETS.items()))


if __name__ == "__main__":
    main()
