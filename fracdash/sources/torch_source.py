"""A ``torch.nn.Module`` as a model source: exported to ONNX bytes, then run as any ONNX
model (docs/decisions.md, "ONNX and PyTorch", for why and what it costs).

The export is ``torch.onnx.export`` with the TorchScript exporter (``dynamo=False``: no
extra dependency, 0.2 s on a small CNN where the dynamo exporter takes 7 s and needs
onnxscript), in eval mode, without constant folding (so that a ``BatchNorm2d`` stays
its own layer instead of being folded into the convolution before it), and with a free
batch axis. It traces the module on the first sample of ``x``.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from fracdash.errors import UserDataError
from fracdash.sources.onnx_source import OnnxSource, onnx_source

#: The exact call, for messages and the README: what :func:`export_bytes` does.
EXPORT_CALL = (
    "torch.onnx.export(model.eval(), (x[:1],), 'model.onnx', dynamo=False, "
    "do_constant_folding=False, input_names=['input'], output_names=['output'], "
    "dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})"
)


def example_tensor(module, x):
    """The first sample of ``x`` as the module takes it: in the dtype of its first
    floating-point parameter (float32 without one); integers are cast as Keras casts them."""
    import torch

    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0 or x.dtype.kind not in "biuf":
        raise UserDataError(
            f"x has dtype {x.dtype} and shape {x.shape}; give numbers, one row a sample"
        )
    floats = [p.dtype for p in module.parameters() if p.dtype.is_floating_point]
    dtype = floats[0] if floats else torch.float32
    return torch.from_numpy(np.ascontiguousarray(x[:1])).to(dtype)


def output_names(count: int) -> list[str]:
    """The exported outputs' names: ``output``, then ``output_1``, ``output_2``..."""
    return ["output", *(f"output_{i}" for i in range(1, count))]


def export_bytes(module, example) -> bytes:
    """The module as ONNX bytes (see the module docs for the options)."""
    import torch

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(example)
    finally:
        module.train(was_training)
    count = len(out) if isinstance(out, tuple | list) else 1  # (logits, features)...
    names = output_names(count)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter's deprecation and tracer warnings are about the
        # module's code, not something the user of fracdash can act on here.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            buffer,
            dynamo=False,
            do_constant_folding=False,
            input_names=["input"],
            output_names=names,
            dynamic_axes={"input": {0: "batch"}, **{n: {0: "batch"} for n in names}},
            training=torch.onnx.TrainingMode.EVAL,
        )
    return buffer.getvalue()


def torch_source(module, x, output=None) -> OnnxSource:
    """The :class:`~fracdash.sources.onnx_source.OnnxSource` of ``module``, exported by
    tracing it on ``x[:1]`` and named after its class; ``output`` (an index, or the
    exported name ``output``/``output_1``...) picks the classifier of a ``forward`` that
    returns several tensors, e.g. ``(logits, features)``.

    Raises
    ------
    UserDataError
        x is not numeric, or the module cannot be exported (the message gives the
        exporter's reason and the call to try by hand).
    """
    example = example_tensor(module, x)
    try:
        data = export_bytes(module, example)
    except Exception as err:  # the exporter raises many types, all about the module
        text = " ".join(str(err).split())[:200]
        raise UserDataError(
            f"cannot export the PyTorch module to ONNX ({text}); check that it runs on "
            f"x[:1], or export it yourself: {EXPORT_CALL}"
        ) from err
    source = onnx_source(data, name=type(module).__name__, output=output)
    _verify(module, source, x, example.dtype, output)
    return source


def _verify(module, source: OnnxSource, x, dtype, output=None) -> None:
    """The export computes what the module computes on a batch of 3 (tracing on one
    sample bakes a ``len(x)`` or a data-dependent branch into the graph)."""
    import torch

    batch = torch.from_numpy(np.ascontiguousarray(np.asarray(x)[:3])).to(dtype)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            want = module(batch)
    finally:
        module.train(was_training)
    why = "its forward uses the batch size as a number (len(x), x.shape[0]) or branches on the data"
    fix = "use x.flatten(1) or x.view(x.size(0), -1), or export it yourself"
    try:
        got = source.predict(batch.numpy())
    except Exception as err:  # onnxruntime's errors name the failing node
        text = " ".join(str(err).split())[:160]
        raise UserDataError(
            f"the ONNX export of the PyTorch module fails on {len(batch)} samples ({text}): "
            f"{why}; {fix}"
        ) from err
    if isinstance(want, tuple | list) and output is not None:
        names = output_names(len(want))
        want = want[names.index(output) if output in names else int(output)]
    if isinstance(want, torch.Tensor) and not np.allclose(got, want.numpy(), 1e-3, 1e-5):
        raise UserDataError(
            f"the ONNX export of the PyTorch module computes other outputs than the module "
            f"on {len(batch)} samples: {why}; {fix}"
        )
