"""A job's progress as pages show it, read from its record (:mod:`fracdash.web.jobs`).

Every page showing a run being computed reads the one record of its one job: the
stage, its counts, the share of the whole computation done (which never goes back) and
the time left once it can be predicted; and the run's partial analysis, each layer's
glyph as soon as it is ordered.
"""

from __future__ import annotations

import time

from dash import html

from fracdash.progress import about, stage
from fracdash.store import Store
from fracdash.web.jobs import partial_key


def read_partial(store: Store, run: str):
    """The analysis so far of a job computing ``run`` (an
    :class:`~fracdash.analysis.Analysis` whose ``meta["pending"]`` names the layers not
    ordered yet), or None before its model is known (or after it ended)."""
    from fracdash.analysis import Analysis

    data = store.get_bytes(partial_key(run))
    return Analysis.from_bytes(data) if data is not None else None


def percent(record: dict) -> int:
    """The share of the whole computation done, in percent (never goes back)."""
    return int(100 * record.get("overall", 0.0))


def eta_left(record: dict, now: float | None = None) -> float | None:
    """Seconds left in the whole computation, or None while it cannot be predicted."""
    eta = record.get("eta")
    if eta is None:
        return None
    return max(0.0, eta - ((now or time.time()) - record.get("updated", 0.0)))


def job_label(record: dict) -> str:
    """What the run list says of a run being computed: ``computing: 40%``, or
    ``queued: waits for easy to finish``."""
    if record.get("stage") == "queued" and record.get("detail"):
        return f"queued: {record['detail']}"
    return f"computing: {percent(record)}%"


def progress_view(record: dict) -> html.Div:
    """``computing easy`` with a bar of the whole computation, the stage, its count,
    what it is on, and the time left once it can be said."""
    s = stage(record.get("stage", "queued"))
    done, total = record.get("done", 0), record.get("total", 0)
    if total and s.percent:
        count = f"{100 * done // total}%"
    elif total:
        count = f"{s.unit} {done} of {total}"
    else:
        count = ""
    left = eta_left(record)
    parts = [s.label, count, record.get("detail") or "",
             f"{about(left)} left" if left is not None else ""]  # fmt: skip
    overall = record.get("overall", 0.0)
    return html.Div(
        [html.Strong(f"computing {record['run']}"),
         html.Progress(value=str(round(1000 * overall)), max="1000"),
         html.Span(" · ".join(p for p in parts if p), className="fd-progress-text")],
        className="fd-progress-box",
        **{"data-stage": record.get("stage", "queued"), "data-overall": f"{overall:.4f}"},
    )  # fmt: skip
