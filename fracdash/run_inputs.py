"""A stored run's model and inputs found again, for what needs its layers' activations.

A stored run keeps its orders, not its activations. What compares two runs beyond their
orders (kNN overlap, shared tree edges, CKA: :mod:`fracdash.compare`) needs the model
and the inputs again, found in this order:

1. given from Python: ``(model, x)``, x as the model takes it;
2. a built-in scenario's run: its trained model in the store's ``models`` folder (named
   in the run's note) and its data set on this machine (never downloaded);
3. a run of ``fracdash analyze``: the model and data files and the options it recorded
   (:func:`inputs_recipe`), loaded and preprocessed again the same way.

What is found is checked: the inputs' digest must be the run's (``meta["data_digest"]``)
and the model's predictions the run's; otherwise the run's inputs count as not found,
with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from fracdash.errors import FracdashError
from fracdash.runs import data_digest


class RunInputs(NamedTuple):
    """A run's model and inputs, found again and checked."""

    #: The model as :func:`fracdash.sources.as_source` gives it.
    source: object
    #: The inputs as the model takes them, one array or a list of one per model input.
    x: object


class Found(NamedTuple):
    """What :func:`find_inputs` found: the inputs, or None and why not."""

    inputs: RunInputs | None
    note: str


def inputs_recipe(model_path, data_path, opts: dict) -> dict:
    """What ``fracdash analyze`` records in a run's ``meta["inputs"]`` to load its model
    and data again: both files' absolute paths and the options that shape the inputs
    (``opts``: the command's ``samples``, ``first``, ``split``, ``class_names``,
    ``scale``, ``mean``, ``std``, ``output``, ``logits``)."""
    names = opts.get("class_names")
    return {
        "model": str(Path(model_path).resolve()),
        "data": str(Path(data_path).resolve()),
        "class_names": str(Path(names).resolve()) if names else None,
        **{k: opts.get(k) for k in ("samples", "first", "split", "scale", "mean", "std",
                                    "output", "logits")},
    }  # fmt: skip


def _from_recipe(recipe: dict) -> tuple[object, object]:
    from fracdash.inputs import data as userdata

    for what in ("model", "data"):
        if not Path(recipe[what]).exists():
            raise FracdashError(f"its {what} file {recipe[what]} is gone")
    quiet = [].append  # the run's own load warned already
    names = userdata.load_class_names(recipe["class_names"]) if recipe["class_names"] else None
    x, y, names = userdata.load_data(
        recipe["data"], recipe["samples"], warn=quiet, first=bool(recipe["first"]),
        split=recipe["split"] or "test", class_names=names or None,
    )  # fmt: skip
    if not str(recipe["model"]).lower().endswith(".onnx"):
        from fracdash.models.loading import quiet_keras_import

        quiet_keras_import()
    model = userdata.load_model(recipe["model"], recipe["output"])
    data = userdata.prepare_data(
        model, x, y, names, warn=quiet, scale=recipe["scale"], mean=recipe["mean"],
        std=recipe["std"], logits=bool(recipe["logits"]),
    )  # fmt: skip
    return data.model, data.x


def _from_scenario(store, analysis) -> tuple[object, object]:
    from fracdash.models.loading import load_keras_file, quiet_keras_import
    from fracdash.scenarios import SCENARIOS, test_data

    spec = SCENARIOS[analysis.meta["scenario"]]
    found = re.search(r"[\w.-]+\.keras", str(analysis.meta.get("note", "")))
    path = store.directory / "models" / found[0] if found else None
    if path is None or not path.is_file():
        raise FracdashError("its trained model is not in the store")
    x, _, _ = test_data(spec, analysis.n, analysis.meta.get("split", "test"))
    quiet_keras_import()
    return load_keras_file(path), x


def find_inputs(store, analysis, given=None) -> Found:
    """The model and inputs of stored run ``analysis``, found again and checked.

    Parameters
    ----------
    store : Store
        The store the run is in (a scenario's model is in its ``models`` folder).
    analysis : Analysis
        The stored run.
    given : tuple (model, x), optional
        The model (anything :func:`fracdash.sources.as_source` takes) and its inputs,
        from Python; checked like the rest.

    Returns
    -------
    Found
        ``inputs`` None when nothing was found or it failed a check; ``note`` says why.
    """
    from fracdash.scenarios import SCENARIOS
    from fracdash.sources import as_source

    meta = analysis.meta
    try:
        if given is not None:
            model, x = given
        elif meta.get("scenario") in SCENARIOS:
            model, x = _from_scenario(store, analysis)
        elif isinstance(meta.get("inputs"), dict):
            model, x = _from_recipe(meta["inputs"])
        else:
            return Found(None, "it keeps no model and data files fracdash can load again "
                         "(pass inputs= from Python)")  # fmt: skip
        if meta.get("data_digest") and data_digest(x) != meta["data_digest"]:
            return Found(None, "the inputs found again differ from the run's")
        source = as_source(model, example=x[0] if isinstance(x, list | tuple) else x)
    except (FracdashError, OSError) as err:
        return Found(None, str(err).split(";")[0])
    return Found(RunInputs(source, x), "")


def check_predictions(analysis, predictions: np.ndarray) -> str:
    """Why the model found again is not the run's ("" if its predictions are the run's)."""
    if np.array_equal(np.asarray(predictions), analysis.predictions):
        return ""
    changed = int(np.count_nonzero(np.asarray(predictions) != analysis.predictions))
    return f"the model found again predicts {changed} samples otherwise than the run"
