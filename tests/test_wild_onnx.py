"""ONNX files as other people's exporters wrote them: no node names and a batch fixed
at 10 (older torch.onnx.export), nodes out of topological order (older keras2onnx), a
forward returning (logits, features). Each gives the framework's own predictions, or a
one-line refusal naming the fix."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

import fracdash
from fracdash.errors import UserDataError
from fracdash.sources import as_source

RNG = np.random.default_rng(3)


class Net(torch.nn.Module):
    """A small CNN with named submodules, as tutorials write them."""

    def __init__(self, features: bool = False):
        super().__init__()
        torch.manual_seed(0)
        self.features = features
        self.body = torch.nn.Module()
        self.body.conv1 = torch.nn.Conv2d(1, 4, 3)
        self.head = torch.nn.Module()
        self.head.fc1 = torch.nn.Linear(4 * 6 * 6, 16)
        self.head.fc2 = torch.nn.Linear(16, 3)

    def forward(self, x):
        h = torch.relu(self.body.conv1(x)).flatten(1)
        h = torch.relu(self.head.fc1(h))
        out = torch.log_softmax(self.head.fc2(h), 1).exp()
        return (out, h) if self.features else out


def module_predictions(module, x) -> np.ndarray:
    with torch.no_grad():
        out = module.eval()(torch.from_numpy(x))
    return (out[0] if isinstance(out, tuple) else out).numpy().argmax(1)


def old_export(module, batch: int) -> onnx.ModelProto:
    """What an older torch.onnx.export wrote: a fixed batch, no node names, tensors
    numbered; the weights keep their module paths."""
    import io

    buffer = io.BytesIO()
    torch.onnx.export(module.eval(), (torch.zeros(batch, 1, 8, 8),), buffer, dynamo=False,
                      do_constant_folding=False, input_names=["input.1"],
                      output_names=["output"])  # fmt: skip
    model = onnx.load_from_string(buffer.getvalue())
    graph = model.graph
    weights = {t.name for t in graph.initializer}
    rename, number = {}, 16
    for node in graph.node:
        node.name = ""
        for i, out in enumerate(node.output):
            if out not in ("output",):
                rename[out] = str(number)
                number += 1
                node.output[i] = rename[out]
        for i, inp in enumerate(node.input):
            if inp in rename and inp not in weights:
                node.input[i] = rename[inp]
    return model


def data(n: int = 23):
    x = RNG.normal(size=(n, 1, 8, 8)).astype(np.float32)
    return x, np.arange(n) % 3


def test_unnamed_nodes_are_named_from_weights_and_a_fixed_batch_is_honoured():
    module = Net()
    model = old_export(module, batch=10)
    assert not any(n.name for n in model.graph.node)
    x, y = data(23)  # not a multiple of 10: the last batch is padded, then cut
    source = as_source(model)
    assert source.batch_size == 10
    names = [node.name for node in source.network(x[:1]).nodes]
    assert {"body.conv1", "head.fc1", "head.fc2"} <= set(names), names
    assert not [n for n in names if n.isdigit()], names
    analysis = fracdash.analyze(model, x, y)
    np.testing.assert_array_equal(analysis.predictions, module_predictions(module, x))


def test_nodes_out_of_order_are_sorted_not_refused():
    module = Net()
    model = old_export(module, batch=10)
    shuffled = onnx.ModelProto()
    shuffled.CopyFrom(model)
    nodes = list(shuffled.graph.node)
    del shuffled.graph.node[:]
    shuffled.graph.node.extend(reversed(nodes))
    with pytest.raises(onnx.checker.ValidationError):
        onnx.checker.check_model(shuffled)  # what refused such files before
    x, y = data(20)
    got = fracdash.analyze(shuffled, x, y)
    want = fracdash.analyze(model, x, y)
    np.testing.assert_array_equal(got.predictions, module_predictions(module, x))
    for g, w in zip(got.layers, want.layers, strict=True):
        assert g.name == w.name
        np.testing.assert_array_equal(g.order, w.order)


def test_two_outputs_refused_with_the_fix_then_picked_by_index_or_name():
    module = Net(features=True)
    x, y = data(12)
    with pytest.raises(UserDataError) as info:
        as_source(module, x)
    message = str(info.value)
    assert "2 outputs (0: output, 1: output_1)" in message and "output=" in message
    assert "\n" not in message
    for output in (0, "output"):
        analysis = fracdash.analyze(as_source(module, x, output=output), x, y)
        np.testing.assert_array_equal(analysis.predictions, module_predictions(module, x))
    with pytest.raises(UserDataError, match=r"has no output 'logits'; its outputs are 0: output"):
        as_source(module, x, output="logits")


def test_an_onnx_file_with_two_outputs_picks_one(tmp_path):
    import io

    module = Net(features=True)
    buffer = io.BytesIO()
    torch.onnx.export(module.eval(), (torch.zeros(1, 1, 8, 8),), buffer, dynamo=False,
                      input_names=["x"], output_names=["probs", "hidden"],
                      dynamic_axes={n: {0: "n"} for n in ("x", "probs", "hidden")})  # fmt: skip
    path = tmp_path / "two.onnx"
    path.write_bytes(buffer.getvalue())
    x, y = data(9)
    with pytest.raises(UserDataError, match=r"2 outputs \(0: probs, 1: hidden\); pick"):
        as_source(path)
    source = as_source(path, output="probs")
    np.testing.assert_array_equal(source.predict(x).argmax(1), module_predictions(module, x))
    assert as_source(path, output=0).digest() == source.digest()  # one output, two spellings
    assert source.digest() != as_source(path, output=1).digest()


def test_a_dynamo_export_with_its_weights_in_onnx_data(tmp_path):
    """PyTorch's current exporter (dynamo=True) writes ``model.onnx`` and its weights in
    ``model.onnx.data`` beside it: the pair loads where it is and wherever it is moved
    together; the ``.onnx`` alone is refused in one line naming the missing file."""
    import shutil

    import onnxscript  # noqa: F401  (the test extra installs it: torch's exporter needs it)
    module = Net()
    program = torch.onnx.export(module.eval(), (torch.zeros(2, 1, 8, 8),), dynamo=True,
                                dynamic_shapes=({0: "batch"},))  # fmt: skip
    folder = tmp_path / "exported"
    folder.mkdir()
    program.save(str(folder / "model.onnx"), external_data=True)
    weights = folder / "model.onnx.data"
    assert weights.stat().st_size >= 4 * 16 * 4 * 6 * 6  # fc1 (16 x 144 float32) is there
    assert (folder / "model.onnx").stat().st_size < weights.stat().st_size
    x, y = data(17)
    analysis = fracdash.analyze(folder / "model.onnx", x, y)
    np.testing.assert_array_equal(analysis.predictions, module_predictions(module, x))

    moved = tmp_path / "moved"
    shutil.copytree(folder, moved)
    source = as_source(moved / "model.onnx")
    np.testing.assert_array_equal(source.predict(x).argmax(1), module_predictions(module, x))
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(folder / "model.onnx", alone / "model.onnx")
    with pytest.raises(UserDataError) as info:
        as_source(alone / "model.onnx").predict(x)
    message = str(info.value)
    assert "model.onnx.data" in message and "missing" in message and "\n" not in message
