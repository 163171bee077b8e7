"""Tests for fracdash.models.network: the layer DAG of Keras models and their activations."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from fracdash.models.network import LayerNode, Network, network_graph

SHAPE = (8, 8, 1)


def _x(n: int = 5, shape: tuple[int, ...] = SHAPE) -> np.ndarray:
    return np.random.default_rng(1).random((n, *shape), dtype=np.float32)


def _acts(net: Network, x) -> dict[str, np.ndarray]:
    outs = net.activation_model(x, training=False)
    return {node.name: np.asarray(out) for node, out in zip(net.nodes, outs, strict=True)}


def _close(actual, expected) -> None:
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-5, atol=1e-6)


def _names(net: Network) -> list[str]:
    return [node.name for node in net.nodes]


def _lenet_layers() -> list[keras.layers.Layer]:
    return [
        layers.Conv2D(3, 3, name="conv"),
        layers.Activation("relu", name="conv_relu"),
        layers.Flatten(name="flatten"),
        layers.Dense(6, name="fc"),
        layers.ReLU(name="fc_relu"),
        layers.Dropout(0.5, name="drop"),
        layers.Dense(4, name="logits"),
        layers.Softmax(name="softmax"),
    ]


LENET_NAMES = ["input", "conv", "conv_relu", "flatten", "fc", "fc_relu", "logits", "softmax"]


@pytest.fixture(scope="session")
def lenet() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input(SHAPE), *_lenet_layers()], name="lenet")


@pytest.fixture(scope="session")
def built_lenet() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(_lenet_layers(), name="built_lenet")
    model.build((None, *SHAPE))
    return model


def _branch(x, tag: str, dropout: keras.layers.Layer):
    x = layers.Conv2D(2, 3, name=f"conv_{tag}")(x)
    x = layers.ReLU(name=f"relu_{tag}")(x)
    x = dropout(x)
    x = layers.Flatten(name=f"flatten_{tag}")(x)
    x = layers.Dense(5, name=f"dense_{tag}")(x)
    return layers.ReLU(name=f"out_{tag}")(x)


@pytest.fixture(scope="session")
def branched() -> keras.Model:
    keras.utils.set_random_seed(0)
    image = keras.Input(SHAPE, name="image")
    rotate = layers.Permute((2, 1, 3), name="rotate")(image)
    a = _branch(image, "a", layers.Dropout(0.3, name="drop_a"))
    b = _branch(rotate, "b", layers.SpatialDropout2D(0.3, name="drop_b"))
    x = layers.Concatenate(name="merge")([a, b])
    x = layers.GaussianNoise(0.1, name="noise")(x)
    x = layers.Dense(4, name="logits")(x)
    return keras.Model(image, layers.Softmax(name="softmax")(x), name="branched")


BRANCHED_EDGES = {
    ("image", "rotate"),
    ("image", "conv_a"),
    ("conv_a", "relu_a"),
    ("relu_a", "flatten_a"),
    ("flatten_a", "dense_a"),
    ("dense_a", "out_a"),
    ("rotate", "conv_b"),
    ("conv_b", "relu_b"),
    ("relu_b", "flatten_b"),
    ("flatten_b", "dense_b"),
    ("dense_b", "out_b"),
    ("out_a", "merge"),
    ("out_b", "merge"),
    ("merge", "logits"),
    ("logits", "softmax"),
}


@pytest.fixture(scope="session")
def nested() -> keras.Model:
    keras.utils.set_random_seed(0)
    inner_in = keras.Input(SHAPE, name="base_input")
    x = layers.Conv2D(2, 3, name="base_conv")(inner_in)
    x = layers.Dropout(0.2, name="base_drop")(x)
    x = layers.ReLU(name="base_relu")(x)
    base = keras.Model(inner_in, layers.MaxPooling2D(name="flatten")(x), name="base")
    image = keras.Input(SHAPE, name="image")
    x = layers.Flatten(name="flatten")(base(image, training=False))
    return keras.Model(image, layers.Dense(3, name="logits")(x), name="outer")


@pytest.fixture(scope="session")
def nested_sequential() -> keras.Model:
    keras.utils.set_random_seed(0)
    block = keras.Sequential(
        [layers.Conv2D(2, 3, name="in_conv"), layers.ReLU(name="in_relu")], name="block"
    )
    return keras.Sequential(
        [keras.Input(SHAPE, name="pixels"), block, layers.Flatten(name="flat"), layers.Dense(3)],
        name="outer_seq",
    )


@pytest.fixture(scope="session")
def shared() -> keras.Model:
    keras.utils.set_random_seed(0)
    image = keras.Input(SHAPE, name="image")
    dense = layers.Dense(3, name="d")
    a = dense(layers.Flatten(name="fa")(image))
    b = dense(layers.Flatten(name="fb")(layers.Permute((2, 1, 3), name="rot")(image)))
    return keras.Model(image, layers.Add(name="sum")([a, b]), name="shared")


def _check_dag(net: Network) -> None:
    """Unique names, every edge forward in node order, inputs first, one sink last."""
    names = _names(net)
    assert len(set(names)) == len(names)
    rank = {name: i for i, name in enumerate(names)}
    assert all(rank[src] < rank[dst] for src, dst in net.edges)
    kinds = [node.kind for node in net.nodes]
    n_inputs = kinds.count("InputLayer")
    assert n_inputs >= 1 and set(kinds[:n_inputs]) == {"InputLayer"}
    assert {src for src, _ in net.edges} == set(names[:-1])


# --- the layer DAG ------------------------------------------------------------------------


def test_sequential_chain_bridges_dropout(lenet):
    net = network_graph(lenet)
    assert _names(net) == LENET_NAMES
    assert net.edges == list(zip(LENET_NAMES, LENET_NAMES[1:], strict=False))
    assert ("fc_relu", "logits") in net.edges
    assert net.nodes[0] == LayerNode("input", "InputLayer", (), SHAPE)
    assert [n.kind for n in net.nodes[1:4]] == ["Conv2D", "Activation", "Flatten"]
    assert net.nodes[3].output_shape == (6 * 6 * 3,)
    assert net.nodes[-1].output_shape == (4,)
    _check_dag(net)


def test_sequential_built_without_input(built_lenet):
    net = network_graph(built_lenet)
    assert _names(net) == LENET_NAMES
    assert net.nodes[0].kind == "InputLayer" and net.nodes[0].output_shape == SHAPE


def test_sequential_with_input_shape_and_named_input():
    dense = layers.Dense(2, name="out", input_shape=(4,))
    assert _names(network_graph(keras.Sequential([dense]))) == ["input", "out"]
    named = keras.Sequential([keras.Input((4,), name="features"), layers.Dense(2, name="out")])
    assert network_graph(named).edges == [("features", "out")]


def test_unbuilt_sequential_is_rejected():
    with pytest.raises(ValueError, match="not built"):
        network_graph(keras.Sequential([layers.Dense(2)]))


def test_branched_functional(branched):
    net = network_graph(branched)
    assert set(_names(net)) == {name for edge in BRANCHED_EDGES for name in edge}
    assert set(net.edges) == BRANCHED_EDGES
    assert len(net.edges) == len(BRANCHED_EDGES)
    assert _names(net)[0] == "image" and _names(net)[-1] == "softmax"
    assert next(n for n in net.nodes if n.name == "merge").inputs == ("out_a", "out_b")
    _check_dag(net)


def test_nested_functional_is_expanded(nested):
    net = network_graph(nested)
    names = _names(net)
    assert names == ["image", "base_conv", "base_relu", "base/flatten", "flatten", "logits"]
    assert "base" not in names and "base_input" not in names
    assert ("image", "base_conv") in net.edges and ("base/flatten", "flatten") in net.edges
    assert ("base_conv", "base_relu") in net.edges
    assert net.nodes[3].kind == "MaxPooling2D" and net.nodes[4].kind == "Flatten"
    _check_dag(net)


def test_nested_sequential_is_expanded(nested_sequential):
    net = network_graph(nested_sequential)
    dense = nested_sequential.layers[-1].name
    assert _names(net) == ["pixels", "in_conv", "in_relu", "flat", dense]
    assert net.edges[0] == ("pixels", "in_conv")
    _check_dag(net)


def test_nested_application_model():
    keras.utils.set_random_seed(0)
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    image = keras.Input((32, 32, 3), name="image")
    model = keras.Model(image, layers.Dense(2, name="logits")(layers.Flatten()(vgg(image))))
    net = network_graph(model)
    assert _names(net)[:3] == ["image", "block1_conv1", "block1_conv2"]
    assert len(net.nodes) == 1 + 18 + 2
    assert _names(net)[-3] == "block5_pool"
    x = _x(2, (32, 32, 3))
    _close(net.activation_model(x)[-1], model(x))


def test_multi_output_is_rejected():
    image = keras.Input(SHAPE)
    flat = layers.Flatten()(image)
    outs = [layers.Dense(2, name=f"head{i}")(flat) for i in range(3)]
    with pytest.raises(ValueError, match="one output; this model has 3 outputs: head0, head1"):
        network_graph(keras.Model(image, outs))


def test_subclassed_model_is_rejected():
    class Tiny(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="cannot read the layer graph of Tiny"):
        network_graph(Tiny())


def test_cycle_is_rejected(monkeypatch):
    image = keras.Input((4,), name="image")
    a = layers.Dense(2, name="a")(image)
    model = keras.Model(image, layers.Dense(2, name="b")(a))
    config = model.get_config()
    first = next(cfg for cfg in config["layers"] if cfg["name"] == "a")
    first["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["b", 0, 0]
    monkeypatch.setattr(model, "get_config", lambda: config)
    with pytest.raises(ValueError, match="has a cycle"):
        network_graph(model)


def test_shared_layer_gives_one_node_per_call(shared):
    net = network_graph(shared)
    by_name = {node.name: node for node in net.nodes}
    assert set(by_name) == {"image", "fa", "rot", "fb", "d", "d:1", "sum"}
    assert by_name["d"].inputs == ("fa",) and by_name["d:1"].inputs == ("fb",)
    assert by_name["sum"].inputs == ("d", "d:1")
    assert by_name["d:1"].kind == "Dense"
    _check_dag(net)


# --- activations --------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["lenet", "built_lenet"])
def test_sequential_activations(fixture, request):
    model = request.getfixturevalue(fixture)
    x = _x()
    acts = _acts(network_graph(model), x)
    _close(acts["input"], x)
    h = x
    for layer in model.layers:
        h = layer(h, training=False)
        if layer.name != "drop":
            _close(acts[layer.name], h)
    _close(acts["softmax"], model(x, training=False))


def test_branched_activations(branched):
    x = _x()
    acts = _acts(network_graph(branched), x)
    get = branched.get_layer
    _close(acts["image"], x)
    _close(acts["rotate"], np.transpose(x, (0, 2, 1, 3)))
    for tag, h in (("a", x), ("b", np.transpose(x, (0, 2, 1, 3)))):
        for name in ("conv", "relu", "flatten", "dense", "out"):
            h = get(f"{name}_{tag}")(h)
            _close(acts[f"{name}_{tag}"], h)
    merged = np.concatenate([acts["out_a"], acts["out_b"]], axis=-1)
    _close(acts["merge"], merged)
    _close(acts["logits"], get("logits")(merged))
    _close(acts["softmax"], branched(x, training=False))


def test_nested_activations(nested):
    x = _x()
    acts = _acts(network_graph(nested), x)
    base = nested.get_layer("base")
    h = base.get_layer("base_conv")(x)
    _close(acts["base_conv"], h)
    h = base.get_layer("base_relu")(h)
    _close(acts["base_relu"], h)
    _close(acts["base/flatten"], np.max(np.asarray(h)[:, :6, :6].reshape(5, 3, 2, 3, 2, 2), (2, 4)))
    _close(acts["flatten"], np.asarray(base(x)).reshape(5, -1))
    _close(acts["logits"], nested(x, training=False))


def test_nested_sequential_activations(nested_sequential):
    x = _x()
    net = network_graph(nested_sequential)
    acts = _acts(net, x)
    block = nested_sequential.layers[0]
    _close(acts["pixels"], x)
    _close(acts["in_conv"], block.layers[0](x))
    _close(acts["in_relu"], np.maximum(acts["in_conv"], 0))
    _close(acts[net.nodes[-1].name], nested_sequential(x))


def test_shared_activations(shared):
    x = _x()
    acts = _acts(network_graph(shared), x)
    dense = shared.get_layer("d")
    _close(acts["d"], dense(x.reshape(5, -1)))
    _close(acts["d:1"], dense(np.transpose(x, (0, 2, 1, 3)).reshape(5, -1)))
    _close(acts["sum"], shared(x))


def test_predict_gives_one_array_per_node(branched):
    net = network_graph(branched)
    outs = net.activation_model.predict(_x(), verbose=0)
    assert [o.shape[1:] for o in outs] == [n.output_shape for n in net.nodes]


def test_graph_is_stable_across_calls(branched):
    assert network_graph(branched).nodes == network_graph(branched).nodes


# --- saved models -------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["lenet", "built_lenet", "branched", "nested", "shared"])
def test_reloaded_model_gives_same_graph(fixture, request, tmp_path):
    model = request.getfixturevalue(fixture)
    path = tmp_path / "m.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    net, again = network_graph(model), network_graph(reloaded)
    assert again.nodes == net.nodes
    x = _x()
    _close(again.activation_model(x)[-1], net.activation_model(x)[-1])


# --- several inputs, unused nested outputs --------------------------------------------------


def test_multi_input_model_lists_inputs_in_model_order():
    keras.utils.set_random_seed(0)
    first, second = keras.Input((3,), name="zeta"), keras.Input((2,), name="alpha")
    x = layers.Concatenate(name="both")([layers.Dense(2, name="from_second")(second), first])
    model = keras.Model([first, second], layers.Dense(2, name="logits")(x))
    net = network_graph(model)
    assert _names(net) == ["zeta", "alpha", "from_second", "both", "logits"]
    assert net.nodes[3].inputs == ("from_second", "zeta")
    xs = [_x(4, (3,)), _x(4, (2,))]
    outs = net.activation_model(xs)
    _close(outs[0], xs[0])
    _close(outs[1], xs[1])
    _close(outs[-1], model(xs))


def test_unused_nested_output_is_dropped():
    keras.utils.set_random_seed(0)
    inner_in = keras.Input((4,), name="inner_in")
    feat = layers.Dense(3, name="feat")(inner_in)
    aux = layers.Dense(2, name="aux")(inner_in)
    inner = keras.Model(inner_in, [feat, aux], name="two_heads")
    image = keras.Input((4,), name="vec")
    model = keras.Model(image, layers.Dense(2, name="logits")(inner(image)[0]))
    net = network_graph(model)
    assert _names(net) == ["vec", "feat", "logits"]
    x = _x(3, (4,))
    _close(net.activation_model(x)[-1], model(x))
