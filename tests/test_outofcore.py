"""Exact VAT with the distance matrix on disk (issue 16), forced on small n by a tiny
matrix budget: the same orders as in memory and as the float64 brute force, and a
scratch directory that never outlives its process for long."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import brute_vat, normalised, star_near_ties

from fracdash import vat_order
from fracdash.core import chunked, direct, outofcore, scratch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def own_tmpdir(tmp_path, monkeypatch):
    """Scratch directories go to a fresh folder each test looks into."""
    root = tmp_path / "scratch"
    root.mkdir()
    monkeypatch.setenv(scratch.ENV_VAR, str(root))
    return root


@pytest.fixture(params=["file", "direct"])
def rows(request, monkeypatch):
    """Both routes past the budget: float32 rows in a scratch file, or exact float64
    distances computed when needed (narrow layers)."""
    monkeypatch.setattr(direct, "WIDEST", 0 if request.param == "file" else 10**6)
    return request.param


def on_disk(x, metric="euclidean", **kw):
    """vat_order past the matrix budget (a file unless direct.WIDEST says otherwise)."""
    stats = {}
    order = vat_order(x, metric, matrix_budget=0, stats=stats, **kw)
    assert stats["out_of_core"]
    if stats["rows"] == "file":
        assert stats["disk_bytes"] == 4 * x.shape[0] ** 2
    else:
        assert stats["disk_bytes"] == 0
    return order


@pytest.mark.parametrize("panel_rows", [1, 7, 64, 1000])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_orders_equal_memory_and_brute_force(monkeypatch, panel_rows, metric, rows):
    rng = np.random.default_rng(panel_rows)
    n = 150
    x = rng.normal(size=(n, 6)).astype(np.float32)
    x[100:130] = x[:30]  # exact duplicates: ties broken towards the lower index
    x[140:] = 0.0  # zero rows (cosine keeps them at the origin)
    monkeypatch.setattr(outofcore, "PANEL_BYTES", 4 * n * panel_rows)
    got = on_disk(x, metric)
    ref = brute_vat(normalised(x) if metric == "cosine" else x)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(got, vat_order(x, metric))


@pytest.mark.parametrize("d", [1, 5, 8, 9, 16])
def test_direct_route_at_every_width_it_takes(monkeypatch, d):
    """Exact float64 distances summed in numpy's order whatever the width (left to
    right below 8 values, eight running sums and a tail above): the orders equal the
    brute force's and the float32 file's, on rows whose sums depend on their order
    (values from 1e-8 to 1e8) and with exact duplicates."""
    rng = np.random.default_rng(d)
    x = rng.normal(size=(120, d)) * 10.0 ** rng.integers(-8, 9, size=(1, d))
    x[90:110] = x[:20]
    monkeypatch.setattr(direct, "WIDEST", 16)
    stats = {}
    got = vat_order(x, matrix_budget=0, stats=stats)
    assert stats["rows"] == "direct" and stats["disk_bytes"] == 0
    np.testing.assert_array_equal(got, brute_vat(x))
    monkeypatch.setattr(direct, "WIDEST", 0)
    np.testing.assert_array_equal(got, on_disk(x))


@pytest.mark.parametrize("d", [1, 5, 8, 9, 16, 23])
@pytest.mark.parametrize("kind", ["float64, factors", "float32"])
def test_direct_distances_are_numpys_bit_for_bit(d, kind):
    """Each computed row equals ``((x - x[j]) ** 2).sum(axis=1)`` in float64 exactly
    (numpy's pairwise order), rows scaled by their factors (float64) or kept as they
    are (float32, factors 1), from any start column."""
    rng = np.random.default_rng(d)
    n = 1100  # more than two blocks of samples
    x = rng.normal(size=(n, d)) * 10.0 ** rng.integers(-6, 7, size=(1, d))
    factors = rng.random(n) + 0.5
    if kind == "float32":
        x, factors = x.astype(np.float32), np.ones(n)
    y = direct.scaled_rows(chunked.ArrayChunks(x), factors, n, d)
    assert y.dtype == x.dtype
    out, acc = np.empty(n), np.empty((8, direct._SPAN))
    scaled = x.astype(np.float64) * factors[:, None]
    def row(j, start, scale2):  # the spans every direct route computes, laid end to end
        for c0 in range(start, n, direct._SPAN):
            c1 = min(n, c0 + direct._SPAN)
            direct._span(y, j, c0, c1, scale2, acc)
            out[c0:c1] = acc[0, : c1 - c0]

    for j in (0, 517, n - 1):
        row(j, 0, 0.25)
        np.testing.assert_array_equal(out, ((scaled - scaled[j]) ** 2).sum(axis=1) * 0.25)
        row(j, 700, 1.0)
        np.testing.assert_array_equal(out[700:], ((scaled[700:] - scaled[j]) ** 2).sum(axis=1))


@pytest.mark.parametrize("threads", [1, 3])
def test_direct_first_maximum_is_the_first_row_whatever_the_threads(monkeypatch, threads):
    """The farthest pair occurs many times (copies of two extreme points spread over
    the rows, so over many stripes of the search): the first row holding it wins."""
    rng = np.random.default_rng(threads)
    x = rng.normal(size=(400, 3))
    lo, hi = np.array([-50.0, 0, 0]), np.array([50.0, 0, 0])
    for i in rng.choice(np.arange(30, 400), 12, replace=False):
        x[i] = lo if i % 2 else hi
    monkeypatch.setattr(direct, "THREADS", threads)
    monkeypatch.setattr(direct, "WIDEST", 16)
    got = vat_order(x, matrix_budget=0)
    ref = brute_vat(x)
    assert got[0] == ref[0] == min(i for i in range(400) if abs(x[i, 0]) == 50.0)
    np.testing.assert_array_equal(got, ref)


def test_direct_route_ranks_a_saturated_softmax(monkeypatch):
    """A softmax layer's confident outputs: probabilities 1 - 1e-9·k, far below
    float32's resolution, every pair of two classes at nearly the same distance."""
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 10, 400)
    x = np.full((400, 10), 1e-10) * rng.random((400, 10))
    x[np.arange(400), labels] = 1.0 - 1e-9 * rng.integers(1, 50, 400)
    monkeypatch.setattr(direct, "WIDEST", 16)
    stats = {}
    got = vat_order(x, matrix_budget=0, stats=stats)
    assert stats["rows"] == "direct"
    np.testing.assert_array_equal(got, brute_vat(x))
    np.testing.assert_array_equal(got, vat_order(x))


