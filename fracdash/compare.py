"""Two stored runs on the same samples, compared: the service the command line
(``fracdash compare``), notebooks and the page call.

Two runs are comparable when they hold the same samples in the same order: the same
inputs' digest (``meta["data_digest"]``, :func:`fracdash.runs.data_digest`) and the same
labels. Their layers are matched by name where the networks have the same layers, else
by relative depth, or as the caller pairs them (:mod:`fracdash.layer_pairs`). Per pair:
both qualities and their difference, and how far the two layers agree
(docs/method.md §3.4, §6.5): the curve agreement of the two glyphs, from the stored
orders alone; the kNN overlap and the shared Prim-tree edges, from the neighbours the
measures stage stored with each layer (:func:`fracdash.measuring.stored_neighbours`: for
k up to its 10, in the run's metric) or else from the layers' activations; and linear
CKA, exact, between every layer of one run and every layer of the other
(:mod:`fracdash.core.cka`). The activations are computed again from the runs' models
and inputs where those are found (:mod:`fracdash.run_inputs`) and needed (CKA, or
neighbours not stored: runs measured before they were kept); where not found, those
measures are left out and a note says why. Per sample: both predictions, the samples
the runs classify differently, and a correctness class (both right, only A, only B,
both wrong).

A comparison is stored under a key made from both runs' keys, the pairs and ``k``, so a
second call reads it back (deleting both runs frees it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from fracdash.core.agreement import curve_agreement, knn_overlap, tree_edge_share
from fracdash.core.cka import cka_matrix, cka_pairs
from fracdash.core.graph import shares_input_order
from fracdash.core.metrics import metric_spec
from fracdash.core.neighbours import exact_neighbours
from fracdash.errors import CompareError, DatasetError, FracdashError, RunError
from fracdash.layer_pairs import pair_layers
from fracdash.measuring import stored_neighbours
from fracdash.run_comparison import NEED_ACTIVATIONS, Comparison, PairMeasures
from fracdash.run_inputs import check_predictions, find_inputs
from fracdash.runs import add_to_runs, catalog, data_digest, load_run
from fracdash.store import Store, stage_key

#: How the built-in data sets are named in messages.
DATA_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
#: How much CKA a comparison computes: every layer of A with every layer of B, the
#: matched pairs only (about 4 times less for LeNet5), or none.
CKA_MODES = ("matrix", "pairs", "none")
#: progress(stage, done, total, detail): stage "forward" per run, then "measures" per pair.
Progress = Callable[[str, int, int, str], None]


def stored_run(store: Store, name: str):
    """(catalog entry, analysis) of run ``name``, else :class:`RunError` listing the runs."""
    entry = catalog(store).get(name)
    analysis = load_run(store, name) if entry else None
    if analysis is None:
        known = ", ".join(sorted(catalog(store))) or "none"
        raise RunError(f"no run named {name!r}; stored runs: {known}")
    return entry, analysis


def describe_samples(name: str, analysis, entry: dict) -> str:
    """``"easy holds 10,000 MNIST test samples"``: what a run was computed on."""
    from fracdash.scenarios import SCENARIOS

    spec = SCENARIOS.get(analysis.meta.get("scenario"))
    if spec is not None:
        split = analysis.meta.get("split", "test")
        split = "train and test" if split == "all" else split
        data = DATA_NAMES.get(spec.test_on, spec.test_on)
        return f"{name} holds {analysis.n:,} {data} {split} samples"
    data = entry.get("data")
    where = f" of {data}" if data and data != "arrays from Python" else ""
    return f"{name} holds {analysis.n:,} samples{where}"


def samples_digest(analysis) -> str | None:
    """The run's inputs' digest: recorded in its meta, or, for a built-in scenario's run
    stored before it was, its data set's (found on this machine); None if unknown."""
    if analysis.meta.get("data_digest"):
        return analysis.meta["data_digest"]
    from fracdash.scenarios import SCENARIOS, test_data

    spec = SCENARIOS.get(analysis.meta.get("scenario"))
    if spec is None:
        return None
    try:
        x, _, _ = test_data(spec, analysis.n, analysis.meta.get("split", "test"))
    except (DatasetError, OSError):
        return None
    return data_digest(x)


