"""The layer DAG of a Keras 3 model (docs/method.md §2), and one flat model giving every shown
layer's output.

The DAG is read from ``model.get_config()``; the activation model re-calls the original layer
objects (nested models' layers included) on new inputs, so it shares the trained weights.

Nested models (functional or Sequential, at any depth, called any number of times) are
expanded into their layers. A node keeps its layer's name unless an earlier node took it or a
layer of an enclosing model has it; then it is prefixed with the path of model calls down to
it: ``base/flatten``; ``base:1/conv`` for the second call of a shared model ``base``;
``base:1/backbone/conv`` for a model ``backbone`` inside that call. Call k > 0 of a shared
layer is ``name:k``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import keras

from fracdash.core.graph import IDENTITY_KINDS, topological_order
from fracdash.core.nodes import LayerNode, Network

__all__ = ["LayerNode", "Network", "keras_outputs", "network_graph"]

#: Names Keras gives an InputLayer nobody named; a Sequential's such input is shown as "input".
_AUTO_INPUT_NAME = re.compile(r"input_layer(_\d+)?")


@dataclass(frozen=True)
class _Ref:
    """A tensor in a layer's call arguments: a config key ``(layer, node, tensor)`` or a node."""

    key: Any


@dataclass
class _Call:
    """One layer call of the flat graph; ``op`` is None for an input."""

    name: str
    kind: str
    op: Any
    args: Any
    kwargs: Any
    inputs: tuple[str, ...]


class _Alias(keras.layers.Layer):
    """Calls ``layer`` under another name, for nested layers whose name an outer layer has."""

    def __init__(self, layer, name):
        super().__init__(name=name)
        self.inner = layer

    def call(self, *args, **kwargs):
        return self.inner(*args, **kwargs)


def _walk(obj: Any, fn) -> Any:
    """Copy the nested lists/tuples/dicts ``obj`` with every ``_Ref`` leaf replaced by fn(leaf)."""
    if isinstance(obj, _Ref):
        return fn(obj)
    if isinstance(obj, list | tuple):
        return type(obj)(_walk(item, fn) for item in obj)
    if isinstance(obj, dict):
        return {key: _walk(value, fn) for key, value in obj.items()}
    return obj


def _refs(obj: Any) -> list[_Ref]:
    """The ``_Ref`` leaves of ``obj``, in order."""
    found: list[_Ref] = []
    _walk(obj, found.append)
    return found


