"""Predicted vs actual time of computing the scenarios from the page, from an empty store.

Each scenario is computed as the page computes it: one job process started by the job
registry (fracdash.web.jobs), in the order of the run list. Before each, the page's
estimate (fracdash.web.estimates, from the measurements the previous jobs left in the
store) is noted; after it, the wall time from asking to stored, and each stage's own
time as the job measured it. The goal: every total within ±30% of its prediction
(the first one is predicted from the reference machine's figures: nothing is measured
on this machine yet). Prints a table and writes JSON to bench/results/.

    FRACDASH_DATA=... nice python bench/estimates.py                  # all five, ~30+ min
    python bench/estimates.py --scenarios easy --samples 500 --epochs 2 --train-samples 5000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "datasets"
if SHARED_DATA.is_dir():  # as the Makefile does on this workplace's machines
    os.environ.setdefault("FRACDASH_DATA", str(SHARED_DATA))

from fracdash.runs import catalog, run_name  # noqa: E402
from fracdash.scenarios import SCENARIOS  # noqa: E402
from fracdash.store import Store  # noqa: E402
from fracdash.web.estimates import measurements, plan, stage_name  # noqa: E402
from fracdash.web.jobs import JobRegistry  # noqa: E402

GOAL = 0.30


def compute(jobs: JobRegistry, run: str, scenario: str, timeout: float) -> tuple[float, dict]:
    """Start ``run``'s job as a page does; wait until it is stored. Wall seconds and
    the job's final record."""
    start = time.monotonic()
    jobs.start(run, scenario)
    while True:
        record = jobs.status(run) or {}
        if record.get("ended") and not record.get("running"):
            break
        if time.monotonic() - start > timeout:
            jobs.stop()
            raise SystemExit(f"{run}: not done in {timeout:.0f} s")
        time.sleep(0.5)
    if record["ended"] != "finished" or run not in catalog(jobs.store):
        raise SystemExit(f"{run}: {record.get('ended')}: {record.get('error', '')}")
    return time.monotonic() - start, record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated, in this order (default: all five)")  # fmt: skip
    parser.add_argument("--samples", type=int, help="test samples per run (default: all)")
    parser.add_argument("--epochs", type=int, help="training epochs (default: each scenario's)")
    parser.add_argument("--train-samples", type=int, help="training samples (default: all)")
    parser.add_argument("--store", help="store folder (default: a new empty one, removed)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per scenario")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
    settings = {k: v for k, v in (("epochs", args.epochs), ("train_samples", args.train_samples))
                if v is not None}  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"estimates-{time.strftime('%Y%m%d-%H%M')}.json"
    report = {"tool": "bench/estimates.py", "cpus": os.cpu_count(), "machine": platform.machine(),
              "python": platform.python_version(), "samples": args.samples, "compute": settings,
              "goal": f"within ±{GOAL:.0%}", "rows": []}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="fracdash-estimates-") as scratch:
        store = Store(args.store or scratch)
        jobs = JobRegistry(store, args.samples, settings)
        rows = report["rows"]
        try:
            for scenario in scenarios:
                run = run_name(scenario, args.samples)
                predicted = plan(store, scenario, args.samples, settings)
                load_before = os.getloadavg()[0]
                wall, record = compute(jobs, run, scenario, args.timeout)
                network = SCENARIOS[scenario].network
                measured = measurements(store)["stages"]
                stages = {}
                for p in predicted:
                    last = measured.get(stage_name(p.stage, network), [[0, 0.0]])[-1]
                    stages[p.stage] = {"predicted": round(p.seconds, 1),
                                       "actual": round(last[1], 1),
                                       "measured_here": p.measured}  # fmt: skip
                total = sum(p.seconds for p in predicted)
                rows.append({"scenario": scenario, "run": run, "predicted": round(total, 1),
                             "actual": round(wall, 1), "ratio": round(wall / total, 2),
                             "within_goal": abs(wall / total - 1) <= GOAL, "stages": stages,
                             "job_seconds": round(record["seconds"], 1),
                             "load_average": [round(load_before, 1),
                                              round(os.getloadavg()[0], 1)]})  # fmt: skip
                report["within_goal"] = sum(r["within_goal"] for r in rows)
                path.write_text(json.dumps(report, indent=2) + "\n")  # kept if stopped later
                print(f"{run:22s} predicted {total:7.1f} s  actual {wall:7.1f} s  "
                      f"ratio {wall / total:5.2f}  " + "  ".join(
                          f"{k} {v['predicted']}/{v['actual']}" for k, v in stages.items()),
                      flush=True)  # fmt: skip
        finally:
            jobs.stop()
            store.close()
    report["within_goal"] = sum(r["within_goal"] for r in rows)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{report['within_goal']} of {len(rows)} within ±{GOAL:.0%}; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
