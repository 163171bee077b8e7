"""Forward passes: a ReLU layer whose input layer is also wanted is computed in place
from it, and equals Keras's own output for that layer bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from fracdash.models.activations import forward
from fracdash.models.network import network_graph


def keras_output(keras, model, name, x):
    sub = keras.Model(model.inputs, model.get_layer(name).output)
    return np.asarray(sub(x, training=False)).reshape(len(x), -1)


@pytest.fixture(scope="module")
def x6():
    return np.random.default_rng(5).normal(size=(40, 6, 6, 1)).astype(np.float32)


def test_relu_layers_are_recognised(keras):
    from keras import layers

    inp = keras.Input((4,), name="input")
    calls = {
        "act_relu": layers.Activation("relu"),
        "plain_relu": layers.ReLU(),
        "act_softmax": layers.Activation("softmax"),
        "relu6": layers.ReLU(max_value=6.0),
        "leaky": layers.LeakyReLU(),
        "shifted": layers.ReLU(threshold=0.5),
        "dense_relu": layers.Dense(4, activation="relu"),  # not max(x, 0) of its input
    }
    outs = [layer(inp) for layer in calls.values()]
    for layer, name in zip(calls.values(), calls, strict=True):
        layer.name = name
    model = keras.Model(inp, layers.Concatenate(name="concat")(outs))
    relu = {node.name: node.relu for node in network_graph(model).nodes}
    assert relu["act_relu"] and relu["plain_relu"]
    assert not any(relu[name] for name in ("act_softmax", "relu6", "leaky", "shifted"))
    assert not relu["dense_relu"] and not relu["input"] and not relu["concat"]


@pytest.mark.parametrize("fixture", ["toy_branched", "toy_sequential"])
def test_relu_in_place_equals_keras(keras, request, fixture):
    model = request.getfixturevalue(fixture)
    x = np.random.default_rng(6).normal(size=(40, *model.inputs[0].shape[1:]))
    x = x.astype(np.float32)
    net = network_graph(model)
    names = [node.name for node in net.nodes]
    relus = [node for node in net.nodes if node.relu]
    assert relus, "the fixture has no ReLU layer"
    with forward(net, [x], names, batch_size=16) as acts:
        assert set(acts.relu_of) == {node.name for node in relus}
        assert not set(acts.relu_of) & set(acts.computed)
        for node in relus:
            want = keras_output(keras, model, node.name, x)
            assert (keras_output(keras, model, node.inputs[0], x) < 0).any()  # a real ReLU
            # Before its input is released: a copy, the input left as it was.
            source = acts[node.inputs[0]]
            before = source.copy()
            np.testing.assert_array_equal(acts.array(node.name), want)
            np.testing.assert_array_equal(source, before)
            # After: the input's own memory, turned into the ReLU's values.
            acts.release(node.inputs[0])
            got = acts[node.name]
            assert np.shares_memory(got, source)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(got, np.maximum(before, 0))


def test_memory_budget_counts_what_the_forward_pass_writes(toy_branched, x6, monkeypatch):
    """ReLUs computed in place take no memory of their own; when the rest does not fit,
    every layer comes from the forward pass and the large ones go to files."""
    from fracdash.core.chunked import ChunkedMatrix
    from fracdash.models.activations import Activations

    monkeypatch.setattr(Activations, "SMALL_LAYER", 0)  # every spilled layer to a file
    net = network_graph(toy_branched)
    names = [node.name for node in net.nodes]
    size = {node.name: 4 * len(x6) * int(np.prod(node.output_shape)) for node in net.nodes}
    relus = {node.name for node in net.nodes if node.relu}
    fits = sum(size[name] for name in names if name not in relus)
    with forward(net, [x6], names, memory_budget=fits) as acts:
        assert set(acts.relu_of) == relus
        assert all(isinstance(acts[name], np.ndarray) for name in acts.computed)
    with forward(net, [x6], names, memory_budget=fits - 1) as acts:
        assert acts.relu_of == {} and acts.computed == names
        assert any(isinstance(acts[name], ChunkedMatrix) for name in names)


def test_relu_without_its_input_comes_from_the_forward_pass(keras, toy_branched, x6):
    net = network_graph(toy_branched)
    with forward(net, [x6], ["a_relu", "prediction"]) as acts:
        assert acts.relu_of == {} and "a_relu" in acts.computed
        np.testing.assert_array_equal(
            acts.array("a_relu"), keras_output(keras, toy_branched, "a_relu", x6)
        )
