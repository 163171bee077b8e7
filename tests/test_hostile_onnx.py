"""Hostile ONNX (and PyTorch) input to ``fracdash analyze``: one line on stderr, exit
code 2, no traceback, nothing written to the store — as tests/test_hostile.py, for the
ONNX path. Every model here is written with ``onnx.helper`` (no framework needed)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from helpers import assert_cache_untouched, assert_refused, good_x, good_y, npz, run_cli
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(0)
W1 = RNG.normal(size=(4, 5)).astype(np.float32)
W2 = RNG.normal(size=(5, 3)).astype(np.float32)


def dense_graph(softmax=True, out_dims=("n", 3), extra_nodes=(), inputs=None):
    """x (n, 4) -> MatMul + Add -> Relu -> MatMul -> Softmax: a 3-class classifier."""
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h"], name="dense0/MatMul"),
        helper.make_node("Add", ["h", "b1"], ["hb"], name="dense0/Add"),
        helper.make_node("Relu", ["hb"], ["r"], name="relu0"),
        helper.make_node("MatMul", ["r", "W2"], ["logits" if softmax else "y"], name="dense1"),
        *extra_nodes,
    ]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], ["y"], name="prediction"))
    weights = [
        numpy_helper.from_array(W1, "W1"),
        numpy_helper.from_array(np.zeros(5, np.float32), "b1"),
        numpy_helper.from_array(W2, "W2"),
    ]
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])]
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_dims))
    return helper.make_graph(nodes, "dense", inputs, [output], weights)


def model_of(graph, domains=()):
    opsets = [helper.make_opsetid("", 17), *(helper.make_opsetid(d, 1) for d in domains)]
    return helper.make_model(graph, opset_imports=opsets)


def saved(name, model):
    def build(tmp):
        onnx.save(model() if callable(model) else model, tmp / name)
        return tmp / name

    return build


def _bytes(name, data):
    def build(tmp):
        (tmp / name).write_bytes(data)
        return tmp / name

    return build


def _external(location, link=None):
    """The good model with W1 kept in an external file at ``location``."""

    def build(tmp):
        (tmp / "m").mkdir()
        (tmp / "outside.bin").write_bytes(W1.tobytes())
        if link:
            (tmp / "m" / link).symlink_to(tmp / "outside.bin")
        model = model_of(dense_graph())
        w1 = model.graph.initializer[0]
        w1.ClearField("raw_data")
        w1.data_location = TensorProto.EXTERNAL
        entry = w1.external_data.add()
        entry.key, entry.value = "location", location
        onnx.save(model, tmp / "m" / "model.onnx")
        return tmp / "m" / "model.onnx"

    return build


def _two_inputs():
    graph = dense_graph()
    graph.input.append(helper.make_tensor_value_info("x2", TensorProto.FLOAT, ["n", 4]))
    graph.node[0].input[1] = "W1"
    graph.node.append(helper.make_node("MatMul", ["x2", "W1"], ["unused"]))
    return model_of(graph)


def _custom_op():
    graph = dense_graph()
    graph.node.insert(3, helper.make_node("Mystery", ["r"], ["r2"], domain="my.ops"))
    graph.node[4].input[0] = "r2"
    return model_of(graph, domains=["my.ops"])


def _unknown_op():
    graph = dense_graph()
    graph.node[2].op_type = "Relux"
    return model_of(graph)


def _int_input():
    inputs = [helper.make_tensor_value_info("t", TensorProto.INT64, ["n", 4])]
    cast = helper.make_node("Cast", ["t"], ["x"], to=TensorProto.FLOAT)
    graph = dense_graph(inputs=inputs)
    graph.node.insert(0, cast)
    return model_of(graph)


def _constant_output():
    graph = dense_graph()
    graph.node[-1].input[0] = "W2_row"
    graph.node.insert(0, helper.make_node("Constant", [], ["W2_row"], value=numpy_helper.from_array(
        np.ones((1, 3), np.float32))))  # fmt: skip
    return model_of(graph)


GOOD = model_of(dense_graph())
GOOD_BYTES = GOOD.SerializeToString()


def _data(x=None, y=None):
    def build(tmp):
        return npz(tmp, x=good_x() if x is None else x, y=good_y() if y is None else y)

    return build


CASES = {
    "truncated ONNX": (_bytes("cut.onnx", GOOD_BYTES[: len(GOOD_BYTES) // 2]), _data(), [],
                       "not an ONNX model (corrupt or truncated?)"),
    "text file as .onnx": (_bytes("text.onnx", b"hello\n"), _data(), [], "not an ONNX file"),
    "protobuf of another kind": (_bytes("junk.onnx", b"\x08\x01\x12\xff\xff"), _data(), [],
                                 "not an ONNX model"),
    "external data with ..": (_external("../outside.bin"), _data(), [], "outside the model's"),
    "external data absolute": (_external("/etc/passwd"), _data(), [], "outside the model's"),
    "external data through a link": (_external("w.bin", link="w.bin"), _data(), [],
                                     "outside the model's folder"),
    "external data missing": (_external("gone.bin"), _data(), [], "which is missing"),
    "custom-domain operator": (saved("custom.onnx", _custom_op), _data(), [],
                               "operator 'Mystery' of domain 'my.ops'"),
    "unknown operator": (saved("unknown.onnx", _unknown_op), _data(), [], "not a valid ONNX"),
    "two inputs": (saved("two.onnx", _two_inputs), _data(), [], "has 2 inputs (x, x2)"),
    "x shape mismatch": (saved("m.onnx", GOOD), _data(x=np.zeros((6, 5), np.float32)), [],
                         "the model takes (4,)"),
    "float x for an integer input": (saved("int.onnx", _int_input), _data(), [],
                                     "x has dtype float32"),
    "output not a distribution": (saved("logits.onnx", model_of(dense_graph(softmax=False))),
                                  _data(), [], "looks like logits); pass --logits"),
    "3-D output": (saved("cube.onnx", model_of(dense_graph(out_dims=("n", 3, 1)))), _data(),
                   [], "not (batch, k >= 2)"),
    "one output unit": (saved("one.onnx", model_of(dense_graph(out_dims=("n", 1)))), _data(),
                        [], "not (batch, k >= 2)"),
    "output independent of x": (saved("const.onnx", _constant_output), _data(), [],
                                "does not depend on its input"),
    "pickled PyTorch .pt": (_bytes("model.pt", b"\x80\x04pickle"), _data(), [],
                            "torch.onnx.export(model.eval(), (x[:1],), 'model.onnx'"),
    "pickled PyTorch .pth": (_bytes("model.pth", b"\x80\x04"), _data(), [], "pickled PyTorch"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_onnx(case, tmp_path):
    model, data, extra, expected = CASES[case]
    model_path, data_path = model(tmp_path), data(tmp_path)
    cache = tmp_path / "cache"
    args = ["analyze", "--model", str(model_path), "--data", str(data_path), *extra]
    result = run_cli(*args, "--cache-dir", str(cache), cache=cache)
    assert_refused(result, expected)
    assert_cache_untouched(cache)


def test_logits_accepted_with_the_flag(tmp_path):
    path = saved("logits.onnx", model_of(dense_graph(softmax=False)))(tmp_path)
    cache = tmp_path / "cache"
    args = ["analyze", "--model", str(path), "--data", str(_data()(tmp_path)), "--logits"]
    result = run_cli(*args, "--cache-dir", str(cache), cache=cache)
    assert result.returncode == 0, result.stderr
    assert "stored as run 'logits'" in result.stdout


def test_external_data_beside_the_model_is_read(tmp_path):
    """The safe case: weights in a file of the model's folder load, and the digest
    covers them (other weights, other digest)."""
    from fracdash.inputs.data import load_model

    digests = []
    for scale in (1, 2):
        folder = tmp_path / f"m{scale}"
        folder.mkdir()
        model = model_of(dense_graph())
        model.graph.initializer[0].CopyFrom(numpy_helper.from_array(W1 * scale, "W1"))
        onnx.save(
            model,
            folder / "model.onnx",
            save_as_external_data=True,
            location="weights.bin",
            size_threshold=0,
        )
        assert (folder / "weights.bin").stat().st_size > 0
        source = load_model(folder / "model.onnx")
        assert (source.predict(good_x()) > 0).all()  # a softmax over 3 classes
        digests.append(source.digest())
    assert digests[0] != digests[1]
