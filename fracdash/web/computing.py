"""Scenarios computed from the page: their progress, kept in the store for every viewer.

A background job writes its progress to the store (at most twice a second), so that
the page that started it shows a bar with an ETA per stage, and every page lists the
run as being computed. A record not refreshed for :data:`STALE_SECONDS` belongs to a
job that died, and is ignored.
"""

from __future__ import annotations

import time

from dash import html

from fracdash.progress import stage
from fracdash.store import Store, stage_key

#: A job's record older than this (seconds) is from a job that is gone.
STALE_SECONDS = 60.0
#: Shortest interval between two writes of a job's record (seconds).
WRITE_EVERY = 0.5


def progress_key(run: str) -> str:
    return stage_key("page-progress", {"run": run})


def partial_key(run: str) -> str:
    """Where a job keeps the layers of ``run`` ordered so far, for the page to show."""
    return stage_key("page-partial", {"run": run})


class JobProgress:
    """The progress record of one job computing ``run``, written to ``store``."""

    def __init__(self, store: Store, run: str):
        self.store, self.run = store, run
        self.record = {"run": run, "stage": "start", "done": 0, "total": 0, "detail": "",
                       "stage_started": time.time(), "updated": 0.0}  # fmt: skip

    def __call__(self, stage_name: str, done: int, total: int, detail: str = "") -> dict:
        """Record the pipeline's ``progress(stage, done, total, detail)``; return the record."""
        now = time.time()
        if stage_name != self.record["stage"]:
            self.record["stage_started"] = now
        self.record.update(stage=stage_name, done=done, total=total, detail=detail)
        if now - self.record["updated"] >= WRITE_EVERY or (total and done >= total):
            self.record["updated"] = now
            self.store.set_json(progress_key(self.run), self.record)
        return dict(self.record)

    def partial(self, analysis) -> None:
        """Keep the analysis so far (every layer, those not ordered yet named in
        ``meta["pending"]``), so that each glyph appears as soon as it is ordered."""
        self.store.set_bytes(partial_key(self.run), analysis.to_bytes())

    def clear(self) -> None:
        self.store.delete(progress_key(self.run))
        self.store.delete(partial_key(self.run))


def read_progress(store: Store, run: str) -> dict | None:
    """The live progress record of a job computing ``run``, or None."""
    record = store.get_json(progress_key(run))
    if record is None or time.time() - record.get("updated", 0) > STALE_SECONDS:
        return None
    return record


def read_partial(store: Store, run: str):
    """The analysis so far of a live job computing ``run`` (an
    :class:`~fracdash.analysis.Analysis` whose ``meta["pending"]`` names the layers not
    ordered yet), or None."""
    from fracdash.analysis import Analysis

    if read_progress(store, run) is None:
        return None
    data = store.get_bytes(partial_key(run))
    return Analysis.from_bytes(data) if data is not None else None


def percent(record: dict) -> int | None:
    return 100 * record["done"] // record["total"] if record.get("total") else None


def eta_seconds(record: dict, now: float | None = None) -> float | None:
    """Time left in the current stage, from its pace so far (None before a first step)."""
    done, total = record.get("done", 0), record.get("total", 0)
    if not done or not total or done >= total:
        return None
    elapsed = (now or time.time()) - record["stage_started"]
    return elapsed / done * (total - done)


def progress_view(record: dict) -> html.Div:
    """``computing easy`` with the stage, a progress bar, its percentage or count, and
    the ETA of the stage."""
    s = stage(record["stage"])
    done, total = record.get("done", 0), record.get("total", 0)
    if total and s.percent:
        count = f"{percent(record)}%"
    elif total:
        count = f"{s.unit} {done} of {total}"
    else:
        count = ""
    eta = eta_seconds(record)
    parts = [s.label, count, record.get("detail") or "",
             f"about {eta:.0f} s left in this stage" if eta is not None else ""]  # fmt: skip
    bar = html.Progress(value=str(done), max=str(total)) if total else html.Progress()
    return html.Div(
        [html.Strong(f"computing {record['run']}"), bar,
         html.Span(" · ".join(p for p in parts if p), className="fd-progress-text")],
        className="fd-progress-box",
    )  # fmt: skip
