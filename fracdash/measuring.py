"""The measures stage of the pipeline: each ordered layer's kNN accuracy, hubness and
trustworthiness (:func:`fracdash.core.measures.layer_measures`), stored with the run.

Each layer's measures are computed right after its order arrives, while its
activations are still at hand (:class:`MeasuringActivations` holds them back from the
orderer's release until then), and stored (three float64s) under a key chained to the
layer's order key, with k, the metric, the curve, the labels and :data:`MEASURES_VERSION`. A
reorder-only layer shares its predecessor's measures, as it shares its order. Metrics
that are not a Euclidean distance between transformed rows (manhattan,
local-scaling) have no exact neighbours here: their runs carry no measures; nor do
layers too large for memory (spilled to scratch files), whose measures would read the
whole layer into memory.
"""

from __future__ import annotations

import numpy as np

from fracdash.analysis import DEFAULT_CURVE
from fracdash.core.chunked import ChunkedMatrix
from fracdash.core.measures import LayerMeasures, layer_measures
from fracdash.core.metrics import metric_spec
from fracdash.store import array_digest, stage_key

#: Neighbours per sample for all three measures.
MEASURE_K = 10

#: Bump when the measures change meaning; older stored measures are then recomputed.
MEASURES_VERSION = 1


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


def stored_measures(store, keys: dict) -> dict:
    """Layer -> :class:`LayerMeasures` (or None, a layer not measured: out of core) of
    the layers found in ``store`` (None: none)."""
    found = {}
    for name, key in keys.items() if store is not None else ():
        stored = store.get_array(key)
        if stored is not None:
            found[name] = LayerMeasures(*map(float, stored)) if stored.size else None
    return found


def measure_layer(store, key: str, x, labels, order, metric: str) -> LayerMeasures | None:
    """One layer's measures on its activations ``x`` (n, d), stored under ``key``.

    A layer spilled to a scratch file (:class:`~fracdash.core.chunked.ChunkedMatrix`:
    too large for memory) is not measured: None, stored as such so that no later run
    asks again.
    """
    found = None
    if not isinstance(x, ChunkedMatrix):
        found = layer_measures(x, labels, order, k=measure_k(len(labels)), metric=metric,
                               curve=DEFAULT_CURVE)  # fmt: skip
    if store is not None:  # (kNN accuracy, hubness, trustworthiness), or none: empty
        store.set_array(key, np.array(found if found is not None else [], dtype=np.float64))
    return found


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
    """The order stage's ``arrived(name, order)`` hook: measures each layer of ``keys``
    not in ``found`` (adding it there) and releases its activations, then calls
    ``then(name, order)`` if given.

    With ``now`` (this process orders the layers one by one) a layer is measured as its
    order arrives, its activations released before the next layer is ordered. Without
    (a Dask cluster orders them) the measures wait for :meth:`finish`, after the last
    order: measuring between arrivals would leave finished results on the workers,
    where a lost worker loses them.
    """

    def __init__(self, store, keys, found, acts, labels, metric, now, then=None):
        self.store, self.keys, self.found, self.acts = store, keys, found, acts
        self.labels, self.metric, self.now, self.then = labels, metric, now, then
        self.waiting = []

    def __call__(self, name, order) -> None:
        if self.now:
            self._measure(name, order)
        else:
            self.waiting.append((name, order))
        if self.then is not None:
            self.then(name, order)

    def finish(self) -> None:
        """Measure the layers that waited for the last order."""
        while self.waiting:
            self._measure(*self.waiting.pop(0))

    def _measure(self, name, order) -> None:
        if name in self.keys and name not in self.found:
            x = self.acts[name]
            self.found[name] = measure_layer(self.store, self.keys[name], x, self.labels,
                                             order, self.metric)  # fmt: skip
        self.acts.measured(name)


def glyph_fields(measures: LayerMeasures | None) -> dict:
    """The :class:`fracdash.analysis.LayerGlyph` fields of one layer's measures."""
    return {} if measures is None else {f: float(v) for f, v in measures._asdict().items()}
