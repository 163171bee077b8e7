"""Nested models and preprocessing layers (issue 11): the expanded layer graph and its activations.

Every model goes through a .keras save/load round trip with ``safe_mode=True``, as users'
models do. Reference activations come from Keras's own API (``keras.Model(inputs, tensor)``
of the nested model, fed with the outer model's tensor at that call) or from calling the
layers by hand, never from fracdash's flat model.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from helpers import brute_vat
from keras import layers

from fracdash import pipeline
from fracdash.models.activations import forward
from fracdash.models.network import Network, network_graph
from fracdash.store import Store

SHAPE = (6, 6, 3)
N = 5


def _x(n: int = N) -> np.ndarray:
    """Pixel-like inputs in [0, 255], as a Rescaling(1/255) expects."""
    return 255 * np.random.default_rng(2).random((n, *SHAPE), dtype=np.float32)


def _reload(model: keras.Model, tmp_path) -> keras.Model:
    path = tmp_path / "model.keras"
    model.save(path)
    return keras.saving.load_model(path, safe_mode=True)


def _acts(net: Network, x) -> dict[str, np.ndarray]:
    """Every node's activations through ``forward``, as (n, d) arrays."""
    names = [node.name for node in net.nodes]
    with forward(net, [x], names, batch_size=2) as acts:
        return {name: acts.array(name).copy() for name in names}


def _out(model: keras.Model, name: str, x) -> np.ndarray:
    """Layer ``name`` of ``model`` on inputs ``x`` through Keras's functional API, (n, d)."""
    sub = keras.Model(model.inputs, model.get_layer(name).output)
    return np.asarray(sub(x, training=False)).reshape(len(x), -1)


def _close(actual, expected) -> None:
    expected = np.asarray(expected).reshape(len(expected), -1)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def _chain(names: list[str]) -> list[tuple[str, str]]:
    return list(zip(names, names[1:], strict=False))


def _check(net: Network, names: list[str], edges) -> None:
    """The node names in order, the edges as a set, no duplicates, every edge forward."""
    assert [node.name for node in net.nodes] == names
    assert set(net.edges) == set(edges) and len(net.edges) == len(edges)
    rank = {name: i for i, name in enumerate(names)}
    assert all(rank[src] < rank[dst] for src, dst in net.edges)


def _base(name: str, *, rescale: bool = False, head: bool = False) -> keras.Model:
    """A small functional feature extractor; with ``head``, a whole classifier."""
    inp = keras.Input(SHAPE, name=f"{name}_in")
    x = layers.Rescaling(1 / 255, name=f"{name}_scale")(inp) if rescale else inp
    x = layers.Conv2D(2, 3, name=f"{name}_conv")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    x = layers.Flatten(name=f"{name}_flat")(x)
    if head:
        x = layers.Dense(3, name=f"{name}_logits")(x)
        x = layers.Softmax(name=f"{name}_softmax")(x)
    return keras.Model(inp, x, name=name)


def _base_names(name: str, *, rescale: bool = False, head: bool = False) -> list[str]:
    tail = ["logits", "softmax"] if head else []
    return [f"{name}_{layer}" for layer in (["scale"] if rescale else []) + BASE + tail]


BASE = ["conv", "relu", "flat"]


# --- 1. transfer-learning wrapper ---------------------------------------------------------


def _transfer(rescale: str, head: str) -> keras.Model:
    """``image -> [Rescaling] -> base -> [Dense -> Softmax]``; the parts in brackets sit
    outside ``base`` or inside it (Rescaling first, the head last) as the arguments say."""
    keras.utils.set_random_seed(0)
    base = _base("base", rescale=rescale == "inner", head=head == "inner")
    image = keras.Input(SHAPE, name="image")
    x = layers.Rescaling(1 / 255, name="scale")(image) if rescale == "outer" else image
    x = base(x)
    if head == "outer":
        x = layers.Softmax(name="softmax")(layers.Dense(3, name="logits")(x))
    return keras.Model(image, x, name="transfer")


