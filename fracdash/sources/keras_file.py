"""What a Keras file says of its model, read without importing Keras or TensorFlow.

A ``.keras`` archive holds ``config.json``; a legacy ``.h5`` file holds the same JSON in
its ``model_config`` attribute (read with h5py, which loads no TensorFlow). From it:
the input's shape, the number of classes (the units of the output layer, or of the
layer an activation-only output layer follows) and the layers' kinds. The command line
checks the data against these before TensorFlow's start-up (seconds), so that a shape
or label error answers at once; the model itself is loaded later, in safe mode.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from fracdash.errors import UserDataError

RESAVE = "save the model again with model.save('model.keras')"
#: Layers that keep their input's width: an output layer of these takes its class count
#: from the layer before it.
WIDTH_KEEPING = frozenset({
    "Softmax", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Dropout",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
    "BatchNormalization", "LayerNormalization", "Rescaling",
})  # fmt: skip


@dataclass(frozen=True)
class KerasFileSummary:
    """A Keras model as its file describes it.

    Attributes
    ----------
    input_shape : tuple or None
        One sample's shape (no batch axis), None for a free axis; None if unknown.
    n_classes : int or None
        The output's width, if the file says it.
    kinds : tuple of str
        The layers' class names, in the file's order.
    n_outputs : int
    """

    input_shape: tuple | None
    n_classes: int | None
    kinds: tuple[str, ...]
    n_outputs: int = 1


def read_config(path: Path) -> dict:
    """The model's JSON config, or :class:`UserDataError` calling the file corrupt."""
    try:
        if path.suffix.lower() == ".keras":
            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json")
        else:
            import h5py

            with h5py.File(path, "r") as f:
                text = f.attrs.get("model_config")
            if text is None:
                raise KeyError("no model_config: a weights-only file?")
        config = json.loads(text)
    except KeyError as err:
        raise UserDataError(f"model {path} holds no Keras model ({err}); {RESAVE}") from err
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        what = "a complete .keras archive" if path.suffix.lower() == ".keras" else "a Keras model"
        reason = " ".join(str(err).split())[:120]
        raise UserDataError(
            f"model {path} is corrupt or truncated (not {what}: {reason}); {RESAVE}"
        ) from err
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise UserDataError(f"model {path} holds no model config (corrupt?); {RESAVE}")
    return config


def summarize(path: Path) -> KerasFileSummary:
    """The :class:`KerasFileSummary` of a ``.keras`` or ``.h5`` file."""
    config = read_config(path)
    layers = [ly for ly in config["config"].get("layers", []) if isinstance(ly, dict)]
    kinds = tuple(str(ly.get("class_name", "?")) for ly in layers)
    by_name = {ly.get("config", {}).get("name", ly.get("name")): ly for ly in layers}
    outputs = config["config"].get("output_layers")
    if outputs and isinstance(outputs[0], list):  # [[name, 0, 0], ...]
        output_names = [o[0] for o in outputs]
    elif outputs:  # one output: [name, 0, 0]
        output_names = [outputs[0]]
    else:  # Sequential: the last layer
        output_names = [layers[-1].get("config", {}).get("name")] if layers else []
    last = by_name.get(output_names[0]) if len(output_names) == 1 else None
    return KerasFileSummary(
        input_shape=_input_shape(config, layers),
        n_classes=_width(last, layers, by_name),
        kinds=kinds,
        n_outputs=max(len(output_names), 1),
    )


def _input_shape(config: dict, layers: list[dict]) -> tuple | None:
    shapes = []
    for ly in layers:
        c = ly.get("config", {})
        shape = c.get("batch_shape") or c.get("batch_input_shape")
        if ly.get("class_name") == "InputLayer" and shape:
            shapes.append(shape)
    if not shapes and layers:  # Keras 2 Sequential: the first layer names the input
        first = layers[0].get("config", {})
        shape = first.get("batch_input_shape") or first.get("batch_shape")
        shapes = [shape] if shape else []
    if not shapes:
        build = (config.get("build_config") or {}).get("input_shape")
        shapes = [build] if isinstance(build, list) and build else []
    if len(shapes) != 1 or not isinstance(shapes[0], list):
        return None
    return tuple(None if d is None else int(d) for d in shapes[0][1:])


def _width(layer, layers: list[dict], by_name: dict) -> int | None:
    for _ in range(len(layers) + 1):  # walk back through width-keeping layers
        if layer is None:
            return None
        c = layer.get("config", {})
        if isinstance(c.get("units"), int):
            return c["units"]
        if layer.get("class_name") not in WIDTH_KEEPING:
            return None
        layer = by_name.get(_inbound(layer, layers))
    return None


def _inbound(layer: dict, layers: list[dict]) -> str | None:
    """The name of the layer feeding ``layer``: from its inbound nodes (Keras 3's
    ``keras_history``, Keras 2's nested lists), else the one before it (Sequential)."""
    found: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            history = value.get("keras_history")
            if isinstance(history, list) and history and isinstance(history[0], str):
                found.append(history[0])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int):
                found.append(value[0])  # Keras 2: [name, node_index, tensor_index, {...}]
            for v in value:
                walk(v)

    walk(layer.get("inbound_nodes", []))
    if found:
        return found[0]
    index = next((i for i, ly in enumerate(layers) if ly is layer), 0)
    return layers[index - 1].get("config", {}).get("name") if index > 0 else None
