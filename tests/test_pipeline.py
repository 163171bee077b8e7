"""analyze(): every layer's order equals brute-force VAT of independently computed
activations; graph, simplification, predictions; the store recomputes only what changed."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import brute_vat

import fracdash
from fracdash import cluster, pipeline
from fracdash.store import Store


def keras_activation(keras, model, name, x):
    """A layer's output through Keras's own API (not fracdash's flat model)."""
    if name == "input":
        return np.asarray(x)
    sub = keras.Model(model.inputs, model.get_layer(name).output)
    return np.asarray(sub(x, training=False))


@pytest.fixture(scope="module")
def toy_data():
    rng = np.random.default_rng(3)
    x6 = rng.random((60, 6, 6, 1), dtype=np.float32)
    x5 = rng.random((50, 5, 5, 1), dtype=np.float32)
    return x6, rng.integers(0, 3, 60), x5, rng.integers(0, 4, 50)


def test_branched_orders_equal_brute_force(keras, toy_branched, toy_data):
    x, y, _, _ = toy_data
    a = fracdash.analyze(toy_branched, x, y, ["r", "g", "b"])
    shown = {layer.name for layer in toy_branched.layers if "dropout" not in layer.name}
    assert set(a.layer_names) == shown
    assert a.layer_names[0] == "input" and a.layer_names[-1] == "prediction"
    for g in a.layers:
        acts = keras_activation(keras, toy_branched, g.name, x)
        np.testing.assert_array_equal(g.order, brute_vat(acts.reshape(len(x), -1)), g.name)
    probs = np.asarray(toy_branched(x, training=False))
    np.testing.assert_array_equal(a.predictions, probs.argmax(1))
    assert a.accuracy == pytest.approx(np.mean(probs.argmax(1) == y))
    assert a.confusion.sum() == len(x) and a.confusion.shape == (3, 3)
    np.testing.assert_array_equal(
        np.diag(a.confusion), np.bincount(y[probs.argmax(1) == y], minlength=3)
    )


def test_branched_edges_and_simplification(toy_branched, toy_data):
    x, y, _, _ = toy_data
    a = fracdash.analyze(toy_branched, x, y)
    assert set(a.edges) == {
        ("input", "rotate"), ("input", "a_conv"), ("rotate", "b_conv"),
        ("a_conv", "a_relu"), ("b_conv", "b_relu"), ("a_relu", "a_flatten"),
        ("b_relu", "b_flatten"), ("a_flatten", "a_dense"), ("b_flatten", "b_dense"),
        ("a_dense", "concat"), ("b_dense", "concat"), ("concat", "logits"),
        ("logits", "prediction"),
    }  # fmt: skip
    s = a.simplified()
    assert {"rotate", "a_flatten", "b_flatten"}.isdisjoint(s.layer_names)
    assert ("input", "b_conv") in s.edges and ("a_relu", "a_dense") in s.edges
    assert ("b_relu", "b_dense") in s.edges
    assert len(s.layers) == len(a.layers) - 3
    # Layers kept by the simplification keep their glyphs.
    for g in s.layers:
        np.testing.assert_array_equal(g.order, a.layer(g.name).order)
    assert s.layer("b_conv").inputs == ("input",)


def test_sequential_chain(keras, toy_sequential, toy_data):
    _, _, x, y = toy_data
    a = fracdash.analyze(toy_sequential, x, y)
    assert a.layer_names == ["input", "conv", "relu", "flatten", "dense", "prediction"]
    assert a.edges == list(zip(a.layer_names, a.layer_names[1:], strict=False))
    assert a.layers[0].kind == "InputLayer" and a.layer("flatten").kind == "Flatten"
    for g in a.layers:
        acts = keras_activation(keras, toy_sequential, g.name, x)
        np.testing.assert_array_equal(g.order, brute_vat(acts.reshape(len(x), -1)), g.name)
    assert a.layer("relu").output_shape == (3, 3, 2)


def test_nested_model_is_expanded(keras, toy_data):
    from keras import layers

    keras.utils.set_random_seed(9)
    inner_in = keras.Input((5, 5, 1))
    h = layers.Conv2D(2, 3, name="inner_conv")(inner_in)
    h = layers.Activation("relu", name="inner_relu")(h)
    base = keras.Model(inner_in, h, name="base")
    inp = keras.Input((5, 5, 1), name="input")
    h = layers.Flatten(name="flatten")(base(inp))
    out = layers.Dense(4, activation="softmax", name="prediction")(h)
    model = keras.Model(inp, out)
    _, _, x, y = toy_data
    a = fracdash.analyze(model, x, y)
    assert a.layer_names == ["input", "inner_conv", "inner_relu", "flatten", "prediction"]
    assert ("input", "inner_conv") in a.edges and ("inner_relu", "flatten") in a.edges
    inner = keras.Model(base.inputs, base.get_layer("inner_conv").output)
    acts = np.asarray(inner(x)).reshape(len(x), -1)
    np.testing.assert_array_equal(a.layer("inner_conv").order, brute_vat(acts))


@pytest.mark.parametrize("curve", ["compact", "paper"])
def test_glyph_geometry_and_quality(toy_branched, toy_data, curve):
    x, y, _, _ = toy_data
    a = fracdash.analyze(toy_branched, x, y).on_curve(curve)
    by_rank = fracdash.core.positions_for(len(x), curve)
    width, height = fracdash.core.grid_shape(len(x), curve)
    for g in a.layers:
        assert (g.curve, g.width, g.height) == (curve, width, height)
        assert sorted(g.order.tolist()) == list(range(len(x)))
        np.testing.assert_array_equal(g.positions[g.order], by_rank)
        assert g.quality == pytest.approx(fracdash.quality(g.positions, y))
        np.testing.assert_array_equal(g.codes, fracdash.relative_codes(y[g.order]))
        image = a.class_image(g.name)
        assert image.shape == (height, width) and (image >= 0).sum() == len(x)
        assert image[g.positions[5, 1], g.positions[5, 0]] == y[5]
    if curve == "compact":  # zero waste: less than one row empty
        assert width * height - len(x) < width


def test_the_curve_is_a_view_setting(toy_branched, toy_data):
    """Switching curves re-lays the same orders; qualities follow the grid shown."""
    x, y, _, _ = toy_data
    compact = fracdash.analyze(toy_branched, x, y)
    paper = compact.on_curve("paper")
    assert compact.curve == "compact" and paper.curve == "paper"
    for c, p in zip(compact.layers, paper.layers, strict=True):
        np.testing.assert_array_equal(c.order, p.order)
        assert p.quality == pytest.approx(fracdash.quality(p.positions, y))
    assert paper.on_curve("compact").layers[-1].quality == compact.layers[-1].quality
    with pytest.raises(ValueError, match="compact, paper|paper, compact"):
        compact.on_curve("hilbert")


def test_labels_predicted(toy_branched, toy_data):
    x, y, _, _ = toy_data
    a = fracdash.analyze(toy_branched, x, y, labels="predicted")
    b = fracdash.analyze(toy_branched, x, y)
    for ga, gb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_array_equal(ga.order, gb.order)
        assert ga.quality == pytest.approx(fracdash.quality(ga.positions, a.predictions))
    assert b.recolored("predicted").layers[-1].quality == pytest.approx(a.layers[-1].quality)


def test_store_reuses_and_recomputes_only_after_change(
    toy_branched, toy_data, tmp_path, monkeypatch
):
    x, y, _, _ = toy_data
    calls = []
    real = cluster.vat_order  # the local orderer's, which the pipeline uses

    def counting(acts, metric, **kwargs):
        calls.append(metric)
        return real(acts, metric, **kwargs)

    monkeypatch.setattr(cluster, "vat_order", counting)
    store = Store(tmp_path / "store")
    first = fracdash.analyze(toy_branched, x, y, store=store)
    computed = len(calls)
    # Flatten and Permute reuse their predecessor's order: 3 layers fewer to compute.
    assert computed == len(first.layers) - 3
    calls.clear()
    again = fracdash.analyze(toy_branched, x, y, store=store)
    assert calls == []
    for g1, g2 in zip(first.layers, again.layers, strict=True):
        np.testing.assert_array_equal(g1.order, g2.order)
    fracdash.analyze(toy_branched, x, y, labels="predicted", store=store)
    assert calls == []  # coloring labels come after the ordering stage
    fracdash.analyze(toy_branched, x, y, metric="cosine", store=store)
    assert calls == ["cosine"] * computed
    calls.clear()
    fracdash.analyze(toy_branched, x[:-1], y[:-1], store=store)
    assert len(calls) == computed  # other data, everything again


def test_stored_analysis_round_trip(toy_branched, toy_data, tmp_path):
    x, y, _, _ = toy_data
    store = Store(tmp_path / "store")
    a = fracdash.analyze(toy_branched, x, y, ["r", "g", "b"], store=store)
    b = fracdash.Analysis.from_bytes(store.get_bytes(a.meta["key"]))
    assert (
        b.layer_names == a.layer_names and b.edges == a.edges and b.class_names == ["r", "g", "b"]
    )
    for ga, gb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_array_equal(ga.order, gb.order)
        assert ga.quality == gb.quality and ga.output_shape == gb.output_shape


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "angular"}, "unknown metric"),
        ({"labels": "guess"}, "labels must be"),
        ({"class_names": ["a", "b"]}, "2 class names"),
    ],
)
def test_bad_arguments(toy_branched, toy_data, kwargs, message):
    x, y, _, _ = toy_data
    with pytest.raises(ValueError, match=message):
        fracdash.analyze(toy_branched, x, y, **kwargs)


