"""Faults in ``fracdash analyze``: a run killed with SIGKILL resumes from the finished
layers, and two runs of one analysis on one store compute every layer once.

Which layers a run computed is read from its stderr under ``FRACDASH_LOG=debug``: the
pipeline logs ``order <layer>: computed`` after storing an order it computed, and
``order <layer>: stored by another process`` when it finds one under the layer's lock.
Which layers are stored is read from the store itself.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPTH = 8
#: Layers with an order of their own (Flatten reuses conv7's), in the order computed.
ORDERED = ["input", *[f"conv{i}" for i in range(DEPTH)], "dense", "prediction"]
N = 1500
TIMEOUT = 300  # seconds; any wait in these tests ends with a failure, never a hang
COMPUTED = re.compile(r"order (\S+): computed$", re.M)
FOUND = re.compile(r"order (\S+): stored by another process$", re.M)


@pytest.fixture(scope="module")
def wide_files(keras, tmp_path_factory):
    """A .keras model of 8 wide convolutions (8,192 values a sample each) and 1,500
    images in an .npz: each layer's order takes a noticeable time (~0.15 s here), so a
    kill lands between two stored layers."""
    from keras import layers

    d = tmp_path_factory.mktemp("wide")
    keras.utils.set_random_seed(3)
    convs = [
        layers.Conv2D(8, 3, padding="same", activation="relu", name=f"conv{i}")
        for i in range(DEPTH)
    ]
    model = keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            *convs,
            layers.Flatten(name="flatten"),
            layers.Dense(3, name="dense"),
            layers.Softmax(name="prediction"),
        ],
        name="wide_cnn",
    )
    model.save(d / "wide.keras")
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (N, 32, 32), dtype=np.uint8)
    np.savez(d / "test.npz", x=x, y=np.arange(N) % 3)
    return d


@pytest.fixture(scope="module")
def order_keys(wide_files):
    """Store key of each layer's order, derived as the CLI derives it."""
    from fracdash.inputs import data as userdata
    from fracdash.models.activations import model_digest
    from fracdash.store import array_digest, stage_key

    model = userdata.load_model(wide_files / "wide.keras")
    x, y, _ = userdata.load_data(wide_files / "test.npz")
    x, y, _ = userdata.check_data(model, x, y, None)
    parents = (model_digest(model), array_digest(x))
    return {
        name: stage_key("order", {"layer": name, "metric": "euclidean"}, parents)
        for name in ORDERED
    }


