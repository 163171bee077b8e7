"""The scratch disk a run needs (spilled activations, an out-of-core distance matrix)
is known from the layers' shapes and checked before the forward pass: a run too large
for the disk fails at once, with nothing computed and nothing stored."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

import fracdash
from fracdash import capacity, pipeline
from fracdash.core import direct, outofcore, scratch
from fracdash.core.chunked import ChunkedMatrix
from fracdash.errors import ScratchSpaceError
from fracdash.models import activations
from fracdash.sources import as_source
from fracdash.store import Store

GB = 10**9


@pytest.fixture
def toy(toy_branched):
    rng = np.random.default_rng(5)
    x = rng.random((60, 6, 6, 1), dtype=np.float32)
    return as_source(toy_branched, example=x), x, rng.integers(0, 3, 60)


def fake_free(monkeypatch, free: int) -> list:
    """Every disk reports ``free`` bytes free; returns the paths asked about."""
    asked = []

    def disk_usage(path):
        asked.append(path)
        return SimpleNamespace(total=2 * free, used=free, free=free)

    monkeypatch.setattr(scratch.shutil, "disk_usage", disk_usage)
    return asked


@pytest.mark.parametrize("n", [2, 37, 300])
@pytest.mark.parametrize(
    ("spilled", "ordered", "budget", "matrix"),
    [
        ([], [5], 0, False),  # every layer narrow: ordered from exact distances, no file
        ([], [5, 17], 0, True),  # one layer wider than WIDEST: one matrix file
        ([40, 3], [17, 300], 0, True),  # two wide layers: still one file at a time
        ([40, 3], [17, 300], 10**12, False),  # the matrix fits the budget: in memory
        ([8], [], 0, False),  # nothing ordered here (a cluster orders): the files only
    ],
)
def test_scratch_bytes_are_the_files_a_run_writes(n, spilled, ordered, budget, matrix):
    """The formula against the bytes of the arrays themselves: one float32 (n, d) per
    spilled layer, plus one float32 (n, n) when a wide layer's matrix is past budget."""
    files = sum(np.zeros((n, d), np.float32).nbytes for d in spilled)
    if matrix and np.zeros((n, n), np.float32).nbytes > budget:
        files += np.zeros((n, n), np.float32).nbytes
    assert scratch.scratch_bytes(n, spilled, ordered, budget, direct.WIDEST) == files


@pytest.mark.parametrize(("d", "route"), [(direct.WIDEST + 1, "file"), (direct.WIDEST, "direct")])
def test_scratch_bytes_match_the_distance_file_vat_writes(d, route):
    """Past the matrix budget, vat_order's own record of its file (fstat of it) is what
    the formula says: 4·n² bytes for a wide layer, none for a narrow one."""
    x = np.random.default_rng(d).normal(size=(150, d)).astype(np.float32)
    stats = {}
    fracdash.vat_order(x, matrix_budget=0, stats=stats)
    assert stats["rows"] == route
    assert stats["disk_bytes"] == scratch.scratch_bytes(150, [], [d], 0, direct.WIDEST)


def test_spilled_widths_are_the_files_the_forward_pass_writes(toy, monkeypatch):
    """The layers planned as files before the pass are those it writes, byte for byte."""
    source, x, _ = toy
    net = source.network(x[:1])
    names = [node.name for node in net.nodes]
    monkeypatch.setattr(activations.Activations, "SMALL_LAYER", 4 * len(x) * 40)
    widths = activations.spilled_widths(net, names, len(x), memory_budget=0)
    assert widths  # some layers to files, some (the narrow ones) kept in memory
    with activations.forward(
        net, [x], names, memory_budget=0, outputs=lambda wanted: source.layer_outputs(net, wanted)
    ) as acts:
        files = [a for a in acts.arrays.values() if isinstance(a, ChunkedMatrix)]
        sizes = sorted(os.path.getsize(a.path) for a in files)
        in_memory = [a for a in acts.arrays.values() if not isinstance(a, ChunkedMatrix)]
    assert in_memory
    assert sizes == sorted(4 * len(x) * d for d in widths)


def test_a_run_too_large_for_the_disk_fails_before_the_forward_pass(toy, tmp_path, monkeypatch):
    source, x, y = toy
    calls = []
    for method in ("layer_outputs", "predict"):
        real = getattr(source, method)
        monkeypatch.setattr(source, method, lambda *a, m=method, r=real: calls.append(m) or r(*a))
    monkeypatch.setenv(outofcore.ENV_VAR, "0")  # every matrix to disk: 4·60² bytes
    monkeypatch.setenv(scratch.ENV_VAR, str(tmp_path / "scratch" / "not-made-yet"))
    asked = fake_free(monkeypatch, 4 * 60 * 60 - 1)
    store = Store(tmp_path / "store")
    with pytest.raises(ScratchSpaceError) as err:
        pipeline.analyze(source, x, y, store=store)  # the computation alone
    message = str(err.value)
    assert "\n" not in message and "FRACDASH_TMPDIR" in message and "--samples" in message
    assert calls == []  # no forward pass, not even a prediction
    assert store.keys() == []  # nothing stored
    assert asked == [tmp_path]  # the scratch folder's nearest existing parent
    fake_free(monkeypatch, 4 * 60 * 60)  # exactly enough: the run goes through
    a = pipeline.analyze(source, x, y, store=store)
    assert calls and a.n == 60 and store.keys()


def test_200000_samples_need_160_gb_of_scratch(toy, monkeypatch):
    """The issue's case, from the graph alone: the distance matrix of 200,000 samples
    is 160 GB; with 100 GB free the run is refused, with 200 GB it passes."""
    source, x, _ = toy
    net = source.network(x[:1])
    names = [node.name for node in net.nodes]
    fake_free(monkeypatch, 100 * GB)
    with pytest.raises(ScratchSpaceError, match=r"200,000 samples need 160\.0 GB"):
        capacity.check_scratch_space(net, names, names, 200_000)
    fake_free(monkeypatch, 200 * GB)
    assert capacity.check_scratch_space(net, names, names, 200_000) == 4 * 200_000**2


def test_layers_ordered_elsewhere_need_no_matrix_here(toy, monkeypatch):
    """With a cluster ordering the layers, only the spilled activations use this disk:
    the same run needs exactly one distance matrix less than when ordered here."""
    source, x, _ = toy
    net = source.network(x[:1])
    names = [node.name for node in net.nodes]
    monkeypatch.setattr(activations, "DEFAULT_MEMORY_BUDGET", 0)
    monkeypatch.setattr(activations.Activations, "SMALL_LAYER", 0)
    fake_free(monkeypatch, 1000 * GB)
    n = 200_000
    here = capacity.check_scratch_space(net, names, names, n)
    elsewhere = capacity.check_scratch_space(net, names, names, n, local=False)
    assert elsewhere > 0 and here - elsewhere == 4 * n * n
