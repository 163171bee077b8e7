"""The one place the stage order lives: model + labelled data -> :class:`Analysis`.

Stages, each keyed by content (see :mod:`fracdash.store`):

1. *graph*      the shown layer DAG (from the model source: Keras, ONNX or PyTorch,
                :mod:`fracdash.sources`; not cached: cheap and needs the model);
2. *forward*    activations of the layers still to order, and the predictions;
3. *order*      exact VAT order per layer, key = (model, data, layer, metric);
   *measures*   each layer's kNN accuracy, hubness, trustworthiness, once every order
                has arrived (every glyph first), key = (order, labels, k, metric,
                curve) (:mod:`fracdash.measuring`);
4. *glyph*      Hilbert placement, colorings, quality (cheap; from the orders);
5. *analysis*   the assembled result, stored so the dashboard can open it without
                tensorflow.

A layer that only reorders values (Flatten, Reshape, Permute) has its predecessor's
distances, so it reuses its predecessor's order instead of being computed again.

The order stage runs where an *orderer* puts it (:mod:`fracdash.cluster`): in this
process, or one task per layer on a Dask cluster. Each order is stored as soon as it
arrives, so a killed run resumes from the finished layers. Processes sharing a store
order each layer under that layer's lock (:meth:`fracdash.store.Store.lock`), so two
runs of the same analysis compute every order once; both still run the forward pass.
``FRACDASH_LOG=debug`` logs each order computed, or found stored by another process,
to stderr.

Before the forward pass, the scratch disk the run will need (the activations spilled
to files, and a distance matrix of 4·n² bytes for a layer ordered out of core, both
known from the layers' shapes) is checked against the free space of
``$FRACDASH_TMPDIR``: a run too large for it fails at once, not after the forward pass.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import replace
from functools import partial

import numpy as np

from fracdash import background_compile
from fracdash.analysis import Analysis, make_glyph
from fracdash.capacity import check_scratch_space
from fracdash.cluster import LayerJob, LocalOrderer, check_layers, current_orderer
from fracdash.core import shares_input_order
from fracdash.core.vat import METRICS
from fracdash.errors import UserDataError
from fracdash.glyphs import palette_meta
from fracdash.measuring import (
    Measurer,
    MeasuringActivations,
    OrderThenMeasure,
    glyph_fields,
    measure_k,
    measure_keys,
    measure_layer,
    stored_measures,
)
from fracdash.store import Store, array_digest, stage_key, store_argument

#: progress(stage, done, total, detail): stage "forward" counts batches; stage "order"
#: counts work, each layer weighing its width plus ``LAYER_WORK`` (the Gram's cost grows
#: with the width), so that an ETA holds across layers 100x apart in size, then each
#: layer's measures (:class:`fracdash.measuring.OrderThenMeasure`); its detail names the
#: layer being ordered, or "measuring NAME".
Progress = Callable[[str, int, int, str], None]

#: What ordering a layer costs beyond its Gram matrix (mirror, norms, Prim's loop), in
#: features: about 0.3 s at n = 10,000, where a feature of Gram costs 0.31 ms (bench).
LAYER_WORK = 1000

log = logging.getLogger(__name__)


def _as_store(store) -> Store | None:
    if store is None or isinstance(store, Store):
        return store
    return Store(store)


def _as_inputs(x) -> list[np.ndarray]:
    """One array per model input; a multi-input model takes a list or tuple."""
    xs = [np.asarray(a) for a in x] if isinstance(x, list | tuple) else [np.asarray(x)]
    if len({len(a) for a in xs}) != 1:
        raise UserDataError(
            f"every input needs the same number of samples, got {[len(a) for a in xs]}"
        )
    return xs


def check_options(metric: str, labels: str) -> None:
    """:class:`UserDataError` unless ``metric`` and ``labels`` are known."""
    if metric not in METRICS:
        raise UserDataError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if labels not in ("truth", "predicted"):
        raise UserDataError(f"labels must be 'truth' or 'predicted', not {labels!r}; pass one")


def _check_inputs(xs, y, metric, labels):
    n = len(xs[0])
    check_options(metric, labels)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise UserDataError(f"y must be 1-D with one label per sample: x has {n}, y {y.shape}")
    if n < 2:
        raise UserDataError(f"an analysis needs at least 2 samples, got {n}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise UserDataError("y must hold non-negative integer class indices")
    return y.astype(np.int64)


def _log() -> logging.Logger:
    """The pipeline's logger; ``FRACDASH_LOG=debug`` (or info...) sends it to stderr."""
    level = os.environ.get("FRACDASH_LOG", "").upper()
    if level and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("fracdash[%(process)d] %(message)s"))
        log.addHandler(handler)
        log.setLevel(level)
    return log


