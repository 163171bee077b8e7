"""The measures stage of the pipeline: each ordered layer's kNN accuracy, hubness and
trustworthiness (:func:`fracdash.core.measures.layer_measures`), stored with the run,
and the exact neighbours they were found from, kept for comparisons.

Each layer's measures are computed after the last order has arrived (every glyph
first), while its activations are still at hand (:class:`MeasuringActivations` holds
them back from the orderer's release until then), and stored under a key chained to
the layer's order key, with k, the metric, the curve, the labels and
:data:`MEASURES_VERSION`. A reorder-only layer shares its predecessor's measures, as it
shares its order. Metrics that are not a Euclidean distance between transformed rows
(manhattan, local-scaling) have no exact neighbours here: their runs carry no measures; nor do
layers too large for memory (spilled to scratch files), whose measures would read the
whole layer into memory.

The stored entry (since version 2) is one array: a record (0-d structured array) of
``measures`` (three float64s), and, from the same pass over the distances, ``indices``
((n, k) int32: each sample's k nearest others by (float64 distance, index)) and
``parents`` ((n,) int32: the Prim tree of the layer's own order, -1 at its first
sample); k is the indices' width, the metric is in the key. A layer not measured
stores an empty float64 array. The comparison of two runs (:mod:`fracdash.compare`)
reads the neighbours (:func:`stored_neighbours`) instead of running the model and the
neighbour pass again. The entry is in the run's ``uses``, so deleting the run frees it.
Both routes store it, measuring every layer after the last order (:class:`Measurer`).
"""

from __future__ import annotations

import numpy as np

from fracdash.analysis import DEFAULT_CURVE
from fracdash.core.chunked import ChunkedMatrix
from fracdash.core.measures import (
    LayerMeasures,
    LayerNeighbours,
    layer_measures,
    measures_and_neighbours,
)
from fracdash.core.metrics import metric_spec
from fracdash.store import array_digest, stage_key

#: Neighbours per sample for all three measures.
MEASURE_K = 10

#: A layer's measures against its ordering, in the "order" stage's work of the pipeline's
#: progress (2-3x at n = 10,000, more on narrow layers).
MEASURE_WORK = 3

#: Bump when the measures change meaning or form; older stored measures are then
#: recomputed (2: the entry keeps the layer's neighbours and Prim tree too).
MEASURES_VERSION = 2


