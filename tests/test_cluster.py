"""dask.distributed for the per-layer work (issue 16): on a LocalCluster of 2 worker
processes the orders equal this process's; a worker killed (SIGKILL, by pid) mid-run
changes nothing and each layer is stored once; a scheduler killed mid-run is one line
on stderr, exit 2, and every layer finished before it stays in the store; an address
where no scheduler answers is one line at once.

The layers are wide enough (8,192 values a sample) that an order takes a noticeable
time, so a kill lands while workers compute. The input and the convolutions (6 to 49 MB)
reach the workers as ``.npy`` files in the shared directory, the two 3-wide layers
inside their tasks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import numpy as np
import pytest
from helpers import free_port, run_cli

from fracdash import pipeline
from fracdash.cluster import DaskOrderer, LayerJob, LocalOrderer, check_address
from fracdash.errors import ClusterError
from fracdash.runs import load_run
from fracdash.store import Store, array_digest, stage_key

N = 1500
DEPTH = 6
TIMEOUT = 120  # seconds; every wait here ends in a failure, never a hang


@pytest.fixture(scope="module")
def wide(keras, tmp_path_factory):
    """A .keras model of 6 wide convolutions and 1,500 images in an .npz, and the orders
    of a run in this process (the reference), with the store keys the CLI derives."""
    from keras import layers

    from fracdash.inputs import data as userdata
    from fracdash.models.activations import model_digest

    d = tmp_path_factory.mktemp("wide")
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            *[layers.Conv2D(8, 3, padding="same", activation="relu", name=f"conv{i}")
              for i in range(DEPTH)],
            layers.Flatten(name="flatten"),
            layers.Dense(3, name="dense"),
            layers.Softmax(name="prediction"),
        ],
        name="wide_cnn",
    )  # fmt: skip
    model.save(d / "wide.keras")
    rng = np.random.default_rng(6)
    x = rng.random((N, 32, 32, 1), dtype=np.float32)
    y = np.arange(N) % 3
    np.savez(d / "test.npz", x=(255 * x[..., 0]).astype(np.uint8), y=y)
    # The model and inputs as the command line reads them.
    model = userdata.load_model(d / "wide.keras")
    x, y, _ = userdata.check_data(model, *userdata.load_data(d / "test.npz"))
    parents = (model_digest(model), array_digest(x))
    local = pipeline.analyze(model, x, y, orderer=LocalOrderer())
    keys = {
        g.name: stage_key("order", {"layer": g.name, "metric": "euclidean"}, parents)
        for g in local.layers if g.name != "flatten"  # Flatten shares conv5's order
    }  # fmt: skip
    return {"dir": d, "model": model, "x": x, "y": y, "local": local, "keys": keys}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A LocalCluster of 2 worker processes, one task at a time each."""
    orderer = DaskOrderer.local(2, shared_dir=tmp_path_factory.mktemp("shared"), threads=1)
    yield orderer
    orderer.close()


class CountingStore(Store):
    """A store that counts its array writes per key."""

    def __init__(self, directory):
        super().__init__(directory)
        self.writes = Counter()

    def set_array(self, key, value):
        self.writes[key] += 1
        super().set_array(key, value)


def assert_same_orders(a, b):
    assert [g.name for g in a.layers] == [g.name for g in b.layers]
    for ga, gb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_array_equal(ga.order, gb.order, err_msg=ga.name)
    np.testing.assert_array_equal(a.predictions, b.predictions)


@pytest.mark.slow
def test_two_workers_order_like_this_process(wide, cluster, tmp_path, monkeypatch):
    from fracdash import cluster as module

    sent, real = [], module._layer_source
    monkeypatch.setattr(module, "_layer_source", lambda *a: sent.append(real(*a)) or sent[-1])
    store = CountingStore(tmp_path / "store")
    got = pipeline.analyze(wide["model"], wide["x"], wide["y"], cache=store, orderer=cluster)
    assert_same_orders(got, wide["local"])
    assert sum(isinstance(s, str) for s in sent) == 7, "input and convs as .npy files"
    assert sum(isinstance(s, np.ndarray) for s in sent) == 2, "dense, prediction inline"
    assert set(store.writes.values()) == {1}
    assert set(store.writes) == set(got.meta["uses"])  # each order, and the predictions
    assert not list(cluster.shared_dir.iterdir()), "the scratch folder is removed"
    # Rerun on the same store: nothing is sent to the cluster, the orders are the same.
    again = pipeline.analyze(wide["model"], wide["x"], wide["y"], cache=store, orderer=cluster)
    assert_same_orders(again, wide["local"])
    assert set(store.writes.values()) == {1}