@pytest.mark.parametrize("seed", range(3))
def test_near_ties_below_float32_resolution(monkeypatch, seed, rows):
    """Distances that float32 cannot rank: the float64 re-checks read rows back."""
    monkeypatch.setattr(outofcore, "PANEL_BYTES", 4 * 300 * 13)
    x, *_ = star_near_ties(np.random.default_rng(seed), spokes=300)
    np.testing.assert_array_equal(on_disk(x), brute_vat(x))
    np.testing.assert_array_equal(on_disk(x), vat_order(x))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny(n, rows):
    x = np.arange(n * 2, dtype=np.float64).reshape(n, 2) ** 2
    np.testing.assert_array_equal(on_disk(x), brute_vat(x))


def test_layer_on_disk_and_its_relu_view(tmp_path, monkeypatch, rows):
    """A layer kept as column chunks in a file, and the same file read as max(x, 0)
    (a ReLU without a file of its own): both order as the brute force does."""
    monkeypatch.setattr(chunked, "CHUNK_BYTES", 1)  # chunks of 256 columns
    monkeypatch.setattr(outofcore, "PANEL_BYTES", 4 * 200 * 50)
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 600))
    x = centres[rng.integers(0, 3, 200)] + 1e-6 * rng.normal(size=(200, 600))
    x = x.astype(np.float32)
    m = chunked.ChunkedMatrix(tmp_path / "layer.f32", *x.shape)
    m.write_rows(0, x)
    relu = m.relu_view()
    np.testing.assert_array_equal(relu.to_array(), np.maximum(x, 0))
    np.testing.assert_array_equal(on_disk(m), brute_vat(x.astype(np.float64)))
    np.testing.assert_array_equal(on_disk(relu), brute_vat(np.maximum(x, 0).astype(np.float64)))
    np.testing.assert_array_equal(on_disk(relu), vat_order(np.maximum(x, 0)))
    relu.remove()
    assert not (tmp_path / "layer.f32").exists()


