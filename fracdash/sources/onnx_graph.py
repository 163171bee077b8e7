"""The shown layer DAG of an ONNX graph (docs/method.md §2).

A tensor is *data* if it depends on the model's input through values, not only
through shapes: the input is data, ``Shape``/``Size`` of data is not, and an operator
with no data input (``Constant``, the ``Gather``/``Concat``/``Cast`` chains exporters
use to compute a reshape's target) is never shown. Among the operators with a data
input:

* **identity at inference** (``Identity``, ``Dropout``, ``Cast``, ``Squeeze``,
  ``Unsqueeze``): bridged, like Keras's ``Dropout``; their values and layout are their
  input's;
* **reorder-only** (``Flatten``, ``Reshape``, ``Transpose``): shown under the Keras
  kinds ``Flatten``, ``Reshape``, ``Permute``, so that they share their input's order
  and the simplified view hides them (:data:`fracdash.core.REORDER_KINDS`);
* **a bias add** after ``MatMul``, ``Conv``, ``ConvTranspose`` or ``Gemm`` (an ``Add``
  of a constant, its only consumer): one node with it, kind ``"MatMul+Add"``, as
  Keras's ``Dense`` is one layer;
* every other operator is one node; ``Add`` and ``Concat`` of several data tensors keep
  all their edges (skip connections, branches).

Names: a node's name, or the exporter's module path in it. ``/stem/stem.0/Conv``
(``torch.onnx.export``) is ``stem.0``; ``lenet5_1/dense0_1/MatMul`` (tf2onnx, under
the model's own scope) is ``dense0_1``. Where several shown nodes share a path
(``/block/Relu`` and ``/block/Add`` in a module's ``forward``), they keep their full
names, ``block/Relu`` and ``block/Add``, unless one of them is the only one that is not
reorder-only, which then takes the path. Names are unique (``_2``, ``_3``).

Unnamed nodes (older ``torch.onnx.export`` wrote none, and numbered the tensors ``16``,
``17``...) are named from their weights, ``body.conv1.weight`` giving ``body.conv1``;
a node without weights takes its operator and its rank among the unnamed ones of that
operator (``Relu_2``). A node's kind (its operator) is kept beside its name.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from fracdash.core.graph import REORDER_KINDS, topological_order

#: Operators that are the identity on values at inference: bridged, never shown.
IDENTITY_OPS = frozenset({"Identity", "Dropout", "Cast", "CastLike", "Squeeze", "Unsqueeze"})
#: Reorder-only operators, under the Keras kind that means the same.
REORDER_OPS = {"Flatten": "Flatten", "Reshape": "Reshape", "Transpose": "Permute"}
#: Operators whose output describes the data's shape, not its values.
SHAPE_OPS = frozenset({"Shape", "Size"})
#: Operators a following constant ``Add`` is the bias of.
BIASED_OPS = frozenset({"MatMul", "Conv", "ConvTranspose", "Gemm"})


@dataclass
class OnnxLayer:
    """One shown node: its kind, the shown nodes feeding it, and the tensor whose values
    are its activations."""

    key: str
    raw: str
    kind: str
    inputs: list[str]
    tensor: str
    relu: bool = False


@dataclass
class OnnxLayers:
    """The shown layers in topological order (input first, output last), by display
    name, and the tensor each one's activations are read from."""

    names: list[str]
    kinds: dict[str, str]
    inputs: dict[str, tuple[str, ...]]
    tensors: dict[str, str]
    relu: dict[str, bool]