def start(files, cache, name="r"):
    """``fracdash analyze`` in the background, logging each computed order; its stdout
    and stderr go to files beside the cache (a pipe nobody reads could fill up)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "FRACDASH_LOG": "debug"}
    args = ["--model", str(files / "wide.keras"), "--data", str(files / "test.npz")]
    logs = cache.parent / f"{cache.name}-{name}-{time.monotonic_ns()}"
    with open(f"{logs}.out", "w") as out, open(f"{logs}.err", "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fracdash.cli", "analyze", *args, "--name", name]
            + ["--cache-dir", str(cache)],
            stdout=out,
            stderr=err,
            env=env,
            cwd=ROOT,
        )
    proc.logs = logs
    return proc


def output(proc) -> tuple[str, str]:
    """What ``proc`` wrote so far: (stdout, stderr)."""
    return Path(f"{proc.logs}.out").read_text(), Path(f"{proc.logs}.err").read_text()


def finish(proc):
    """Wait for ``proc``; return its stderr after checking that it succeeded."""
    try:
        proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=TIMEOUT)
        raise
    out, err = output(proc)
    assert proc.returncode == 0, err
    assert "stored as run" in out
    return err


def computed(stderr: str) -> Counter:
    return Counter(COMPUTED.findall(stderr))


def open_store(cache):
    from fracdash.store import Store

    return Store(cache)


def stored_layers(store, order_keys) -> set[str]:
    return {name for name, key in order_keys.items() if key in store}


def stored_analysis(cache, name="r"):
    from fracdash.runs import load_run

    store = open_store(cache)
    try:
        analysis = load_run(store, name)
    finally:
        store.close()
    assert analysis is not None
    return analysis


def assert_same_analysis(a, b):
    assert [g.name for g in a.layers] == [g.name for g in b.layers]
    for ga, gb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_array_equal(ga.order, gb.order, err_msg=ga.name)
        assert ga.quality == gb.quality, ga.name
    np.testing.assert_array_equal(a.predictions, b.predictions)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.class_names == b.class_names and a.meta == b.meta


def assert_store_whole(cache, order_keys):
    """Every entry reads back; every order is a permutation of the samples; no lock is
    left held."""
    store = open_store(cache)
    try:
        keys = store.keys()
        assert set(order_keys.values()) <= set(keys)
        for key in keys:
            assert store.get_bytes(key) is not None, key
        for name, key in order_keys.items():
            order = store.get_array(key)
            np.testing.assert_array_equal(np.sort(order), np.arange(N), err_msg=name)
    finally:
        store.close()
    for path in (cache / "locks").iterdir():
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if still held
        finally:
            os.close(fd)


@pytest.mark.slow
def test_kill_9_then_rerun_resumes_and_equals_an_uninterrupted_run(
    wide_files, order_keys, tmp_path
):
    cache = tmp_path / "killed"
    store = open_store(cache)  # polls the store while the run writes to it
    try:
        proc = start(wide_files, cache)
        deadline = time.monotonic() + TIMEOUT
        while not stored_layers(store, order_keys):
            assert proc.poll() is None, f"the run ended before the kill: {output(proc)[1]}"
            assert time.monotonic() < deadline, "no layer order was stored in time"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=TIMEOUT) == -signal.SIGKILL
        done = stored_layers(store, order_keys)
    finally:
        store.close()
    assert 0 < len(done) < len(ORDERED), f"the kill should land mid-run; stored {done}"
    assert done == set(ORDERED[: len(done)])  # orders are stored in layer order

    rerun = computed(finish(start(wide_files, cache)))
    assert rerun == Counter(set(ORDERED) - done), "the rerun computes exactly the missing"
    assert_store_whole(cache, order_keys)

    fresh = tmp_path / "fresh"
    assert computed(finish(start(wide_files, fresh))) == Counter(ORDERED)
    assert_same_analysis(stored_analysis(cache), stored_analysis(fresh))


def lock_waiters(path, pids) -> set[int]:
    """Processes among ``pids`` blocked on the flock of ``path`` (Linux /proc/locks)."""
    inode = os.stat(path).st_ino
    waiting = set()
    with open("/proc/locks") as f:
        for line in f:
            fields = line.split()
            if "->" in fields and fields[-3].endswith(f":{inode}"):
                waiting.add(int(fields[-4]))
    return waiting & set(pids)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="needs Linux /proc/locks")
def test_two_runs_at_once_compute_each_layer_once(wide_files, order_keys, tmp_path):
    """Both runs start on an empty store. The test holds the first layer's lock until
    both runs wait on it, so both have found nothing stored and the per-layer locks
    alone must keep them from computing a layer twice."""
    cache = tmp_path / "shared"
    store = open_store(cache)
    procs = []
    try:
        with store.lock(order_keys["input"]):
            procs = [start(wide_files, cache, "one"), start(wide_files, cache, "two")]
            lock_files = list((cache / "locks").iterdir())
            assert len(lock_files) == 1  # the one this test holds
            lock_file = lock_files[0]
            pids = {p.pid for p in procs}
            deadline = time.monotonic() + TIMEOUT
            while lock_waiters(lock_file, pids) != pids:
                for p in procs:
                    assert p.poll() is None, output(p)[1]
                assert time.monotonic() < deadline, "the runs never both waited on the lock"
                time.sleep(0.05)
            assert not stored_layers(store, order_keys)
        errs = [finish(p) for p in procs]
    finally:
        store.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=TIMEOUT)

    total = computed(errs[0]) + computed(errs[1])
    assert total == Counter(ORDERED), "every layer is computed once in all"
    for err in errs:  # each run has every order, computed or found under the lock
        assert sorted(COMPUTED.findall(err) + FOUND.findall(err)) == sorted(ORDERED)
    assert_store_whole(cache, order_keys)
    one, two = stored_analysis(cache, "one"), stored_analysis(cache, "two")
    assert_same_analysis(one, two)
