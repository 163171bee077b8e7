"""The shown layer graph as plain data, whatever framework the model comes from.

Keras-free on purpose: :mod:`fracdash.models.activations` and the ONNX source
(:mod:`fracdash.sources.onnx_source`) use these types without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LayerNode:
    """One shown layer call.

    Attributes
    ----------
    name : str
        The Keras layer name; ``"name:k"`` for call k > 0 of a shared layer;
        ``"<model call path>/<name>"`` where a nested layer's name is taken
        (:mod:`fracdash.models.network`). For an ONNX model, the node's name or the
        exporter's module path (:mod:`fracdash.sources.onnx_graph`).
    kind : str
        The Keras class name, e.g. ``"Conv2D"``, ``"InputLayer"``; for an ONNX model the
        operator type, with the reorder-only ones under their Keras names (``Flatten``,
        ``Reshape``, ``Permute``) so that :func:`fracdash.core.shares_input_order` applies.
    inputs : tuple of str
        The shown nodes feeding this one (identity layers bridged).
    output_shape : tuple of int
        Per-sample output shape (no batch dimension).
    relu : bool
        The layer is ``max(x, 0)`` of its one input, element by element: an
        ``Activation("relu")`` or a ``ReLU()`` with its defaults, an ONNX ``Relu``. Its
        activations can be computed from its input's in place
        (:mod:`fracdash.models.activations`).
    """

    name: str
    kind: str
    inputs: tuple[str, ...]
    output_shape: tuple[int, ...]
    relu: bool = False


@dataclass
class Network:
    """A model's shown layers and what computes all of their activations.

    Attributes
    ----------
    nodes : list of LayerNode
        Topological order: input node(s) first, the output layer last.
    activation_model : keras.Model or None
        Keras only: maps the model's inputs to a list of outputs, one per node, in the
        order of ``nodes``. Other sources compute activations themselves
        (:meth:`fracdash.sources.ModelSource.layer_outputs`).
    """

    nodes: list[LayerNode]
    activation_model: Any = None

    @property
    def edges(self) -> list[tuple[str, str]]:
        """The ``(source, target)`` pairs given by the nodes' inputs."""
        return [(src, node.name) for node in self.nodes for src in node.inputs]
