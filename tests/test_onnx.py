"""ONNX models through fracdash: the layer graph read from the ONNX graph, activations
from one onnxruntime session, and the same result as the Keras path for the same
network (docs/decisions.md, "ONNX and PyTorch")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

import fracdash
from fracdash.cli import main
from fracdash.sources import as_source
from fracdash.sources.onnx_graph import read_layers

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(1)


def const(name, shape, rng=RNG):
    return numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)


def model_of(nodes, weights, in_dims=("n", 2, 5, 5), out_dims=("n", 3)):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_dims))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_dims))],
        weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def cnn(in_dims=("n", 2, 5, 5)):
    """Conv + bias Add, Dropout, Relu, a shape chain feeding a Reshape, Identity, MatMul
    + Add, Softmax: what exporters write for a small CNN. The same weights every call."""
    n, rng = helper.make_node, np.random.default_rng(7)
    nodes = [
        n("Conv", ["x", "K"], ["c"], name="conv/Conv"),
        n("Add", ["c", "kb"], ["cb"], name="conv/BiasAdd"),
        n("Dropout", ["cb"], ["d"], name="dropout"),
        n("Relu", ["d"], ["r"], name="relu"),
        n("Shape", ["r"], ["s"], name="Shape_0"),
        n("Gather", ["s", "zero"], ["batch"], name="Gather_0", axis=0),
        n("Unsqueeze", ["batch", "zero1"], ["b1"], name="Unsqueeze_0"),
        n("Concat", ["b1", "minus1"], ["target"], name="Concat_0", axis=0),
        n("Reshape", ["r", "target"], ["flat"], name="flatten/Reshape"),
        n("Identity", ["flat"], ["flat2"], name="Identity_0"),
        n("MatMul", ["flat2", "W"], ["m"], name="dense/MatMul"),
        n("Add", ["m", "wb"], ["logits"], name="dense/BiasAdd"),
        n("Softmax", ["logits"], ["y"], name="prediction"),
    ]
    weights = [
        const("K", (4, 2, 3, 3), rng),
        const("kb", (1, 4, 1, 1), rng),
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
        numpy_helper.from_array(np.array([0], np.int64), "zero1"),
        numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
        const("W", (36, 3), rng),
        const("wb", (3,), rng),
    ]
    return model_of(nodes, weights, in_dims)


def reference(model, x):
    """The graph's own output: onnxruntime on the unmodified model, without graph
    optimisations (fusing Conv and its bias Add rounds differently)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"x": x})[0]


def test_identities_bridged_shape_chains_hidden_bias_fused():
    layers = read_layers(cnn().graph, "x")
    assert layers.names == ["x", "conv", "relu", "flatten", "dense", "prediction"]
    assert layers.kinds == {"x": "InputLayer", "conv": "Conv+Add", "relu": "Relu",
                            "flatten": "Reshape", "dense": "MatMul+Add",
                            "prediction": "Softmax"}  # fmt: skip
    # Dropout and Identity bridged: relu reads conv, dense reads flatten.
    assert layers.inputs["relu"] == ("conv",) and layers.inputs["dense"] == ("flatten",)
    assert layers.tensors["conv"] == "cb" and layers.tensors["dense"] == "logits"
    assert layers.relu == {name: name == "relu" for name in layers.names}


def test_activations_are_the_graphs_own():
    model = cnn()
    x = RNG.normal(size=(30, 2, 5, 5)).astype(np.float32)
    source = as_source(model)
    net = source.network(x[:1])
    shapes = {node.name: node.output_shape for node in net.nodes}
    assert shapes == {"x": (2, 5, 5), "conv": (4, 3, 3), "relu": (4, 3, 3),
                      "flatten": (36,), "dense": (3,), "prediction": (3,)}  # fmt: skip
    outs = source.layer_outputs(net, ["relu", "x", "prediction", "flatten"])([x])
    np.testing.assert_array_equal(outs[1], x)
    np.testing.assert_array_equal(outs[2], reference(model, x))
    np.testing.assert_array_equal(outs[0].reshape(30, -1), outs[3])  # a Reshape reorders
    assert (outs[0] >= 0).all() and (outs[0] == 0).any()


