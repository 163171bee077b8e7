"""When a run's glyphs are all on the page: the easy scenario's LeNet5 analyzed in fresh
processes, each timing (from the call to ``fracdash.analyze``) its first glyph, its
last glyph (nothing pending in the analysis so far) and the whole run, measures
included, and its peak resident memory.

Each ``--code`` folder is a checkout of fracdash (``git worktree add DIR REV``; by
default this one), run in turn ``--repeats`` times, interleaved, so that two versions
compare on one machine under the same load. The model is the easy scenario's, from
the store (trained there first if missing, as ``fracdash precompute easy`` does).

    nice python bench/glyphs_first.py [--samples 5000] [--repeats 2] [--code DIR ...]
        [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from metrics import machine  # noqa: E402

CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import fracdash
from fracdash.models.training import trained_model
from fracdash.scenarios import SCENARIOS, test_data
n, store = int(sys.argv[2]), sys.argv[3]
model, _ = trained_model(SCENARIOS["easy"], Path(store) / "models")
x, y, _ = test_data(SCENARIOS["easy"], n)
t0, marks = time.perf_counter(), []
fracdash.analyze(model, x, y, on_partial=lambda a: marks.append(
    (time.perf_counter() - t0, len(a.meta.get("pending", [])))))
total = time.perf_counter() - t0
first = next(t for t, p in marks if p < marks[0][1])
every = next(t for t, p in marks if p == 0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps({"first_glyph_s": round(first, 1), "all_glyphs_s": round(every, 1),
                  "total_s": round(total, 1), "peak_rss_gib": round(peak, 2)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--code", action="append", default=None)
    parser.add_argument("--store", default=os.environ.get("FRACDASH_STORE")
                        or str(Path.home() / ".cache" / "fracdash"))  # fmt: skip
    args = parser.parse_args()
    folders = args.code or [str(ROOT)]
    result = {"machine": machine(), "samples": args.samples, "runs": []}
    for repeat in range(args.repeats):
        for folder in folders:
            rev = subprocess.run(["git", "-C", folder, "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True).stdout.strip()  # fmt: skip
            child = [sys.executable, "-c", CHILD, folder, str(args.samples), args.store]
            out = subprocess.run(child, capture_output=True, text=True, check=True)
            row = {"code": folder, "rev": rev, "repeat": repeat,
                   **json.loads(out.stdout.strip().splitlines()[-1])}  # fmt: skip
            result["runs"].append(row)
            print(json.dumps(row), flush=True)
    result["machine"]["load_average_at_end"] = os.getloadavg()
    path = ROOT / "bench" / "results" / f"glyphs-first-{time.strftime('%Y%m%d-%H%M')}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(path)


if __name__ == "__main__":
    main()