@pytest.mark.parametrize("head", ["outer", "inner"])
@pytest.mark.parametrize("rescale", ["outer", "inner"])
def test_transfer_learning_wrapper(rescale, head, tmp_path):
    model = _reload(_transfer(rescale, head), tmp_path)
    net = network_graph(model)
    base_names = _base_names("base", rescale=rescale == "inner", head=head == "inner")
    names = ["image", *(["scale"] if rescale == "outer" else []), *base_names]
    names += ["logits", "softmax"] if head == "outer" else []
    _check(net, names, _chain(names))
    assert net.nodes[1].kind == "Rescaling" and net.nodes[-1].kind == "Softmax"

    x = _x()
    acts = _acts(net, x)
    base = model.get_layer("base")
    feed = _out(model, "scale", x).reshape(x.shape) if rescale == "outer" else x
    _close(acts["image"], x)
    for name in base_names:
        _close(acts[name], _out(base, name, feed))
    for name in set(names) - {"image", *base_names}:
        _close(acts[name], _out(model, name, x))
    _close(acts[names[-1]], model(x, training=False))


# --- 2. nested models in sequence ---------------------------------------------------------


def _sequence(wrapped: bool) -> keras.Model:
    """``m2(m1(image))``; ``wrapped``: that pair is itself a model nested in the outer one."""
    keras.utils.set_random_seed(0)
    m1 = _base("m1", rescale=True)
    features = keras.Input((4 * 4 * 2,), name="m2_in")
    logits = layers.Dense(3, name="m2_logits")(features)
    m2 = keras.Model(features, layers.Softmax(name="m2_softmax")(logits), name="m2")
    image = keras.Input(SHAPE, name="image")
    if wrapped:
        inner = keras.Input(SHAPE, name="pair_in")
        return keras.Model(image, keras.Model(inner, m2(m1(inner)), name="pair")(image))
    return keras.Model(image, m2(m1(image)), name="sequence")


@pytest.mark.parametrize("wrapped", [False, True])
def test_nested_models_in_sequence(wrapped, tmp_path):
    model = _reload(_sequence(wrapped), tmp_path)
    net = network_graph(model)
    names = ["image", *_base_names("m1", rescale=True), "m2_logits", "m2_softmax"]
    _check(net, names, _chain(names))

    x = _x()
    acts = _acts(net, x)
    pair = model.get_layer("pair") if wrapped else model
    m1, m2 = pair.get_layer("m1"), pair.get_layer("m2")
    for name in names[1:5]:
        _close(acts[name], _out(m1, name, x))
    for name in names[5:]:
        _close(acts[name], _out(m2, name, np.asarray(m1(x))))
    _close(acts["m2_softmax"], model(x, training=False))


# --- 3. one nested model called twice -----------------------------------------------------


def _siamese() -> keras.Model:
    """The same tower on the image and on its transpose, then Concatenate and a head. The
    tower rescales and calls a nested backbone, whose output is the tower's output."""
    keras.utils.set_random_seed(0)
    backbone = _base("bb")
    inp = keras.Input(SHAPE, name="tower_in")
    tower = keras.Model(inp, backbone(layers.Rescaling(1 / 255, name="scale")(inp)), name="tower")
    image = keras.Input(SHAPE, name="image")
    rot = layers.Permute((2, 1, 3), name="rot")(image)
    x = layers.Concatenate(name="cat")([tower(image), tower(rot)])
    x = layers.Softmax(name="softmax")(layers.Dense(3, name="logits")(x))
    return keras.Model(image, x, name="siamese")


FIRST = ["scale", *_base_names("bb")]
SECOND = ["tower:1/scale", *(f"tower:1/bb/{name}" for name in _base_names("bb"))]