def test_analyze_path_proto_and_bytes_agree(tmp_path):
    """One model given three ways: same layers, orders and digest; the Reshape shares
    its input's order and the simplified view hides it."""
    model = cnn()
    onnx.save(model, tmp_path / "cnn.onnx")
    x = RNG.normal(size=(40, 2, 5, 5)).astype(np.float32)
    y = np.arange(40) % 3
    runs = [
        fracdash.analyze(m, x, y) for m in (tmp_path / "cnn.onnx", model, model.SerializeToString())
    ]
    for a in runs[1:]:
        assert [g.name for g in a.layers] == [g.name for g in runs[0].layers]
        for g, h in zip(a.layers, runs[0].layers, strict=True):
            np.testing.assert_array_equal(g.order, h.order)
    a = runs[0]
    np.testing.assert_array_equal(a.predictions, reference(model, x).argmax(1))
    flat = {g.name: g for g in a.layers}
    np.testing.assert_array_equal(flat["flatten"].order, flat["relu"].order)
    assert [g.name for g in a.simplified().layers] == ["x", "conv", "relu", "dense", "prediction"]
    assert ("relu", "dense") in a.simplified().edges
    digests = {as_source(m).digest() for m in (tmp_path / "cnn.onnx", model)}
    assert len(digests) == 1  # the file's bytes are the proto's serialization


def test_skip_connections_branches_and_permute():
    """A residual Add of two data tensors and a Concat of two branches keep all their
    edges; a Transpose is a Permute (sharing its input's order)."""
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "K1"], ["a"], name="/block/conv1/Conv", pads=[1, 1, 1, 1]),
        n("Relu", ["a"], ["ar"], name="/block/Relu"),
        n("Conv", ["ar", "K2"], ["b"], name="/block/conv2/Conv", pads=[1, 1, 1, 1]),
        n("Add", ["x", "b"], ["s"], name="/block/Add"),
        n("Transpose", ["s"], ["t"], name="/rotate/Transpose", perm=[0, 1, 3, 2]),
        n("Flatten", ["s"], ["f1"], name="/Flatten"),
        n("Flatten", ["t"], ["f2"], name="/Flatten_1"),
        n("Concat", ["f1", "f2"], ["cat"], name="/Concat", axis=1),
        n("Gemm", ["cat", "W", "wb"], ["y"], name="/fc/Gemm"),
    ]
    weights = [const("K1", (2, 2, 3, 3)), const("K2", (2, 2, 3, 3)), const("W", (100, 3)),
               const("wb", (3,))]  # fmt: skip
    layers = read_layers(model_of(nodes, weights).graph, "x")
    assert layers.inputs["block/Add"] == ("x", "block/conv2")
    assert layers.inputs["Concat"] == ("Flatten", "Flatten_1")
    assert layers.kinds["rotate"] == "Permute" and layers.kinds["Flatten"] == "Flatten"
    assert layers.names == ["x", "block/conv1", "block/Relu", "block/conv2", "block/Add",
                            "rotate", "Flatten", "Flatten_1", "Concat", "fc"]  # fmt: skip