@pytest.mark.slow
def test_worker_killed_mid_run_changes_nothing(wide, cluster, tmp_path):
    client = cluster.client
    killed = []

    def kill_a_busy_worker(stage, done, total, detail):
        if stage != "order" or done == 0 or killed:
            return
        busy = client.run(lambda dask_worker: [ts.key for ts in dask_worker.state.executing])
        for address, keys in busy.items():
            if keys:
                pid = client.run(os.getpid, workers=[address])[address]
                os.kill(pid, signal.SIGKILL)
                killed.append((address, keys))
                return

    store = CountingStore(tmp_path / "store")
    got = pipeline.analyze(
        wide["model"], wide["x"], wide["y"], cache=store, orderer=cluster,
        progress=kill_a_busy_worker,
    )  # fmt: skip
    assert killed, "no worker was found computing a layer"
    address, keys = killed[0]
    assert address not in client.scheduler_info()["workers"], "the worker was not killed"
    assert_same_orders(got, wide["local"])
    assert set(store.writes.values()) == {1}, "each layer is stored once"
    assert set(store.writes) == set(got.meta["uses"])
    client.wait_for_workers(2, timeout=TIMEOUT)  # the nanny restarts it, for the next test


@pytest.mark.slow
def test_a_worker_that_cannot_read_a_layer_is_one_line(wide, cluster, monkeypatch):
    """As on a cluster without a shared filesystem: the path handed to the workers
    does not exist for them."""
    from fracdash import cluster as module

    monkeypatch.setattr(module, "_layer_source", lambda x, path, inline: str(path) + ".gone")
    with pytest.raises(ClusterError, match=r"a Dask worker cannot read .*\.npy\.gone .*; pass "
                       "--shared-dir DIR on a filesystem that every worker mounts"):  # fmt: skip
        pipeline.analyze(wide["model"], wide["x"], wide["y"], orderer=cluster)
    assert not list(cluster.shared_dir.iterdir()), "the scratch folder is removed"


