"""A series: checkpoints of one network analyzed into runs ``NAME@STEP``, in one record.

``fracdash analyze --model 'ckpt_*.keras' --name NAME`` analyzes a list of checkpoints;
a Keras callback (``fracdash.keras.Checkpoints``) and a PyTorch helper
(``fracdash.torch.record``) record one during training. Each checkpoint is an ordinary
run, ``NAME@STEP`` (STEP an epoch), and the store's series record (:func:`series_catalog`:
name -> runs and steps) lets the page step through them. The orders are stored by the
model's digest as for any run, so a checkpoint whose weights equal an earlier one's
orders nothing again.

VAT starts at one end of the data's diameter, so two checkpoints may lay a layer out
from different ends. ``start=S`` begins every checkpoint's orders at sample S instead:
Prim's order from S, "fixed start (not exact VAT)" in the run's meta; such orders are
stored under keys of their own, never as the exact ones.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from fracdash.cluster import LocalOrderer
from fracdash.core import vat_order
from fracdash.core.metrics import metric_spec
from fracdash.core.vat import NonFiniteValues
from fracdash.errors import ActivationError, UserDataError
from fracdash.runs import (
    analyze_run,
    catalog,
    check_run_name,
    data_digest,
    label_order_check,
    register,
)
from fracdash.store import Store, array_digest, stage_key
from fracdash.thumbnails import store_thumbnails

SERIES_KEY = stage_key("series")
#: What a run's ``meta["order"]`` says of orders begun at a given sample.
FIXED_START = "fixed start (not exact VAT)"


def step_name(series: str, step: int) -> str:
    """``run@3``: the run of step (epoch) 3 of series ``run``."""
    return f"{series}@{int(step)}"


def series_catalog(store: Store) -> dict[str, dict]:
    """Recorded series: name -> {"runs": [...], "steps": [...], "order": ..., "updated"}."""
    return store.get_json(SERIES_KEY) or {}


def series_runs(store: Store, series: str) -> list[tuple[int, str]]:
    """``(step, run name)`` of series ``series``, by step, leaving out runs deleted since
    (``fracdash runs --delete``); empty for an unknown series."""
    stored = catalog(store)
    record = series_catalog(store).get(series, {})
    return [(s, step_name(series, s)) for s in record.get("steps", ())
            if step_name(series, s) in stored]  # fmt: skip


def record_step(store: Store, series: str, step: int, *, order: str = "exact VAT") -> dict:
    """Add run ``series@step`` (already registered) to series ``series``; return its
    record, steps in increasing order."""
    with store.lock(SERIES_KEY):
        records = series_catalog(store)
        record = records.get(series) or {"steps": [], "order": order}
        steps = sorted({*record["steps"], int(step)})
        record.update(steps=steps, runs=[step_name(series, s) for s in steps], order=order,
                      updated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"))  # fmt: skip
        records[series] = record
        store.set_json(SERIES_KEY, records)
    return record


def checkpoint_steps(paths) -> list[int]:
    """Each checkpoint file's step: the last number in its name where each file has its
    own (``ckpt_05.keras`` -> 5), else 1, 2, 3... in the files' order."""
    found = [re.findall(r"\d+", Path(p).stem) for p in paths]
    steps = [int(f[-1]) if f else None for f in found]
    if None in steps or len(set(steps)) != len(steps):
        return list(range(1, len(steps) + 1))
    return steps


def is_pattern(path) -> bool:
    """Whether a ``--model`` path is a pattern of checkpoint files (``*``, ``?``, ``[``)."""
    return any(c in Path(path).name for c in "*?[")


def series_name(pattern) -> str:
    """A series' default name: the pattern's stem without its wildcards and the
    separators before them (``ckpt_*.keras`` -> ``ckpt``)."""
    stem = re.split(r"[*?\[]", Path(pattern).name)[0]
    return stem.rstrip("-_.@ ") or "series"


def expand_models(pattern) -> list[Path]:
    """The files a ``--model`` pattern names (``*``, ``?``, ``[...]``), in natural order
    (``ckpt_2`` before ``ckpt_10``)."""
    pattern = Path(pattern).expanduser()
    found = [p for p in pattern.parent.glob(pattern.name) if p.is_file()]
    return sorted(found, key=lambda p: [(0, int(t), "") if t.isdigit() else (1, 0, t)
                                        for t in re.split(r"(\d+)", p.name)])  # fmt: skip


class FixedStartOrderer(LocalOrderer):
    """Every layer's order begun at sample ``start`` (Prim's order from it, not VAT's
    start), in this process; each stored under its own key (the layer, metric and start,
    the model's and data's digests) and read back from there when stored."""

    def __init__(self, store: Store, parents: tuple[str, str], start: int):
        self.store, self.parents, self.start = store, parents, int(start)
        self.keys: dict[str, str] = {}
        self.computed = 0

    def orders(self, jobs, acts, metric, progress=None):
        for i, job in enumerate(jobs):
            if progress:
                progress(i, len(jobs), job.name)
            key = stage_key("order", {"layer": job.name, "metric": metric, "start": self.start},
                            self.parents)  # fmt: skip
            self.keys[job.name] = key
            order = self.store.get_array(key)
            if order is None:
                order = self._order(job.name, acts[job.name], metric)
                self.store.set_array(key, order)
                self.computed += 1
            acts.release(job.name)
            yield job.name, order

    def _order(self, name: str, x, metric: str) -> np.ndarray:
        try:
            return vat_order(x, metric, start=self.start)
        except NonFiniteValues as err:
            raise ActivationError(f"layer {name!r} outputs NaN or inf; check the model's "
                                  "weights and the input scaling (--scale)") from err
        except ValueError as err:  # a route without a start (out of core, narrow layers)
            raise UserDataError(f"layer {name!r}: {err}") from None