@pytest.mark.parametrize(
    "raw, shown",
    [
        # torch.onnx.export: module paths; a Sequential's child is "stem.0"
        (["/stem/stem.0/Conv", "/stem/stem.1/Relu", "/fc/Gemm", "/Softmax"],
         ["stem.0", "stem.1", "fc", "Softmax"]),
        # tf2onnx: everything under the model's scope; a layout Reshape shares "conv"'s
        (["lenet_1/conv_1/BiasAdd__6", "lenet_1/conv_1/BiasAdd", "Transpose__9",
          "lenet_1/prediction_1/Softmax"],
         ["conv_1/BiasAdd__6", "conv_1", "Transpose__9", "prediction_1"]),
        # plain names, and names taken twice
        (["conv", "conv", "act"], ["conv", "conv_2", "act"]),
    ],
)  # fmt: skip
def test_display_names(raw, shown):
    kinds = {"BiasAdd__6": "Reshape", "Transpose__9": "Transpose", "Relu": "Relu"}
    nodes, prev = [], "x"
    for i, name in enumerate(raw):
        op = next((v for k, v in kinds.items() if name.endswith(k)), "Sigmoid")
        nodes.append(helper.make_node(op, [prev], [f"t{i}"], name=name))
        prev = f"t{i}"
    nodes[-1].output[0] = "y"
    model = model_of(nodes, [], in_dims=("n", 3), out_dims=("n", 3))
    assert read_layers(model.graph, "x").names == ["x", *shown]


def test_a_graph_exported_for_batches_of_one(tmp_path):
    """Some exporters fix the batch axis to 1: fracdash runs it one sample at a time
    and gets what the free-batch graph gives."""
    x = RNG.normal(size=(9, 2, 5, 5)).astype(np.float32)
    y = np.arange(9) % 3
    free = fracdash.analyze(cnn(), x, y)
    fixed = fracdash.analyze(cnn(in_dims=(1, 2, 5, 5)), x, y)
    assert as_source(cnn(in_dims=(1, 2, 5, 5))).batch_size == 1
    for g, h in zip(free.layers, fixed.layers, strict=True):
        np.testing.assert_array_equal(g.order, h.order)
    np.testing.assert_array_equal(free.predictions, fixed.predictions)


