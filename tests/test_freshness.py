"""Nothing stale is served and nothing stored is computed twice, in the fast tier: a
replaced run is sent afresh to a browser holding the old one's ETag, an analysis gone
from the store is computed again rather than opened, and a layer ordered by another
process while this one waited for the layer's lock is read, not ordered again."""

from __future__ import annotations

import base64
import io
import os
import threading
import time
from types import SimpleNamespace

import numpy as np
from helpers import brute_vat, store_toy, toy_analysis
from job_fakes import fake_env
from PIL import Image

from fracdash.cluster import LocalOrderer
from fracdash.pipeline import _order_stage
from fracdash.runs import catalog, register
from fracdash.store import Store, stage_key
from fracdash.thumbnails import thumbs_key
from fracdash.web import create_app
from fracdash.web.app import context_of
from fracdash.web.loading import load_analysis, load_view, run_key

WAIT = 60  # seconds; a wait in these tests ends with a failure, never a hang


def orders_sent(body: dict) -> dict[str, np.ndarray]:
    """Each layer's order in a /samples payload, decoded."""
    return {
        name: np.frombuffer(base64.b64decode(layer["order"]), dtype="<u2")
        for name, layer in body["layers"].items()
    }


def test_a_replaced_run_with_an_old_etag_gets_the_new_orders(tmp_path):
    store_toy(tmp_path, name="toy", seed=0)
    store = Store(tmp_path)
    try:
        client = create_app(store).server.test_client()
        key = catalog(store)["toy"]["key"]
        store.set_array(thumbs_key(key), np.full((40, 8, 8), 17, np.uint8))
        first = client.get("/samples/toy.json?curve=compact")
        sprite = client.get("/samples/toy/thumbs.png")
        assert first.status_code == sprite.status_code == 200
        old = toy_analysis(seed=0)
        for g in old.layers:
            np.testing.assert_array_equal(orders_sent(first.get_json())[g.name], g.order)

        store_toy(tmp_path, name="toy", seed=1)  # the run replaced under its name
        key = catalog(store)["toy"]["key"]
        store.set_array(thumbs_key(key), np.full((40, 8, 8), 221, np.uint8))
        again = client.get(
            "/samples/toy.json?curve=compact", headers={"If-None-Match": first.headers["ETag"]}
        )
        assert again.status_code == 200, "a replaced run must not be answered 304"
        new = toy_analysis(seed=1)
        sent = orders_sent(again.get_json())
        for g, was in zip(new.layers, old.layers, strict=True):
            assert not np.array_equal(g.order, was.order)  # the test can tell them apart
            np.testing.assert_array_equal(sent[g.name], g.order)
        etag = {"If-None-Match": sprite.headers["ETag"]}
        sprite = client.get("/samples/toy/thumbs.png", headers=etag)
        assert sprite.status_code == 200
        assert np.asarray(Image.open(io.BytesIO(sprite.data)))[0, 0] == 221 // 16 * 17
    finally:
        store.close()


def test_an_evicted_analysis_starts_a_computation(tmp_path, monkeypatch):
    """A scenario's run still in the catalog whose analysis is gone from the store (and
    whose page data this server still holds) is computed again, by a real job process
    running the quick stand-in of tests/job_fakes.py, then opened afresh."""
    monkeypatch.setenv("PYTHONPATH", fake_env())  # the job process finds job_fakes
    store = Store(tmp_path)
    context = None
    try:
        stored = toy_analysis(seed=0)
        stored.meta["key"] = key = stage_key("analysis", {"test": "evicted"})
        store.set_bytes(key, stored.to_bytes())
        register(store, "easy", stored)  # a scenario's run, as the page computes them
        context = context_of(create_app(store, default_run="easy"))
        context.jobs.target = "job_fakes:quick"
        context.jobs.compute.update(steps=1, delay=0.01)
        cb = SimpleNamespace(**context.callbacks)
        assert cb.select_run("easy")[0] == "easy"
        assert load_view(store, "easy") is not None  # opened: its page data is cached

        store.delete(key)  # evicted: the catalog still names it
        run, compute, view = cb.select_run("easy")
        assert (run, compute) == (None, "easy"), "an evicted analysis must be computed again"
        assert "computing easy" in str(view)
        assert load_view(store, "easy") is None and load_analysis(store, "easy") is None
        deadline = time.monotonic() + WAIT
        while run_key(store, "easy") is None:
            status = context.jobs.status("easy")
            assert status is not None and status.get("ended") in (None, "finished"), status
            assert time.monotonic() < deadline, f"the run was never computed again: {status}"
            time.sleep(0.05)
        assert cb.select_run("easy")[0] == "easy"
        recomputed = toy_analysis(seed=2)  # what the stand-in job stores
        for g, want, was in zip(load_analysis(store, "easy").layers, recomputed.layers,
                                stored.layers, strict=True):  # fmt: skip
            assert not np.array_equal(want.order, was.order)  # the test can tell them apart
            np.testing.assert_array_equal(g.order, want.order)
    finally:
        if context is not None:
            context.jobs.stop()
        store.close()


