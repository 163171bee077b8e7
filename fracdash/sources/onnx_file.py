"""ONNX models read and checked with the ``onnx`` library only, before onnxruntime.

Everything a user can get wrong with an ONNX file is refused here with one line,
``"<problem>; <what to do>"`` (:class:`~fracdash.errors.FracdashError`): bytes that are
not an ONNX model (truncated, another format); external-data locations that leave the
model's folder (absolute, ``..``, or a link pointing out), checked on every tensor
before any is read; operators of a domain onnxruntime has no kernels for; a model
without exactly one input and one output, or whose output is not ``(batch, k >= 2)``.

What onnxruntime runs is not refused for form alone: nodes written out of topological
order (older exporters) are sorted first, and of a model with several outputs the
classifier's is picked by name or index (``--output``, ``output=``).
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path, PurePosixPath, PureWindowsPath

from fracdash.errors import UserDataError

#: Operator domains onnxruntime's CPU build has kernels for (the standard ones, and its
#: own contrib operators). Others need a custom-op library fracdash does not load.
RUNNABLE_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "com.microsoft", "ai.onnx.preview.training"}
)
REEXPORT = "re-export it from its framework (torch.onnx.export, tf2onnx)"


def require() -> None:
    """:class:`UserDataError` unless onnx and onnxruntime are installed (looked up, not
    imported: the files are checked first)."""
    missing = [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
    if missing:
        raise UserDataError(
            f"ONNX models need {' and '.join(missing)}, which is not installed; "
            "pip install 'fracdash[onnx]'"
        )


def parse_bytes(data: bytes, where: str):
    """An ``onnx.ModelProto`` from serialized bytes, or :class:`UserDataError`."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load_from_string(bytes(data))
    except (DecodeError, ValueError, RuntimeError) as err:
        raise UserDataError(
            f"{where} is not an ONNX model (corrupt or truncated?); {REEXPORT}"
        ) from err
    if not model.HasField("graph") or not model.graph.node:
        raise UserDataError(f"{where} holds no ONNX graph (corrupt or truncated?); {REEXPORT}")
    return model


def sorted_nodes(model):
    """``model`` with its graph's nodes in topological order (a copy), or ``model``
    itself when they already are. Older exporters (keras2onnx) wrote some graphs out of
    order: onnxruntime sorts them itself, the ONNX checker refuses them. Stable: among
    the nodes ready at once, the file's order is kept. A graph that cannot be sorted (a
    cycle, an input nothing produces) is returned as it is, for the checker to name."""
    graph = model.graph
    ready = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    ready |= {s.values.name for s in graph.sparse_initializer} | {""}
    pending, order = list(graph.node), []
    while pending:
        still = []
        for node in pending:
            if all(t in ready for t in node.input):
                order.append(node)
                ready.update(node.output)
            else:
                still.append(node)
        if len(still) == len(pending):
            return model  # stuck: not ours to decide
        pending = still
    if [id(n) for n in order] == [id(n) for n in graph.node]:
        return model
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    del copy.graph.node[:]
    copy.graph.node.extend(order)
    return copy


def pick_output(model, output, where: str):
    """``model`` keeping only the graph output ``output`` (its name, or its index from
    0), a copy; ``model`` itself when ``output`` is None."""
    if output is None:
        return model
    outputs = [o.name for o in model.graph.output]
    index = None
    if isinstance(output, int) or (isinstance(output, str) and output.isdigit()):
        index = int(output)
    elif output in outputs:
        index = outputs.index(output)
    if index is None or not 0 <= index < len(outputs):
        raise UserDataError(
            f"{where} has no output {output!r}; its outputs are {_indexed(outputs)}: give "
            "one of those names or indices"
        )
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    kept = copy.graph.output[index]
    del copy.graph.output[:]
    copy.graph.output.append(kept)
    return copy


def _indexed(names: list[str]) -> str:
    return ", ".join(f"{i}: {n}" for i, n in enumerate(names))


def read_file(path: Path, output=None):
    """Read an ``.onnx`` file and the external data it names, safely.

    Parameters
    ----------
    path : Path
        The model; external data files must lie in its folder (or below it).

    Returns
    -------
    model : onnx.ModelProto
        With its external data loaded into memory.
    digest : str
        sha256 of the file's bytes and of each external data file's (name and bytes).

    Raises
    ------
    UserDataError
        See the module's docs; nothing outside the model's folder is opened.
    """
    import onnx

    where = f"model {path}"
    data = path.read_bytes()
    model = parse_bytes(data, where)
    files = external_files(model, path.parent, where)
    h = hashlib.sha256(data)
    for name, file in sorted(files.items()):
        h.update(name.encode() + b"\0")
        h.update(file.read_bytes())
    if files:
        try:
            onnx.load_external_data_for_model(model, str(path.parent))
        except (OSError, ValueError) as err:
            raise UserDataError(
                f"cannot read the external data of {where} ({err}); {REEXPORT}"
            ) from err
    model = pick_output(sorted_nodes(model), output, where)
    check_model(model, where)
    return model, digest_of(h.hexdigest(), model, output)