def read_layers(graph, input_name: str) -> OnnxLayers:
    """The shown layers of ``graph`` (an ``onnx.GraphProto``) fed by ``input_name``.

    Raises
    ------
    ValueError
        If the graph's output does not depend on the input's values.
    """
    weights = {t.name for t in graph.initializer}
    unnamed: Counter = Counter()
    uses = Counter(t for node in graph.node for t in node.input if t)
    uses.update(o.name for o in graph.output)
    layers: dict[str, OnnxLayer] = {}
    producer: dict[str, str] = {input_name: input_name}  # data tensor -> shown node key
    layers[input_name] = OnnxLayer(input_name, input_name, "InputLayer", [], input_name)
    for i, node in enumerate(graph.node):
        feeds = list(dict.fromkeys(producer[t] for t in node.input if t in producer))
        if not feeds or node.op_type in SHAPE_OPS:
            continue
        op = node.op_type
        if op in IDENTITY_OPS and len(feeds) == 1:
            producer[node.output[0]] = feeds[0]
            continue
        if op == "Add" and len(feeds) == 1 and _fuses(layers[feeds[0]], node, producer, uses):
            base = layers[feeds[0]]
            base.kind, base.tensor = f"{base.kind}+Add", node.output[0]
            producer[node.output[0]] = base.key
            continue
        kind = REORDER_OPS.get(op, op) if len(feeds) == 1 else op
        raw = _raw_name(node, weights, unnamed)
        key = f"#{i}"
        layers[key] = OnnxLayer(key, raw, kind, feeds, node.output[0], relu=op == "Relu")
        producer[node.output[0]] = key
        for j, out in enumerate(node.output[1:], start=1):
            if out and uses[out]:  # a second output used downstream (Split, TopK...)
                layers[f"{key}:{j}"] = OnnxLayer(f"{key}:{j}", f"{raw}:{j}", kind, feeds, out)
                producer[out] = f"{key}:{j}"
    sink = producer.get(graph.output[0].name)
    if sink is None or sink == input_name:
        raise ValueError("the model's output does not depend on its input's values")
    keep, stack = {sink}, [sink]  # what leads to the output; the rest is not shown
    while stack:
        fresh = set(layers[stack.pop()].inputs) - keep
        keep |= fresh
        stack.extend(fresh)
    kept = [layers[k] for k in layers if k in keep]
    order = topological_order(
        [ly.key for ly in kept], [(s, ly.key) for ly in kept for s in ly.inputs]
    )
    names = display_names([layers[k] for k in order])
    return OnnxLayers(
        names=[names[k] for k in order],
        kinds={names[k]: layers[k].kind for k in order},
        inputs={names[k]: tuple(names[s] for s in layers[k].inputs) for k in order},
        tensors={names[k]: layers[k].tensor for k in order},
        relu={names[k]: layers[k].relu for k in order},
    )


def _raw_name(node, weights: set[str], unnamed: Counter) -> str:
    """A node's own name, else one from its weights, else its output's name unless that
    is a bare number, else its operator and rank."""
    if node.name and not node.name.isdigit():
        return node.name
    for tensor in node.input:
        if tensor in weights and "." in tensor:  # "body.conv1.weight" -> "body.conv1"
            return tensor.rsplit(".", 1)[0]
    output = node.output[0].removesuffix(":0")
    if output and not output.isdigit():
        return output
    unnamed[node.op_type] += 1
    return f"{node.op_type}_{unnamed[node.op_type]}"


def _fuses(base: OnnxLayer, add, producer: dict[str, str], uses: Counter) -> bool:
    """Whether ``add`` (an Add with one data input) is the bias of ``base``."""
    return (
        base.kind in BIASED_OPS
        and uses[base.tensor] == 1
        and sum(t in producer for t in add.input) == 1  # the other operand is a constant
    )


def _path(raw: str) -> list[str]:
    """The components of a node name; ``stem`` then ``stem.0`` (torch's exporter naming
    a Sequential's child by its qualified name) collapse to ``stem.0``."""
    out: list[str] = []
    for part in (p for p in raw.split("/") if p):
        if out and part.startswith(out[-1] + "."):
            out[-1] = part
        else:
            out.append(part)
    return out or [raw]


def display_names(layers: list[OnnxLayer]) -> dict[str, str]:
    """Unique display names by layer key (module docs)."""
    paths = {ly.key: _path(ly.raw) for ly in layers if ly.kind != "InputLayer"}
    scoped = [p for p in paths.values() if len(p) > 1]
    if len(scoped) > 1 and len({p[0] for p in scoped}) == 1:
        # tf2onnx puts every node under the model's own name scope: it says nothing
        paths = {k: p[1:] if len(p) > 1 else p for k, p in paths.items()}
    scope = {k: "/".join(p[:-1]) if len(p) > 1 else p[0] for k, p in paths.items()}
    groups: dict[str, list[str]] = defaultdict(list)
    for key, s in scope.items():
        groups[s].append(key)
    kinds = {ly.key: ly.kind for ly in layers}
    chosen = {ly.key: ly.raw for ly in layers if ly.kind == "InputLayer"}
    for s, members in groups.items():
        main = [k for k in members if kinds[k] not in REORDER_KINDS]
        for k in members:
            alone = len(members) == 1 or main == [k]
            chosen[k] = s if alone else "/".join(paths[k])
    taken: set[str] = set()
    names = {}
    for ly in layers:  # inputs first: they keep their names
        base = name = chosen[ly.key]
        i = 1
        while name in taken:
            i += 1
            name = f"{base}_{i}"
        taken.add(name)
        names[ly.key] = name
    return names