def test_cli_analyze_and_serve_an_onnx_file(tmp_path):
    onnx.save(cnn(), tmp_path / "cnn.onnx")
    x = RNG.normal(size=(30, 2, 5, 5)).astype(np.float32)
    np.savez(tmp_path / "data.npz", x=x, y=np.arange(30) % 3)
    cache = tmp_path / "cache"
    args = ["--model", str(tmp_path / "cnn.onnx"), "--data", str(tmp_path / "data.npz"),
            "--cache-dir", str(cache)]  # fmt: skip
    result = CliRunner().invoke(main, ["analyze", *args])
    assert result.exit_code == 0, result.output
    assert "stored as run 'cnn'" in result.stdout and "conv" in result.stdout
    result = CliRunner().invoke(main, ["serve", *args, "--name", "again", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "(run 'again')" in result.stdout
    from fracdash.runs import catalog
    from fracdash.store import Store

    store = Store(cache)
    try:
        assert set(catalog(store)) == {"cnn", "again"}
        assert catalog(store)["cnn"]["model"] == "cnn.onnx"
    finally:
        store.close()


@pytest.mark.slow  # a subprocess of the real command line
def test_the_onnx_command_line_never_imports_tensorflow(tmp_path):
    onnx.save(cnn(), tmp_path / "cnn.onnx")
    np.savez(tmp_path / "d.npz", x=RNG.normal(size=(20, 2, 5, 5)).astype(np.float32),
             y=np.arange(20) % 3)  # fmt: skip
    code = (
        "import sys\nfrom fracdash.cli import main\n"
        "try:\n    main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n    print('heavy:', sorted({'tensorflow', 'keras', 'torch'} & set(sys.modules)))"
    )
    args = ["analyze", "--model", str(tmp_path / "cnn.onnx"), "--data", str(tmp_path / "d.npz"),
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "heavy: []" in proc.stdout


# --------------------------------------------------------------------------- Keras == ONNX

KERAS_LAYERS = ["input", "conv2d0", "relu0", "conv2d1", "relu1", "flatten", "dense0", "relu2",
                "dense1", "prediction"]  # fmt: skip


def onnx_name(keras_name: str) -> str:
    """The documented mapping: Keras's ONNX export (tf2onnx) traces the model once
    more, so every layer's name scope gets TensorFlow's "_1"; the input keeps its name."""
    return keras_name if keras_name == "input" else f"{keras_name}_1"


@pytest.fixture(scope="module")
def lenet5_both_ways(keras, tmp_path_factory):
    """The easy scenario's LeNet5, trained one epoch on 2,000 MNIST images, exported
    with ``model.export(format="onnx")``; 500 real MNIST test samples."""
    from fracdash.datasets import load_dataset
    from fracdash.models.training import build_lenet5
    from fracdash.scenarios import prepare_images

    keras.utils.set_random_seed(0)
    x_train, y_train = load_dataset("mnist", "train")
    model = build_lenet5()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(prepare_images(x_train[:2000], "lenet5"), y_train[:2000].astype(np.int64),
              epochs=1, batch_size=64, verbose=0)  # fmt: skip
    path = tmp_path_factory.mktemp("onnx") / "lenet5.onnx"
    model.export(str(path), format="onnx", verbose=False)
    x_test, y_test = load_dataset("mnist", "test")
    x, y = prepare_images(x_test[:500], "lenet5"), y_test[:500].astype(np.int64)
    return model, path, x, y


@pytest.mark.slow  # trains LeNet5 for one epoch
def test_keras_and_its_onnx_export_give_the_same_analysis(lenet5_both_ways):
    model, path, x, y = lenet5_both_ways
    via_keras, via_onnx = fracdash.analyze(model, x, y), fracdash.analyze(path, x, y)
    assert [g.name for g in via_keras.layers] == KERAS_LAYERS
    # The export adds layout changes (NHWC <-> NCHW), reorder-only: the simplified views
    # match name for name; Keras's Flatten is the ONNX graph's Reshape.
    onnx_kinds = {g.name: g.kind for g in via_onnx.layers}
    added = onnx_kinds.keys() - {onnx_name(n) for n in KERAS_LAYERS}
    assert {onnx_kinds[n] for n in added} == {"Reshape", "Permute"}, onnx_kinds
    simple_k = [g.name for g in via_keras.simplified().layers]
    simple_o = [g.name for g in via_onnx.simplified().layers]
    assert simple_o == [onnx_name(n) for n in simple_k]
    np.testing.assert_array_equal(via_onnx.predictions, via_keras.predictions)
    # Per layer: activations compared, then orders; onnxruntime's float32 kernels round
    # differently from TensorFlow's (docs/decisions.md has the figures).
    keras_src, onnx_src = as_source(model), as_source(path)
    k_acts = dict(zip(KERAS_LAYERS, keras_src.layer_outputs(keras_src.network(), KERAS_LAYERS)(
        [x]), strict=True))  # fmt: skip
    names = [onnx_name(n) for n in KERAS_LAYERS]
    o_acts = dict(zip(KERAS_LAYERS, onnx_src.layer_outputs(onnx_src.network(x[:1]), names)([x]),
                      strict=True))  # fmt: skip
    by_name = {g.name: g for g in via_onnx.layers}
    for g in via_keras.layers:
        ka, oa = np.asarray(k_acts[g.name]), np.asarray(o_acts[g.name])
        if oa.ndim == 4 and g.name != "input":
            oa = oa.transpose(0, 2, 3, 1)  # NCHW -> Keras's NHWC, to compare values
        ka, oa = ka.reshape(len(x), -1), oa.reshape(len(x), -1)
        h = by_name[onnx_name(g.name)]
        diff = float(np.abs(ka - oa).max())
        what = (
            f"{g.name}: max |keras - onnx| = {diff:.3g}, quality {g.quality:.4f} / {h.quality:.4f}"
        )
        if diff == 0:
            np.testing.assert_array_equal(h.order, g.order, err_msg=f"bit-identical {what}")
        else:
            assert diff < 1e-4 * max(1.0, float(np.abs(ka).max())), what
            assert round(g.quality, 3) == round(h.quality, 3), what