def test_budget_from_the_environment(monkeypatch):
    x = np.random.default_rng(0).normal(size=(40, 3))
    monkeypatch.setenv(outofcore.ENV_VAR, "6K")  # 40² x 4 = 6,400 bytes > 6,144
    stats = {}
    vat_order(x, stats=stats)
    assert stats["out_of_core"]
    monkeypatch.setenv(outofcore.ENV_VAR, "7K")
    vat_order(x, stats=stats)
    assert not stats["out_of_core"]
    monkeypatch.delenv(outofcore.ENV_VAR)
    assert 4 * 10_000**2 <= outofcore.matrix_budget() < 4 * 60_000**2
    with pytest.raises(ValueError, match="FRACDASH_MATRIX_BUDGET"):
        outofcore.parse_bytes("lots")


def test_benchmark_figures(rows):
    stats = {"time_reads": True}
    vat_order(np.random.default_rng(4).normal(size=(200, 3)), matrix_budget=0, stats=stats)
    # Every figure bench/outofcore.py prints is there, and the parts sum within the whole.
    common = {"disk_bytes", "gram_s", "loop_s", "out_of_core", "rows", "time_reads"}
    parts = {"panel_rows", "read_s", "row_reads_s", "sgemm_s", "write_s", "write_wait_s"}
    assert set(stats) == (common | parts if rows == "file" else common)
    assert stats["rows"] == rows and stats["loop_s"] > 0
    if rows == "file":
        assert stats["disk_bytes"] == 4 * 200**2 and stats["panel_rows"] >= 1
        assert stats["row_reads_s"] > 0 and stats["write_s"] > 0 and stats["write_wait_s"] >= 0
        assert 0 < stats["sgemm_s"] and stats["read_s"] + stats["sgemm_s"] <= stats["gram_s"]


def test_progress_runs_through_both_phases(rows):
    x = np.random.default_rng(1).normal(size=(300, 4))
    seen = []
    on_disk(x, progress=lambda done, total: seen.append((done, total)))
    totals = {t for _, t in seen}
    assert len(totals) == 1
    total = totals.pop()
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == total
    # The first phase (the distance pass, or the direct route's first maximum)
    # reports too, and ends where Prim's loop starts.
    loop = 300 * outofcore.PRIM_WORK if rows == "file" else 300
    assert any(0 < d <= total - loop for d in done)


def entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_scratch_removed_after_success(own_tmpdir, rows):
    on_disk(np.random.default_rng(2).normal(size=(50, 3)))
    assert entries(own_tmpdir) == []


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_scratch_removed_after_an_error_mid_way(own_tmpdir, monkeypatch, error):
    """An exception (or Ctrl-C) in Prim's loop, with the file written: removed."""
    seen = []

    def progress(done, total):
        seen.append(entries(own_tmpdir))
        if done * 2 > total:
            raise error("stop")

    monkeypatch.setattr(direct, "WIDEST", 0)
    with pytest.raises(error):
        on_disk(np.random.default_rng(3).normal(size=(400, 3)), progress=progress)
    assert seen[-1] and seen[-1][0].startswith(f"fracdash-vat-{os.getpid()}-")
    assert entries(own_tmpdir) == []


def test_scratch_removed_when_the_disk_is_full(own_tmpdir, monkeypatch):
    monkeypatch.setattr(direct, "WIDEST", 0)
    monkeypatch.setattr(outofcore.shutil, "disk_usage", lambda _: SimpleNamespace(free=10))
    with pytest.raises(OSError, match="does not fit"):
        on_disk(np.ones((10, 2)))
    assert entries(own_tmpdir) == []