def _parse(obj: Any) -> Any:
    """Turn serialized call arguments into values, with ``_Ref`` for each Keras tensor."""
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            return _Ref(tuple(obj["config"]["keras_history"]))
        if "class_name" in obj and "config" in obj:
            return keras.saving.deserialize_keras_object(obj)
        return {key: _parse(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_parse(item) for item in obj)
    return obj


def _triples(spec: Any) -> list[tuple[str, int, int]]:
    """A config's ``input_layers``/``output_layers``: one triple, or a list of them."""
    if spec and isinstance(spec[0], str):
        spec = [spec]
    return [tuple(item) for item in spec]


def _is_relu(call: _Call) -> bool:
    """Whether ``call`` is a plain ``max(x, 0)`` of one tensor."""
    op = call.op
    if len(call.inputs) != 1 or call.kwargs:
        return False
    if isinstance(op, keras.layers.Activation):
        return op.activation is keras.activations.relu
    if isinstance(op, keras.layers.ReLU):
        return op.max_value is None and op.negative_slope == 0 and op.threshold == 0
    return False


def _is_functional(op: Any) -> bool:
    """Whether ``op`` is a functional keras.Model (keras.applications models included)."""
    return isinstance(op, keras.Model) and "Functional" in {c.__name__ for c in type(op).__mro__}


def _node_key(ops: dict[str, Any], key: tuple[str, int, int]) -> tuple[str, int, int]:
    """An ``output_layers`` triple in the numbering of the tensors in ``inbound_nodes``.

    Call arguments number a layer's calls from 0 among those the model keeps, but Keras
    numbers ``output_layers`` as if a functional model's own built-in node (inputs to
    outputs) came first, so a nested model's first call is 1 there (``get_config``;
    ``functional_from_config`` subtracts it the same way).
    """
    name, node, tensor = key
    return (name, node - 1, tensor) if _is_functional(ops.get(name)) else key


class _Builder:
    """Expands a model, recursively, into a flat list of ``_Call`` in dependency order."""

    def __init__(self) -> None:
        self.calls: list[_Call] = []
        self.taken: set[str] = set()

    def name(self, base: str, scope: str | None, outer: frozenset[str]) -> str:
        """A unique display name; a nested name colliding with an outer one gets the prefix."""
        if scope is not None and (base in self.taken or base in outer):
            base = f"{scope}/{base}"
        name, i = base, 1
        while name in self.taken:
            i += 1
            name = f"{base}_{i}"
        self.taken.add(name)
        return name

    def add(self, name: str, op: Any, args: Any, kwargs: Any) -> str:
        """Record a call (an input node when ``op`` is None); return its name."""
        inputs = tuple(dict.fromkeys(ref.key for ref in _refs((args, kwargs))))
        kind = "InputLayer" if op is None else type(op).__name__
        self.calls.append(_Call(name, kind, op, args, kwargs, inputs))
        return name

    def call(self, op, k, args, kwargs, scope, outer, inner) -> list[str]:
        """Add ``op``'s k-th call; return its output nodes (``inner``: ``outer`` + own names)."""
        feeds = [ref.key for ref in _refs(args)]
        label = op.name if k == 0 else f"{op.name}:{k}"
        if type(op).__name__ in IDENTITY_KINDS:
            if len(feeds) != 1:
                raise ValueError(f"identity layer {op.name!r} must take exactly one tensor")
            return feeds
        if isinstance(op, keras.Sequential) or _is_functional(op):
            if any(isinstance(arg, dict) for arg in args):
                raise ValueError(f"nested model {op.name!r} is called on a dict; unsupported")
            # The prefix of a nested layer is the path of model calls down to it.
            path = label if scope is None else f"{scope}/{label}"
            return self.expand(op, feeds, path, inner)
        return [self.add(self.name(label, scope, outer), op, args, kwargs)]

    def expand(self, model, feeds, scope=None, outer=frozenset()) -> list[str]:
        """Add the calls of ``model`` fed by nodes ``feeds`` (None: add input nodes).

        Returns the names of the nodes giving the model's outputs.
        """
        config = model.get_config()
        if isinstance(model, keras.Sequential):
            return self.chain(model, config, feeds, scope, outer)
        ops = {op.name: op for op in model.operations}
        inner = outer | {cfg["name"] for cfg in config["layers"]}
        keys = _triples(config["input_layers"])
        if feeds is None:
            feeds = [self.add(self.name(key[0], None, outer), None, (), {}) for key in keys]
        if len(feeds) != len(keys):
            raise ValueError(f"{model.name!r} takes {len(keys)} inputs, not {len(feeds)}")
        env = dict(zip(keys, feeds, strict=True))  # (layer, node, tensor) in config -> node
        pending = [  # InputLayers have no inbound nodes
            (ops[cfg["name"]], k, _parse(node["args"]), _parse(node["kwargs"]))
            for cfg in config["layers"]
            for k, node in enumerate(cfg["inbound_nodes"])
        ]
        while pending:
            ready = [p for p in pending if all(r.key in env for r in _refs(p[2:]))]
            if not ready:
                unknown = sorted({r.key[0] for r in _refs([p[2:] for p in pending])} - set(ops))
                why = f"calls unknown layers {unknown}" if unknown else "has a cycle"
                raise ValueError(f"the layer graph of {model.name!r} {why}")
            for op, k, args, kwargs in ready:
                args, kwargs = _walk((args, kwargs), lambda ref: _Ref(env[ref.key]))
                outs = self.call(op, k, args, kwargs, scope, outer, inner)
                env.update({(op.name, k, j): out for j, out in enumerate(outs)})
            pending = [p for p in pending if not any(p is r for r in ready)]
        return [env[_node_key(ops, key)] for key in _triples(config["output_layers"])]

    def chain(self, model, config, feeds, scope, outer) -> list[str]:
        """Add the calls of Sequential ``model``, one layer after the other."""
        if feeds is None:
            if not model.built:
                raise ValueError(f"Sequential {model.name!r} is not built; build() it first")
            first = config["layers"][0]["config"]["name"]
            base = "input" if _AUTO_INPUT_NAME.fullmatch(first) else first
            feeds = [self.add(self.name(base, None, outer), None, (), {})]
        inner = outer | {layer.name for layer in model.layers}
        for layer in model.layers:
            feeds = self.call(layer, 0, (_Ref(feeds[0]),), {}, scope, outer, inner)
            if len(feeds) != 1:
                raise ValueError(f"layer {layer.name!r} in Sequential gives {len(feeds)} outputs")
        return feeds


def _flat_model(calls: list[_Call], order: list[str], model) -> keras.Model:
    """Re-call every layer on new inputs; return the model giving the nodes in ``order``."""
    tensors: dict[str, Any] = {}
    ops: dict[str, Any] = {}
    aliases: dict[int, _Alias] = {}
    sources = [c for c in calls if c.op is None]
    for call, spec in zip(sources, model.inputs, strict=True):
        tensors[call.name] = keras.Input(
            batch_shape=spec.shape, dtype=spec.dtype, sparse=spec.sparse, name=call.name
        )
        ops[call.name] = None
    for call in calls:
        if call.op is None:
            continue
        op = call.op
        if ops.setdefault(op.name, op) is not op:  # a nested layer named like an outer one
            op = aliases.setdefault(id(op), _Alias(op, f"fracdash_alias_{len(aliases)}"))
        args, kwargs = _walk((call.args, call.kwargs), lambda ref: tensors[ref.key])
        out = keras.tree.flatten(op(*args, **kwargs))
        if len(out) != 1:
            raise ValueError(f"layer {call.name!r} gives {len(out)} tensors; fracdash needs one")
        tensors[call.name] = out[0]
    inputs = [tensors[c.name] for c in sources]
    outputs = [tensors[name] for name in order]
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name="activations")