def test_bad_labels(toy_branched, toy_data):
    x, y, _, _ = toy_data
    with pytest.raises(ValueError, match="0..2"):
        fracdash.analyze(toy_branched, x, y + 5)
    with pytest.raises(ValueError, match="one label per sample"):
        fracdash.analyze(toy_branched, x, y[:-1])


def test_two_input_model(keras, toy_data):
    from keras import layers

    keras.utils.set_random_seed(11)
    a_in = keras.Input((4,), name="left")
    b_in = keras.Input((3,), name="right")
    h = layers.Concatenate(name="concat")([layers.Dense(5, name="da")(a_in), b_in])
    out = layers.Dense(2, activation="softmax", name="prediction")(h)
    model = keras.Model([a_in, b_in], out)
    rng = np.random.default_rng(12)
    xa, xb = rng.random((40, 4), dtype=np.float32), rng.random((40, 3), dtype=np.float32)
    y = rng.integers(0, 2, 40)
    a = fracdash.analyze(model, [xa, xb], y)
    assert a.layer_names[:2] == ["left", "right"]
    np.testing.assert_array_equal(a.layer("left").order, brute_vat(xa))
    np.testing.assert_array_equal(a.layer("right").order, brute_vat(xb))
    concat = np.concatenate([np.asarray(model.get_layer("da")(xa)), xb], axis=1)
    np.testing.assert_array_equal(a.layer("concat").order, brute_vat(concat))
    with pytest.raises(ValueError, match="same number of samples"):
        fracdash.analyze(model, [xa, xb[:-1]], y)