def check_same_samples(name_a: str, a, entry_a: dict, name_b: str, b, entry_b: dict) -> None:
    """:class:`CompareError` unless runs ``a`` and ``b`` hold the same samples in the same
    order (the same inputs' digest) with the same labels."""
    same = a.n == b.n
    if same:
        digests = {name_a: samples_digest(a), name_b: samples_digest(b)}
        unknown = [name for name, d in digests.items() if d is None]
        if unknown:
            raise CompareError(f"run {unknown[0]!r} was stored without its inputs' digest, so "
                               "its samples cannot be matched; compute it again (fracdash "
                               "analyze ... --replace) to compare it")  # fmt: skip
        same = digests[name_a] == digests[name_b]
    if not same:
        raise CompareError(
            f"{describe_samples(name_a, a, entry_a)}, {describe_samples(name_b, b, entry_b)}: "
            "a comparison needs the same samples in the same order; compare two runs of one "
            "test set"
        )
    if not np.array_equal(a.labels, b.labels):
        changed = int(np.count_nonzero(a.labels != b.labels))
        raise CompareError(f"runs {name_a!r} and {name_b!r} hold the same inputs with {changed} "
                           "labels changed; compare two runs of one labelled test set")  # fmt: skip


def owners(analysis) -> dict[str, str]:
    """Each layer -> the layer whose activations it has up to a reordering (a Flatten's
    input), itself for most."""
    out = {}
    for g in analysis.layers:
        out[g.name] = out[g.inputs[0]] if shares_input_order(g.kind, g.inputs) else g.name
    return out


def layer_activations(inputs, analysis, progress=None) -> dict[str, np.ndarray] | str:
    """Every layer's activations (n, d) float32 from the run's model and inputs, or why
    not (the model's layers are not the run's, or it predicts otherwise)."""
    from fracdash.models.activations import DEFAULT_BATCH, forward

    source, x = inputs
    xs = [np.asarray(a) for a in x] if isinstance(x, list | tuple) else [np.asarray(x)]
    net = source.network(xs[0][:1])
    own = owners(analysis)
    wanted = list(dict.fromkeys(own.values()))
    missing = [name for name in wanted if name not in {node.name for node in net.nodes}]
    if missing:
        return f"the model found again has no layer {missing[0]!r}"
    last = net.nodes[-1].name
    batch, outputs = source.batch_size or DEFAULT_BATCH, partial(source.layer_outputs, net)
    with forward(net, xs, [*wanted, last], batch_size=batch, progress=progress,
                 outputs=outputs) as acts:  # fmt: skip
        why = check_predictions(analysis, np.argmax(acts.array(last), axis=1))
        if why:
            return why
        found = {name: np.array(acts.array(name)) for name in wanted}
    return {name: found[owner] for name, owner in own.items()}


def _neighbours(acts, analysis, k: int, names, stored=None) -> dict:
    """kNN and Prim tree of the layers ``names`` (a shared order's once), in the run's
    metric: those of ``stored`` (:func:`_stored_neighbours`), the others computed from
    ``acts``."""
    metric, own, cache = analysis.meta.get("metric", "euclidean"), owners(analysis), {}
    cache.update(stored or {})
    for name in dict.fromkeys(names):
        if own[name] not in cache:
            order = analysis.layer(name).order
            cache[own[name]] = exact_neighbours(acts[name], k, metric, order=order)
    return {name: cache[own[name]] for name in names}