class Activations(dict):
    """A forward pass's activations by layer name, recording which were released."""

    def __init__(self, arrays):
        super().__init__(arrays)
        self.released = []

    def release(self, name):
        self.released.append(name)


class CountingOrderer(LocalOrderer):
    """Orders in this process, recording which layers it was asked to order."""

    def __init__(self):
        super().__init__()
        self.asked = []

    def orders(self, jobs, acts, metric, progress=None):
        self.asked += [job.name for job in jobs]
        return super().orders(jobs, acts, metric, progress)


def lock_waiter_seen(lock_file) -> bool:
    """A process blocked on the flock of ``lock_file`` (Linux /proc/locks: a ``->``
    line on its inode)."""
    inode = os.stat(lock_file).st_ino
    with open("/proc/locks") as f:
        return any("->" in line and f":{inode} " in line for line in f)


def test_a_layer_ordered_while_waiting_for_its_lock_is_read_not_recomputed(tmp_path):
    """One thread holds the first layer's lock, as another process ordering it would;
    the pipeline's thread, having found nothing stored, waits on that lock. The holder
    stores an order and lets go: the waiter must take that order from the store and
    order only the other layer."""
    rng = np.random.default_rng(4)
    acts = Activations({"first": rng.normal(size=(30, 5)), "second": rng.normal(size=(30, 3))})
    keys = {name: stage_key("order", {"layer": name, "test": "lock"}) for name in acts}
    work = dict.fromkeys(acts, 1)
    # An order the pipeline would never compute for "first": seen only if read.
    planted = brute_vat(acts["first"])[::-1].copy()
    assert not np.array_equal(planted, brute_vat(acts["first"]))
    store, orderer, found, errors = Store(tmp_path), CountingOrderer(), {}, []

    def pipeline():
        try:
            found.update(
                _order_stage(store, keys, list(acts), acts, "euclidean", orderer, work, None)
            )
        except Exception as err:  # shown by the main thread's assertion
            errors.append(err)

    waiter = threading.Thread(target=pipeline, name="pipeline", daemon=True)
    try:
        with store.lock(keys["first"]):
            (lock_file,) = (tmp_path / "locks").iterdir()
            waiter.start()
            deadline = time.monotonic() + WAIT
            while not lock_waiter_seen(lock_file):
                assert waiter.is_alive(), "the pipeline did not wait for the layer's lock"
                assert time.monotonic() < deadline, "the pipeline never waited on the lock"
                time.sleep(0.01)
            store.set_array(keys["first"], planted)  # ordered by the lock's holder
        waiter.join(WAIT)
        assert not waiter.is_alive(), "the pipeline did not finish"
        assert errors == []
        np.testing.assert_array_equal(found["first"], planted)
        assert orderer.asked == ["second"], "a stored layer was ordered again"
        np.testing.assert_array_equal(found["second"], brute_vat(acts["second"]))
        np.testing.assert_array_equal(store.get_array(keys["second"]), found["second"])
        np.testing.assert_array_equal(store.get_array(keys["first"]), planted)
        assert sorted(acts.released) == ["first", "second"]
    finally:
        store.close()