def test_spilled_activations_give_the_same_orders(toy_branched, toy_data, monkeypatch):
    """Layers written to ChunkedMatrix files order exactly like in-memory ones."""
    from fracdash.core import chunked
    from fracdash.models import activations

    x, y, _, _ = toy_data
    in_memory = fracdash.analyze(toy_branched, x, y)
    monkeypatch.setattr(activations, "DEFAULT_MEMORY_BUDGET", 0)
    monkeypatch.setattr(activations.Activations, "SMALL_LAYER", 0)
    monkeypatch.setattr(chunked, "CHUNK_BYTES", 8 * len(x) * 5)  # several chunks a layer
    written = []
    real = chunked.ChunkedMatrix.write_rows

    def spy(self, start, block):
        written.append(self.path)
        return real(self, start, block)

    monkeypatch.setattr(chunked.ChunkedMatrix, "write_rows", spy)
    spilled = fracdash.analyze(toy_branched, x, y)
    assert written, "nothing was spilled"
    for a, b in zip(in_memory.layers, spilled.layers, strict=True):
        np.testing.assert_array_equal(a.order, b.order)


def test_spilled_layers_are_not_held_for_measures(toy_branched, toy_data, monkeypatch):
    """A layer spilled to a scratch file is not measured, so its file is removed as
    soon as it is ordered, not kept until the measures; the progress has no measures."""
    from fracdash.core import chunked
    from fracdash.models import activations

    x, y, _, _ = toy_data
    monkeypatch.setattr(activations, "DEFAULT_MEMORY_BUDGET", 0)
    monkeypatch.setattr(activations.Activations, "SMALL_LAYER", 0)
    events = []
    real = chunked.ChunkedMatrix.remove

    def remove(self):
        events.append("removed")
        return real(self)

    monkeypatch.setattr(chunked.ChunkedMatrix, "remove", remove)
    progress = lambda stage, done, total, detail: events.append(detail)  # noqa: E731
    a = fracdash.analyze(toy_branched, x, y, progress=progress)
    details = [e for e in events if e != "removed"]
    assert not any(d.startswith("measuring") for d in details)
    assert all(g.knn_accuracy is None for g in a.layers)
    last_order = max(i for i, e in enumerate(events) if e == a.layers[-1].name)
    assert "removed" in events[:last_order]  # released while later layers were ordered