def _stored_neighbours(store, entry: dict, analysis, k: int) -> dict:
    """Owner layer -> its stored neighbours cut to ``k`` (the k nearest of the stored
    nearest, by (distance, index), are the k nearest), for the layers stored with k or
    more."""
    measured = entry.get("measured", {})
    found = stored_neighbours(store, {name: measured[name] for name in set(owners(analysis)
                                      .values()) if name in measured})  # fmt: skip
    return {name: near._replace(indices=near.indices[:, :k])
            for name, near in found.items() if near.indices.shape[1] >= k}  # fmt: skip


def _covers(stored, a, b, matched) -> bool:
    """Whether ``stored`` (both runs' :func:`_stored_neighbours`) holds every matched
    layer's neighbours."""
    own_a, own_b = owners(a), owners(b)
    return all(own_a[la] in stored[0] and own_b[lb] in stored[1] for la, lb in matched)


def _cka(acts_a, acts_b, a, b) -> np.ndarray:
    """CKA of every layer of ``a`` with every layer of ``b``: each distinct activation
    computed with once, the layers that share it filled in."""
    own_a, own_b = owners(a), owners(b)
    rows, cols = list(dict.fromkeys(own_a.values())), list(dict.fromkeys(own_b.values()))
    small = cka_matrix([acts_a[r] for r in rows], [acts_b[c] for c in cols])
    ri = [rows.index(own_a[name]) for name in a.layer_names]
    ci = [cols.index(own_b[name]) for name in b.layer_names]
    return small[np.ix_(ri, ci)]


def _cka_pairs(acts_a, acts_b, a, b, matched) -> list[float]:
    """CKA of the pairs ``matched`` only, in one pass (each distinct activation once)."""
    own_a, own_b = owners(a), owners(b)
    rows = list(dict.fromkeys(own_a[la] for la, _ in matched))
    cols = list(dict.fromkeys(own_b[lb] for _, lb in matched))
    wanted = [(rows.index(own_a[la]), cols.index(own_b[lb])) for la, lb in matched]
    got = cka_pairs([acts_a[r] for r in rows], [acts_b[c] for c in cols], wanted)
    return [float(v) for v in got]


def measure(a, b, matched, k: int, acts=None, progress=None, cka: str = "matrix",
            stored=None):  # fmt: skip
    """The measures of the pairs ``matched`` of analyses ``a`` and ``b``: (pairs,
    per-sample curve agreement, per-sample kNN overlap or None, CKA matrix or None).
    ``acts``: both runs' :func:`layer_activations`, or None; ``stored``: both runs'
    :func:`_stored_neighbours`, or None; the kNN overlap and tree edges are measured
    with either (each layer from its stored neighbours where there are), CKA with
    ``acts`` only; ``cka``: one of :data:`CKA_MODES`."""
    near_a = near_b = matrix = paired = None
    neighbours = acts is not None or stored is not None
    if neighbours:
        (acts_a, acts_b), (kept_a, kept_b) = acts or (None, None), stored or ({}, {})
        names_a, names_b = [la for la, _ in matched], [lb for _, lb in matched]
        near_a = _neighbours(acts_a, a, k, names_a + (names_b if b is a else []), kept_a)
        near_b = near_a if b is a else _neighbours(acts_b, b, k, names_b, kept_b)
    if acts is not None:
        matrix = _cka(acts[0], acts[1], a, b) if cka == "matrix" else None
        paired = _cka_pairs(acts[0], acts[1], a, b, matched) if cka == "pairs" else None
    pairs, curves, knns = [], [], []
    for i, (la, lb) in enumerate(matched):
        ga, gb = a.layer(la), b.layer(lb)
        curve = curve_agreement(ga.positions, gb.positions)
        curves.append(curve.per_sample)
        extra = {}
        if neighbours:
            knn = knn_overlap(near_a[la].indices, near_b[lb].indices)
            knns.append(knn.per_sample)
            extra = {
                "knn": knn.mean,
                "tree_edges": tree_edge_share(near_a[la].parents, near_b[lb].parents),
                "cka": None if cka == "none" or acts is None else paired[i] if matrix is None
                else float(matrix[a.layer_names.index(la), b.layer_names.index(lb)]),
            }  # fmt: skip
        pairs.append(PairMeasures(la, lb, ga.quality, gb.quality, curve.mean, **extra))
        if progress:
            progress("measures", i + 1, len(matched), f"{la} ~ {lb}")
    knn_samples = np.array(knns) if neighbours else None
    return pairs, np.array(curves), knn_samples, matrix