def digest_of(content: str, model, output) -> str:
    """A model's digest: its content's, and the output picked (by name: the same output
    picked by name or index is one model)."""
    return content if output is None else f"{content}:{model.graph.output[0].name}"


def tensors(model):
    """Every TensorProto of ``model``: initializers, sparse ones, node attributes, at any
    depth of subgraphs and local functions."""

    def of_nodes(nodes):
        for node in nodes:
            for a in node.attribute:
                if a.HasField("t"):
                    yield a.t
                yield from a.tensors
                if a.HasField("sparse_tensor"):
                    yield from (a.sparse_tensor.values, a.sparse_tensor.indices)
                for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                    yield from of_graph(g)

    def of_graph(g):
        yield from g.initializer
        for sparse in g.sparse_initializer:
            yield from (sparse.values, sparse.indices)
        yield from of_nodes(g.node)

    yield from of_graph(model.graph)
    for function in model.functions:
        yield from of_nodes(function.node)


def external_files(model, folder: Path | None, where: str) -> dict[str, Path]:
    """The external data files ``model`` names, each checked to lie inside ``folder``.

    ``folder`` None (a model given in memory): any external reference is refused, as
    there is no folder to resolve it against.
    """
    import onnx

    found: dict[str, Path] = {}
    for tensor in tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = {e.key: e.value for e in tensor.external_data}.get("location", "")
        if folder is None:
            raise UserDataError(
                f"{where} keeps tensor {tensor.name!r} in an external file that is not "
                "loaded; pass the .onnx path, or load it with onnx.load(path)"
            )
        if location in found:
            continue
        found[location] = _inside(folder, location, tensor.name, where)
    return found


def _inside(folder: Path, location: str, tensor: str, where: str) -> Path:
    """``folder / location`` if it is a file inside ``folder`` (links resolved)."""
    parts = PurePosixPath(location), PureWindowsPath(location)
    outside = not location or any(p.is_absolute() or ".." in p.parts for p in parts)
    if not outside:
        file = (folder / location).resolve()
        outside = not file.is_relative_to(folder.resolve())
    if outside:
        raise UserDataError(
            f"{where} points tensor {tensor!r} at external data {location!r}, outside the "
            "model's folder; refusing to read it (keep the data files beside the model, "
            "with relative locations)"
        )
    if not file.is_file():
        raise UserDataError(
            f"{where} keeps tensor {tensor!r} in {location!r}, which is missing; put that "
            "file beside the model"
        )
    return file


def graph_inputs(graph) -> list:
    """The graph's real inputs: its ``input`` list without initializers (older
    exporters list every weight as an input too)."""
    weights = {t.name for t in graph.initializer} | {
        s.values.name for s in graph.sparse_initializer
    }
    return [i for i in graph.input if i.name not in weights]


def dims(value_info) -> tuple:
    """A value's shape, None for each free dimension; () if its rank is unknown."""
    shape = value_info.type.tensor_type.shape
    return tuple(d.dim_value if d.HasField("dim_value") else None for d in shape.dim)


def check_model(model, where: str) -> None:
    """Refuse what the ``onnx`` checker refuses, operators of unknown domains, and a
    model without one tensor input and one ``(batch, k >= 2)`` output."""
    import onnx

    local = {(f.domain, f.name) for f in model.functions}  # ONNX functions: inlined
    for node in _all_nodes(model.graph):
        if node.domain not in RUNNABLE_DOMAINS and (node.domain, node.op_type) not in local:
            raise UserDataError(
                f"{where} uses operator {node.op_type!r} of domain {node.domain!r}, which "
                "onnxruntime cannot run without its custom-op library; export the model "
                "with standard ONNX operators"
            )
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as err:
        text = " ".join(str(err).split())[:200]
        raise UserDataError(f"{where} is not a valid ONNX model ({text}); {REEXPORT}") from err
    except ValueError:
        pass  # over protobuf's 2 GB: the checker needs a path; onnxruntime still checks
    inputs, outputs = graph_inputs(model.graph), list(model.graph.output)
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs)
        raise UserDataError(
            f"{where} has {len(inputs)} inputs ({names}); fracdash takes a classifier with "
            "one input: export the model with one"
        )
    if len(outputs) != 1:
        names = _indexed([o.name for o in outputs])
        raise UserDataError(
            f"{where} has {len(outputs)} outputs ({names}); pick the classifier's with "
            "--output NAME or INDEX (Python: output=)"
        )
    if not inputs[0].type.HasField("tensor_type"):
        raise UserDataError(f"{where} takes a non-tensor input; export it with a tensor input")
    shape = dims(outputs[0])
    if shape and (len(shape) != 2 or (shape[-1] is not None and shape[-1] < 2)):
        shown = "(" + ", ".join("batch" if i == 0 else str(d) for i, d in enumerate(shape)) + ")"
        raise UserDataError(
            f"{where} outputs {shown}, not (batch, k >= 2); end it with a Linear/Dense "
            "layer of k units (and Softmax)"
        )


def _all_nodes(graph):
    for node in graph.node:
        yield node
        for a in node.attribute:
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                yield from _all_nodes(g)