def test_order_progress_counts_work_by_layer_width(toy_branched, toy_data):
    """Each layer with an order of its own is announced before it is ordered and
    weighs its width plus LAYER_WORK; then each one's measures, announced as
    "measuring NAME" after the last order and weighing MEASURE_WORK times as much. The
    stage's total stays the orders' work (what the estimates count): the orders fill
    its first quarter, the measures the rest; the last call reports it all done."""
    from fracdash.core import REORDER_KINDS
    from fracdash.measuring import MEASURE_WORK

    x, y, _, _ = toy_data
    calls = []
    a = fracdash.analyze(toy_branched, x, y, progress=lambda *call: calls.append(call))
    order = [call for call in calls if call[0] == "order"]
    own = [g for g in a.layers if not (g.kind in REORDER_KINDS and len(g.inputs) == 1)]
    assert "rotate" not in {g.name for g in own} and len(own) < len(a.layers)
    weights = [int(np.prod(g.output_shape)) + pipeline.LAYER_WORK for g in own]
    total = sum(weights)
    # Layer by layer (the names in order, each repeated while its progress moves inside
    # it), each announced at the work done before it, never backwards, all at the end.
    names = [call[3] for call in order]
    assert [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]] == [
        *(g.name for g in own), "", *(f"measuring {g.name}" for g in own), ""
    ]
    starts = [int(w) for w in np.cumsum([0, *weights])]
    whole = total * (1 + MEASURE_WORK)
    expected = [*starts, *(total + MEASURE_WORK * s for s in starts)]
    firsts = [call[1] for i, call in enumerate(order) if i == 0 or call[3] != names[i - 1]]
    assert firsts == [round(e / whole * total) for e in expected]
    assert [call[1] for call in order] == sorted(call[1] for call in order)
    assert all(call[2] == total for call in order) and order[-1][1] == total
    assert all(g.knn_accuracy is not None for g in a.layers)  # measured, every one


def test_every_glyph_arrives_before_the_first_measure(toy_branched, toy_data, tmp_path,
                                                     monkeypatch):  # fmt: skip
    """The measures wait for the last order: when the first layer is measured, the
    analysis so far has every glyph in place and none pending."""
    from fracdash import measuring

    x, y, _, _ = toy_data
    seen, pending = [], []
    real = measuring.measure_layer

    def spy(*args, **kwargs):
        pending.append(list(seen[-1].meta.get("pending", ["?"])))
        return real(*args, **kwargs)

    monkeypatch.setattr(measuring, "measure_layer", spy)
    final = fracdash.analyze(toy_branched, x, y, store=tmp_path, on_partial=seen.append)
    assert len(pending) == len(final.meta["measured"]) > 1
    assert all(p == [] for p in pending)


def test_the_analysis_so_far_arrives_layer_by_layer(toy_branched, toy_data, tmp_path):
    """on_partial sees every layer in place after the forward pass, then one more
    ordered layer each time (those pending listed), and its ordered layers already hold
    their final orders; a rerun from the store reports nothing pending."""
    x, y, _, _ = toy_data
    seen = []
    final = fracdash.analyze(toy_branched, x, y, store=tmp_path, on_partial=seen.append)
    ordered = {g.name for g in final.layers}
    assert seen and seen[0].meta["pending"] == final.layer_names  # nothing ordered yet
    pending = [set(a.meta["pending"]) for a in seen]
    assert all(a > b for a, b in zip(pending, pending[1:], strict=False))  # shrinking
    assert pending[-1] == set()
    for a in seen:
        assert a.layer_names == final.layer_names
        for g in a.layers:
            if g.name not in a.meta["pending"]:
                np.testing.assert_array_equal(g.order, final.layer(g.name).order)
    assert ordered == set(final.layer_names)
    again = []
    fracdash.analyze(toy_branched, x, y, store=tmp_path, on_partial=again.append)
    assert again == []  # nothing to compute: no forward pass, nothing reported