def test_nested_model_called_twice(tmp_path):
    model = _reload(_siamese(), tmp_path)
    net = network_graph(model)
    names = ["image", "rot", *FIRST, *SECOND, "cat", "logits", "softmax"]
    edges = [
        ("image", "rot"),
        ("image", "scale"),
        ("rot", "tower:1/scale"),
        *_chain(FIRST),
        *_chain(SECOND),
        ("bb_flat", "cat"),
        ("tower:1/bb/bb_flat", "cat"),
        ("cat", "logits"),
        ("logits", "softmax"),
    ]
    _check(net, names, edges)
    kinds = {node.name: node.kind for node in net.nodes}
    assert [kinds[name] for name in FIRST] == [kinds[name] for name in SECOND]
    assert kinds["tower:1/bb/bb_relu"] == "ReLU"

    x = _x()
    acts = _acts(net, x)
    tower = model.get_layer("tower")
    backbone = tower.get_layer("bb")
    for call, image in ((FIRST, x), (SECOND, np.swapaxes(x, 1, 2))):
        scaled = _out(tower, "scale", image)
        _close(acts[call[0]], scaled)
        for name, layer in zip(call[1:], FIRST[1:], strict=True):  # fed the rescaled image
            _close(acts[name], _out(backbone, layer, scaled.reshape(image.shape)))
    for first, second in zip(FIRST, SECOND, strict=True):
        assert not np.allclose(acts[first], acts[second])
    _close(acts["cat"], np.concatenate([acts["bb_flat"], acts["tower:1/bb/bb_flat"]], axis=1))
    _close(acts["softmax"], model(x, training=False))


# --- 4. a nested Sequential -------------------------------------------------------------


SEQ = ["seq_scale", "seq_conv", "seq_relu", "seq_flat"]


def _with_sequential(wrapped: bool) -> keras.Model:
    """A functional classifier around a Sequential block (built by its first call);
    ``wrapped``: that classifier is nested in another model, as its output."""
    keras.utils.set_random_seed(0)
    block = keras.Sequential(
        [
            layers.Rescaling(1 / 255, name="seq_scale"),
            layers.Conv2D(2, 3, name="seq_conv"),
            layers.ReLU(name="seq_relu"),
            layers.Flatten(name="seq_flat"),
        ],
        name="seq",
    )
    inp = keras.Input(SHAPE, name="clf_in" if wrapped else "image")
    x = layers.Softmax(name="softmax")(layers.Dense(3, name="logits")(block(inp)))
    clf = keras.Model(inp, x, name="clf")
    if not wrapped:
        return clf
    image = keras.Input(SHAPE, name="image")
    return keras.Model(image, clf(image), name="outer")


@pytest.mark.parametrize("wrapped", [False, True])
def test_nested_sequential(wrapped, tmp_path):
    model = _reload(_with_sequential(wrapped), tmp_path)
    net = network_graph(model)
    names = ["image", *SEQ, "logits", "softmax"]
    _check(net, names, _chain(names))

    x = _x()
    acts = _acts(net, x)
    clf = model.get_layer("clf") if wrapped else model
    h = x
    for layer in clf.get_layer("seq").layers:  # by hand, one layer after the other
        h = layer(h, training=False)
        _close(acts[layer.name], h)
    for name in ("logits", "softmax"):
        _close(acts[name], _out(clf, name, x))
    _close(acts["softmax"], model(x, training=False))


# --- through analyze() ---------------------------------------------------------------------


def test_analyze_orders_expanded_layers(tmp_path):
    """The whole pipeline on the shared tower: the second call's layers get their own order."""
    model = _reload(_siamese(), tmp_path)
    x, y = _x(40), np.random.default_rng(5).integers(0, 3, 40)
    analysis = pipeline.analyze(model, x, y, ["a", "b", "c"], cache=Store(tmp_path / "cache"))
    net = network_graph(model)
    assert analysis.layer_names == [node.name for node in net.nodes]
    assert analysis.edges == net.edges
    tower = model.get_layer("tower")
    for name, image in (("bb_conv", x), ("tower:1/bb/bb_conv", np.swapaxes(x, 1, 2))):
        scaled = _out(tower, "scale", image).reshape(image.shape)
        order = brute_vat(_out(tower.get_layer("bb"), "bb_conv", scaled))
        np.testing.assert_array_equal(analysis.layer(name).order, order)
    np.testing.assert_array_equal(analysis.predictions, np.argmax(model(x), axis=1))
