"""An ONNX model as a :class:`~fracdash.sources.ModelSource`, run by onnxruntime.

Every shown node's tensor is added to ``graph.output`` (onnxruntime returns graph
outputs only), so one session, with graph optimisations off (``ORT_DISABLE_ALL``: no
fusion may swallow a tensor a node is read from), gives any set of layers per batch.
The files are checked by :mod:`fracdash.sources.onnx_file` before onnxruntime is
imported; the layer graph comes from :mod:`fracdash.sources.onnx_graph`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fracdash.core.nodes import LayerNode, Network
from fracdash.errors import UserDataError
from fracdash.sources.onnx_file import (
    REEXPORT,
    check_model,
    digest_of,
    dims,
    external_files,
    graph_inputs,
    parse_bytes,
    pick_output,
    read_file,
    require,
    sorted_nodes,
)
from fracdash.sources.onnx_graph import read_layers


class OnnxSource:
    """A checked ONNX classifier with one input and one ``(batch, k)`` output.

    Parameters
    ----------
    model : onnx.ModelProto
        Already checked (:func:`fracdash.sources.onnx_file.check_model`), external data
        loaded.
    name : str
        The default run name.
    digest : str
        Its content digest.
    where : str
        How messages name it (``"model path/to/m.onnx"``).

    Raises
    ------
    UserDataError
        An input of a type fracdash cannot feed, an output that does not depend on the
        input, a graph onnxruntime refuses.
    """

    n_inputs = 1

    def __init__(self, model, *, name: str, digest: str, where: str):
        import onnx

        graph = model.graph
        (inp,) = graph_inputs(graph)
        shape = dims(inp)
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(inp.type.tensor_type.elem_type))
        if not shape or dtype.kind not in "biuf":
            what = f"{dtype} values" if shape else "an input of unknown rank"
            raise UserDataError(
                f"{where} takes {what}; export it with a numeric input of fixed rank"
            )
        self.name, self.where, self._digest = name, where, digest
        self.input_name, self.output_name = inp.name, graph.output[0].name
        self.input_shape: tuple = shape[1:]
        self.input_dtype = str(dtype)
        # An exporter without a dynamic batch axis fixes it (often to 1): batches of that.
        self.batch_size = shape[0] if shape[0] else None
        out = dims(graph.output[0])
        self._k = out[-1] if out else None
        try:
            self.layers = read_layers(graph, self.input_name)
        except ValueError as err:
            raise UserDataError(f"{where}: {err}; {REEXPORT}") from err
        self._session = self._open(model)

    def _open(self, model):
        import onnx
        import onnxruntime as ort

        probed = onnx.ModelProto()
        probed.CopyFrom(model)
        present = {o.name for o in probed.graph.output} | {self.input_name}
        for tensor in dict.fromkeys(self.layers.tensors.values()):
            if tensor not in present:  # no type needed: onnxruntime infers it
                probed.graph.output.append(onnx.ValueInfoProto(name=tensor))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.log_severity_level = 3  # errors only: its warnings are not the user's
        available = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        try:
            return ort.InferenceSession(probed.SerializeToString(), options, providers=providers)
        except Exception as err:  # onnxruntime raises its own types for unknown operators
            text = " ".join(str(err).split())[:200]
            raise UserDataError(
                f"onnxruntime cannot run {self.where} ({text}); {REEXPORT}"
            ) from err

    @property
    def n_classes(self) -> int:
        """The output's last dimension, read from the graph or, if free, from one run."""
        if self._k is None:  # a free output size: ask the model
            if None in self.input_shape:
                raise UserDataError(
                    f"{self.where} has neither a fixed output size nor a fixed input shape; "
                    "export it with fixed sizes"
                )
            zeros = np.zeros((self.batch_size or 1, *self.input_shape), self.input_dtype)
            self._k = int(self.predict(zeros).shape[-1])
        return self._k

    def digest(self) -> str:
        """The digest given at load (:func:`onnx_source`, :func:`load_onnx_file`)."""
        return self._digest

    def prepare(self, x) -> np.ndarray:
        """``x`` in the input's dtype: floats and integers for a float input (as Keras
        casts), integers only for an integer input (refused: float x would be truncated)."""
        x = np.asarray(x)
        want = np.dtype(self.input_dtype)
        if x.dtype == want:
            return np.ascontiguousarray(x)
        if want.kind == "f" and x.dtype.kind in "biuf":
            return x.astype(want)
        if want.kind in "iu" and x.dtype.kind in "biu":
            return x.astype(want)
        raise UserDataError(
            f"x has dtype {x.dtype}, {self.where} takes {want} inputs; give x as {want}"
        )

    def _run(self, tensors: list[str], x: np.ndarray) -> list[np.ndarray]:
        b = self.batch_size
        if b is None or len(x) == b:
            return self._session.run(tensors, {self.input_name: x})
        parts = []
        for start in range(0, len(x), b):  # fixed batch: pad the last one, drop the padding
            chunk = x[start : start + b]
            pad = np.zeros((b - len(chunk), *x.shape[1:]), x.dtype)
            outs = self._session.run(tensors, {self.input_name: np.concatenate([chunk, pad])})
            parts.append([o[: len(chunk)] for o in outs])
        return [np.concatenate(col) for col in zip(*parts, strict=True)]

    def predict(self, x) -> np.ndarray:
        """The graph's output on the batch ``x`` (cast by :meth:`prepare`)."""
        return self._run([self.output_name], self.prepare(x))[0]

    def layer_outputs(self, network: Network | None, names: Sequence[str]):
        """A batch function giving the activations of ``names`` from one session run
        (the input layer's are the prepared input itself)."""
        tensors = [self.layers.tensors[name] for name in names]
        wanted = [t for t in dict.fromkeys(tensors) if t != self.input_name]

        def run(batch):
            x = self.prepare(batch[0])
            found = dict(zip(wanted, self._run(wanted, x), strict=True))
            found[self.input_name] = x
            return [found[t] for t in tensors]

        return run

    def network(self, example=None) -> Network:
        """The shown layers, their shapes read from one run on ``example[:1]`` (zeros of
        the input's shape without it): exporters leave many intermediate shapes free."""
        if example is None:
            if None in self.input_shape:
                raise UserDataError(
                    f"{self.where} takes inputs of free size {self.input_shape}; pass x"
                )
            example = np.zeros((1, *self.input_shape), self.input_dtype)
        names = self.layers.names
        outs = self.layer_outputs(None, names)([np.asarray(example)[:1]])
        return Network(
            [
                LayerNode(
                    name,
                    self.layers.kinds[name],
                    self.layers.inputs[name],
                    tuple(int(d) for d in np.shape(out)[1:]),
                    relu=self.layers.relu[name],
                )
                for name, out in zip(names, outs, strict=True)
            ]
        )


