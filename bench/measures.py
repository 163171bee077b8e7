"""Cost of the exact per-layer measures and two-run agreements at n samples.

One process, side by side, so that ratios hold on a busy machine. For random float32
layers of each width (default n = 10,000; widths 10, 84 and 2,000), in seconds and as
a multiple of ``vat``:
  vat    ``vat_order`` of the layer (what the pipeline already pays per layer);
  s32    the BLAS floor of a float32 pass: ``x[r] @ x.T`` for every 32 MB row block;
  s64    the same in float64 (the pass that certifies ranks);
  knn    ``exact_neighbours(x, 10)`` (a float32 pass);
  meas   ``layer_measures``: kNN accuracy, hubness, trustworthiness (one float64 pass);
  agree  ``layer_agreement`` with another layer of that width (kNN + tree: two passes);
and linear CKA between pairs of widths (the feature form; ``--gram-cka`` adds the
Gram form of a 2,000 x 2,000 pair), next to the same formula in bare numpy.

    nice python bench/measures.py [--samples 10000] [--widths 10,84,2000] [--gram-cka]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fracdash.core.agreement import layer_agreement  # noqa: E402
from fracdash.core.cka import linear_cka  # noqa: E402
from fracdash.core.measures import layer_measures  # noqa: E402
from fracdash.core.neighbours import exact_neighbours  # noqa: E402
from fracdash.core.vat import vat_order  # noqa: E402


def timed(call):
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def gemm_floor(x) -> float:
    step = max(16, 32 * 2**20 // (x.itemsize * len(x)))
    return timed(lambda: [x[r : r + step] @ x.T for r in range(0, len(x), step)] and None)[0]


def layer_row(n: int, d: int, rng) -> dict:
    x, y = (rng.normal(size=(n, d)).astype(np.float32) for _ in range(2))
    labels = rng.integers(0, 10, n)
    row = {"s32": gemm_floor(x), "s64": gemm_floor(x.astype(np.float64))}
    row["vat"], order = timed(lambda: vat_order(x))
    row["knn"] = timed(lambda: exact_neighbours(x, 10))[0]
    row["meas"] = timed(lambda: layer_measures(x, labels, order))[0]
    other = rng.permutation(n)
    row["agree"] = timed(lambda: layer_agreement(x, y, order, other))[0]
    return row


def bare_cka(x, y) -> float:
    """The feature form written out in numpy, whole arrays in float64 at once."""
    x = x.astype(np.float64) - x.mean(axis=0, dtype=np.float64)
    y = y.astype(np.float64) - y.mean(axis=0, dtype=np.float64)
    cross = np.linalg.norm(x.T @ y) ** 2
    return cross / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--widths", default="10,84,2000")
    parser.add_argument("--gram-cka", action="store_true", help="also time CKA's Gram form")
    args = parser.parse_args()
    n, rng = args.samples, np.random.default_rng(0)
    small = rng.normal(size=(20, 5)).astype(np.float32)
    layer_measures(small, np.zeros(20), np.arange(20), k=3)  # compile (or load) numba
    exact_neighbours(small, 3, order=np.arange(20))
    columns = ("s32", "s64", "knn", "meas", "agree")
    print(f"n = {n}; seconds (x vat_order of the same layer)")
    print(f"{'d':>6} {'vat':>7} " + " ".join(f"{c:>13}" for c in columns))
    for d in (int(w) for w in args.widths.split(",")):
        row = layer_row(n, d, rng)
        cells = [f"{row[c]:6.2f} ({row[c] / row['vat']:4.1f}x)" for c in columns]
        print(f"{d:>6} {row['vat']:7.2f} " + " ".join(cells))
    pairs = [(84, 120), (10, 2000), (2000, 2000)]
    for da, db in pairs:
        a, b = (
            rng.normal(size=(n, da)).astype(np.float32),
            rng.normal(size=(n, db)).astype(np.float32),
        )
        seconds, value = timed(lambda: linear_cka(a, b))  # noqa: B023
        bare, _ = timed(lambda: bare_cka(a, b))  # noqa: B023
        print(f"CKA {da} x {db}: {seconds:.3f} s (bare numpy {bare:.3f} s), value {value:.4f}")
    if args.gram_cka:
        a, b = (
            rng.normal(size=(n, 2000)).astype(np.float32),
            rng.normal(size=(n, 2000)).astype(np.float32),
        )
        seconds, _ = timed(lambda: linear_cka(a, b, form="gram"))
        print(f"CKA 2000 x 2000, Gram form (both Grams streamed): {seconds:.2f} s")


if __name__ == "__main__":
    main()