def measure_k(n: int, k: int = MEASURE_K) -> int | None:
    """The k used for n samples: ``k``, lowered below n / 2 for tiny runs; None when
    n < 3 (no k fits)."""
    k = min(k, (n - 1) // 2)
    return k if k >= 1 else None


def measurable(metric: str, n: int) -> bool:
    """Whether runs under ``metric`` of ``n`` samples get measures."""
    return metric_spec(metric).kernel == "rows" and measure_k(n) is not None


def measure_keys(order_keys: dict, metric: str, labels) -> dict:
    """Layer -> store key of its measures, for every layer owning an order key; empty
    when ``metric`` and the run's size give no measures (:func:`measurable`)."""
    if not measurable(metric, len(labels)):
        return {}
    params = {"k": measure_k(len(labels)), "metric": metric, "curve": DEFAULT_CURVE,
              "v": MEASURES_VERSION}  # fmt: skip
    parent = array_digest(labels)  # kNN accuracy scores the true labels
    return {name: stage_key("measures", params, (key, parent)) for name, key in order_keys.items()}


def _entry_parts(stored):
    """A stored entry's (:class:`LayerMeasures` or None, :class:`LayerNeighbours` or
    None): None measures for a layer not measured, None neighbours for an entry
    stored before neighbours were kept (version 1) or not measured."""
    values = stored["measures"] if stored.dtype.names else stored
    measures = LayerMeasures(*map(float, values)) if values.size else None
    if "indices" not in (stored.dtype.names or ()):
        return measures, None
    return measures, LayerNeighbours(stored["indices"], stored["parents"])


def _stored_parts(store, keys: dict) -> dict:
    """Layer -> :func:`_entry_parts` of its entry, for the layers of ``keys`` found in
    ``store`` (None: none); each entry read once."""
    found = {}
    for name, key in keys.items() if store is not None else ():
        stored = store.get_array(key)
        if stored is not None:
            found[name] = _entry_parts(stored)
    return found


def stored_measures(store, keys: dict) -> dict:
    """Layer -> :class:`LayerMeasures` (or None, a layer not measured: out of core) of
    the layers found in ``store`` (None: none)."""
    return {name: measures for name, (measures, _) in _stored_parts(store, keys).items()}


def stored_neighbours(store, keys: dict) -> dict:
    """Layer -> :class:`LayerNeighbours` stored by the measures stage, for the layers of
    ``keys`` (layer -> its measures' key: a run's catalog entry's ``measured``) whose
    entry holds them (entries stored before neighbours were kept hold none)."""
    parts = _stored_parts(store, keys).items()
    return {name: near for name, (_, near) in parts if near is not None}


def known_figures(store, analyses: dict, k: int, curve: str = DEFAULT_CURVE) -> dict:
    """Layer -> {metric: (its stored :class:`LayerMeasures`, its order's Prim parents)}
    of runs analyzed into ``store`` (``analyses``: metric -> its run): what
    :func:`fracdash.core.comparison.compare_metrics` takes as ``known`` instead of
    measuring the layer again. Only layers measured with this k (their stored
    neighbours' width) and curve, whose entry holds the tree."""
    found = {}
    if curve != DEFAULT_CURVE:
        return found
    for metric, analysis in analyses.items():
        parts = _stored_parts(store, analysis.meta.get("measured") or {})
        for name, (measures, near) in parts.items():
            if measures is not None and near is not None and near.indices.shape[1] == k:
                found.setdefault(name, {})[metric] = (measures, near.parents)
    return found


def measure_layer(store, key: str, x, labels, order, metric: str) -> LayerMeasures | None:
    """One layer's measures on its activations ``x`` (n, d), stored under ``key`` with
    its neighbours and Prim tree (see the module's docstring).

    A layer spilled to a scratch file (``x`` a
    :class:`~fracdash.core.chunked.ChunkedMatrix`, or None: too large for memory) is
    not measured: None, stored as such so that no later run asks again.
    """
    found = near = None
    k = measure_k(len(labels))
    if x is not None and not isinstance(x, ChunkedMatrix):
        if store is None:  # nothing keeps the neighbours: no tree
            found = layer_measures(x, labels, order, k=k, metric=metric, curve=DEFAULT_CURVE)
        else:
            found, near = measures_and_neighbours(x, labels, order, k=k, metric=metric,
                                                  curve=DEFAULT_CURVE)  # fmt: skip
    if store is not None:
        store.set_array(key, _entry(found, near))
    return found


def _entry(found: LayerMeasures | None, near) -> np.ndarray:
    """The stored form of one layer's measures and neighbours (the module's docstring)."""
    if found is None:
        return np.array([], dtype=np.float64)
    n, k = near.indices.shape
    entry = np.zeros((), dtype=[("measures", "<f8", (3,)), ("indices", "<i4", (n, k)),
                                ("parents", "<i4", (n,))])  # fmt: skip
    entry["measures"], entry["indices"], entry["parents"] = found, near.indices, near.parents
    return entry


class MeasuringActivations:
    """The forward pass's activations, handed to an orderer: a layer the orderer
    releases is kept until :meth:`measured` (after its order has arrived and been
    measured), then released for real. Every other use passes through."""

    def __init__(self, acts, wanted):
        self.acts, self.wanted, self.held = acts, set(wanted), set()

    def __getitem__(self, name):
        return self.acts[name]

    def array(self, name):
        return self.acts.array(name)

    def write(self, name, start, block):
        self.acts.write(name, start, block)

    def release(self, name) -> None:
        if name in self.wanted:
            self.held.add(name)
        else:
            self.acts.release(name)

    def measured(self, name) -> None:
        """``name`` is measured (or needs no measures): release it if it was held."""
        self.wanted.discard(name)
        if name in self.held:
            self.held.discard(name)
            self.acts.release(name)


class Measurer:
    """The order stage's ``arrived(name, order)`` hook: hands each order on to
    ``then(name, order)`` at once (its glyph is shown) and keeps it; :meth:`finish`,
    after the last order, measures each layer of ``keys`` not in ``found`` (adding it
    there) and releases its activations.

    Every glyph comes first, then the measures (about three times a layer's ordering):
    a page shows the whole network a few times sooner. The forward pass holds every
    layer's activations from the start, released here as they are measured; what
    waiting costs is a ReLU layer computed from a layer still held (its copy, while it
    is ordered, where it would have taken over its input's memory). Layers ``on_disk``
    (spilled to scratch files) are not measured, so their files are not held. On a
    Dask cluster, measuring between arrivals would leave finished orders on the
    workers, where a lost worker loses them.
    """

    def __init__(self, store, keys, found, acts, labels, metric, then=None, on_disk=()):
        self.store, self.keys, self.found, self.acts = store, keys, found, acts
        self.labels, self.metric, self.then = labels, metric, then
        self.on_disk = set(on_disk)  # spilled layers: not measured, their files not held
        self.waiting = []

    def __call__(self, name, order) -> None:
        self.waiting.append((name, order))
        if self.then is not None:
            self.then(name, order)

    def finish(self, measuring=None) -> None:
        """Measure the layers that arrived, calling ``measuring(name)`` before each one
        not on disk, and ``measuring(None)`` once all are done."""
        while self.waiting:
            name, order = self.waiting.pop(0)
            if name in self.keys and name not in self.found:
                if measuring is not None and name not in self.on_disk:
                    measuring(name)
                x = None if name in self.on_disk else self.acts[name]
                self.found[name] = measure_layer(self.store, self.keys[name], x, self.labels,
                                                 order, self.metric)  # fmt: skip
            self.acts.measured(name)
        if measuring is not None:
            measuring(None)


class OrderThenMeasure:
    """The pipeline's "order" stage progress when the measures follow the orders. The
    stage keeps the orderer's total (the orders' work, which the estimates count), and
    the orders fill its first part, the measures of ``later`` (layer -> its ordering's
    work; each measure weighing :data:`MEASURE_WORK` times that) the rest."""

    def __init__(self, progress, later: dict):
        self.progress = progress
        self.later = {name: MEASURE_WORK * work for name, work in later.items()}
        self.extra, self.total, self.done = sum(self.later.values()), 0, 0

    def _report(self, done: int, detail: str) -> None:
        whole = self.total + self.extra
        share = done / whole if whole else 1.0
        self.progress("order", round(share * self.total), self.total, detail)

    def __call__(self, stage: str, done: int, total: int, detail: str = "") -> None:
        self.total = total
        self._report(done, detail)

    def measuring(self, name: str | None) -> None:
        """Layer ``name``'s measures begin (None: all are done)."""
        if name is None:
            self._report(self.total + self.extra, "")
            return
        self._report(self.total + self.done, f"measuring {name}")
        self.done += self.later.get(name, 0)


def glyph_fields(measures: LayerMeasures | None) -> dict:
    """The :class:`fracdash.analysis.LayerGlyph` fields of one layer's measures."""
    return {} if measures is None else {f: float(v) for f, v in measures._asdict().items()}
