"""The installed package's metadata: a CPU TensorFlow by default, a `gpu` extra with
TensorFlow's CUDA build, and an SPDX license expression (no setuptools deprecation)."""

from __future__ import annotations

from importlib.metadata import metadata

from packaging.requirements import Requirement


def requirements():
    return [Requirement(r) for r in metadata("fracdash").get_all("Requires-Dist")]


def test_cpu_tensorflow_by_default_on_x86_64():
    env = {"platform_machine": "x86_64", "sys_platform": "linux", "extra": ""}
    base = {r.name for r in requirements() if r.marker is None or r.marker.evaluate(env)}
    assert "tensorflow-cpu" in base and "tensorflow" not in base


def test_gpu_extra_brings_cuda_tensorflow_on_linux_x86_64():
    gpu = {"platform_machine": "x86_64", "sys_platform": "linux", "extra": "gpu"}
    mac = {**gpu, "sys_platform": "darwin"}
    cuda = [r for r in requirements() if r.name == "tensorflow" and "and-cuda" in r.extras]
    assert len(cuda) == 1 and cuda[0].marker.evaluate(gpu)
    assert not cuda[0].marker.evaluate(mac)
    assert not cuda[0].marker.evaluate({**gpu, "extra": ""})  # never in the default install


def test_license_is_an_spdx_expression():
    meta = metadata("fracdash")
    assert meta["License-Expression"] == "MIT"


def test_onnx_is_an_extra_and_in_the_test_extra():
    env = {"platform_machine": "x86_64", "sys_platform": "linux"}
    wanted = {"onnx", "onnxruntime"}
    for extra, names in (("", set()), ("onnx", wanted), ("test", wanted | {"torch"})):
        found = {r.name for r in requirements() if r.marker and r.marker.evaluate(
            {**env, "extra": extra})}  # fmt: skip
        assert found & (wanted | {"torch"}) == names, extra
    torch = [r for r in requirements() if r.name == "torch"]
    assert [str(r.specifier) for r in torch] == ["==2.13.0"]  # never an unpinned torch