def _order_stage(store, keys, todo, acts, metric, orderer, work, progress, arrived=None) -> dict:
    """Every layer of ``todo`` ordered by ``orderer``, each order stored as it arrives
    (and handed to ``arrived(name, order)``, if given).

    With a store, the layers' locks are taken first, in ``todo``'s order (the same in
    every run of an analysis, so two runs cannot deadlock), and the store is read
    again under each: another process may have stored an order since this one looked.
    Each computed order is stored before its lock is released; so processes sharing a
    store compute every order once, wherever the orderer computes it.
    """
    orders, claims = {}, {}
    try:
        for name in todo if store is not None else ():
            claims[name] = claim = ExitStack()
            claim.enter_context(store.lock(keys[name]))
            if (order := store.get_array(keys[name])) is not None:
                _log().debug("order %s: stored by another process", name)
                orders[name] = order
                claims.pop(name).close()
                acts.release(name)
                if arrived:
                    arrived(name, order)
        jobs = [LayerJob(name, work[name]) for name in todo if name not in orders]
        report = partial(progress, "order") if progress else None
        with closing(orderer.orders(jobs, acts, metric, report)) as finished:
            for name, order in finished:
                if store is not None:
                    store.set_array(keys[name], order)
                    claims.pop(name).close()
                    _log().debug("order %s: computed", name)
                orders[name] = order
                if arrived:
                    arrived(name, order)
    finally:
        for claim in claims.values():
            claim.close()
    return orders


class _PartialRun:
    """The analysis so far while the orders arrive: every layer in its place, those
    not ordered yet named in ``meta["pending"]`` (their glyphs are placeholders)."""

    def __init__(self, nodes, shares, orders, y, predictions, class_names, labels):
        self.nodes, self.shares, self.orders = nodes, shares, dict(orders)
        self.y, self.predictions = y, predictions
        self.class_names, self.labels = class_names, labels
        self.report = None
        self.glyphs = {}  # name -> glyph: each layer is laid and scored once, not per call
        self.placeholder = None

    def add(self, name, order) -> None:
        self.orders[name] = order
        if self.report is not None:
            self.report(self.analysis())

    def glyph(self, n, order):
        """Layer ``n``'s glyph for ``order``, laid and scored once."""
        kept = self.glyphs.get(n.name)
        if kept is None or kept.order is not order:
            color = self.y if self.labels == "truth" else self.predictions
            kept = make_glyph(n.name, n.kind, n.inputs, n.output_shape, order, color)
            self.glyphs[n.name] = kept
        return kept

    def analysis(self) -> Analysis:
        glyphs, pending = [], []
        for n in self.nodes:
            order = self.orders.get(self.shares[n.name])
            if order is None:  # one placeholder (samples in index order), renamed
                pending.append(n.name)
                if self.placeholder is None:
                    self.placeholder = self.glyph(n, np.arange(len(self.y)))
                    del self.glyphs[n.name]
                glyphs.append(
                    replace(self.placeholder, name=n.name, kind=n.kind, inputs=tuple(n.inputs),
                            output_shape=tuple(int(s) for s in n.output_shape))
                )  # fmt: skip
            else:
                glyphs.append(self.glyph(n, order))
        return Analysis(
            layers=glyphs,
            labels=self.y,
            predictions=self.predictions,
            class_names=self.class_names,
            color_by=self.labels,
            meta={"pending": pending},
        )


