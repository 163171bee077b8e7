"""Forward passes: per-layer activations, predictions, model digests.

Activations are produced in sample batches and written per layer into one
``(n, d)`` float32 array each — in memory when they fit ``memory_budget``, otherwise
as files in a scratch directory — so that the ordering stage can take the layers one
at a time.

A ReLU layer whose input layer is also wanted is not copied out of the forward pass:
its activations are ``max(x, 0)`` of its input's, computed in place once the input
layer has been ordered and released (the same float32 values; ±0 aside, which no
distance sees). That saves writing, and holding, one layer in two. When the layers go to files, a
ReLU whose input's file is above ``Activations.SHARED_RELU`` bytes has no file of its
own either: it reads its input's file as ``max(x, 0)``
(:meth:`~fracdash.core.chunked.ChunkedMatrix.relu_view`), which keeps the scratch disk
of 60,000 MNIST images through LeNet5 at 3.4 GB instead of 6.5 GB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

from fracdash.core.chunked import ChunkedMatrix
from fracdash.core.nodes import Network
from fracdash.core.scratch import ScratchDir

DEFAULT_BATCH = 256
DEFAULT_MEMORY_BUDGET = 3 * 2**29  # 1.5 GB of activations held in RAM before spilling


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

    Layers stay in memory while what the forward pass writes (ReLUs computed in place
    left out) fits ``memory_budget``; otherwise every layer above ``SMALL_LAYER`` bytes
    goes to a :class:`~fracdash.core.chunked.ChunkedMatrix` file in a scratch
    directory, written with plain file writes (page cache, not this process's
    memory). Use as a context manager: files are removed on exit.
    """

    SMALL_LAYER = 64 * 2**20
    SHARED_RELU = 256 * 2**20

    def __init__(self, network: Network, names: Sequence[str], n: int, memory_budget: int):
        #: ReLU layer -> its input layer, for ReLUs computed without a copy of their own.
        self.relu_of, self.computed, files, sizes = self.plan(network, names, n, memory_budget)
        # Swept at the next start if this process dies without cleaning up (kill -9).
        self._scratch = ScratchDir("act") if files else None
        self.arrays: dict[str, np.ndarray | ChunkedMatrix] = {}
        for i, name in enumerate(self.computed):
            if name in files:
                path = f"{self._scratch.name}/{i}.f32"
                self.arrays[name] = ChunkedMatrix(path, n, sizes[name])
            else:
                self.arrays[name] = np.empty((n, sizes[name]), dtype=np.float32)

    @classmethod
    def plan(cls, network: Network, names: Sequence[str], n: int, memory_budget: int):
        """Where each layer of ``names`` goes, decided from the shapes alone (before
        any forward pass): ``(relu_of, computed, files, sizes)`` — the ReLUs computed
        from their input layer, the layers the forward pass writes, those of them
        written to scratch files, and every layer's width."""
        shapes = {node.name: node.output_shape for node in network.nodes}
        sizes = {name: int(np.prod(shapes[name], dtype=np.int64)) for name in names}
        relu_of = _relus(network, names)
        computed = [name for name in names if name not in relu_of]
        if 4 * n * sum(sizes[name] for name in computed) <= memory_budget:
            return relu_of, computed, set(), sizes
        # Every layer from the forward pass, the large ones to files...
        big = max(cls.SMALL_LAYER, cls.SHARED_RELU)
        # ...but a ReLU of a large file reads that file (see the module's note).
        relu_of = {r: s for r, s in relu_of.items() if 4 * n * sizes[s] > big}
        computed = [name for name in names if name not in relu_of]
        files = {name for name in computed if 4 * n * sizes[name] > cls.SMALL_LAYER}
        return relu_of, computed, files, sizes

    def __getitem__(self, name: str) -> np.ndarray | ChunkedMatrix:
        if name not in self.arrays and name in self.relu_of:
            # Wanted before its input was released: a copy (or a view of the input's
            # file), leaving the input intact.
            source = self[self.relu_of[name]]
            if isinstance(source, ChunkedMatrix):
                return source.relu_view()
            return np.maximum(source, 0)
        return self.arrays[name]

    def array(self, name: str) -> np.ndarray:
        """One layer's activations in memory, whichever way they are stored."""
        target = self[name]
        return target.to_array() if isinstance(target, ChunkedMatrix) else target

    def write(self, name: str, start: int, block: np.ndarray) -> None:
        target = self.arrays[name]
        if isinstance(target, ChunkedMatrix):
            target.write_rows(start, block)
        else:
            target[start : start + len(block)] = block

    def on_disk(self, name: str) -> bool:
        """Whether layer ``name`` is read from a scratch file (a ReLU computed from its
        input: whether the input is)."""
        return isinstance(self.arrays.get(self.relu_of.get(name, name)), ChunkedMatrix)

    def release(self, name: str) -> None:
        """Drop one layer's activations once it has been ordered (a ReLU computed from
        them takes over their memory)."""
        target = self.arrays.pop(name, None)
        heir = next((r for r, src in self.relu_of.items() if src == name), None)
        if heir is not None and heir not in self.arrays and isinstance(target, np.ndarray):
            self.arrays[heir] = np.maximum(target, 0, out=target)
            del self.relu_of[heir]
        elif heir is not None and heir not in self.arrays and isinstance(target, ChunkedMatrix):
            self.arrays[heir] = target.relu_view()  # the file is removed with the heir
            del self.relu_of[heir]
        elif isinstance(target, ChunkedMatrix):
            target.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.relu_of.clear()
        for name in list(self.arrays):
            self.release(name)
        if self._scratch is not None:
            self._scratch.cleanup()


