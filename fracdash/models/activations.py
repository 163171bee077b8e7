"""Forward passes: per-layer activations, predictions, model digests.

Activations are produced in sample batches and written per layer into one
``(n, d)`` float32 array each — in memory when they fit ``memory_budget``, otherwise
as memory-mapped files in a scratch directory — so that the ordering stage can take
the layers one at a time.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Sequence

import numpy as np

from fracdash.models.network import Network

DEFAULT_BATCH = 256
DEFAULT_MEMORY_BUDGET = 2 * 2**30  # bytes of activations held in RAM before spilling


def model_digest(model) -> str:
    """sha256 of a model's architecture (JSON) and every weight's bytes."""
    h = hashlib.sha256(model.to_json().encode())
    for w in model.weights:
        a = np.ascontiguousarray(w.numpy())
        h.update(f"{w.path}{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


class Activations:
    """Per-layer activations of n samples, flattened to (n, d) float32.

    Use as a context manager: spilled files are removed on exit.
    """

    def __init__(self, network: Network, names: Sequence[str], n: int, memory_budget: int):
        self._scratch = None
        shapes = {node.name: node.output_shape for node in network.nodes}
        sizes = {name: int(np.prod(shapes[name], dtype=np.int64)) for name in names}
        total = 4 * n * sum(sizes.values())
        self.arrays: dict[str, np.ndarray] = {}
        if total > memory_budget:
            self._scratch = tempfile.TemporaryDirectory(prefix="fracdash-act-")
        for i, name in enumerate(names):
            if self._scratch is None:
                self.arrays[name] = np.empty((n, sizes[name]), dtype=np.float32)
            else:
                path = f"{self._scratch.name}/{i}.f32"
                self.arrays[name] = np.lib.format.open_memmap(
                    path, mode="w+", dtype=np.float32, shape=(n, sizes[name])
                )

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def release(self, name: str) -> None:
        """Drop one layer's activations once it has been ordered."""
        self.arrays.pop(name, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.arrays.clear()
        if self._scratch is not None:
            self._scratch.cleanup()


def forward(
    network: Network,
    xs: Sequence[np.ndarray],
    names: Sequence[str],
    *,
    batch_size: int = DEFAULT_BATCH,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    progress: Callable[[int, int], None] | None = None,
) -> Activations:
    """Run the inputs ``xs`` (one (n, ...) array per model input) through the network
    once, keeping the layers ``names``.

    Returns
    -------
    Activations
        ``acts[name]`` is a float32 array (n, prod(output_shape)).
    """
    import keras

    names = list(dict.fromkeys(names))
    index = {node.name: i for i, node in enumerate(network.nodes)}
    outputs = [network.activation_model.outputs[index[name]] for name in names]
    inputs = network.activation_model.inputs
    sub = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs)
    n = len(xs[0])
    acts = Activations(network, names, n, memory_budget)
    n_batches = -(-n // batch_size)
    for b in range(n_batches):
        rows = slice(b * batch_size, min(n, (b + 1) * batch_size))
        batch = [a[rows] for a in xs]
        outs = sub(batch[0] if len(batch) == 1 else batch, training=False)
        if not isinstance(outs, list | tuple):
            outs = [outs]
        for name, out in zip(names, outs, strict=True):
            acts[name][rows] = np.asarray(out, dtype=np.float32).reshape(rows.stop - rows.start, -1)
        if progress is not None:
            progress(b + 1, n_batches)
    return acts