def analyze(
    model,
    x,
    y,
    class_names=None,
    *,
    metric: str = "euclidean",
    labels: str = "truth",
    store=None,
    progress: Progress | None = None,
    meta: dict | None = None,
    orderer=None,
    on_partial: Callable[[Analysis], None] | None = None,
    check_predictions: Callable[[np.ndarray], None] | None = None,
    cache=None,
    measures: bool = True,
) -> Analysis:
    """Order the test set ``(x, y)`` at every shown layer of ``model``.

    Parameters
    ----------
    model : keras.Model, onnx.ModelProto, torch.nn.Module, ModelSource or path
        A trained classifier with one output (a class distribution over k classes): a
        Keras model, an ONNX model (a ``.onnx`` path, bytes or ``onnx.ModelProto``), a
        PyTorch module (exported to ONNX by tracing it on ``x[:1]``), or a ``.keras`` /
        ``.h5`` path (:func:`fracdash.sources.as_source`).
    x : ndarray, shape (n, ...), or a list of them
        Test inputs, as the model takes them (a list for a multi-input model).
    y : array_like of int, shape (n,)
        True classes in ``0..k-1``.
    class_names : list of str, optional
        k names; ``"0".."k-1"`` by default.
    metric : {"euclidean", "cosine"}
        Dissimilarity between activations.
    labels : {"truth", "predicted"}
        Which labels color the glyphs and score their quality.
    store : Store or path, optional
        The content-addressed store (:mod:`fracdash.store`): finished stages are read
        from it and new ones written to it; nothing is stored when None.
    progress : callable(stage, done, total, detail), optional
    orderer : LocalOrderer or DaskOrderer, optional
        Where the layers are ordered (:mod:`fracdash.cluster`): by default the one set
        by :func:`fracdash.cluster.use_orderer`, else this process.
    on_partial : callable(Analysis), optional
        Called with the analysis so far once the forward pass is done and again as each
        order arrives; layers not ordered yet are listed in its ``meta["pending"]`` and
        drawn from a placeholder order (the page shows them as placeholders).
    check_predictions : callable(ndarray of int64, shape (n,)), optional
        Called with the predictions once known, before anything is stored or ordered; what
        it raises refuses the run (:func:`fracdash.inputs.labels.check_label_order`).
    cache : Store or path, optional
        Deprecated: the older name of ``store`` (a DeprecationWarning).
    measures : bool
        Measure every ordered layer (:mod:`fracdash.measuring`: kNN accuracy, hubness,
        trustworthiness, k = 10), stored with its order; about 1.5-3x the order's own
        time. False leaves the glyphs' measures None.

    Returns
    -------
    Analysis

    Raises
    ------
    fracdash.errors.UserDataError
        Inputs, labels, class names, ``metric`` or ``labels`` that cannot be used.
    fracdash.errors.ScratchSpaceError
        Before the forward pass, if the run's scratch files (spilled activations, an
        out-of-core distance matrix) would not fit on the scratch disk
        (:func:`check_scratch_space`).
    """
    from fracdash.models.activations import DEFAULT_BATCH, forward
    from fracdash.sources import as_source

    store = store_argument(store, cache, "cache")
    xs = _as_inputs(x)
    y = _check_inputs(xs, y, metric, labels)
    store = _as_store(store)
    background_compile.start()  # numba compiles the kernels while the model runs
    source = as_source(model, example=xs[0])
    net = source.network(xs[0][:1])
    k = int(net.nodes[-1].output_shape[-1])
    class_names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    if len(class_names) != k:
        raise UserDataError(f"{len(class_names)} class names given but the model has {k} classes")
    if y.max() >= k:
        raise UserDataError(f"labels must lie in 0..{k - 1}; found {int(y.max())}")

    parents = (source.digest(), array_digest(*xs))
    nodes = net.nodes
    # A reorder-only layer with one input shares its predecessor's order.
    shares = {}
    for node in nodes:
        alias = shares_input_order(node.kind, node.inputs)
        shares[node.name] = shares[node.inputs[0]] if alias else node.name
    keys = {
        name: stage_key("order", {"layer": name, "metric": metric}, parents)
        for name in set(shares.values())
    }
    pred_key = stage_key("predictions", {}, parents)
    # Each ordered layer's kNN accuracy, hubness and trustworthiness (fracdash.measuring).
    mkeys = measure_keys(keys, metric, y) if measures else {}
    measured = stored_measures(store, mkeys)

    orders = {}
    predictions = None
    if store is not None:
        orders = {name: a for name, key in keys.items() if (a := store.get_array(key)) is not None}
        predictions = store.get_array(pred_key)
    if predictions is not None and check_predictions is not None:
        check_predictions(predictions)
        check_predictions = None  # once
    todo = [node.name for node in nodes if node.name in keys and node.name not in orders]
    remeasure = [name for name in mkeys if name in orders and name not in measured]
    so_far = None
    if todo or remeasure or predictions is None:
        report = (lambda d, t: progress("forward", d, t, "")) if progress else None
        batch = source.batch_size or DEFAULT_BATCH
        wanted = [*todo, *remeasure, nodes[-1].name]
        orderer = orderer or current_orderer() or LocalOrderer()
        check_layers(nodes, todo, metric, len(y))  # relu-hamming on ReLUs only, sizes
        check_scratch_space(net, wanted, todo, len(y), isinstance(orderer, LocalOrderer))
        outputs = partial(source.layer_outputs, net)
        with forward(net, xs, wanted, batch_size=batch, progress=report, outputs=outputs) as raw:
            on_disk = {name for name in mkeys if raw.on_disk(name)}  # never measured
            held = [name for name in mkeys if name not in measured and name not in on_disk]
            acts = MeasuringActivations(raw, held)  # each layer held until measured
            predictions = np.argmax(acts.array(nodes[-1].name), axis=1).astype(np.int64)
            if check_predictions is not None:
                check_predictions(predictions)
            if store is not None:
                store.set_array(pred_key, predictions)
            shape = {node.name: node.output_shape for node in nodes}
            work = {name: int(np.prod(shape[name])) + LAYER_WORK for name in todo}
            arrived = None
            if on_partial is not None:
                so_far = _PartialRun(nodes, shares, orders, y, predictions, class_names, labels)
                on_partial(so_far.analysis())  # every layer in place before the first order
                arrived = so_far.add
                so_far.report = on_partial
            background_compile.wait()  # the kernels, compiled while the model ran
            for name in remeasure:  # ordered before, measured now, then released
                measured[name] = measure_layer(store, mkeys[name], acts[name], y, orders[name],
                                               metric)  # fmt: skip
                acts.measured(name)
                raw.release(name)
            arrived = Measurer(store, mkeys, measured, acts, y, metric, arrived, on_disk)
            later = {n: work[n] for n in todo if n in held}
            stage = OrderThenMeasure(progress, later) if progress else None
            found = _order_stage(store, keys, todo, acts, metric, orderer, work, stage, arrived)
            arrived.finish(stage.measuring if stage else None)  # every glyph first
            orders.update(found)

    if so_far is None:  # (a partial run has laid most glyphs already)
        so_far = _PartialRun(nodes, shares, orders, y, predictions, class_names, labels)
    glyphs = [so_far.glyph(n, orders[shares[n.name]]) for n in nodes]
    glyphs = [replace(g, **glyph_fields(measured.get(shares[g.name]))) for g in glyphs]
    analysis = Analysis(
        layers=glyphs,
        labels=y,
        predictions=predictions,
        class_names=class_names,
        color_by=labels,
        meta={"metric": metric, **(meta or {}), **palette_meta(y, predictions, k, meta),
              **({"measures_k": measure_k(len(y))} if any(measured.values()) else {})},  # fmt: skip
    )
    if store is not None:
        key = stage_key(
            "analysis",
            {"labels": labels, "names": class_names,
             **({"metric": metric} if metric != "euclidean" else {}),  # siblings apart
             **{f: v for f, v in (meta or {}).items() if f == "class_groups"}},  # their colors
            (*parents, array_digest(y)),
        )
        store.set_bytes(key, analysis.to_bytes())
        analysis.meta["key"] = key
        # What this run's entries in the store are (fracdash.runs deletes by them).
        analysis.meta["uses"] = sorted({pred_key, *keys.values(), *(mkeys[m] for m in measured)})
        # Which of them holds each ordered layer's measures and neighbours (compare reads them).
        analysis.meta["measured"] = {m: mkeys[m] for m in measured if m in mkeys}
    return analysis