def onnx_source(model, name: str | None = None, output=None) -> OnnxSource:
    """An :class:`OnnxSource` of an in-memory model.

    Parameters
    ----------
    model : onnx.ModelProto or bytes
        External data must be loaded already (a path is read by :func:`load_onnx_file`).
    name : str, optional
        The default run name (default: the graph's name).
    output : str or int, optional
        The classifier's output (name or index) of a model with several.

    Returns
    -------
    OnnxSource
    """
    require()
    where = "the ONNX model"
    if isinstance(model, bytes | bytearray):
        data = bytes(model)
        model = parse_bytes(data, where)
    else:
        external_files(model, None, where)
        data = model.SerializeToString(deterministic=True)
    model = pick_output(sorted_nodes(model), output, where)
    check_model(model, where)
    digest = digest_of(hashlib.sha256(data).hexdigest(), model, output)
    return OnnxSource(
        model, name=name or model.graph.name or "onnx-model", digest=digest, where=where
    )


def load_onnx_file(path, output=None) -> OnnxSource:
    """An :class:`OnnxSource` of an ``.onnx`` file (its external data read safely), named
    after the file's stem; its digest covers the file, its external data and the output
    picked (``output``: a name or index, for a model with several)."""
    require()
    path = Path(path)
    model, digest = read_file(path, output)
    return OnnxSource(model, name=path.stem, digest=digest, where=f"model {path}")
