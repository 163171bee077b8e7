"""Two stored runs compared for the page: the comparison of their stored orders, kept in
memory per (runs, pairing), and its per-sample data as the browser reads it.

The page never loads a model here: :func:`comparison` asks
:func:`fracdash.compare.compare_runs` for the measures of the stored orders only
(``activations=False, cka="none"``), which returns a fuller comparison where
``fracdash compare A B`` stored one (its kNN overlap, tree edges and CKA included).
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict

import numpy as np

from fracdash.compare import compare_runs
from fracdash.errors import CompareError
from fracdash.run_comparison import Comparison
from fracdash.runs import catalog
from fracdash.series import series_catalog, series_runs

#: Comparisons kept in memory (each holds a few arrays of n values per layer pair).
CACHED = 8
_CACHE: OrderedDict = OrderedDict()
_LOCK = threading.Lock()
#: One lock per comparison asked for: computed once when asked for at once.
_BUSY: dict = {}


def versus_options(store, run) -> list[dict]:
    """The "compare with" list: every run of the store's catalog but ``run``, by name
    (its whole name on hover)."""
    names = sorted(set(catalog(store)) - {run})
    return [{"label": name, "value": name, "title": name} for name in names]


def series_of(store, run) -> tuple[str, list[tuple[int, str]]] | None:
    """(series name, its ``(step, run)`` by step) of the series ``run`` is a step of, or
    None (:mod:`fracdash.series`)."""
    if not isinstance(run, str) or "@" not in run:
        return None
    name = run.rsplit("@", 1)[0]
    if name not in series_catalog(store):
        return None
    steps = series_runs(store, name)
    return (name, steps) if run in {r for _, r in steps} else None


def pairs_from_text(text) -> list[str] | None:
    """``"a1:b1, a2:b2"`` -> ``["a1:b1", "a2:b2"]``; None for "" or None (automatic
    pairing). Each ``a:b`` is checked against the runs' layers by
    :func:`fracdash.layer_pairs.parse_pair`."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise CompareError("the pairing is not text; write pairs as a1:b1,a2:b2")
    found = [part.strip() for part in text.split(",") if part.strip()]
    return found or None


def comparison(store, run_a: str, run_b: str, pairing_text=None) -> Comparison:
    """The comparison of catalog runs ``run_a`` and ``run_b`` (orders only, or the fuller
    one stored), layers paired automatically or by ``pairing_text``.

    Raises
    ------
    RunError
        A run that is not in the catalog.
    CompareError
        Runs of different samples, or a bad pairing (the one-line reason).
    """
    pairs = pairs_from_text(pairing_text)
    asked = (str(store.directory), run_a, run_b, tuple(pairs or ()))
    with _LOCK:
        found = _CACHE.get((*asked, _held(store, run_a, run_b)))
        if len(_BUSY) > 256:  # a lock per text typed into the pairing: forget the old ones
            _BUSY.clear()
        busy = _BUSY.setdefault(asked, threading.Lock())
    if found is not None:
        return found
    with busy:  # the page asks twice at once (the graph, the panel) and the browser too
        with _LOCK:
            found = _CACHE.get((*asked, _held(store, run_a, run_b)))
        if found is None:
            found = compare_runs(store, run_a, run_b, pairs=pairs, activations=False,
                                 cka="none")  # fmt: skip
    with _LOCK:
        # Under what the runs hold now: the comparison just stored among it.
        _CACHE[(*asked, _held(store, run_a, run_b))] = found
        while len(_CACHE) > CACHED:
            _CACHE.popitem(last=False)
    return found


def _held(store, run_a: str, run_b: str) -> tuple:
    """What both runs' catalog entries hold. An entry lists what is stored for its run,
    the comparisons too: one stored since (``fracdash compare A B``, with its CKA) is
    then read instead of the copy kept here, as is a run replaced under its name."""
    entries = catalog(store)
    return tuple((e["key"], tuple(e.get("uses", ()))) if (e := entries.get(r)) else None
                 for r in (run_a, run_b))  # fmt: skip


def _b64(array: np.ndarray, dtype) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
                            .tobytes()).decode("ascii")  # fmt: skip


def comparison_json(found: Comparison) -> dict:
    """What ``GET /compare/<A>/<B>.json`` answers: the pairs and their measures, the
    CKA matrix (or None), the notes, and per sample the correctness code (base64 of n
    int8), the mean curve agreement (base64 of n little-endian float32) and the
    "changed most" samples."""
    summary = found.to_dict()
    mean = found.agreement.astype(np.float32)  # as the browser reads it
    return {
        "run_a": found.run_a,
        "run_b": found.run_b,
        "n": found.n,
        "k": found.k,
        "pairing": found.pairing,
        "pairs": summary["pairs"],
        "layers_a": list(found.layers_a),
        "layers_b": list(found.layers_b),
        "cka": summary["cka"],
        "notes": list(found.notes),
        "accuracy_a": summary["accuracy_a"],
        "accuracy_b": summary["accuracy_b"],
        "counts": summary["correctness"],
        "disagreements": summary["disagreements"],
        "correctness": _b64(found.correctness, np.int8),
        "agreement": _b64(mean, np.float32),
        "moved": found.moved.tolist(),
    }


_QUALITIES: dict = {}


def series_qualities(store, steps, layers) -> list[list[float | None]]:
    """Quality of each of ``layers`` (rows) in each run of ``steps`` (``(step, run)``,
    columns); None where a run has no such layer. Each run's qualities are read once
    per process (by its analysis' key)."""
    from fracdash.web.loading import analysis_by_key, run_key

    columns = []
    for _, run in steps:
        key = run_key(store, run)
        if key is None:
            columns.append({})
            continue
        if key not in _QUALITIES:
            analysis = analysis_by_key(store, key)
            _QUALITIES[key] = {g.name: float(g.quality) for g in analysis.layers}
        columns.append(_QUALITIES[key])
    return [[column.get(layer) for column in columns] for layer in layers]
