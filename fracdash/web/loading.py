"""Runs the dashboard offers, and their page data, cached in-process by analysis key.

A stored analysis is immutable under its content key, so the rendered page data
(PNG variants, layout) is cached per ``(key, simplify)`` with :func:`functools.lru_cache`;
a recomputed run gets a new key and is rendered afresh.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from fracdash.analysis import DEFAULT_CURVE, Analysis
from fracdash.runs import catalog, run_name
from fracdash.scenarios import SCENARIOS
from fracdash.store import Store
from fracdash.web.dag import DagView, dag_view

NETWORK_LABELS = {"lenet5": "LeNet5", "double_lenet5": "DoubleLeNet5", "vgg16": "VGG16"}
DATA_LABELS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def scenario_runs(samples: int | None) -> dict[str, str]:
    """Run name -> scenario name, for the built-in scenarios at ``samples``."""
    return {run_name(name, samples): name for name in SCENARIOS}


def scenario_of(run: str, samples: int | None) -> str | None:
    """The scenario that computes run ``run``, or None for a stored user analysis."""
    return scenario_runs(samples).get(run)


def scenario_label(name: str) -> str:
    s = SCENARIOS[name]
    trained = DATA_LABELS[s.train_on]
    tested = DATA_LABELS[s.test_on]
    data = trained if trained == tested else f"{trained} → {tested}"
    return f"{name} — {NETWORK_LABELS.get(s.network, s.network)} on {data}"


def run_options(store: Store, samples: int | None, compute: dict | None = None) -> list[dict]:
    """Dropdown options: the five scenarios (marked when not computed yet, with what
    computing them will cost on this machine, or how far its job is), then every other
    stored analysis in the catalog."""
    from fracdash.web.computing import job_label
    from fracdash.web.estimates import describe, estimate_seconds
    from fracdash.web.jobs import running_jobs

    stored = catalog(store)
    running = running_jobs(store)
    options = []
    for run, scenario in scenario_runs(samples).items():
        label = scenario_label(scenario)
        if run not in stored:
            if run in running:
                label += f" ({job_label(running[run])})"
            else:
                cost = estimate_seconds(store, scenario, samples, compute)
                label += f" (not computed: {describe(cost)} to compute)"
        options.append({"label": label, "value": run})
    shown = scenario_runs(samples).keys() | set(SCENARIOS)
    for run in sorted(set(stored) - shown):
        entry = stored[run]
        options.append({"label": f"{run} — stored analysis, n={entry.get('n', '?')}", "value": run})
    return options


def run_key(store: Store, run: str | None) -> str | None:
    """Content key of the stored analysis of ``run``, or None when not computed."""
    entry = catalog(store).get(run) if run else None
    return entry["key"] if entry and entry["key"] in store else None


#: Server threads load one analysis at a time: numpy's .npy header parsing is not
#: thread-safe on Python 3.11 (it can fail when threads parse at once, cpython#106905),
#: and a second thread asking for the same run then finds it cached.
_LOADING = threading.Lock()


def analysis_by_key(store: Store, key: str) -> Analysis:
    with _LOADING:
        return _analysis_by_key(store, key)


@lru_cache(maxsize=8)
def _analysis_by_key(store: Store, key: str) -> Analysis:
    data = store.get_bytes(key)
    if data is None:
        raise KeyError(f"no analysis stored under {key}")
    return Analysis.from_bytes(data)


def load_analysis(
    store: Store, run: str | None, simplify: bool = False, curve: str = DEFAULT_CURVE
) -> Analysis | None:
    """The stored analysis of ``run`` on ``curve`` (simplified if asked), or None if not
    computed."""
    key = run_key(store, run)
    try:
        analysis = on_curve_by_key(store, key, curve) if key else None
    except KeyError:  # evicted since the catalog was read
        return None
    if analysis is None:
        return None
    return analysis.simplified() if simplify else analysis


@lru_cache(maxsize=16)
def on_curve_by_key(store: Store, key: str, curve: str) -> Analysis:
    """The stored analysis laid on ``curve``, kept: laying every glyph on the other curve
    (and scoring it) is not redone by each callback that shows the run."""
    return analysis_by_key(store, key).on_curve(curve)


@lru_cache(maxsize=16)
def view_by_key(store: Store, key: str, simplify: bool, curve: str = DEFAULT_CURVE) -> DagView:
    full = on_curve_by_key(store, key, curve)
    if not simplify:
        return dag_view(full)
    glyphs = {g.name: g for g in view_by_key(store, key, False, curve).glyphs}
    return dag_view(full.simplified(), glyphs)


def load_view(
    store: Store, run: str | None, simplify: bool = False, curve: str = DEFAULT_CURVE
) -> DagView | None:
    """Page data of ``run``'s DAG on ``curve``, or None if the run is not computed."""
    key = run_key(store, run)
    try:
        return view_by_key(store, key, bool(simplify), curve) if key else None
    except KeyError:  # evicted since the catalog was read
        return None