def network_graph(model: keras.Model) -> Network:
    """Read the shown layer DAG of ``model`` and build its activation model.

    Parameters
    ----------
    model : keras.Model
        A built Keras 3 classifier (Sequential or functional) with one output.

    Returns
    -------
    Network
        The nodes in topological order (inputs first, output layer last) and a model mapping
        the inputs to every node's activation.

    Raises
    ------
    ValueError
        If the model has several outputs, a cycle, or a structure that cannot be rebuilt.
    """
    if not (isinstance(model, keras.Sequential) or _is_functional(model)):
        raise ValueError(f"cannot read the layer graph of {type(model).__name__} {model.name!r}")
    if not isinstance(model, keras.Sequential) and len(model.outputs) != 1:
        raise ValueError(
            "fracdash needs a classifier with one output; this model has "
            f"{len(model.outputs)} outputs: {', '.join(model.output_names)}"
        )
    builder = _Builder()
    (sink,) = builder.expand(model, None)
    by_name = {call.name: call for call in builder.calls}
    keep, stack = {sink}, [sink]  # drop whatever does not lead to the output
    while stack:
        fresh = set(by_name[stack.pop()].inputs) - keep
        keep |= fresh
        stack.extend(fresh)
    calls = [c for c in builder.calls if c.name in keep or c.op is None]
    edges = [(src, c.name) for c in calls for src in c.inputs]
    order = topological_order([c.name for c in calls], edges)  # all lead to the sink: it is last
    flat = _flat_model(calls, order, model)
    nodes = [
        LayerNode(
            name,
            by_name[name].kind,
            by_name[name].inputs,
            tuple(out.shape[1:]),
            relu=_is_relu(by_name[name]),
        )
        for name, out in zip(order, flat.outputs, strict=True)
    ]
    return Network(nodes=nodes, activation_model=flat)


def keras_outputs(network: Network, names):
    """A function of one input batch giving the activations of layers ``names``.

    Parameters
    ----------
    network : Network
        From :func:`network_graph` (its ``activation_model``).
    names : sequence of str
        Shown layers, in the order their arrays are wanted.

    Returns
    -------
    callable(list of ndarray) -> list of ndarray
        One array per name, ``(batch, *output_shape)``, for one array per model input.
    """
    index = {node.name: i for i, node in enumerate(network.nodes)}
    outputs = [network.activation_model.outputs[index[name]] for name in names]
    inputs = network.activation_model.inputs
    sub = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs)

    def run(batch):
        outs = sub(batch[0] if len(batch) == 1 else batch, training=False)
        return list(outs) if isinstance(outs, list | tuple) else [outs]

    return run
