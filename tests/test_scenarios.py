"""The paper's networks as specified (docs/method.md §7), and scenarios end to end at reduced
size."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from fracdash import scenarios as table
from fracdash.models import training as scenarios
from fracdash.runs import catalog, load_run
from fracdash.store import Store


def test_lenet5_matches_the_paper(keras):
    model = scenarios.build_lenet5()
    assert model.count_params() == 1_182_006  # Table 1
    names = [layer.name for layer in model.layers]
    assert names == ["input", "conv2d0", "relu0", "conv2d1", "relu1", "flatten", "dense0",
                     "relu2", "dropout", "dense1", "prediction"]  # fmt: skip


def test_double_lenet5_branches_without_lambda(keras):
    from fracdash.models.network import network_graph

    model = scenarios.build_double_lenet5()
    kinds = {layer.__class__.__name__ for layer in model.layers}
    assert "Lambda" not in kinds and "Permute" in kinds
    net = network_graph(model)
    names = [n.name for n in net.nodes]
    assert names[0] == "input" and names[-1] == "prediction"
    assert ("input", "rotate") in net.edges and ("rotate", "b_conv2d0") in net.edges
    assert ("input", "a_conv2d0") in net.edges
    assert {("a_relu2", "concatenate"), ("b_relu2", "concatenate")} <= set(net.edges)
    assert not any("dropout" in n for n in names)


def test_vgg16_base_is_expanded(keras):
    from fracdash.models.network import network_graph

    model = scenarios.build_vgg16()
    net = network_graph(model)
    names = [n.name for n in net.nodes]
    assert names[:2] == ["input", "block1_conv1"]
    assert names[-7:] == ["flatten", "dense0", "relu0", "dense1", "relu1", "dense2", "prediction"]
    assert sum(n.kind == "Conv2D" for n in net.nodes) == 13
    base = model.layers[1]
    assert base.count_params() == 14_714_688 and not base.trainable  # Table 1, frozen
    assert net.nodes[1].output_shape == (32, 32, 64)


def test_prepare_images():
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    lenet = table.prepare_images(x, "lenet5")
    assert lenet.shape == (2, 28, 28, 1) and lenet.dtype == np.float32 and lenet.max() <= 1
    vgg = table.prepare_images(x, "vgg16")
    assert vgg.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(vgg[:, 2:30, 2:30, 1], lenet[..., 0])
    assert vgg[:, :2].max() == 0 and np.array_equal(vgg[..., 0], vgg[..., 2])


def run_cli(*args, cache_dir):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-m", "fracdash.cli", *args, "--cache-dir", str(cache_dir)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario", "layers"),
    [("easy", 10), ("realistic", 19)],
)
def test_precompute_end_to_end(scenario, layers, tmp_path):
    cache_dir = tmp_path / "cache"
    args = ("precompute", scenario, "--samples", "300", "--epochs", "1", "--train-samples", "3000")
    done = run_cli(*args, cache_dir=cache_dir)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("accuracy ") and "on 300 test samples" in lines[0]
    quality_lines = [line for line in lines if " quality " in line]
    assert len(quality_lines) == layers
    assert "prediction" in quality_lines[-1]

    store = Store(cache_dir)
    run = f"{scenario}-300"
    assert run in catalog(store)
    analysis = load_run(store, run)
    assert analysis.n == 300 and len(analysis.layers) == layers
    accuracy = float(lines[0].split()[1].rstrip("%")) / 100
    assert accuracy == pytest.approx(analysis.accuracy, abs=5e-5)
    for line, glyph in zip(quality_lines, analysis.layers, strict=True):
        assert glyph.name in line and f"quality {glyph.quality:.3f}" in line
    # LeNet5 trained one epoch on 3,000 digits/clothes is already far above chance.
    assert analysis.accuracy > 0.5
    glyph_dir = cache_dir / "glyphs" / run
    pngs = sorted(glyph_dir.glob("*-absolute.png"))
    assert len(pngs) == layers
    with Image.open(pngs[0]) as image:
        assert image.size == (18, 17)  # 300 samples on the compact curve, 6 cells empty

    # A rerun with nothing changed trains nothing and orders nothing.
    models = sorted((cache_dir / "models").iterdir())
    stamps = [m.stat().st_mtime_ns for m in models]
    again = run_cli(*args, cache_dir=cache_dir)
    assert again.returncode == 0, again.stderr
    assert again.stdout == done.stdout
    assert "ordering layers" not in again.stderr and "Epoch" not in again.stdout + again.stderr
    assert [m.stat().st_mtime_ns for m in sorted((cache_dir / "models").iterdir())] == stamps


def test_unknown_scenario_is_one_line_error(tmp_path):
    done = run_cli("precompute", "nope", cache_dir=tmp_path / "c")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "fracdash: error: unknown scenario 'nope'; choose one of easy, generalization, "
        "problematic, simplification, realistic"
    ]
