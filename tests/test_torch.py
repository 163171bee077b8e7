"""PyTorch modules through the Python API: exported to ONNX bytes, then analyzed as
any ONNX model (docs/decisions.md, "ONNX and PyTorch")."""

from __future__ import annotations

import urllib.request

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import free_port, served_dashboard
from torch import nn

import fracdash
from fracdash.errors import FracdashError
from fracdash.sources import as_source

SMALL_CNN = ["input", "features.0", "features.1", "features.2", "features.3", "features.4",
             "features.5", "features.6", "Flatten", "fc", "Softmax"]  # fmt: skip
KINDS = ["InputLayer", "Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "Relu",
         "MaxPool", "Flatten", "Gemm", "Softmax"]  # fmt: skip

#: True once the page's glyphs are those of ``names``, in order, each image decoded.
GLYPHS_DRAWN_JS = (
    "names => { const got = [...document.querySelectorAll('img.fd-glyph')];"
    " return JSON.stringify(got.map(e => e.dataset.layer)) === JSON.stringify(names)"
    " && got.every(e => e.complete && e.naturalWidth > 0); }"
)


class SmallCNN(nn.Module):
    """Conv, BatchNorm, ReLU, pooling, Dropout, Linear, Softmax: a classifier whose
    output is a distribution."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return F.softmax(self.fc(self.dropout(x)), dim=1)


class Residual(nn.Module):
    """A skip connection (``x + conv(relu(conv(x)))``) inside a submodule."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        x = self.stem(x)
        x = F.relu(x + self.conv2(F.relu(self.conv1(x))))
        return F.softmax(self.fc(x.view(x.size(0), -1)), dim=1)


def mnist(split, n):
    from fracdash.datasets import load_dataset

    x, y = load_dataset("mnist", split)
    return (x[:n, None] / np.float32(255)).astype(np.float32), y[:n].astype(np.int64)