def _both_activations(store, names, analyses, inputs, progress) -> tuple | str:
    """Both runs' activations, or why not (which run's model or inputs were not found)."""
    found = []
    for name, analysis in zip(names, analyses, strict=True):
        if found and name == names[0]:
            found.append(found[0])  # a run with itself: one forward pass
            continue
        hit = find_inputs(store, analysis, (inputs or {}).get(name))
        if hit.inputs is None:
            return f"run {name!r}: {hit.note}"
        stage = f"forward pass of {name}"
        report = (lambda d, t, stage=stage: progress(stage, d, t, "")) if progress else None
        try:
            acts = layer_activations(hit.inputs, analysis, report)
        except (FracdashError, MemoryError) as err:
            acts = str(err).split(";")[0]
        if isinstance(acts, str):
            return f"run {name!r}: {acts}"
        found.append(acts)
    return tuple(found)


def _stored(store: Store, key: str, run_a: str, run_b: str) -> Comparison | None:
    data = store.get_bytes(key)
    if data is None:
        return None
    found = Comparison.from_bytes(data)
    found.run_a, found.run_b = run_a, run_b  # the same runs may be listed under new names
    return found


def compare_runs(
    store: Store,
    run_a: str,
    run_b: str,
    *,
    pairs=None,
    k: int = 10,
    inputs: dict | None = None,
    cka: str = "matrix",
    activations: bool = True,
    progress: Progress | None = None,
) -> Comparison:
    """Compare stored runs ``run_a`` and ``run_b`` on their common samples.

    Parameters
    ----------
    store : Store
        Where both runs are stored (and the comparison is, once made).
    run_a, run_b : str
        Two run names of the store's catalog (the same name compares a run with itself).
    pairs : sequence of (str, str) or "A:B" strings, optional
        The layer pairs to compare instead of those matched by name or relative depth.
    k : int
        Neighbours per sample of the kNN overlap, 1 .. n - 1.
    inputs : dict, optional
        Run name -> ``(model, x)``: a run's model and inputs given from Python, for the
        measures that need the activations (checked against the run).
    cka : {"matrix", "pairs", "none"}
        Linear CKA of every layer of A with every layer of B, of the matched pairs only,
        or none (a stored comparison that holds more is returned as it is). With
        "none" and both runs' neighbours stored by their measures stage (for ``k`` up
        to 10), no model is looked for.
    activations : bool
        False: the measures of the stored orders only (no model is looked for, no
        forward pass: what a page can answer at once); a stored comparison that holds
        more is returned as it is.
    progress : callable(stage, done, total, detail), optional

    Returns
    -------
    Comparison

    Raises
    ------
    RunError
        A run that is not stored (the message lists the runs).
    CompareError
        Runs of other samples, or in another order, or with other labels; a ``k`` out of
        range; a pair naming a layer its run has not; an unknown ``cka``.
    """
    if cka not in CKA_MODES:
        raise CompareError(f"unknown cka={cka!r}; choose one of {', '.join(CKA_MODES)}")
    entry_a, a = stored_run(store, run_a)
    entry_b, b = (entry_a, a) if run_b == run_a else stored_run(store, run_b)
    check_same_samples(run_a, a, entry_a, run_b, b, entry_b)
    if not isinstance(k, int | np.integer) or not 1 <= k < a.n:
        raise CompareError(f"k={k!r} must be from 1 to {a.n - 1} (the runs hold {a.n} "
                           "samples); pass a smaller --k")  # fmt: skip
    matched, pairing = pair_layers(a, b, pairs)
    keys = (entry_a["key"], entry_b["key"])
    params = {"pairs": matched, "k": int(k), "curve": a.curve}
    wider = CKA_MODES[: CKA_MODES.index(cka) + 1]  # a stored matrix holds the pairs' too
    for mode in wider:
        key = stage_key("comparison", {**params, "activations": True, "cka": mode}, keys)
        if (found := _stored(store, key, run_a, run_b)) is not None:
            return found
    full_key = key
    unrouted = [m for m in (a.meta.get("metric"), b.meta.get("metric"))
                if m and metric_spec(m).kernel != "rows"]  # fmt: skip
    stored = None
    if not unrouted:  # the measures stage's neighbours, where stored
        stored = tuple(_stored_neighbours(store, e, r, int(k))
                       for e, r in ((entry_a, a), (entry_b, b)))  # fmt: skip
    covered = stored is not None and _covers(stored, a, b, matched)
    if not activations and covered:  # the page's: kNN and trees from the store, no model
        key = stage_key("comparison", {**params, "activations": False, "stored": True}, keys)
        if (found := _stored(store, key, run_a, run_b)) is not None:
            return found
        return _made(store, (key, keys), a, b, (run_a, run_b), matched, pairing, int(k), stored, [
            f"cka needs the layers' activations; `fracdash compare {run_a} {run_b}` "
            "computes and stores it"])  # fmt: skip
    acts = ("not asked for" if not activations
            else f"metric {unrouted[0]} has no exact kNN route" if unrouted
            else None if covered and cka == "none"  # no model needed
            else _both_activations(store, (run_a, run_b), (a, b), inputs, progress))  # fmt: skip
    notes, key = [], full_key
    if not activations:
        notes = [f"{', '.join(NEED_ACTIVATIONS)} need the layers' activations; "
                 f"`fracdash compare {run_a} {run_b}` computes and stores them"]  # fmt: skip
    elif isinstance(acts, str):
        left = ("cka needs" if covered else f"{', '.join(NEED_ACTIVATIONS)} need")
        notes = [f"{left} the layers' activations, not found again ({acts}); left out"]
    if isinstance(acts, str):  # kNN and trees from the store where it holds them
        acts, stored = None, stored if covered else None
        extra = {"stored": True} if covered else {}
        key = stage_key("comparison", {**params, "activations": False, **extra}, keys)
        if (found := _stored(store, key, run_a, run_b)) is not None:
            return found
    return _made(store, (key, keys), a, b, (run_a, run_b), matched, pairing, int(k), stored,
                 notes, acts, progress, cka)  # fmt: skip


def _made(store, keys, a, b, names, matched, pairing, k, stored, notes, acts=None,
          progress=None, cka="none") -> Comparison:  # fmt: skip
    """The comparison measured (:func:`measure`), stored under ``keys[0]`` and freed
    with either run (``keys[1]``: both runs' keys)."""
    per_pair, curves, knns, matrix = measure(a, b, matched, k, acts, progress, cka, stored)
    key, keys = keys
    comparison = Comparison(
        run_a=names[0], run_b=names[1], pairing=pairing, pairs=per_pair,
        layers_a=a.layer_names, layers_b=b.layer_names, labels=a.labels,
        predictions_a=a.predictions, predictions_b=b.predictions, curve_samples=curves,
        knn_samples=knns, cka=matrix, k=k, notes=notes, meta={"key": key, "keys": list(keys)},
    )  # fmt: skip
    store.set_bytes(key, comparison.to_bytes())
    for analysis_key in dict.fromkeys(keys):
        add_to_runs(store, analysis_key, key)  # deleting both runs frees it
    return comparison
