"""The sample data the page follows samples with (fracdash/web/samples.py), its
routes, and the thumbnails: each checked against the stored analysis it comes from."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from helpers import store_toy, toy_analysis
from PIL import Image

from fracdash.glyphs import palette_constants
from fracdash.store import Store, stage_key
from fracdash.thumbnails import thumbnails, thumbs_key
from fracdash.web import create_app
from fracdash.web.loading import analysis_by_key, run_key
from fracdash.web.samples import order_dtype, payload, sprite


def decoded(text, dtype):
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


@pytest.mark.parametrize("curve", ["compact", "paper"])
def test_payload_holds_every_order_label_and_cell(curve):
    analysis = toy_analysis(n=40, seed=2).on_curve(curve)
    p = payload(analysis, "toy", thumbs=(8, 8, 7))
    first = analysis.layers[0]
    assert (p["n"], p["width"], p["height"]) == (40, first.width, first.height)
    assert p["curve"] == curve and p["thumbs"] == {"width": 8, "height": 8, "columns": 7}
    np.testing.assert_array_equal(decoded(p["labels"], "<u2"), analysis.labels)
    np.testing.assert_array_equal(decoded(p["predictions"], "<u2"), analysis.predictions)
    slots = decoded(p["slots"], "<u4")
    assert list(p["layers"]) == analysis.layer_names
    for g in analysis.layers:
        order = decoded(p["layers"][g.name]["order"], "<u2")
        np.testing.assert_array_equal(order, g.order)
        # The cell of rank r holds sample order[r] in this layer's glyph.
        xy = np.stack([slots % g.width, slots // g.width], axis=1)
        np.testing.assert_array_equal(xy, g.positions[order])
    assert p["colors"] == palette_constants()


def test_order_type_widens_past_65536_samples():
    assert order_dtype(65536) == np.dtype("<u2")
    assert order_dtype(65537) == np.dtype("<u4")


@pytest.mark.parametrize(
    "shape, want",
    [((5, 28, 28), (5, 28, 28)), ((5, 28, 28, 1), (5, 28, 28)), ((5, 32, 32, 3), (5, 32, 32, 3)),
     ((5, 3, 64, 64), (5, 32, 32, 3)), ((5, 1, 20, 20), (5, 20, 20)), ((5, 84), None),
     ((5, 2, 2), None), ((5, 28, 28, 5), None)],
)  # fmt: skip
def test_thumbnails_of_images_only(shape, want):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    t = thumbnails(x)
    assert (None if t is None else t.shape) == want
    if t is not None:
        assert t.dtype == np.uint8 and t.min() == 0 and t.max() == 255


def test_thumbnails_keep_the_image():
    x = np.random.default_rng(3).integers(0, 256, (4, 10, 10)).astype(np.float64) / 255
    x[:, 0, 0], x[:, 0, 1] = 0.0, 1.0  # the array's own range is 0..1
    np.testing.assert_array_equal(thumbnails(x), np.rint(x * 255).astype(np.uint8))
    assert thumbnails([x, x]) is None  # a multi-input model


def test_sprite_tiles_every_thumbnail_in_16_levels():
    thumbs = np.random.default_rng(1).integers(0, 256, (10, 6, 5)).astype(np.uint8)
    png, (w, h, columns) = sprite(thumbs)
    assert (w, h, columns) == (5, 6, 4)
    sheet = np.asarray(Image.open(io.BytesIO(png)))
    for i in range(10):
        r, c = divmod(i, columns)
        tile = sheet[r * h : (r + 1) * h, c * w : (c + 1) * w]
        np.testing.assert_array_equal(tile, thumbs[i] // 16 * 17)


def test_routes(tmp_path):
    store_toy(tmp_path, name="toy")
    store = Store(tmp_path)
    key = run_key(store, "toy")
    analysis = analysis_by_key(store, key)
    thumbs = np.full((analysis.n, 8, 8), 34, dtype=np.uint8)
    store.set_array(thumbs_key(key), thumbs)
    client = create_app(store).server.test_client()
    r = client.get("/samples/toy.json?curve=paper")
    assert r.status_code == 200
    body = r.get_json()
    assert body["curve"] == "paper" and body["thumbs"]["columns"] == 7
    etag = {"If-None-Match": r.headers["ETag"]}
    again = client.get("/samples/toy.json?curve=paper", headers=etag)
    assert again.status_code == 304
    png = client.get("/samples/toy/thumbs.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert np.asarray(Image.open(io.BytesIO(png.data)))[0, 0] == 34
    too_long = "/samples/" + "x" * 300 + ".json"
    for bad in ("/samples/nope.json", too_long, "/samples/nope/thumbs.png"):
        r = client.get(bad)
        assert r.status_code == 404 and b"unknown run" in r.data


def test_a_run_without_images_has_no_sprite(tmp_path):
    store_toy(tmp_path, name="toy")
    client = create_app(Store(tmp_path)).server.test_client()
    assert client.get("/samples/toy.json").get_json()["thumbs"] is None
    r = client.get("/samples/toy/thumbs.png")
    assert r.status_code == 404 and b"no image inputs" in r.data


# -- a store that serves alone: every run's images stored with it ----------------------


def test_a_runs_images_are_stored_with_it_and_counted_in_its_listing(tmp_path):
    from fracdash.runs import catalog, delete_run, register
    from fracdash.thumbnails import store_thumbnails

    store = Store(tmp_path)
    analysis = toy_analysis(n=40)
    analysis.meta["key"] = stage_key("analysis", {"test": "stored images"})
    store.set_bytes(analysis.meta["key"], analysis.to_bytes())
    x = np.random.default_rng(4).random((40, 6, 6, 3)).astype(np.float32)
    x[..., 1] = x[..., 2] = x[..., 0]  # a gray image repeated for the network: gray thumbs
    x[0, 0, 0], x[0, 0, 1] = 0.0, 1.0
    key = store_thumbnails(store, analysis, x)
    register(store, "gray", analysis)
    np.testing.assert_array_equal(store.get_array(key), np.rint(x[..., 0] * 255))
    entry = catalog(store)["gray"]
    assert key in entry["uses"] and entry["size"] >= 40 * 36
    assert store_thumbnails(store, toy_analysis(n=3), np.zeros((3, 5))) is None  # not images
    assert delete_run(store, "gray") > 0 and key not in store
    store.close()


def scenario_run_without_images(path, name="easy-40", n=40):
    """A built-in scenario's run as one stored before runs kept their images: its first
    ``n`` test images are MNIST's (a toy analysis standing in for the trained one)."""
    from fracdash.runs import register

    store = Store(path)
    analysis = toy_analysis(n=n)
    analysis.meta.update(scenario="easy", split="test")
    analysis.meta["key"] = stage_key("analysis", {"test": "scenario run, older"})
    store.set_bytes(analysis.meta["key"], analysis.to_bytes())
    register(store, name, analysis)
    return store, analysis.meta["key"]