KILLED = """
import os, sys, time
import numpy as np
from fracdash import vat_order
from fracdash.core import direct, outofcore

direct.WIDEST = 0

def progress(done, total):
    if done > 300 * outofcore.WRITE_WORK:  # Prim's loop: the pass is over, the file whole
        print("running", flush=True)
        time.sleep(60)

vat_order(np.random.default_rng(0).normal(size=(300, 3)), matrix_budget=0, progress=progress)
"""


def test_stale_scratch_of_a_killed_process_is_swept(own_tmpdir):
    """kill -9 leaves the directory; the next scratch directory made sweeps it (its
    owner pid is gone), and leaves a live owner's alone."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", textwrap.dedent(KILLED)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "running"
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    left = entries(own_tmpdir)
    assert len(left) == 1 and left[0].startswith(f"fracdash-vat-{proc.pid}-")
    assert (own_tmpdir / left[0] / "distances.f32").stat().st_size == 4 * 300 * 300
    with scratch.ScratchDir("test") as mine:
        assert entries(own_tmpdir) == [mine.name]  # swept; its own kept
        scratch.sweep_stale()
        assert mine.is_dir()
    assert entries(own_tmpdir) == []


def test_reused_pid_is_not_its_owner(own_tmpdir):
    """A live pid started at another time than the directory says: swept."""
    me, start = os.getpid(), scratch.start_time(os.getpid())
    assert start is not None
    stale = own_tmpdir / f"fracdash-vat-{me}-{start + 1}-abc"
    live = own_tmpdir / f"fracdash-vat-{me}-{start}-abc"
    other = own_tmpdir / "not-fracdash-1-2-x"
    for path in (stale, live, other):
        path.mkdir()
    assert scratch.sweep_stale() == [stale]
    assert entries(own_tmpdir) == sorted([live.name, other.name])


RSS = """
import sys
import numpy as np
from fracdash import vat_order
from fracdash.core import outofcore

def kb(field):
    status = open("/proc/self/status").read()
    return int(status.split(field + ":")[1].split()[0]) * 1024

outofcore.PANEL_BYTES = 2 * 2**20
x = np.random.default_rng(0).normal(size=(6000, 20)).astype(np.float32)
vat_order(x[:500], matrix_budget=0)  # both routes compiled and warmed up
vat_order(x[:500])
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak (VmHWM) to the current resident size
before = kb("VmRSS")
order = vat_order(x, matrix_budget=int(sys.argv[1]))
print(kb("VmHWM") - before)
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux procfs")
def test_peak_memory_stays_below_the_matrix():
    """n = 6,000: the matrix is 144 MB. In memory the peak grows by about that much;
    out of core by a few MB (one 2 MB panel, O(n) vectors; the page cache is not
    this process's memory)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def growth(budget):
        cmd = [sys.executable, "-c", textwrap.dedent(RSS), str(budget)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        return int(done.stdout.split()[-1])

    assert growth(0) < 40e6
    assert growth(2**30) > 140e6


def write_idx(path: Path, a: np.ndarray) -> None:
    code = {np.uint8: 0x08}[a.dtype.type]
    header = bytes([0, 0, code, a.ndim]) + b"".join(d.to_bytes(4, "big") for d in a.shape)
    path.write_bytes(header + a.tobytes())


def test_split_all_is_train_then_test(tmp_path):
    """--split all: the 60,000 training images then the 10,000 test images (here a
    folder of small IDX files)."""
    from fracdash.datasets import FILES, load_dataset
    from fracdash.errors import DatasetError

    rng = np.random.default_rng(0)
    parts = {}
    for split, n in (("train", 7), ("test", 3)):
        parts[split] = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                        rng.integers(0, 10, n, dtype=np.uint8))  # fmt: skip
        write_idx(tmp_path / FILES[split, "images"], parts[split][0])
        write_idx(tmp_path / FILES[split, "labels"], parts[split][1])
    x, y = load_dataset("mnist", "all", data_dir=tmp_path)
    np.testing.assert_array_equal(x, np.concatenate([parts["train"][0], parts["test"][0]]))
    np.testing.assert_array_equal(y, np.concatenate([parts["train"][1], parts["test"][1]]))
    with pytest.raises(DatasetError, match="all"):
        load_dataset("mnist", "everything", data_dir=tmp_path)
