"""A PyTorch model in training, made ready to be recorded (``fracdash.torch.record``).

Training code holds tensors, often on a GPU, and a module in train mode. fracdash
exports the module to ONNX by tracing it on the first sample, on the CPU
(:mod:`fracdash.sources.torch_source`, which leaves the module's train/eval mode as it
found it): a module with parameters elsewhere is recorded from a CPU copy, so the
training module stays where it is.
"""

from __future__ import annotations

import copy

import numpy as np


def as_array(values) -> np.ndarray:
    """A tensor (detached, copied to the CPU) or anything array-like, as numpy."""
    detach = getattr(values, "detach", None)
    if detach is not None:
        return detach().cpu().numpy()
    return np.asarray(values)


def on_cpu(module):
    """``module`` itself if all its parameters and buffers are on the CPU, else a CPU
    copy of it (the training module is not moved)."""
    tensors = [*module.parameters(), *module.buffers()]
    if all(t.device.type == "cpu" for t in tensors):
        return module
    return copy.deepcopy(module).cpu()


def recordable(module, x, y):
    """(module on the CPU, x as numpy, y as numpy) for :func:`fracdash.series.record_checkpoint`."""
    return on_cpu(module), as_array(x), as_array(y)