def check_start(start, n: int, metric: str) -> int:
    """``start`` if every layer's order can begin there, else :class:`UserDataError`."""
    if not isinstance(start, int | np.integer) or not 0 <= start < n:
        raise UserDataError(f"start sample {start!r} is not one of the {n} samples; pass a "
                            f"sample index from 0 to {n - 1}")  # fmt: skip
    if metric_spec(metric).kernel != "rows" or metric == "relu-hamming":
        raise UserDataError(f"a fixed start works with the Euclidean-route metrics, not "
                            f"{metric}; leave the start out, or pass another metric")  # fmt: skip
    return int(start)


def _fixed_start_run(store, model, x, y, class_names, name, start, metric, meta, about,
                     keep_labels, progress) -> object:  # fmt: skip
    """Analyze and register run ``name`` with every order begun at sample ``start``."""
    from fracdash.pipeline import analyze
    from fracdash.sources import as_source

    source = as_source(model, example=x)
    digest = data_digest(x)
    orderer = FixedStartOrderer(store, (source.digest(), digest), start)
    meta = {"network": source.name, "source": "user", "data_digest": digest,
            "order": FIXED_START, "start": int(start), **(meta or {})}  # fmt: skip
    analysis = analyze(
        source, x, y, class_names, metric=metric, store=None, progress=progress, meta=meta,
        orderer=orderer, check_predictions=label_order_check(y, class_names, keep_labels),
    )  # fmt: skip
    key = stage_key(
        "analysis", {"labels": "truth", "names": analysis.class_names, "metric": metric,
                     "start": int(start)}, (*orderer.parents, array_digest(y)),
    )  # fmt: skip
    store.set_bytes(key, analysis.to_bytes())
    analysis.meta.update(key=key, uses=sorted(set(orderer.keys.values())))
    analysis.meta["computed_orders"] = orderer.computed
    store_thumbnails(store, analysis, x)
    register(store, name, analysis, **{"model": source.name, **(about or {})})
    return analysis


def analyze_step(
    store: Store,
    model,
    x,
    y,
    class_names=None,
    *,
    series: str,
    step: int,
    start: int | None = None,
    replace: bool = False,
    metric: str = "euclidean",
    progress=None,
    meta: dict | None = None,
    about: dict | None = None,
    keep_labels: bool = False,
    orderer=None,
    measures: bool = True,
):
    """Analyze one checkpoint as run ``series@step`` and add it to the series record.

    ``x, y, class_names`` must have passed :func:`fracdash.inputs.data.prepare_data`.
    Without ``start`` this is :func:`fracdash.runs.analyze_run` (exact VAT; the orders of
    weights analyzed before are read from the store); with it, every layer's order
    begins at sample ``start`` (:data:`FIXED_START`).

    Returns
    -------
    Analysis
    """
    name = check_run_name(store, step_name(series, step), replace=replace)
    check_run_name(None, series)  # the series' own name must be a valid one too
    if start is None:
        analysis = analyze_run(
            store, model, x, y, class_names, name=name, replace=True, metric=metric,
            progress=progress, meta=meta, about=about, keep_labels=keep_labels,
            orderer=orderer, measures=measures,
        )  # fmt: skip
        record_step(store, series, step)
        return analysis
    n = len(x[0]) if isinstance(x, list | tuple) else len(x)
    start = check_start(start, n, metric)
    analysis = _fixed_start_run(store, model, x, y, class_names, name, start, metric, meta,
                                about, keep_labels, progress)  # fmt: skip
    record_step(store, series, step, order=FIXED_START)
    return analysis


def record_checkpoint(
    model, x, y, step: int, *, name: str = "run", store=None, class_names=None,
    start: int | None = None, metric: str = "euclidean", keep_labels: bool = False,
    warn=None,
):  # fmt: skip
    """A model during training, analyzed on ``(x, y)`` as step ``step`` of series
    ``name`` (run ``name@step``, replaced if stored): what the Keras callback and the
    PyTorch helper call. ``x`` is passed to the model as it is."""
    from fracdash.inputs.data import prepare_data
    from fracdash.sources import as_source
    from fracdash.store import default_store_dir

    store = store if isinstance(store, Store) else Store(store or default_store_dir())
    source = as_source(model, example=x)
    data = prepare_data(source, x, y, class_names, warn)
    x_shape = "x".join(map(str, np.shape(x)))
    return analyze_step(
        store, data.model, data.x, data.y, data.class_names, series=name, step=step,
        start=start, replace=True, metric=metric, keep_labels=keep_labels,
        meta={"note": f"checkpoint {step} of {name}, recorded during training",
              **data.meta()},
        about={"data": f"Python array {x_shape}", **data.about()},
    )  # fmt: skip
