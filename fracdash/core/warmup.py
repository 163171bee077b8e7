"""Compile the kernels a run orders and measures with, on a tiny problem, into numba's cache.

A run's first ordering on a fresh install spends more time compiling Prim's loop and
its exact re-checks (``@njit(cache=True)``: :mod:`fracdash.core.prim`,
:mod:`fracdash.core.exact`, :mod:`fracdash.core.neighbours`) than ordering a small test
set. :mod:`fracdash.background_compile` runs this module in a process of its own
(``python -m fracdash.core.warmup STAMP PARENT_PID [PART ...]``) while the run loads
its model and computes its activations; the run then finds the compiled code in the
cache.

The problem is chosen to take the routes a run in memory takes, with the types a run
passes: float32 activations (what every model source returns) ordered under the
Euclidean route (every metric but manhattan and local-scaling is Euclidean on
transformed rows), then measured (exact neighbours, ranks). The numbers are thrown away.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

#: Samples and width of the tiny layer: enough samples for ties to need re-checking.
SAMPLES, WIDTH = 64, 12


#: The kernels' two groups: VAT's order (Prim's loop, the exact re-checks), and the
#: measures' exact neighbours and ranks.
PARTS = ("order", "measures")


def compile_kernels(parts=PARTS) -> None:
    """Order (``"order"``) and measure (``"measures"``) one tiny random float32 layer:
    the kernels of the in-memory route are compiled (or read from numba's cache) on
    the way."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, WIDTH)).astype(np.float32)
    x[1] = x[0]  # a duplicate: exact ties take the re-checking branches
    if "order" in parts:
        from fracdash.core.vat import vat_order

        vat_order(x)
    if "measures" in parts:
        from fracdash.core.measures import layer_measures

        layer_measures(x, np.arange(SAMPLES) % 3, rng.permutation(SAMPLES), k=3)


def main(stamp: str, parent: int, parts=PARTS) -> None:
    """Compile the kernels of ``parts``, then create ``stamp``; end at once if process ``parent``
    (the run that started this one) ends first: a stopped run leaves nothing behind."""

    def watch():
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    compile_kernels(parts)
    Path(stamp).touch()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), tuple(sys.argv[3:]) or PARTS)
