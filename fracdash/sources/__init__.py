"""Model sources: what the pipeline needs from a classifier, whatever its framework.

A source (:class:`ModelSource`) gives the shown layer graph, a forward pass yielding
the activations of requested layers, a content digest, its input's shape and dtype,
the number of classes, and a probe call. :func:`fracdash.pipeline.analyze` and
:func:`fracdash.inputs.data.check_data` use nothing else, so Keras, ONNX and PyTorch
models go through the same stages, store and dashboard:

* :mod:`~fracdash.sources.keras_source`: a ``keras.Model`` (the layer graph from its
  config, activations from one flat multi-output model);
* :mod:`~fracdash.sources.onnx_source`: an ONNX file, bytes or ``onnx.ModelProto``
  (checked by :mod:`~fracdash.sources.onnx_file` before onnxruntime is imported; the
  layer graph from :mod:`~fracdash.sources.onnx_graph`);
* :mod:`~fracdash.sources.torch_source`: a ``torch.nn.Module``, exported to ONNX bytes,
  then the ONNX source.

Importing this package imports none of keras, onnx, onnxruntime or torch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from fracdash.core.nodes import Network

#: A batch function: one array per model input -> one array per requested layer.
BatchOutputs = Callable[[list], list]


class ModelSource(Protocol):
    """What the pipeline and the user-data checks use of a model.

    Attributes
    ----------
    name : str
        A default run name (the Keras model's name, an ONNX file's stem, the module's class).
    input_shape : tuple of (int or None)
        Per-sample shape of the (first) input; None for a free dimension.
    input_dtype : str
        Its numpy dtype name, e.g. ``"float32"``.
    n_inputs : int
    n_classes : int
        The output's last dimension, k.
    batch_size : int or None
        A batch size the model requires (an ONNX graph exported for batches of 1), or None.
    """

    name: str
    input_shape: tuple
    input_dtype: str
    n_inputs: int
    n_classes: int
    batch_size: int | None

    def network(self, example: np.ndarray | None = None) -> Network:
        """The shown layer DAG; ``example`` (one sample batch) fixes free dimensions."""
        ...

    def digest(self) -> str:
        """A content digest of the model: the same model gives the same digest."""
        ...

    def predict(self, x) -> np.ndarray:
        """The model's output on a batch (the probe of the distribution check)."""
        ...

    def layer_outputs(self, network: Network, names: Sequence[str]) -> BatchOutputs:
        """A batch function giving the activations of ``names``, in that order."""
        ...


_METHODS = ("network", "digest", "predict", "layer_outputs")


def is_onnx(model) -> bool:
    """Whether ``model`` is an ``onnx.ModelProto`` (checked without importing onnx)."""
    return type(model).__name__ == "ModelProto" and type(model).__module__.startswith("onnx")


def is_torch(model) -> bool:
    """Whether ``model`` is a ``torch.nn.Module`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def as_source(model, example=None, output=None) -> ModelSource:
    """The :class:`ModelSource` of ``model``.

    Parameters
    ----------
    model : ModelSource, keras.Model, onnx.ModelProto, bytes, torch.nn.Module or path
        A path is loaded as :func:`fracdash.inputs.data.load_model` loads it (``.keras``,
        ``.h5``, ``.onnx``; safe mode, checked); bytes are a serialized ONNX model.
    example : array_like, optional
        Input samples, for a PyTorch module: the export traces it on the first one.
    output : str or int, optional
        Of a model with several outputs, the classifier's (its name, or its index from 0).

    Returns
    -------
    ModelSource

    Raises
    ------
    fracdash.errors.FracdashError
        A model file or ONNX model that cannot be used; a module that cannot be exported.
    TypeError
        A PyTorch module without ``example``.
    """
    if all(hasattr(type(model), m) for m in _METHODS):  # looked up on the class: no
        return model  # property of a foreign model object is evaluated
    if isinstance(model, str | os.PathLike):
        from fracdash.sources.files import load_model

        return as_source(load_model(model, output), example)
    if is_onnx(model) or isinstance(model, bytes | bytearray):
        from fracdash.sources.onnx_source import onnx_source

        return onnx_source(model, output=output)
    if is_torch(model):
        if example is None:
            raise TypeError("a PyTorch module needs example inputs (x) to be exported")
        from fracdash.sources.torch_source import torch_source

        return torch_source(model, example, output)
    from fracdash.models.loading import pick_keras_output
    from fracdash.sources.keras_source import KerasSource

    return KerasSource(pick_keras_output(model, output, "the Keras model"))


__all__ = ["BatchOutputs", "ModelSource", "as_source", "is_onnx", "is_torch"]
