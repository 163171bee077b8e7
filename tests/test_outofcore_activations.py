"""Spilled activations (issue 16): a ReLU of a large spilled layer reads its input's
file as max(x, 0) instead of a file of its own, equals Keras's output, orders exactly,
and every scratch file is gone when the forward pass's context ends."""

from __future__ import annotations

import numpy as np

from fracdash import vat_order
from fracdash.core import chunked, scratch
from fracdash.models.activations import Activations, forward
from fracdash.models.network import network_graph


def keras_output(keras, model, name, x):
    sub = keras.Model(model.inputs, model.get_layer(name).output)
    return np.asarray(sub(x, training=False)).reshape(len(x), -1)


def test_relu_of_a_spilled_layer_shares_its_file(keras, toy_branched, tmp_path, monkeypatch):
    monkeypatch.setenv(scratch.ENV_VAR, str(tmp_path))
    monkeypatch.setattr(Activations, "SMALL_LAYER", 0)  # every spilled layer to a file
    monkeypatch.setattr(Activations, "SHARED_RELU", 0)  # and every ReLU reads its input's
    x = np.random.default_rng(5).normal(size=(40, 6, 6, 1)).astype(np.float32)
    net = network_graph(toy_branched)
    names = [node.name for node in net.nodes]
    relus = {node.name: node.inputs[0] for node in net.nodes if node.relu}
    assert relus
    with forward(net, [x], names, memory_budget=0) as acts:
        assert acts.relu_of == relus
        files = sorted(p.name for d in tmp_path.iterdir() for p in d.iterdir())
        assert len(files) == len(names) - len(relus)  # no file of their own
        for relu, source in relus.items():
            want = keras_output(keras, toy_branched, relu, x)
            early = acts[relu]  # before its input is released: a view of the input's file
            assert isinstance(early, chunked.ChunkedMatrix) and early.relu
            np.testing.assert_array_equal(early.to_array(), want)
            raw = acts.array(source)
            order = vat_order(acts[source], matrix_budget=0)
            np.testing.assert_array_equal(order, vat_order(raw))
            acts.release(source)
            got = acts[relu]
            np.testing.assert_array_equal(got.to_array(), want)
            np.testing.assert_array_equal(vat_order(got, matrix_budget=0), vat_order(want))
            acts.release(relu)
            assert not any(p.name.startswith("fracdash-vat-") for p in tmp_path.iterdir())
    assert list(tmp_path.iterdir()) == []


def test_small_relus_still_come_from_the_forward_pass(toy_branched, tmp_path, monkeypatch):
    """Below SHARED_RELU the spilled layers keep the earlier rule (each from the
    forward pass), so small layers cost no file juggling."""
    monkeypatch.setenv(scratch.ENV_VAR, str(tmp_path))
    x = np.random.default_rng(5).normal(size=(40, 6, 6, 1)).astype(np.float32)
    net = network_graph(toy_branched)
    names = [node.name for node in net.nodes]
    with forward(net, [x], names, memory_budget=0) as acts:
        assert acts.relu_of == {} and acts.computed == names
    assert list(tmp_path.iterdir()) == []
