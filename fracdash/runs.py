"""Named runs: the one service that analyzes, stores, lists and deletes them.

The catalog (a JSON document in the store) maps a run's name to the key of its stored
:class:`~fracdash.analysis.Analysis`, so that the dashboard opens a computed run
without tensorflow and without the model. The command line, :func:`fracdash.show` and
the dashboard all go through this module: the naming rules live here only.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np

from fracdash.analysis import Analysis
from fracdash.errors import RunError
from fracdash.store import Store, array_digest, stage_key
from fracdash.thumbnails import store_thumbnails

CATALOG_KEY = stage_key("catalog")
#: Longest run name: the one limit for names stored here and names the page sends back
#: (:mod:`fracdash.web.callbacks.guard`).
MAX_RUN_NAME = 100
#: Characters a run name may not hold: it appears in URLs, file names and listings.
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


def run_name(scenario: str, samples: int | None, split: str = "test") -> str:
    """``easy``, ``easy-300``, ``easy-train``, ``easy-all-5000``: a scenario's run on
    ``samples`` images of ``split`` (test by default: the name says nothing)."""
    base = scenario if split == "test" else f"{scenario}-{split}"
    return base if samples is None else f"{base}-{samples}"


def data_digest(x) -> str:
    """The digest of a run's inputs as the pipeline keys its orders by them (one array,
    or a list of one per model input): kept in the run's ``meta["data_digest"]``, so that
    two runs on the same samples in the same order are known as such
    (:mod:`fracdash.compare`)."""
    xs = x if isinstance(x, list | tuple) else [x]
    return array_digest(*(np.asarray(a) for a in xs))


def catalog(store: Store) -> dict[str, dict]:
    """Stored runs: name -> {"key", "accuracy", "n", "note", "model", "data", ...}."""
    return store.get_json(CATALOG_KEY) or {}


def _is_scenario_name(name: str) -> bool:
    from fracdash.scenarios import SCENARIOS

    head, _, tail = name.partition("-")
    parts = tail.split("-") if tail else []
    return head in SCENARIOS and all(p.isdigit() or p in ("train", "all") for p in parts)


def check_run_name(store: Store | None, name, *, replace: bool = False) -> str:
    """``name`` if a user run may be stored under it, else :class:`RunError`.

    A name must be non-empty, at most :data:`MAX_RUN_NAME` characters, without slashes
    or control characters, and not a built-in scenario's (``easy``, ``easy-300``, ...).
    An existing run is only overwritten with ``replace=True``. ``store=None`` (no store
    yet) holds no runs.
    """
    name = str(name) if name is not None else ""
    if not name.strip():
        raise RunError("the run name is empty; pass --name NAME")
    if len(name) > MAX_RUN_NAME:
        raise RunError(f"run name {name[:40]!r}... is too long ({len(name)} characters, "
                       f"at most {MAX_RUN_NAME}); pass a shorter --name")  # fmt: skip
    if _BAD_NAME.search(name):
        raise RunError(f"run name {name!r} holds a slash, a backslash or control characters; "
                       "pass another --name")  # fmt: skip
    if _is_scenario_name(name):
        raise RunError(f"run name {name!r} is a built-in scenario's; pass another --name")
    entry = catalog(store).get(name) if store is not None else None
    if entry is not None and not replace:
        what = ", ".join(str(entry[k]) for k in ("model", "data", "created") if entry.get(k))
        raise RunError(
            f"a run named {name!r} exists already ({what or 'stored earlier'}); "
            "pass --replace to overwrite it, or another --name"
        )
    return name


def register(store: Store, name: str, analysis: Analysis, **about) -> None:
    """Add ``analysis`` (already stored by :func:`fracdash.pipeline.analyze`) to the
    catalog under ``name``. ``about`` adds descriptive fields (``model=``, ``data=``)."""
    uses = sorted({analysis.meta["key"], *analysis.meta.get("uses", ())})
    with store.lock(CATALOG_KEY):
        entries = catalog(store)
        entries[name] = {
            "key": analysis.meta["key"],
            "accuracy": analysis.accuracy,
            "n": analysis.n,
            "note": analysis.meta.get("note", ""),
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "uses": uses,
            "size": sum(store.size_of(k) for k in uses),
            **({"measured": analysis.meta["measured"]} if analysis.meta.get("measured") else {}),
            **{k: str(v) for k, v in about.items()},
        }
        store.set_json(CATALOG_KEY, entries)


def add_to_runs(store: Store, analysis_key: str, key: str) -> None:
    """Count store entry ``key`` in every run whose analysis is ``analysis_key`` (its
    ``uses`` and ``size``), so that :func:`delete_run` frees it with them: for what is
    stored for a run after it was registered (an older run's thumbnails)."""
    with store.lock(CATALOG_KEY):
        entries = catalog(store)
        mine = [e for e in entries.values() if e["key"] == analysis_key]
        mine = [e for e in mine if key not in e.get("uses", ())]
        for entry in mine:
            entry["uses"] = sorted({*entry.get("uses", ()), key})
            entry["size"] = sum(store.size_of(k) for k in entry["uses"])
        if mine:
            store.set_json(CATALOG_KEY, entries)


def delete_run(store: Store, name: str) -> int:
    """Remove run ``name`` from the catalog and the store entries only it uses (its
    analysis and the orders no other run shares); return the bytes freed. Trained
    scenario models stay (they are a training cache, shared by recipe)."""
    with store.lock(CATALOG_KEY):
        entries = catalog(store)
        if name not in entries:
            known = ", ".join(sorted(entries)) or "none"
            raise RunError(f"no run named {name!r}; stored runs: {known}")
        entry = entries.pop(name)
        store.set_json(CATALOG_KEY, entries)
        shared = {k for other in entries.values() for k in (other["key"], *other.get("uses", ()))}
        mine = {entry["key"], *entry.get("uses", ())} - shared
        return sum(store.delete(k) for k in sorted(mine))


def load_run(store: Store, name: str) -> Analysis | None:
    """The stored analysis of run ``name``, or None if it is not computed."""
    entry = catalog(store).get(name)
    data = store.get_bytes(entry["key"]) if entry else None
    return Analysis.from_bytes(data) if data is not None else None


def analyze_run(
    store: Store,
    model,
    x,
    y,
    class_names=None,
    *,
    name: str,
    replace: bool = False,
    metric: str = "euclidean",
    labels: str = "truth",
    progress=None,
    meta: dict | None = None,
    about: dict | None = None,
    keep_labels: bool = False,
    orderer=None,
    on_partial=None,
    measures: bool = True,
) -> Analysis:
    """Analyze a user's model on checked data, store it and register it as ``name``.

    ``x, y, class_names`` must already have passed :func:`fracdash.inputs.data.check_data`
    (:func:`~fracdash.inputs.data.prepare_data`). ``model`` is anything
    :func:`fracdash.sources.as_source` takes (a Keras model, an ONNX model, a PyTorch
    module, a model source). The name is checked first (:func:`check_run_name`), so
    nothing is computed for a name that cannot be stored. Once the predictions are
    known, and before anything is stored, labels that look permuted against the model's
    classes are refused (:func:`fracdash.inputs.labels.check_label_order`) unless
    ``keep_labels``. ``about`` describes the run in listings (``model``, ``data``,
    ``preprocessing``...); ``labels``, ``orderer``, ``on_partial`` and ``measures`` are
    :func:`fracdash.pipeline.analyze`'s.
    """
    from fracdash.pipeline import analyze
    from fracdash.sources import as_source

    name = check_run_name(store, name, replace=replace)
    model = as_source(model, example=x)
    meta = {"network": model.name, "source": "user", "data_digest": data_digest(x),
            **(meta or {})}  # fmt: skip
    analysis = analyze(
        model, x, y, class_names, metric=metric, labels=labels, store=store, progress=progress,
        meta=meta, orderer=orderer, on_partial=on_partial, measures=measures,
        check_predictions=label_order_check(y, class_names, keep_labels),
    )  # fmt: skip
    store_thumbnails(store, analysis, x)  # the page shows a hovered sample's image
    about = {"model": model.name, "data": "arrays from Python", **(about or {})}
    register(store, name, analysis, **about)
    return analysis


def label_order_check(y, class_names, keep_labels: bool = False):
    """The ``check_predictions`` of a user's run (:func:`fracdash.pipeline.analyze`):
    labels that look permuted against the model's classes are refused
    (:func:`fracdash.inputs.labels.check_label_order`); None with ``keep_labels``. Never
    for the built-in scenarios ("problematic" tests a model on another data set on
    purpose)."""
    if keep_labels:
        return None
    from fracdash.inputs.labels import check_label_order

    return lambda predictions: check_label_order(y, predictions, class_names)


def precompute_scenario(
    store: Store,
    scenario: str,
    *,
    samples: int | None = None,
    epochs: int | None = None,
    train_samples: int | None = None,
    metric: str = "euclidean",
    progress=None,
    on_partial=None,
    split: str = "test",
) -> Analysis:
    """Train (once) and analyze a built-in scenario on ``samples`` images of ``split``
    ("test", "train" or "all": train then test); store and register the result.
    ``on_partial`` sees the analysis so far (:func:`fracdash.pipeline.analyze`)."""
    from fracdash.models.training import trained_model
    from fracdash.pipeline import analyze
    from fracdash.scenarios import SCENARIOS, test_data

    if scenario not in SCENARIOS:
        raise RunError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    spec = SCENARIOS[scenario]
    model, note = trained_model(
        spec,
        store.directory / "models",
        epochs=epochs,
        train_samples=train_samples,
        progress=progress,
    )
    x, y, names = test_data(spec, samples, split)
    meta = {"scenario": scenario, "note": note, "paper": spec.paper, "network": spec.network,
            "split": split, "data_digest": data_digest(x)}  # fmt: skip
    analysis = analyze(
        model, x, y, names, metric=metric, store=store, progress=progress, meta=meta,
        on_partial=on_partial,
    )  # fmt: skip
    store_thumbnails(store, analysis, x)  # served with the run: no data set needed then
    register(
        store,
        run_name(scenario, samples, split),
        analysis,
        model=spec.network,
        data=spec.test_on if split == "test" else f"{spec.test_on} ({split})",
    )
    return analysis
