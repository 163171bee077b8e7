"""Stand-ins for the job that computes a scenario, run by real job processes in tests
(a registry's ``target``, ``job_fakes:quick``...): no TensorFlow, seconds not minutes.
The job process imports this module, so tests put tests/ and tools/ on its PYTHONPATH
(:func:`fake_env`). Timing comes from the registry's ``compute`` dict, passed through."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fracdash.errors import DatasetError
from fracdash.runs import register
from fracdash.store import stage_key

TESTS = Path(__file__).resolve().parent


def fake_env() -> str:
    """PYTHONPATH under which a job process can import this module and helpers."""
    parts = [str(TESTS), str(TESTS.parent / "tools"), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(p for p in parts if p)


def quick(store, spec, job):
    """Each stage in ``compute["steps"]`` steps of ``compute["delay"]`` seconds, the
    toy graph as the partial run first, then a toy run stored under the job's run.
    With ``compute["gate"]`` (a path), training waits until that file exists."""
    from helpers import toy_analysis

    steps = spec["compute"].get("steps", 3)
    delay = spec["compute"].get("delay", 0.1)
    gate = spec["compute"].get("gate")
    analysis = toy_analysis(seed=2)
    analysis.meta["pending"] = [g.name for g in analysis.layers]
    job.partial(analysis)
    for stage in ("start", "train", "forward", "order"):
        while stage == "train" and gate and not Path(gate).exists():
            time.sleep(0.05)
        for step in range(1, steps + 1):
            time.sleep(delay)
            job(stage, step, steps, f"step {step}")
    analysis = toy_analysis(seed=2)
    analysis.meta["key"] = stage_key("analysis", {"fake": spec["run"]})
    store.set_bytes(analysis.meta["key"], analysis.to_bytes())
    register(store, spec["run"], analysis)


def sleepy(store, spec, job):
    """Trains forever: only its server stopping it ends it."""
    job("train", 0, 10, "")
    while True:
        time.sleep(0.1)


def failing(store, spec, job):
    """Fails as a missing data set does."""
    job("start", 0, 0, "")
    raise DatasetError("the MNIST files are missing; put them in $FRACDASH_DATA")
