"""Inside a job process: compute one run, saying how far it is, for every page.

Started by :meth:`fracdash.web.jobs.JobRegistry.start` as
``python -m fracdash.web.job_process SPEC`` (SPEC: JSON), holding its run's job lock
(inherited, descriptor ``spec["lock_fd"]``) until it exits. It waits for the store's
compute slot (one computation at a time: a second one waits until the first ends),
builds the scenario's network untrained and stores its layer graph as the partial run
(the page shows it, every layer a placeholder, before training starts), then trains
and analyses, writing its record as it goes (:class:`JobProgress`). It exits when its
server does (SIGTERM from the server; its parent gone, if the server was killed).
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from fracdash.errors import FracdashError
from fracdash.store import Store
from fracdash.web.estimates import STAGES, plan, recipe, record_run, units
from fracdash.web.jobs import jobs_folder, partial_key, try_lock, write_record

#: Shortest interval between two writes of the record (seconds).
WRITE_EVERY = 0.5
#: How often the job looks whether its server is still there (seconds).
PARENT_POLL = 0.5
ORDER = ("queued", *STAGES)


class JobProgress:
    """The job's record, written to the jobs folder as the pipeline reports
    ``progress(stage, done, total, detail)``; the stages' durations, measured.

    The record holds the stage and its counts, ``overall`` (the share of the whole
    computation done, by the stages' predicted seconds: it never goes back) and
    ``eta`` (seconds left: the current stage at its own pace once it has progressed
    enough, :func:`fracdash.progress.eta_seconds`, plus the later stages' predictions;
    None before)."""

    def __init__(self, store: Store, spec: dict):
        self.store, self.run = store, spec["run"]
        self.folder = jobs_folder(store.directory)
        self.spec = spec
        stages = plan(store, spec["scenario"], spec["samples"], spec.get("compute"))
        now = time.time()
        self.record = {"run": self.run, "scenario": spec["scenario"], "pid": os.getpid(),
                       "owner": spec["parent"], "started": now, "stage": "queued", "done": 0,
                       "total": 0, "detail": "", "stage_started": now, "overall": 0.0,
                       "eta": None, "partials": 0, "updated": 0.0,
                       "plan": [[p.stage, p.seconds] for p in stages]}  # fmt: skip
        self.spans: dict[str, list[float]] = {}  # stage -> [start, last report]
        self.totals: dict[str, int] = {}
        self._last = spec.get("launched", now)  # starting began with this process
        self.write()

    def begin(self) -> None:
        """The computation starts now, after a wait in the queue (no stage of its own)."""
        self._last = time.time()

    def write(self) -> None:
        self.record["updated"] = time.time()
        write_record(self.folder, self.run, self.record)

    def __call__(self, stage: str, done: int, total: int, detail: str = "") -> dict:
        from fracdash.progress import eta_seconds

        now, record = time.time(), self.record
        changed = stage != record["stage"]
        if changed:  # a stage's first report comes after its first step: it began before
            record["stage_started"] = self._last
            self.spans[stage] = [self._last, now]
        self.spans.setdefault(stage, [now, now])[1] = now
        self.totals[stage] = total
        record.update(stage=stage, done=done, total=total, detail=detail)
        rank = ORDER.index(stage) if stage in ORDER else len(ORDER)
        later = sum(s for name, s in record["plan"] if ORDER.index(name) > rank)
        planned = dict(record["plan"])
        before = sum(s for name, s in record["plan"] if ORDER.index(name) < rank)
        share = done / total if total else 0.0
        whole = sum(planned.values()) or 1.0
        record["overall"] = max(record["overall"],
                                min(1.0, (before + share * planned.get(stage, 0.0)) / whole))
        left = eta_seconds(done, total, now - record["stage_started"])
        record["eta"] = None if left is None else left + later
        self._last = now
        # Reports without counts (queued, starting) are few and say what changed.
        if changed or not total or done >= total or now - record["updated"] >= WRITE_EVERY:
            self.write()
        return dict(record)

    def partial(self, analysis) -> None:
        """Keep the analysis so far (layers not ordered yet in ``meta["pending"]``) for
        the pages: each glyph appears as soon as it is ordered."""
        self.store.set_bytes(partial_key(self.run), analysis.to_bytes())
        self.record["partials"] += 1
        self.write()

    def observed(self) -> dict[str, tuple[float, float]]:
        """``{stage: (units, seconds)}`` of the stages this job ran, for the estimates."""
        scenario, samples = self.spec["scenario"], self.spec["samples"]
        compute = self.spec.get("compute")
        found = {}
        for stage, (start, end) in self.spans.items():
            if stage == "queued":
                continue
            if stage == "order":
                work = self.totals["order"]
                amount = units("order", scenario, samples, compute, work=work) if work else 0
            else:
                amount = units(stage, scenario, samples, compute)
            found[stage] = (amount, end - start)
        return found

    def end(self, how: str, **fields) -> None:
        self.record.update(ended=how, finished=time.time(), **fields)
        self.record["seconds"] = self.record["finished"] - self.record["started"]
        if how == "finished":
            self.record["overall"] = 1.0
        self.write()
        self.store.delete(partial_key(self.run))


def untrained_partial(scenario: str, samples: int | None):
    """The scenario's layer graph before training: an :class:`~fracdash.analysis.Analysis`
    of its test samples whose every layer is pending (a placeholder glyph)."""
    from fracdash.analysis import Analysis, make_glyph
    from fracdash.models.training import BUILDERS
    from fracdash.scenarios import SCENARIOS, test_data
    from fracdash.sources import as_source

    spec = SCENARIOS[scenario]
    x, y, names = test_data(spec, samples)
    source = as_source(BUILDERS[spec.network](), example=x[:1])
    nodes = source.network(x[:1]).nodes
    first = nodes[0]
    blank = make_glyph(first.name, first.kind, first.inputs, first.output_shape,
                       np.arange(len(y)), y)  # fmt: skip
    glyphs = [
        replace(blank, name=n.name, kind=n.kind, inputs=tuple(n.inputs),
                output_shape=tuple(int(s) for s in n.output_shape))
        for n in nodes
    ]  # fmt: skip
    return Analysis(layers=glyphs, labels=y, predictions=y, class_names=names,
                    color_by="truth", meta={"pending": [n.name for n in nodes]})  # fmt: skip


def compute_scenario(store: Store, spec: dict, job: JobProgress) -> None:
    """The default job: show the untrained graph, train if needed, analyse, register,
    and add the stages' durations to this machine's measurements."""
    from fracdash.runs import precompute_scenario
    from fracdash.scenarios import SCENARIOS

    scenario, samples, compute = spec["scenario"], spec["samples"], spec.get("compute") or {}
    job("start", 0, 0, "loading TensorFlow, building the model")
    job.partial(untrained_partial(scenario, samples))
    job("start", 1, 1, "model built")
    precompute_scenario(store, scenario, samples=samples, progress=job, on_partial=job.partial,
                        **compute)  # fmt: skip
    record = job.record  # the last stage goes on until the run is stored
    job(record["stage"], record["done"], record["total"], "stored")
    record_run(store, SCENARIOS[scenario].network, job.observed(), recipe(scenario, compute))


@contextmanager
def compute_slot(job: JobProgress):
    """Hold the store's compute slot: one computation at a time, the others queued."""
    folder = job.folder
    fd = try_lock(folder / "slot.lock")
    if fd is None:
        try:
            holder = (folder / "slot.holder").read_text().strip()
        except FileNotFoundError:
            holder = ""
        job("queued", 0, 0, f"waits for {holder or 'another computation'} to finish")
        fd = os.open(folder / "slot.lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        job.begin()
    (folder / "slot.holder").write_text(job.run)
    try:
        yield
    finally:
        os.close(fd)


def watch_parent(parent: int) -> None:
    """End this process when ``parent`` (its server) is gone, however it ended."""

    def watch():
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="fracdash-parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    spec = json.loads((sys.argv[1:] if argv is None else argv)[0])
    # Ctrl-C reaches the whole process group: the server stops its jobs itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(spec["parent"])
    store = Store(spec["store"])
    job = JobProgress(store, spec)
    print(f"fracdash job {os.getpid()}: computing {spec['run']}", file=sys.stderr, flush=True)
    module, _, name = spec["target"].partition(":")
    try:
        with compute_slot(job):
            getattr(importlib.import_module(module), name)(store, spec, job)
        job.end("finished")
        return 0
    except (FracdashError, OSError) as err:
        job.end("failed", error=str(err))
        return 0
    except Exception as err:  # a bug: said on the page, and its traceback in the log
        traceback.print_exc()
        job.end("failed", error=f"{type(err).__name__}: {err}")
        return 1
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