@pytest.fixture(scope="module")
def trained():
    """SmallCNN trained one epoch on 3,000 MNIST training images (seeded), and 500
    test samples."""
    torch.manual_seed(0)
    model = SmallCNN()
    x, y = mnist("train", 3000)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    for start in range(0, len(x), 64):
        xb, yb = torch.from_numpy(x[start : start + 64]), torch.from_numpy(y[start : start + 64])
        loss = F.nll_loss(torch.log(model(xb).clamp_min(1e-12)), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, *mnist("test", 500)


@pytest.mark.slow  # trains a model
def test_a_trained_cnn_through_analyze(trained, tmp_path):
    model, x, y = trained
    assert model.training  # fracdash exports in eval mode and leaves the module as it was
    a = fracdash.analyze(model, x, y, cache=tmp_path)
    assert model.training
    assert [g.name for g in a.layers] == SMALL_CNN  # Dropout bridged, BatchNorm kept
    assert [g.kind for g in a.layers] == KINDS
    model.eval()
    try:
        with torch.no_grad():
            own = model(torch.from_numpy(x)).numpy().argmax(axis=1)
    finally:
        model.train()
    np.testing.assert_array_equal(a.predictions, own)
    assert a.accuracy > 0.8, a.accuracy
    quality = {g.name: g.quality for g in a.layers}
    assert quality["Softmax"] > quality["input"] + 0.2, quality
    by_name = {g.name: g for g in a.layers}
    np.testing.assert_array_equal(by_name["Flatten"].order, by_name["features.6"].order)
    assert "Flatten" not in [g.name for g in a.simplified().layers]
    again = fracdash.analyze(model, x, y, cache=tmp_path)  # same export, same digest: stored
    for g, h in zip(a.layers, again.layers, strict=True):
        np.testing.assert_array_equal(g.order, h.order)
    assert again.meta["key"] == a.meta["key"]


def test_skip_connections_are_kept():
    torch.manual_seed(1)
    x = np.random.default_rng(0).random((30, 1, 6, 6), dtype=np.float32)
    a = fracdash.analyze(Residual(), x, np.arange(30) % 3)
    inputs = {g.name: g.inputs for g in a.layers}
    assert inputs["Add"] == ("stem.1", "conv2")
    assert inputs["conv1"] == ("stem.1",) and inputs["Relu_1"] == ("Add",)
    assert {g.kind for g in a.layers} >= {"Add", "Reshape", "Gemm"}


def test_show_serves_a_torch_module(tmp_path):
    torch.manual_seed(2)
    x = np.random.default_rng(1).random((20, 1, 6, 6), dtype=np.float32)
    shown = fracdash.show(Residual(), x, np.arange(20) % 3, cache_dir=tmp_path,
                          port=free_port(), block=False)  # fmt: skip
    try:
        assert shown.run == "Residual"  # the module's class
        with urllib.request.urlopen(shown.url, timeout=30) as r:
            assert r.status == 200
    finally:
        shown.stop()


class BakedBatch(Residual):
    """``len(x)`` is a number when traced on one sample: the export is wrong for others."""

    def forward(self, x):
        return F.softmax(self.fc(self.stem(x).reshape(len(x), -1)), dim=1)


def test_a_module_that_cannot_run_on_x_is_refused():
    x = np.zeros((4, 1, 5, 5), np.float32)  # Residual's Linear wants 6 x 6
    with pytest.raises(FracdashError, match=r"cannot export the PyTorch module to ONNX \("):
        fracdash.analyze(Residual(), x, np.arange(4) % 3)
    x = np.zeros((4, 1, 6, 6), np.float32)
    with pytest.raises(FracdashError, match=r"fails on 3 samples .*x.flatten\(1\)"):
        fracdash.analyze(BakedBatch(), x, np.arange(4) % 3)
    with pytest.raises(TypeError, match="needs example inputs"):
        as_source(Residual())


@pytest.mark.slow  # trains a model
def test_the_readme_export_then_the_command_line(trained, tmp_path):
    """The README's route for a PyTorch model: export to ONNX with the call fracdash
    prints for a .pt file, then ``fracdash analyze`` on uint8 images (n, 28, 28), which
    become the (n, 1, 28, 28) the model takes."""
    from click.testing import CliRunner

    from fracdash.cli import main
    from fracdash.runs import load_run
    from fracdash.sources.torch_source import EXPORT_CALL
    from fracdash.store import Store

    model, x, y = trained
    images = np.rint(x[:, 0] * 255).astype(np.uint8)
    np.savez(tmp_path / "test.npz", x=images, y=y)
    x = torch.from_numpy(x)
    model.eval()
    try:
        exec(EXPORT_CALL.replace("'model.onnx'", repr(str(tmp_path / "model.onnx"))))
        with torch.no_grad():
            own = model(x).numpy().argmax(axis=1)
    finally:
        model.train()
    cache = tmp_path / "cache"
    args = ["analyze", "--model", str(tmp_path / "model.onnx"), "--data",
            str(tmp_path / "test.npz"), "--scale", "1/255", "--cache-dir", str(cache)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr  # (n, 28, 28) -> (n, 1, 28, 28): no note needed
    store = Store(cache)
    try:
        a = load_run(store, "model")
    finally:
        store.close()
    assert [g.name for g in a.layers] == SMALL_CNN
    assert (a.predictions == own).mean() > 0.99  # uint8 rounding of x may flip a near-tie


@pytest.mark.slow
@pytest.mark.browser
def test_the_dashboard_shows_every_layer_of_a_torch_run(trained, tmp_path, browser):
    """The stored run of a PyTorch module in the real page (Chromium): every layer's
    glyph is drawn, named as the analysis names it."""
    from fracdash.runs import analyze_run
    from fracdash.store import Store

    model, x, y = trained
    store = Store(tmp_path / "cache")
    try:
        analyze_run(store, model, x, y, name="torch-cnn")
    finally:
        store.close()
    with served_dashboard(tmp_path / "cache", tmp_path / "server.log",
                          default_run="torch-cnn") as url:  # fmt: skip
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_function(GLYPHS_DRAWN_JS, arg=SMALL_CNN, timeout=30_000)
        page.close()
    assert not errors, errors
