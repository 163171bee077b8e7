"""Named runs: precompute a built-in scenario into the store, and find stored ones.

The catalog (a JSON document in the store) maps a run's name to the key of its stored
:class:`~fracdash.analysis.Analysis`, so that the dashboard opens a computed run
without tensorflow and without the model.
"""

from __future__ import annotations

from fracdash.analysis import Analysis
from fracdash.cache import Store, stage_key

CATALOG_KEY = stage_key("catalog")


def run_name(scenario: str, samples: int | None) -> str:
    return scenario if samples is None else f"{scenario}-{samples}"


def catalog(store: Store) -> dict[str, dict]:
    """Stored runs: name -> {"key", "accuracy", "n", "note", ...}."""
    return store.get_json(CATALOG_KEY) or {}


def register(store: Store, name: str, analysis: Analysis) -> None:
    """Add ``analysis`` (already stored by :func:`fracdash.pipeline.analyze`) to the
    catalog under ``name``."""
    with store.lock(CATALOG_KEY):
        entries = catalog(store)
        entries[name] = {
            "key": analysis.meta["key"],
            "accuracy": analysis.accuracy,
            "n": analysis.n,
            "note": analysis.meta.get("note", ""),
        }
        store.set_json(CATALOG_KEY, entries)


def load_run(store: Store, name: str) -> Analysis | None:
    """The stored analysis of run ``name``, or None if it is not computed."""
    entry = catalog(store).get(name)
    data = store.get_bytes(entry["key"]) if entry else None
    return Analysis.from_bytes(data) if data is not None else None


def precompute_scenario(
    store: Store,
    scenario: str,
    *,
    samples: int | None = None,
    epochs: int | None = None,
    train_samples: int | None = None,
    metric: str = "euclidean",
    progress=None,
) -> Analysis:
    """Train (once) and analyze a built-in scenario; store and register the result."""
    from fracdash.models.scenarios import SCENARIOS, test_data, trained_model
    from fracdash.pipeline import analyze

    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    spec = SCENARIOS[scenario]
    model, note = trained_model(
        spec,
        store.directory / "models",
        epochs=epochs,
        train_samples=train_samples,
        progress=progress,
    )
    x, y, names = test_data(spec, samples)
    meta = {"scenario": scenario, "note": note, "paper": spec.paper, "network": spec.network}
    analysis = analyze(model, x, y, names, metric=metric, cache=store, progress=progress, meta=meta)
    register(store, run_name(scenario, samples), analysis)
    return analysis
