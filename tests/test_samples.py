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
from fracdash.store import Store
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