def _relus(network: Network, names: Sequence[str]) -> dict[str, str]:
    """The wanted ReLU layers whose input layer is wanted too, one per input layer."""
    wanted, found = set(names), {}
    for node in network.nodes:
        if node.relu and node.name in wanted and node.inputs[0] in wanted:
            if node.inputs[0] not in found.values():
                found[node.name] = node.inputs[0]
    return found


def spilled_widths(
    network: Network, names: Sequence[str], n: int, memory_budget: int | None = None
) -> list[int]:
    """Widths of the layers :func:`forward` would write to scratch files (4·n·d bytes
    each) for ``n`` samples of the layers ``names``, known before it runs."""
    names = list(dict.fromkeys(names))
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    _, _, files, sizes = Activations.plan(network, names, n, budget)
    return [sizes[name] for name in names if name in files]


def forward(
    network: Network,
    xs: Sequence[np.ndarray],
    names: Sequence[str],
    *,
    batch_size: int = DEFAULT_BATCH,
    memory_budget: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    outputs: Callable[[Sequence[str]], Callable[[list], list]] | None = None,
) -> Activations:
    """Run the inputs ``xs`` (one (n, ...) array per model input) through the network
    once, keeping the layers ``names``.

    Parameters
    ----------
    outputs : callable(names) -> callable(batch) -> list of arrays, optional
        What computes a batch's activations of the given layers: a model source's
        :meth:`~fracdash.sources.ModelSource.layer_outputs`. Default: the Keras
        ``network.activation_model``.

    Returns
    -------
    Activations
        ``acts[name]`` is a float32 array (n, prod(output_shape)).
    """
    names = list(dict.fromkeys(names))
    n = len(xs[0])
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    acts = Activations(network, names, n, budget)
    names = acts.computed
    if outputs is None:
        from fracdash.models.network import keras_outputs

        run = keras_outputs(network, names)
    else:
        run = outputs(names)
    n_batches = -(-n // batch_size)
    for b in range(n_batches):
        rows = slice(b * batch_size, min(n, (b + 1) * batch_size))
        outs = run([a[rows] for a in xs])
        for name, out in zip(names, outs, strict=True):
            block = np.asarray(out, dtype=np.float32).reshape(rows.stop - rows.start, -1)
            acts.write(name, rows.start, block)
        if progress is not None:
            progress(b + 1, n_batches)
    return acts