def no_data_set_here(monkeypatch, tmp_path):
    """This process finds no MNIST anywhere, and may not download one."""
    import fracdash.datasets as datasets

    def never(*args, **kwargs):
        raise AssertionError("serving a page downloaded a data set")

    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("FRACDASH_DATA", str(empty))
    monkeypatch.setenv("KERAS_HOME", str(empty))
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", empty)
    monkeypatch.setattr(datasets, "_fetch", never)


def test_an_older_scenario_run_gets_its_images_on_first_open_and_keeps_them(
    tmp_path, monkeypatch
):
    from fracdash.datasets import load_dataset
    from fracdash.runs import catalog

    mnist, _ = load_dataset("mnist", "test")  # the data set beside the checkout
    store, key = scenario_run_without_images(tmp_path / "store")
    assert thumbs_key(key) not in store
    client = create_app(store).server.test_client()
    body = client.get("/samples/easy-40.json").get_json()
    assert body["thumbs"] == {"width": 28, "height": 28, "columns": 7}
    assert "thumbsMissing" not in body
    want = mnist[:40]
    assert want.min() == 0 and want.max() == 255  # so thumbnails keep the values
    np.testing.assert_array_equal(store.get_array(thumbs_key(key)), want)
    assert thumbs_key(key) in catalog(store)["easy-40"]["uses"]
    png = client.get("/samples/easy-40/thumbs.png")
    sheet = np.asarray(Image.open(io.BytesIO(png.data)))
    np.testing.assert_array_equal(sheet[28:56, 28 * 3 : 28 * 4], want[10] // 16 * 17)
    store.close()
    # The same store on a machine without the data set: the images come from the store.
    no_data_set_here(monkeypatch, tmp_path)
    again = Store(tmp_path / "store")
    client = create_app(again).server.test_client()
    assert client.get("/samples/easy-40.json").get_json()["thumbs"]["columns"] == 7
    assert client.get("/samples/easy-40/thumbs.png").data == png.data
    again.close()


def test_a_run_whose_images_cannot_be_made_here_says_why_and_still_follows_samples(
    tmp_path, monkeypatch
):
    from fracdash.datasets import find_dataset_dir

    data = find_dataset_dir("mnist")  # the data set beside the checkout
    store, key = scenario_run_without_images(tmp_path / "store")
    with_data = create_app(store).server.test_client().get("/samples/easy-40.json")
    store.delete(thumbs_key(key))  # stored before runs kept their images
    no_data_set_here(monkeypatch, tmp_path)
    client = create_app(Store(tmp_path / "store")).server.test_client()
    r = client.get("/samples/easy-40.json")
    assert r.status_code == 200
    body = r.get_json()
    assert body["thumbs"] is None and body["n"] == 40 and len(body["layers"]) == 5
    missing = body["thumbsMissing"]
    assert "mnist" in missing and "FRACDASH_DATA" in missing and "again" in missing
    assert "\n" not in missing
    # The payload without images is another version: a browser holding it asks again.
    assert r.headers["ETag"] != with_data.headers["ETag"]
    png = client.get("/samples/easy-40/thumbs.png")
    assert png.status_code == 404 and png.mimetype == "application/json"
    assert png.get_json() == {"error": missing}
    # The data set installed since: the same browser gets the images, no restart needed.
    monkeypatch.setenv("FRACDASH_DATA", str(data))
    r = client.get("/samples/easy-40.json", headers={"If-None-Match": r.headers["ETag"]})
    assert r.status_code == 200 and r.get_json()["thumbs"]["columns"] == 7
    assert "thumbsMissing" not in r.get_json()
    store.close()


def test_a_payload_that_cannot_be_built_is_one_line_of_json(tmp_path):
    store_toy(tmp_path, name="toy")
    store = Store(tmp_path)
    store.set_bytes(run_key(store, "toy"), b"not an analysis")  # a damaged store entry
    r = create_app(store).server.test_client().get("/samples/toy.json")
    assert r.status_code == 500 and r.mimetype == "application/json"
    error = r.get_json()["error"]
    assert "\n" not in error and "server's log" in error and len(error) < 400
    store.close()
