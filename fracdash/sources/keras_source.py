"""A ``keras.Model`` as a :class:`~fracdash.sources.ModelSource`: the behaviour fracdash
always had. The Keras work itself stays in :mod:`fracdash.models` (the layer graph,
the flat activation model, the weights' digest)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fracdash.core.nodes import Network


class KerasSource:
    """A built Keras 3 classifier (Sequential or functional).

    Parameters
    ----------
    model : keras.Model
    """

    batch_size = None

    def __init__(self, model):
        self.model = model
        self._network: Network | None = None

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def input_shape(self) -> tuple:
        return tuple(self.model.inputs[0].shape)[1:]

    @property
    def input_dtype(self) -> str:
        return str(self.model.inputs[0].dtype)

    @property
    def n_inputs(self) -> int:
        return len(self.model.inputs)

    @property
    def n_classes(self) -> int:
        return int(self.model.outputs[0].shape[-1])

    def network(self, example=None) -> Network:
        """:func:`fracdash.models.network.network_graph`, built once (shapes are static)."""
        if self._network is None:
            from fracdash.models.network import network_graph

            self._network = network_graph(self.model)
        return self._network

    def digest(self) -> str:
        """sha256 of the architecture and weights (``model_digest``, as always)."""
        from fracdash.models.activations import model_digest

        return model_digest(self.model)

    def predict(self, x) -> np.ndarray:
        """The model's output on the batch ``x``, in inference mode."""
        return np.asarray(self.model(x, training=False))

    def layer_outputs(self, network: Network, names: Sequence[str]):
        """:func:`fracdash.models.network.keras_outputs`: a sub-model of the flat one."""
        from fracdash.models.network import keras_outputs

        return keras_outputs(network, names)