def test_no_scheduler_at_the_address_is_one_line_at_once(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(ClusterError, match="no Dask scheduler answers at .*; start one"):
        check_address(address)
    with pytest.raises(ClusterError, match="is not a Dask scheduler address"):
        check_address("tcp://host:port:what")
    args = ["analyze", "--model", "m.keras", "--data", "d.npz", "--scheduler", address]
    result = run_cli(*args, cache=tmp_path / "store")
    assert time.monotonic() - start < 10
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fracdash: error: no Dask scheduler")
    assert "--scheduler tcp://HOST:8786" in lines[0]
    pre = run_cli("precompute", "easy", "--scheduler", address, cache=tmp_path / "store")
    assert pre.returncode == 2 and pre.stderr.count("\n") == 1, pre.stderr
    assert pre.stderr.startswith("fracdash: error: no Dask scheduler answers at")
    both = run_cli(*args, "--workers", "2", cache=tmp_path / "store")
    assert both.returncode == 2 and "exclude each other" in both.stderr


def test_local_orderer_yields_in_order_and_releases():
    rng = np.random.default_rng(0)

    class Acts(dict):
        def release(self, name):
            self.pop(name)

    acts = Acts(a=rng.random((30, 5)), b=rng.random((30, 2)))
    seen = []
    out = list(LocalOrderer().orders([LayerJob("a", 7), LayerJob("b", 3)], acts, "euclidean",
                                     lambda *p: seen.append(p)))  # fmt: skip
    assert [name for name, _ in out] == ["a", "b"] and not acts
    # Each layer's start, its progress inside (never backwards), its end; then done.
    assert seen[0] == (0, 10, "a") and (7, 10, "b") in seen and seen[-1] == (10, 10, "")
    done = [d for d, _, _ in seen]
    assert done == sorted(done) and all(t == 10 for _, t, _ in seen)
    assert any(0 < d < 7 for d, _, name in seen if name == "a")  # within layer a


def test_large_layers_go_as_npy_files_small_ones_inline(tmp_path):
    """A chunked matrix (column chunks, as the forward pass spills them) is streamed to a
    Fortran-order .npy that reads back equal; an array goes as C order; a small layer
    travels inline, as a copy (the pipeline may overwrite its buffer once it is sent)."""
    from fracdash.cluster import _layer_source

    x = np.random.default_rng(1).random((50, 70), dtype=np.float32)

    class Chunked:
        shape = x.shape

        def column_chunks(self):
            for f0 in range(0, 70, 32):
                yield f0, min(70, f0 + 32), np.ascontiguousarray(x[:, f0 : f0 + 32])

    path = _layer_source(Chunked(), tmp_path / "a.npy", inline_bytes=1000)
    back = np.load(path, mmap_mode="r", allow_pickle=False)
    assert back.flags.f_contiguous and back.dtype == np.float32
    np.testing.assert_array_equal(back, x)
    path = _layer_source(x, tmp_path / "b.npy", inline_bytes=1000)
    np.testing.assert_array_equal(np.load(path, allow_pickle=False), x)
    inline = _layer_source(x, tmp_path / "c.npy", inline_bytes=x.nbytes)
    assert isinstance(inline, np.ndarray) and not np.shares_memory(inline, x)
    np.testing.assert_array_equal(inline, x)
    assert not (tmp_path / "c.npy").exists()


def test_scratch_folders_of_dead_runs_on_this_host_are_removed(tmp_path):
    from fracdash.cluster import _host
    from fracdash.core.scratch import ScratchDir, start_time

    host = _host()
    dead = tmp_path / f"fracdash-cluster-{host}-{2**22 + 7}-1-abc"  # above pid_max's default
    alive = tmp_path / f"fracdash-cluster-{host}-{os.getpid()}-{start_time(os.getpid())}-abc"
    other_host = tmp_path / f"fracdash-cluster-elsewhere-{2**22 + 7}-1-abc"
    for d in (dead, alive, other_host):
        d.mkdir()
    scratch = ScratchDir("cluster", tmp_path, host=host)
    fresh = scratch.path
    assert fresh.is_dir() and fresh.name.startswith(f"fracdash-cluster-{host}-{os.getpid()}-")
    assert not dead.exists() and alive.exists() and other_host.exists()
    scratch.cleanup()
    assert not fresh.exists()


def test_the_local_path_never_imports_dask():
    code = (
        "import sys, fracdash.pipeline, fracdash.cluster, fracdash.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_cli_workers_stores_the_same_orders(wide, tmp_path):
    cache = tmp_path / "store"
    result = run_cli("analyze", "--model", str(wide["dir"] / "wide.keras"), "--data",
                     str(wide["dir"] / "test.npz"), "--workers", "2", "--name", "w",
                     cache=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not [p for p in cache.iterdir() if p.name.startswith("fracdash-cluster-")]
    store = Store(cache)
    try:
        assert_same_orders(load_run(store, "w"), wide["local"])
    finally:
        store.close()


def _spawn(*args, log):
    return subprocess.Popen(
        [sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


@pytest.mark.slow
def test_scheduler_killed_mid_run_is_one_line_and_keeps_finished_layers(
    wide, tmp_path, monkeypatch
):
    """``fracdash analyze`` (here through click, in this process) on a scheduler and 2
    workers in their own processes, found through $FRACDASH_SCHEDULER; the scheduler is
    killed once a layer is stored."""
    info, killed = tmp_path / "scheduler.json", []
    log = open(tmp_path / "dask.log", "w")  # closed below
    scheduler = ["--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0"]
    procs = [_spawn("distributed.cli.dask_scheduler", *scheduler, "--scheduler-file", str(info),
                    log=log)]  # fmt: skip
    try:
        deadline = time.monotonic() + TIMEOUT
        while not info.exists() or not info.read_text():
            assert procs[0].poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        workers = ["--nworkers", "2", "--nthreads", "1", "--no-dashboard"]
        procs.append(_spawn("distributed.cli.dask_worker", "--scheduler-file", str(info),
                            *workers, log=log))  # fmt: skip
        cache = tmp_path / "store"
        watcher = threading.Thread(
            target=_kill_after_first_layer, args=(cache, procs[0], wide["keys"], killed)
        )
        watcher.start()
        monkeypatch.setenv("FRACDASH_SCHEDULER", address)
        result = run_cli("analyze", "--model", str(wide["dir"] / "wide.keras"), "--data",
                         str(wide["dir"] / "test.npz"), "--shared-dir", str(tmp_path / "shared"),
                         cache=cache)  # fmt: skip
        watcher.join(TIMEOUT)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=TIMEOUT)
        log.close()
    assert killed, "the scheduler was not killed mid-run"
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0] == result.stderr.strip().splitlines()[-1]
    assert errors[0].startswith(f"fracdash: error: lost the Dask scheduler at {address}")
    assert "run the same command again" in errors[0] and "Traceback" not in result.stderr
    store = Store(cache)
    try:
        stored = {n: store.get_array(k) for n, k in wide["keys"].items() if k in store}
    finally:
        store.close()
    assert set(killed[0]) <= set(stored), "the layers finished before it died are kept"
    assert len(stored) < len(wide["keys"]), "the scheduler died after the last layer"
    for name, order in stored.items():
        np.testing.assert_array_equal(order, wide["local"].layer(name).order, err_msg=name)
    # The same command without the cluster resumes from them and completes the run.
    monkeypatch.delenv("FRACDASH_SCHEDULER")
    again = run_cli("analyze", "--model", str(wide["dir"] / "wide.keras"), "--data",
                    str(wide["dir"] / "test.npz"), cache=cache)  # fmt: skip
    assert again.returncode == 0, again.stderr
    store = Store(cache)
    try:
        assert all(key in store for key in wide["keys"].values())
        for name, order in stored.items():  # the kept orders are unchanged
            np.testing.assert_array_equal(store.get_array(wide["keys"][name]), order)
        assert_same_orders(load_run(store, "wide"), wide["local"])
    finally:
        store.close()


def _kill_after_first_layer(cache, scheduler, keys, killed):
    """Poll the store; SIGKILL the scheduler once a layer's order is in it."""
    deadline = time.monotonic() + TIMEOUT
    while not (cache / "store").is_dir():
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)
    store = Store(cache)
    try:
        while not any(key in store for key in keys.values()):
            if time.monotonic() > deadline or scheduler.poll() is not None:
                return
            time.sleep(0.005)
        os.kill(scheduler.pid, signal.SIGKILL)
        killed.append(sorted(name for name, key in keys.items() if key in store))
    finally:
        store.close()
