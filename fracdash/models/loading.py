"""A user's Keras model file, loaded in safe mode and checked (the file itself was
checked without Keras by :func:`fracdash.sources.files.check_model_file`)."""

from __future__ import annotations

import re
from pathlib import Path

from fracdash.errors import UserDataError

RESAVE = "save the model with model.save('model.keras')"


def load_keras_file(path: Path, output=None):
    """Load a ``.keras`` (or legacy ``.h5``) file uncompiled, in safe mode.

    Returns
    -------
    keras.Model
        One input and one ``(batch, k >= 2)`` output.

    Raises
    ------
    UserDataError
        A file Keras cannot load (unknown or Lambda layers), or a model of another
        structure.
    """
    import keras

    try:
        keras_zip = path.suffix.lower() == ".keras"
        load = keras.saving.load_model if keras_zip else keras.models.load_model
        model = load(path, compile=False, safe_mode=True)
    except Exception as err:  # keras raises many types for a bad file
        raise UserDataError(_load_problem(path, err)) from err
    return _check_structure(pick_keras_output(model, output, f"model {path}"), path)


def pick_keras_output(model, output, where: str):
    """``model`` answering only its output ``output`` (name of the output's layer, or
    index from 0), as a new functional model sharing its layers; ``model`` when None."""
    if output is None:
        return model
    import keras

    outputs = list(getattr(model, "outputs", None) or [])
    names = [t._keras_history.operation.name if hasattr(t, "_keras_history") else str(i)
             for i, t in enumerate(outputs)]  # fmt: skip
    index = None
    if isinstance(output, int) or (isinstance(output, str) and output.isdigit()):
        index = int(output)
    elif output in names:
        index = names.index(output)
    if index is None or not 0 <= index < len(outputs):
        shown = ", ".join(f"{i}: {n}" for i, n in enumerate(names))
        raise UserDataError(
            f"{where} has no output {output!r}; its outputs are {shown}: give one of those "
            "names or indices"
        )
    return keras.Model(model.inputs, outputs[index], name=model.name)


def quiet_keras_import() -> None:
    """Import keras with file descriptor 2 pointed at /dev/null: TensorFlow's C++
    start-up lines (oneDNN, absl) ignore TF_CPP_MIN_LOG_LEVEL. Python errors still
    surface, as exceptions.

    For the command line: the cyclic garbage collector is off during the import and
    what the import made is then frozen (:func:`gc.freeze`: module objects live as long
    as the process anyway). TensorFlow's half a million objects would otherwise be
    walked again and again, during the import, in every full collection after it and at
    exit: 2.4 of the Keras path's 13 CPU seconds on 2,000 samples (bench/keras_path.py).
    """
    import gc
    import os
    import sys

    if "keras" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    collecting = gc.isenabled()
    gc.disable()
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        gc.freeze()
        if collecting:
            gc.enable()


def _load_problem(path: Path, err: Exception) -> str:
    text = " ".join(str(err).split())
    unknown = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
    if unknown or "Unknown layer" in text:
        what = repr(unknown.group(1)) if unknown else "a layer"
        return f"model {path} uses {what}, a class Keras does not know; use built-in layers"
    if "Lambda" in text or "safe_mode" in text:
        return f"model {path} holds a Lambda layer, which safe mode refuses; use built-in layers"
    return f"cannot load model {path} ({text[:200]}); {RESAVE} in Keras 3"


def _check_structure(model, path: Path):
    outputs = getattr(model, "outputs", None) or []
    inputs = getattr(model, "inputs", None) or []
    shape = tuple(outputs[0].shape) if len(outputs) == 1 else ()
    if len(outputs) != 1:
        problem = (f"has {len(outputs)} outputs; pick the classifier's with --output NAME or "
                   "INDEX (Python: output=)")  # fmt: skip
    elif len(inputs) != 1:
        problem = f"has {len(inputs)} inputs; use fracdash.analyze() for multi-input models"
    elif len(shape) != 2 or shape[-1] is None or shape[-1] < 2:
        problem = f"outputs {shape}, not (batch, k >= 2); end it with Dense(k) and Softmax"
    else:
        return model
    raise UserDataError(f"model {path} {problem}")
