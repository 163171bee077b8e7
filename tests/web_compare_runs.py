"""Hand-made runs for the comparison view's server-side tests (tests/test_web_compare*.py):
random orders on seeded labels, stored in a store with their callbacks' app, no model and
no TensorFlow; and how those tests call a callback as if an input had fired."""

from __future__ import annotations

from contextvars import copy_context
from types import SimpleNamespace

import numpy as np
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict
from helpers import CLASSES, LAYERS

from fracdash import compare as compare_module
from fracdash.analysis import Analysis, make_glyph
from fracdash.runs import register
from fracdash.series import record_step
from fracdash.store import Store, stage_key
from fracdash.web import compare_data, create_app
from fracdash.web.app import context_of

N = 150
DEEP = [("input", "InputLayer", (6, 6, 1)), ("c1", "Conv2D", (4, 4, 3)),
        ("c2", "Conv2D", (3, 3, 3)), ("flat", "Flatten", (27,)),
        ("out", "Dense", (3,))]  # fmt: skip


def hand_made(seed: int, digest: str = "same", layers=LAYERS, labels_seed: int = 0) -> Analysis:
    """Random orders on seeded labels; predictions right 80% of the time."""
    labels = np.random.default_rng(labels_seed).integers(0, len(CLASSES), N).astype(np.int64)
    labels[: len(CLASSES)] = np.arange(len(CLASSES))
    rng = np.random.default_rng(seed)
    glyphs, previous = [], ()
    for name, kind, shape in layers:
        glyphs.append(make_glyph(name, kind, previous, shape, rng.permutation(N), labels))
        previous = (name,)
    predictions = np.where(rng.random(N) < 0.8, labels, (labels + 1) % len(CLASSES))
    analysis = Analysis(glyphs, labels, predictions, CLASSES)
    analysis.meta.update(data_digest=digest, key=stage_key("analysis", {"compare": seed}))
    return analysis


@pytest.fixture
def cb(tmp_path, monkeypatch):
    """Runs "a", "b" (same samples, same layers), "deep" (same samples, other layers),
    "other" (other samples) and a series "ser" of three steps; the app's callbacks,
    its Flask client and the analyses. No model is ever looked for."""

    def no_model(*args, **kwargs):
        raise AssertionError("the page must not look for a model")

    monkeypatch.setattr(compare_module, "find_inputs", no_model)
    monkeypatch.setattr(compare_module, "layer_activations", no_model)
    compare_data._CACHE.clear()
    store = Store(tmp_path / "store")
    runs = {"a": hand_made(1), "b": hand_made(2), "deep": hand_made(3, layers=DEEP),
            "other": hand_made(4, digest="elsewhere", labels_seed=9),
            "ser@1": hand_made(11), "ser@2": hand_made(12), "ser@3": hand_made(13)}  # fmt: skip
    for name, analysis in runs.items():
        store.set_bytes(analysis.meta["key"], analysis.to_bytes())
        register(store, name, analysis)
    for step in (1, 2, 3):
        record_step(store, "ser", step)
    app = create_app(store, default_run="a")
    context = context_of(app)
    yield SimpleNamespace(store=store, app=app, client=app.server.test_client(), runs=runs,
                          **context.callbacks)  # fmt: skip
    context.jobs.stop()
    store.close()


def triggered(prop_id: str, value, fn, *args, changed=None):
    """Run a callback body as if ``prop_id`` had fired with ``value``; what it set with
    ``set_props`` goes into ``changed``."""

    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}],
                                        updated_props={}))  # fmt: skip
        try:
            return fn(*args)
        finally:
            if changed is not None:
                changed.update(context_value.get().updated_props)

    return copy_context().run(run)


def props(component) -> dict:
    return component.to_plotly_json()["props"]


def note(children) -> tuple[str | None, str]:
    p = props(children)
    assert p["className"] == "fd-compare-note"
    return p.get("data-state"), p.get("children") or ""

